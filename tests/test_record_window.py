"""The recorded window's times: integer steps until written out, so no edge depends on float rounding.

Before, a window inside a run started at ``(n - k) * present`` (a float product) while the simulator
stamps spikes at ``step * dt``; for about one slot count in six the two differ by ~1e-13 s, a spike
on the window's first step fell before the window's start, and the record was refused after the
whole simulation (or, where a later cut used the other product, dropped silently).
"""

import numpy as np
import pytest
from brian2 import ms, second

from koo_spiking.encoder.record import relative_steps, spike_record, steps_per_slot, window_steps
from koo_spiking.io.spikes import SpikeRecord

SPECS = [(0.5 * ms, 100 * ms), (0.1 * ms, 25 * ms), (0.25 * ms, 35 * ms)]
N_MAX = 100_000


def _spec(dt, present):
    return {"network": {"dt": dt, "present": present}}


@pytest.mark.parametrize("dt, present", SPECS)
def test_window_start_is_exact_for_every_slot_count(dt, present):
    """For every slot offset up to 100 000: the simulator's time of the window's first step gives step 0
    exactly, its time in s equals the window's start, and the old float start was wrong for many."""
    spp = steps_per_slot(_spec(dt, present))
    dt_s = float(dt / second)
    m = np.arange(N_MAX + 1, dtype=np.int64)
    sim_t = (m * spp) * dt_s  # brianlib's Clock: t = timestep * dt (doubles)
    old_start = m * float(present / second)
    assert np.count_nonzero(sim_t < old_start) > 1000  # the bug this guards against: many counts
    first = np.array([window_steps(k, 1, spp)[0] for k in m[::997]])
    assert np.array_equal(first, m[::997] * spp)
    for k in (m[::97], m):  # relative steps of the first step of each window: 0, never negative
        rel = np.rint(sim_t[k] / dt_s).astype(np.int64) - k * spp
        assert np.all(rel == 0)
    assert np.array_equal(m * spp * dt_s, sim_t)  # our seconds(first step) is the simulator's time, bit for bit


def _result(n_slots, dt, present, steps):
    """A ``simulate`` result recording ``n_slots`` slots with one input spike at each of ``steps``."""
    steps = np.asarray(steps, np.int64)
    dt_s = float(dt / second)
    return {
        "spec": _spec(dt, present),
        "counts": {"input": np.zeros((n_slots, 4))},
        "raster": {"input": (np.zeros(len(steps), np.int32), steps * dt_s)},
        "window": {"slots": n_slots, "steps": {"input": steps}, "astro_steps": {}, "astro": {}},
    }


@pytest.mark.parametrize("dt, present", SPECS)
def test_record_keeps_spikes_on_slot_edges_at_failing_offsets(dt, present):
    """Windows placed where the float start was wrong: every spike on a slot's first or last step is
    kept, equals its slot's start, and survives a cut at a slot start (``SpikeRecord.window``)."""
    spp = steps_per_slot(_spec(dt, present))
    dt_s, T = float(dt / second), float(present / second)
    m = np.arange(1, 20_000)
    failing = m[(m * spp) * dt_s < m * T][:40]
    assert len(failing) == 40
    n = 3
    steps = np.r_[0, spp - 1, spp, 2 * spp, (n + 1) * spp - 1]
    for offset in failing:
        rec = spike_record(_result(n, dt, present, steps), slot_offset=int(offset))
        t = rec.spikes["input"][1]
        assert t[0] == rec.t_start == rec.slots[0, 0]
        assert t[2] == rec.slots[1, 0] and t[3] == rec.slots[2, 0]
        assert t[-1] < rec.t_stop
        assert len(rec.window(rec.slots[1, 0]).spikes["input"][1]) == 3  # slot 1's first step included


def test_relative_steps_refuses_times_before_the_window():
    with pytest.raises(ValueError, match="before the recorded window"):
        relative_steps([0.0995], 0.0005, 200)


