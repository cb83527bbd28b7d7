"""Run parameters: changed through run_args in one compiled binary, each one acts, nothing is frozen."""

import numpy as np
import pytest

from koo_spiking import KooEncoder
from koo_spiking.encoder import runtime
from koo_spiking.encoder.spec import FEATURES, validate_spec, with_values
from koo_spiking.io.datasets import load_dataset

pytestmark = pytest.mark.cpp_standalone

# every feature on, so every run parameter acts; a small network and a short schedule
SPEC = {
    "network": {"n_h1": 12, "n_h2": 6},
    "features": {name: True for name in FEATURES},
    "learning": {"warm_up": 4},
    "reward": {"tau_dop": "0.5 ms"},
}
# a value far enough from the default to matter within 40 images
CHANGED = {
    "learning.eta": 0.5,
    "learning.eta_decoder": 0.1,
    "learning.eta_inhibition": 0.5,
    "learning.eta_bias": 0.5,
    "learning.eta_homeostasis": 0.8,
    "stdp.amplitude": 1.0,
    "stdp.tau": "5 ms",
    "short_term.U": 0.6,
    "short_term.tau_d": "80 ms",
    "forgetting.tau": "0.2 s",
    "forgetting.consolidation": 0.9,
    "astrocytes.gate_floor": 0.9,
    "astrocytes.drive": 0.3,
    "astrocytes.C_gate": "0.05 umolar",
    "astrocytes.coupling_strength": 20.0,
    "reward.tau_c": "0.5 s",
    "reward.tau_dop": "0.2 ms",
    "reward.fast": 2.0,
    "reward.slow": 4.0,
    "reward.max_gain": 1.0,
    "phase.amplitude": 0.2,
}


@pytest.fixture(scope="module")
def setup(unoptimized):
    ds = load_dataset("digits", 40, 10, 0)
    enc = KooEncoder(SPEC, seed=3)
    spec = enc._resolved_spec()
    X = ds["X_train"]
    frames = np.vstack([X, X[:10]])
    schedule = {
        "enc": np.r_[np.ones(40), np.zeros(10)],
        "dec": np.r_[np.ones(40), np.zeros(10)],
        "teach": np.r_[np.ones(40), np.zeros(10)],
    }
    stats = enc._input_stats(X, spec)
    return enc, spec, frames, schedule, stats


def _fingerprint(result):
    return np.concatenate(
        [result["counts"][k].ravel() for k in sorted(result["counts"])]
        + [result["state"][k].ravel() for k in sorted(result["state"])]
    )


def test_every_run_parameter_is_listed_and_acts(setup):
    enc, spec, frames, schedule, stats = setup
    assert sorted(CHANGED) == sorted(runtime.RUN_PARAMETERS) == sorted(runtime.active(spec))
    with enc.compile(frames, schedule, spec=spec, stats=stats, state={}) as compiled:
        base = _fingerprint(compiled.run(spec))
        assert sorted(compiled.model.run_parameters) == sorted(CHANGED)  # each one found in the built network
        again = _fingerprint(compiled.run(spec))
        unchanged = []
        for key, value in CHANGED.items():
            if np.array_equal(_fingerprint(compiled.run(with_values(spec, {key: value}))), base):
                unchanged.append(key)
        assert compiled.runs == 2 + len(CHANGED) and compiled.build_s > 0
    np.testing.assert_array_equal(again, base)  # a rerun of the binary gives the same spikes
    assert unchanged == []  # every run parameter changes spikes or learned weights


def test_run_args_equal_a_build_with_the_values(setup):
    """All run parameters changed at once through run_args give exactly what a build with them gives."""
    enc, spec, frames, schedule, stats = setup
    changed = with_values(spec, CHANGED)
    with enc.compile(frames, schedule, spec=spec, stats=stats, state={}) as compiled:
        through_args = compiled.run(changed)
    fresh = enc.simulate(frames, schedule, spec=changed, stats=stats, state={})
    np.testing.assert_array_equal(_fingerprint(through_args), _fingerprint(fresh))


def test_structural_changes_are_refused_by_a_compiled_network(setup):
    enc, spec, frames, schedule, stats = setup
    compiled = enc.compile(frames, schedule, spec=spec, stats=stats, state={})
    with pytest.raises(ValueError, match=r"\[learning\] target_h1 is structural"):
        compiled.run(with_values(spec, {"learning.target_h1": 3.0}))
    compiled.close()
    assert not compiled.runs


def test_a_run_parameter_of_a_feature_that_is_off_is_not_active():
    spec = validate_spec({"features": {"stdp": False, "astrocytes": False}})
    active = runtime.active(spec)
    assert "stdp.amplitude" not in active and "astrocytes.gate_floor" not in active and "learning.eta" in active
    assert "astrocytes.coupling_strength" not in runtime.active(validate_spec({"astrocytes": {"coupling": "none"}}))
