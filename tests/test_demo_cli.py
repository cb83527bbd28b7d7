"""`koo-spiking demo`: the run shows its science, obeys its model, repeats with its seed; bad input fails cleanly.

The thresholds are margins below what eight seeds (0-7, default arguments) measured: mean |dw| 3.4-4.6 % of
w_max, 16-20 neurons with a weight moved by over a quarter of w_max, Hebbian match 0.56-0.77; mean Ca2+ against
the neuron's rate across astrocytes r = 0.91-0.98; Ca2+ in time with its own neuron's rate 0.28-0.39 above
its correlation with the other neurons'; E/I rates r = 0.85-0.93, I at 21-28 Hz in 20 ms bins with E spikes
against under 0.7 Hz without.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from koo_spiking.cli import main
from koo_spiking.demo import DEMO_PARAMS, DemoNetwork, simulate

SEED = 3
IMAGES = 30  # the default; every run here has the same structure, so the build cache recompiles little
PERIOD, PRESENT = 0.2, 0.15  # s per image slot, of which the digit is shown


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "run"
    assert main(["demo", "--out", str(out), "--seed", str(SEED)]) == 0
    return out, json.loads((out / "summary.json").read_text()), dict(np.load(out / "spikes.npz"))


def test_demo_writes_its_figures(demo_run):
    out, s, _ = demo_run
    for name in ("raster.png", "astrocytes.png", "receptive_fields.png"):
        assert (out / name).stat().st_size > 20_000, name
    assert s["backend"] == "cpp_standalone" and s["images"] == IMAGES
    assert s["simulated_s"] == pytest.approx(IMAGES * PERIOD)


def test_spikes_obey_the_model(demo_run):
    """Invariants of the network, read from the recorded spikes."""
    _, s, spikes = demo_run
    dur = IMAGES * PERIOD
    for pop, n, t_ref in (("input", 64, 0.0), ("E", 64, 0.005), ("I", 16, 0.002)):
        i, t = spikes[f"{pop}_i"], spikes[f"{pop}_t_s"]
        assert len(t) == s["spikes"][pop] > 0
        assert i.min() >= 0 and i.max() < n and t.min() >= 0 and t.max() < dur
        for k in range(n):  # no neuron fires twice within its refractory period
            assert np.all(np.diff(np.sort(t[i == k])) >= t_ref - 1e-9)
    # the inputs are silent in the blank after each digit (rate 0 in the stimulus)
    phase = np.round(spikes["input_t_s"] % PERIOD, 6)
    assert np.all(phase < PRESENT)


def test_stdp_imprints_what_each_neuron_fires_to(demo_run):
    _, s, spikes = demo_run
    w = s["weights_input_to_E"]
    assert w["mean_abs_change_rel_w_max"] > 0.015  # was 0.1 % of the start weights before the rework
    assert w["neurons_changed_over_25pct_of_w_max"] >= 8
    # the change follows the digits each neuron fired to (images weighted by its spikes in each)
    assert w["hebbian_match"] > 0.4
    # pair STDP changes a synapse only when its input spikes: inputs that never fired keep their weights
    dw = spikes["w_after"] - spikes["w_before"]
    never = np.setdiff1d(np.arange(64), spikes["input_i"])
    w_max = DEMO_PARAMS["w_max"]
    assert len(never) > 0 and np.all(dw[never] == 0) and np.abs(dw).max() > 0.25 * w_max
    assert np.all((spikes["w_after"] >= 0) & (spikes["w_after"] <= w_max))  # STDP's bounds [0, w_max]


def test_each_astrocyte_follows_its_own_neuron(demo_run):
    _, s, spikes = demo_run
    a = s["astrocytes"]
    assert a["corr_mean_calcium_vs_neuron_rate"] > 0.7  # across astrocytes
    assert a["mean_calcium_of_top_quarter_uM"] > 1.3 * a["mean_calcium_of_bottom_quarter_uM"]
    # in time: with its own neuron's recent rate, clearly more than with the other neurons'
    assert a["corr_calcium_vs_own_neuron_rate_in_time"] > a["corr_calcium_vs_other_neurons_rate_in_time"] + 0.15
    C = spikes["calcium_uM"]
    assert C.shape[0] == 64 and C.min() > 0
    # quiescent at rest (De Pitta's driven cell): before the first spikes have acted, Ca2+ sits at its start
    assert np.all(np.abs(C[:, 0] - 0.05) < 0.01) and C.max() > 0.3
    lo, hi = a["gate_range_across_astrocytes"]
    assert 0 <= lo < hi <= 1 and hi - lo > 0.15  # the gates differ with their neurons' activity


def test_inhibitory_cells_follow_the_excitatory_ones(demo_run):
    _, s, _ = demo_run
    e_i = s["e_i"]
    assert e_i["corr_E_I_rate_20ms"] > 0.6
    assert e_i["I_rate_when_E_fires_hz"] > 10 * max(e_i["I_rate_when_E_silent_hz"], 0.1)
    assert 0 < e_i["E_fraction_firing_per_image"] < 0.5  # the E cells compete: a minority fires to each digit


def test_same_seed_same_spikes_other_seed_other_spikes(demo_run):
    """Reruns in this process (no figures) against the CLI run's record."""
    _, _, first = demo_run
    again, _ = simulate(DemoNetwork(n_images=IMAGES, seed=SEED), verbose=False)
    for pop in ("input", "E", "I"):
        assert np.array_equal(first[f"{pop}_i"], again["spikes"][pop][0]), pop
        assert np.array_equal(first[f"{pop}_t_s"], again["spikes"][pop][1]), pop
    assert np.array_equal(first["w_after"], again["w_after"])
    assert np.array_equal(first["calcium_uM"], again["calcium"])
    other, _ = simulate(DemoNetwork(n_images=IMAGES, seed=SEED + 1), verbose=False)
    for pop in ("input", "E", "I"):
        ia, ta = again["spikes"][pop]
        ib, tb = other["spikes"][pop]
        assert len(ta) != len(tb) or not (np.array_equal(ia, ib) and np.array_equal(ta, tb)), pop
    assert not np.array_equal(again["w_after"], other["w_after"])


def test_bad_arguments_exit_nonzero_and_write_nothing(tmp_path, capsys):
    out = tmp_path / "bad"
    proc = subprocess.run(
        [sys.executable, "-m", "koo_spiking.cli", "demo", "--out", str(out), "--images", "0"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "--images must be a positive integer" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not os.path.exists(out)
    assert main(["demo", "--out", str(out), "--images", "-3"]) == 2
    assert "--images must be a positive integer, got -3" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["demo", "--out", str(out), "--backend", "cuda"])
    assert exit_.value.code == 2 and "cuda" in capsys.readouterr().err
    assert not os.path.exists(out)
    blocker = tmp_path / "a_file"  # --out that cannot be a directory: refused before anything runs
    blocker.write_text("x")
    assert main(["demo", "--out", str(blocker)]) == 2
    err = capsys.readouterr().err
    assert "is not a directory" in err and len(err.strip().splitlines()) == 1 and blocker.read_text() == "x"
