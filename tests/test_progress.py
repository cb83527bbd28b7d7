"""Progress of standalone runs: compile and simulation lines, printed past Brian2's silenced output."""

import brian2
import numpy as np
import pytest

from koo_spiking import backend
from koo_spiking.progress import compile_progress, progress_group


def test_standalone_progress_lines(tmp_path, capfd):
    """A fresh project prints its compile count while make runs (Brian2 sends fd 1 to a log file then),
    and the one-cell progress group prints a first and a final line without changing the run."""
    n_slots, period = 107, 2 * brian2.ms  # 107: -ffast-math printed '99% 107/107' at the end
    with backend.backend("cpp_standalone", directory=str(tmp_path / "build"), build_on_run=False):
        brian2.start_scope()
        group = brian2.NeuronGroup(5, "dv/dt = (1.2 - v)/(10*ms) : 1", threshold="v > 1", reset="v = 0", method="exact")
        group.v = "i/5.0"
        spikes = brian2.SpikeMonitor(group)
        net = brian2.Network(group, spikes, progress_group(n_slots, period))
        net.run((n_slots + 1) * period)
        with compile_progress(str(tmp_path / "build"), every=0.5):
            brian2.device.build(directory=str(tmp_path / "build"))
        counts = np.bincount(spikes.i[:], minlength=5)
    out = capfd.readouterr().out
    assert "compiling C++:" in out
    lines = [line for line in out.replace("\r", "\n").splitlines() if "images" in line]
    assert lines[0].strip().startswith("[") and f"0/{n_slots} images" in lines[0]
    assert f"100% {n_slots}/{n_slots} images" in lines[-1]
    # LIF from v0 = i/5 towards 1.2 with reset to 0: period 10 ms * ln(1.2/0.2) = 17.9 ms, 216 ms simulated
    t_first = 10 * np.log((1.2 - np.arange(5) / 5) / 0.2)
    expected = 1 + np.floor((216 - t_first) / (10 * np.log(6)))
    assert counts.tolist() == expected.astype(int).tolist()


def test_compile_progress_without_directory_does_nothing(capfd):
    with compile_progress(None):
        pass
    assert capfd.readouterr().out == ""


def test_progress_lines_on_numpy(numpy_target, capfd):
    """The Python bodies of the progress functions print the same first and final lines on numpy."""
    n_slots, period = 20, 5 * brian2.ms
    brian2.Network(progress_group(n_slots, period)).run((n_slots + 1) * period)
    lines = [line for line in capfd.readouterr().out.replace("\r", "\n").splitlines() if "images" in line]
    assert lines[0].strip().startswith("[") and f"0% 0/{n_slots} images" in lines[0]
    assert f"100% {n_slots}/{n_slots} images" in lines[-1] and len(lines) <= 3


@pytest.mark.parametrize(
    "done, n, elapsed, expect",
    [
        (107, 107, 0.3, "100% 107/107 images, 357 images/s, 0.3 s"),
        (150, 150, 0.04, "100% 150/150 images, 3750 images/s, 0.0 s"),
        (0, 40, 0.0, "0% 0/40 images, - images/s, 0.0 s"),
        (20, 40, 12.25, "50% 20/40 images, 2 images/s, 12.2 s"),
    ],
)
def test_progress_text_short_runs(done, n, elapsed, expect):
    """A run or chunk under 0.5 s shows its rate and time, not '0 images/s, 0 s'; the last line is 100 %."""
    from koo_spiking.progress import progress_text

    assert progress_text(done, n, elapsed).endswith(expect)


def test_progress_group_counts_whole_slots(numpy_target, capfd):
    """The slot count is rounded from t/dt, so the final line reads 100 % n/n for slot counts whose float
    time falls just short (107 slots of 100 ms, 0.5 ms steps: '99% 107/107' before)."""
    for n_slots in (107, 237):
        brian2.start_scope()
        period = 100 * brian2.ms
        brian2.defaultclock.dt = 0.5 * brian2.ms
        net = brian2.Network(progress_group(n_slots, period))
        net.run((n_slots + 1) * period)
        lines = [line for line in capfd.readouterr().out.replace("\r", "\n").splitlines() if "images" in line]
        assert f"100% {n_slots}/{n_slots} images" in lines[-1], lines[-1]
