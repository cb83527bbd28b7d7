"""Progress of standalone runs: compile and simulation lines, printed past Brian2's silenced output."""
import brian2
import numpy as np
import pytest

from koo_spiking import backend
from koo_spiking.progress import compile_progress, progress_group


def test_standalone_progress_lines(tmp_path, capfd):
    """A fresh project prints its compile count while make runs (Brian2 sends fd 1 to a log file then),
    and the one-cell progress group prints a first and a final line without changing the run."""
    n_slots, period = 40, 5 * brian2.ms
    with backend.backend("cpp_standalone", directory=str(tmp_path / "build"), build_on_run=False):
        brian2.start_scope()
        group = brian2.NeuronGroup(5, "dv/dt = (1.2 - v)/(10*ms) : 1", threshold="v > 1", reset="v = 0",
                                   method="exact")
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
    # LIF from v0 = i/5 towards 1.2 with reset to 0: period 10 ms * ln(1.2/0.2) = 17.9 ms, 205 ms simulated
    t_first = 10 * np.log((1.2 - np.arange(5) / 5) / 0.2)
    expected = 1 + np.floor((205 - t_first) / (10 * np.log(6)))
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
