"""Structural plasticity in the encoder: synapses are pruned and regrow, each neuron's count stays
within its bounds at every image, new synapses are protected, Dale's principle holds, and
switching it off changes what is learned."""

import numpy as np
import pytest

from koo_spiking import KooEncoder
from koo_spiking.encoder.estimator import training_schedule
from koo_spiking.encoder.spec import FEATURES
from koo_spiking.io.datasets import load_dataset

PROTECT = 5
TINY = {
    "network": {"n_h1": 8, "n_h2": 4, "present": "40 ms", "dt": "1 ms"},
    "learning": {"epochs": 3, "decoder_epochs": 1, "warm_up": 2, "tau_avg": 5.0},
    "reward": {"fast": 2.0, "slow": 6.0, "tau_dop": "1 ms"},
    # aggressive, so that a short run prunes and regrows
    "structural": {"prune_below": 0.8, "tau": 3.0, "regrow": 0.3, "protect": PROTECT, "min_fraction": 0.5},
    "features": {name: True for name in FEATURES},
}
TIED = ("ff1", "ff2", "dec")


def _run(structural):
    X = load_dataset("digits", 40, 10, 0)["X_train"]
    enc = KooEncoder(spec=TINY, features={"structural": structural}, backend="numpy", seed=1)
    enc.spec_ = enc._resolved_spec()
    enc.input_stats_ = enc._input_stats(X, enc.spec_)
    order, sched = training_schedule(len(X), enc.spec_, np.random.default_rng(0))
    return enc.simulate(X[order], sched, state={}, weights_every=1)


@pytest.fixture(scope="module")
def runs():
    return {on: _run(on) for on in (True, False)}


def test_pruning_and_regrowth_keep_each_neurons_count_within_bounds(runs):
    out = runs[True]
    for name in TIED:
        w = out["weights"][name]
        n = w["n_possible"]  # possible partners of each lower neuron
        assert np.all(w["count_min"] >= np.ceil(0.5 * n)), name
        assert np.all(w["count_max"] <= n), name
        assert w["active"].min() < 1, f"{name}: nothing was pruned"
    state = out["state"]
    pruned = sum(int(np.sum(state[f"{k}.alive"] == 0)) for k in TIED)
    # a synapse younger than the protection is alive: new synapses are not pruned while protected,
    # and those that are young at the end regrew (the first ones aged past the protection long ago)
    regrown = 0
    for k in TIED:
        young = state[f"{k}.age"] < PROTECT
        assert np.all(state[f"{k}.alive"][young] == 1), k
        regrown += int(np.sum(young))
    assert pruned > 0 and regrown > 0
    # only synapses whose averaged weight stayed low were pruned (w_avg is frozen at the pruning):
    # below prune_below x the pathway's initial weight, the balanced offset 2.4/sqrt(fan)
    for k in TIED:
        n_lower = len(state[f"{k}.alive"]) / out["weights"][k]["n_possible"]
        dead = state[f"{k}.alive"] == 0
        assert np.all(state[f"{k}.w_avg"][dead] < 0.8 * 2.4 / np.sqrt(n_lower)), k


def test_dale_holds_with_structural_plasticity(runs):
    state = runs[True]["state"]
    for key, value in state.items():
        if key.endswith((".w_slow", ".w")):
            name = key.rsplit(".", 1)[0]
            total = value + state.get(f"{name}.w_fast", 0)
            assert np.all(total >= -1e-12), f"{name} has a negative weight: {total.min()}"
            assert np.all(state.get(f"{name}.alive", 1) * total >= -1e-12)


def test_switching_structural_plasticity_off_changes_the_weights(runs):
    on, off = runs[True]["state"], runs[False]["state"]
    assert "ff1.alive" in on and "ff1.alive" not in off
    assert any(not np.allclose(on[k], off[k]) for k in on if k in off and k.endswith((".w_slow", ".w_fast")))