def test_steps_per_slot_refuses_a_fractional_slot():
    with pytest.raises(ValueError, match="whole number of time steps"):
        steps_per_slot(_spec(0.3 * ms, 100 * ms))


def test_spike_record_tolerance_for_our_own_records_only():
    """``SpikeRecord`` keeps its strict check for files written by others; a tolerance (ours: dt/1000)
    takes a time just outside the window and moves it onto the bound."""
    pops = {"a": {"n": 1, "layer": "a", "cell_type": "E"}}
    edge = {"a": ([0], [1.0 - 1e-13])}
    with pytest.raises(ValueError, match="outside"):
        SpikeRecord(edge, pops, 1.0, 2.0)
    rec = SpikeRecord(edge, pops, 1.0, 2.0, tolerance=5e-7)
    assert rec.spikes["a"][1][0] == 1.0
    with pytest.raises(ValueError, match="outside"):
        SpikeRecord({"a": ([0], [1.0 - 1e-5])}, pops, 1.0, 2.0, tolerance=5e-7)


@pytest.mark.cpp_standalone
def test_train_whose_window_start_is_inexact_completes(tmp_path):
    """The run that died at its very end (the issue's command): 107 slots of the small spec, the last test
    image recorded from slot 106, whose float start 106 * 0.1 s = 10.600000000000001 s lies after the
    simulator's 21200 * 0.5 ms = 10.6 s. Built at -O0, as reported, recon cells spike on that first step and
    the old code refused the record after the whole simulation; at the tests' -O1 the same seed may put no
    spike there, so the arithmetic tests above carry the edge itself. Here: the run completes, the record
    starts at the simulator's time of the step, and every spike lies in its window."""
    from pathlib import Path

    from koo_spiking.cli import main
    from koo_spiking.io.spikes import load_spikes

    spec = Path(__file__).parents[1] / "models" / "koo_small.toml"
    out = tmp_path / "run_tiny"
    code = main(
        [
            "train",
            str(spec),
            "--train-samples",
            "21",
            "--test-samples",
            "1",
            "--seed",
            "9",
            "--record",
            "1",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert (out / "metrics.json").is_file()
    rec = load_spikes(out / "spikes.npz")
    assert 106 * 0.1 != 21200 * 0.0005  # the inexact window start of the report
    assert rec.t_start == 21200 * 0.0005  # step * dt, as the simulator stamps the window's first step
    assert rec.slots.tolist() == [[rec.t_start, 21400 * 0.0005]]
    for _, t in rec.spikes.values():
        assert t.size == 0 or (t.min() >= rec.t_start and t.max() < rec.t_stop)


@pytest.mark.cpp_standalone
def test_train_profile_and_build_report(tmp_path):
    """``train --profile`` samples the binary with perf: profile.txt and the top symbols in metrics.json; every
    run records its build (files compiled of the project, seconds per phase). Same run as above: a cached build."""
    import json
    import shutil
    from pathlib import Path

    from koo_spiking.cli import main

    if shutil.which("perf") is None:
        pytest.skip("perf is not installed (Debian: linux-perf)")
    spec = Path(__file__).parents[1] / "models" / "koo_small.toml"
    out = tmp_path / "profiled"
    code = main(
        [
            "train",
            str(spec),
            "--train-samples",
            "21",
            "--test-samples",
            "1",
            "--seed",
            "9",
            "--record",
            "1",
            "--profile",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert (
        metrics["build"]["files_total"] > 100
        and 0 <= metrics["build"]["files_compiled"] <= metrics["build"]["files_total"]
    )
    assert {"compile", "total"} <= set(metrics["build"]["seconds"])
    top = metrics["profile"]["top_self_percent"]
    assert top and all(0 < p <= 100 for p, _ in top), top
    assert "Overhead" in (out / "profile.txt").read_text()
    assert main(["train", str(spec), "--backend", "cython", "--profile", "--out", str(tmp_path / "no")]) == 2
