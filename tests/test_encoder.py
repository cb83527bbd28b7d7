"""The Koo Encoder v2: learns with the library's local rules, every feature does work, evaluation
changes nothing, Dale's principle holds on its own weights, same seed gives same spikes."""

import numpy as np
import pytest
from sklearn.base import clone

from koo_spiking import KooEncoder
from koo_spiking.encoder.spec import FEATURES
from koo_spiking.io.datasets import load_dataset

SMALL = {"network": {"n_h1": 24}, "learning": {"epochs": 2, "decoder_epochs": 2, "warm_up": 10}}
# tiny network on the numpy target (no compilation): for invariants, not for quality
TINY = {
    "network": {"n_h1": 8, "n_h2": 4, "present": "40 ms", "dt": "1 ms"},
    "learning": {"epochs": 2, "decoder_epochs": 1, "warm_up": 2, "tau_avg": 5.0},
    "reward": {"fast": 2.0, "slow": 6.0, "tau_dop": "1 ms"},
    "features": {name: True for name in FEATURES},
}  # the full model: each feature switched off in turn


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", train_samples=400, test_samples=120, seed=0)


@pytest.fixture(scope="module")
def trained(digits):
    enc = KooEncoder(spec=SMALL, code_size=16, backend="cpp_standalone", seed=3)
    return enc.fit(digits["X_train"])


@pytest.fixture(scope="module")
def encoded(trained, digits):
    return trained.encode(digits["X_test"])


def _linear_readout_mse(code_train, X_train, code_test, X_test):
    A = np.c_[code_train, np.ones(len(code_train))]
    W = np.linalg.lstsq(A, X_train, rcond=None)[0]
    return float(np.mean((np.c_[code_test, np.ones(len(code_test))] @ W - X_test) ** 2))


@pytest.mark.cpp_standalone
def test_training_learns_a_code_without_collapse(trained, encoded, digits):
    X, Xtr = digits["X_test"], digits["X_train"]
    mse = float(np.mean((encoded["reconstruction"] - X) ** 2))
    mean_mse = float(np.mean((Xtr.mean(0) - X) ** 2))
    black_mse = float(np.mean(X**2))  # the untrained read-out starts silent (balanced)
    code_mse = _linear_readout_mse(
        trained.train_counts_["h2"][-len(Xtr) :], Xtr[trained.train_order_[-len(Xtr) :]], encoded["code"], X
    )
    print(
        f"test MSE: spiking read-out {mse:.4f}, linear read-out of the code {code_mse:.4f}, "
        f"mean image {mean_mse:.4f}, silent read-out {black_mse:.4f}"
    )
    # the learned 16-cell code carries the image (PCA-16 reaches about 0.15 x the mean image's error)
    assert code_mse < 0.6 * mean_mse
    # the spiking read-out learned (from a silent start); issue 6: it does not yet beat the mean image
    # by a clear margin at this budget
    assert mse < 0.5 * black_mse
    # no layer collapsed: every hidden layer fires, none at the refractory limit
    for layer in ("h1", "h2"):
        counts = encoded["counts"][layer]
        assert np.mean(counts.sum(0) == 0) < 0.5, layer
        assert 0.5 < counts.mean() < 20, layer


@pytest.mark.cpp_standalone
def test_evaluation_changes_no_learned_state(trained, encoded):
    before, after = trained.state_, encoded["state"]
    assert set(before) == set(after) and len(before) > 10
    for key in before:
        np.testing.assert_array_equal(before[key], after[key], err_msg=key)


@pytest.mark.cpp_standalone
def test_dale_on_the_encoder_weights(trained):
    from koo_spiking.studies.diagnostics import _dale

    weights = [k for k in trained.state_ if k.endswith((".w", ".w_slow"))]
    assert len(weights) >= 6  # three tied pathways and their inhibitory synapses
    assert _dale(trained.state_)["negative_weights"] == 0
    # the effective read-out mixes signs only through the inhibitory pool
    assert trained.decoder_matrix().min() < 0 < trained.decoder_matrix().max()


@pytest.mark.cpp_standalone
def test_transformer_shapes_and_inverse(trained, encoded, digits):
    X = digits["X_test"]
    code = encoded["code"]
    assert code.shape == (len(X), 16) and np.all(code >= 0) and code.sum() > 0
    assert encoded["reconstruction"].shape == X.shape
    back = trained.inverse_transform(code)
    assert back.shape == X.shape and 0 <= back.min() and back.max() <= 1
    # the rate read-out of the code tracks the spiking reconstruction layer
    assert np.corrcoef(back.ravel(), encoded["reconstruction"].ravel())[0, 1] > 0.8
    with pytest.raises(ValueError, match="code"):
        trained.inverse_transform(code[:, :5])
    with pytest.raises(ValueError, match="pixels"):
        trained.transform(np.zeros((3, 10)))


@pytest.fixture(scope="module")
def tiny_runs(digits):
    """The full tiny model and each feature switched off, trained on the same images."""
    X = digits["X_train"][:12]
    runs = {}
    for off in (None,) + FEATURES:
        enc = KooEncoder(spec=TINY, features={off: False} if off else None, backend="numpy", seed=1)
        runs[off] = enc.fit(X)
    return runs


@pytest.mark.parametrize("feature", FEATURES)
def test_each_feature_off_changes_the_learned_state(feature, tiny_runs):
    full, off = tiny_runs[None].state_, tiny_runs[feature].state_
    shared = set(full) & set(off)
    differs = set(full) ^ set(off) or [k for k in shared if not np.array_equal(full[k], off[k])]
    assert differs, f"switching {feature} off left the learned state unchanged"


def test_same_seed_same_spikes(tiny_runs, digits):
    X = digits["X_test"][:3]
    base = tiny_runs[None]
    runs = []
    for seed in (1, 1, 2):
        twin = clone(base).set_params(seed=seed)
        twin.spec_, twin.state_, twin.n_features_in_ = base.spec_, base.state_, base.n_features_in_
        twin.input_stats_ = base.input_stats_
        runs.append(twin.encode(X)["counts"])
    for layer in runs[0]:
        np.testing.assert_array_equal(runs[0][layer], runs[1][layer], err_msg=layer)
    assert any(not np.array_equal(runs[0][k], runs[2][k]) for k in runs[0])


def test_clone_and_params():
    enc = KooEncoder(code_size=8, epochs=2, features={"phase": True}, seed=5)
    twin = clone(enc)
    assert twin.get_params() == enc.get_params()
    twin.set_params(code_size=12)
    assert twin.code_size == 12 and enc.code_size == 8
    with pytest.raises(ValueError, match="call fit"):
        enc.transform(np.zeros((2, 64)))


@pytest.mark.parametrize(
    "X,match",
    [
        (np.full((3, 64), np.nan), "NaN"),
        (np.full((3, 64), 1.5), r"\[0, 1\]"),
        (np.zeros(64), "2-D"),
        (np.zeros((0, 64)), "2-D"),
    ],
)
def test_bad_data(X, match):
    with pytest.raises(ValueError, match=match):
        KooEncoder().fit(X)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"spec": {"network": {"n_hidden": 3}}}, "unknown key 'n_hidden'"),
        ({"spec": {"network": {"dt": "1 mV"}}}, "wrong unit"),
        ({"spec": {"network": {"dt": 0.5}}}, "missing its unit"),
        ({"spec": {"network": {"input_code": "morse"}}}, "must be one of"),
        ({"features": {"telepathy": True}}, "unknown feature"),
        ({"code_size": 0}, "code_size"),
        ({"seed": -1}, "seed"),
        ({"backend": "gpu"}, "backend"),
        ({"spec": "/no/such/spec.toml"}, "no such file"),
    ],
)
def test_bad_spec(kwargs, match):
    with pytest.raises((ValueError, FileNotFoundError), match=match):
        KooEncoder(**kwargs).fit(np.zeros((2, 64)))


def test_model_specs_load_and_match_defaults():
    from pathlib import Path

    import tomllib

    from koo_spiking.encoder.spec import load_spec, to_toml, validate_spec

    models = Path(__file__).parents[1] / "models"
    full = load_spec(str(models / "koo_encoder.toml"))
    assert full == validate_spec({"name": "koo_encoder"})  # the file lists the defaults
    for path in models.glob("*.toml"):
        if not path.name.startswith("sweep_"):  # sweep files are checked in test_sweep.py
            load_spec(str(path))
    assert validate_spec(tomllib.loads(to_toml())) == validate_spec({})


def test_raster_of_the_last_slots_matches_the_full_raster(tiny_runs, digits):
    """Recording only the last slots (the run split in two) changes no spike and keeps their times."""
    from brian2 import second

    enc = tiny_runs[None]
    X = digits["X_test"][:3]
    sched = {"enc": np.zeros(3), "dec": np.zeros(3), "teach": np.zeros(3)}
    full = enc.simulate(X, sched, raster=True)
    tail = enc.simulate(X, sched, raster=2)
    start = float(enc.spec_["network"]["present"] / second)  # the last 2 of 3 slots start at 1 T
    for layer in full["counts"]:
        np.testing.assert_array_equal(full["counts"][layer], tail["counts"][layer], err_msg=layer)
        i_full, t_full = full["raster"][layer]
        i_tail, t_tail = tail["raster"][layer]
        late = t_full >= start - 1e-9
        np.testing.assert_array_equal(i_tail, i_full[late], err_msg=layer)
        np.testing.assert_allclose(t_tail, t_full[late] - start, atol=1e-9, err_msg=layer)
    assert sum(len(tail["raster"][k][0]) for k in tail["raster"]) > 0


def test_output_rate_sets_the_taught_reconstruction(digits):
    """With the sensory teacher on, the untrained read-out fires output_rate x present spikes per white pixel:
    each input spike (input_rate x present per white pixel) adds output_rate / input_rate thresholds."""
    X, rate = digits["X_train"][:4], "160 Hz"  # twice the input rate
    enc = KooEncoder(spec={**TINY, "network": {**TINY["network"], "output_rate": rate}}, backend="numpy", seed=1)
    enc.spec_, enc.n_features_in_ = enc._resolved_spec(), X.shape[1]
    enc.input_stats_ = enc._input_stats(X, enc.spec_)
    taught = {"enc": np.zeros(4), "dec": np.zeros(4), "teach": np.ones(4)}
    counts = enc.simulate(X, taught, state={})["counts"]
    gain = float(rate.split()[0]) / 80.0
    # the balanced, untrained read-out adds little of its own: the counts follow the teacher
    assert counts["recon"].sum() == pytest.approx(gain * counts["input"].sum(), rel=0.15)
    # pixel by pixel too, within one input spike's worth and one read-out spike (residual charge)
    assert np.abs(counts["recon"] - gain * counts["input"]).max() <= gain + 1


def _one_learning_step(reward, X, flag):
    """Weights after one image learned at an annealed rate ``flag`` from a settled state (numpy)."""
    spec = {
        **TINY,
        "learning": {**TINY["learning"], "warm_up": 0, "tau_avg": 1e6},
        "reward": {**TINY["reward"], "max_gain": 1.0},  # surprise gain off: three-factor = two-factor rule
        "features": {
            "reward": reward,
            "stdp": False,
            "astrocytes": False,
            "forgetting": False,
            "short_term": False,
            "phase": False,
            "inhibition": True,
        },
    }
    enc = KooEncoder(spec=spec, backend="numpy", seed=1)
    enc.spec_, enc.n_features_in_ = enc._resolved_spec(), X.shape[1]
    enc.input_stats_ = enc._input_stats(X, enc.spec_)
    seen = {f"{g}.seen": np.full(n, 1e4) for g, n in (("input", 64), ("h1", 8), ("h2", 4), ("recon", 64))}
    seen["h2.I_b"] = np.full(4, 0.15)  # V/s: a bias that makes hidden 2 (the eligible side here) fire
    step = {"enc": np.array([flag, 0.0]), "dec": np.array([flag, 0.0]), "teach": np.ones(2)}
    after = enc.simulate(X[:2], step, state=seen)["state"]
    return {k: after[k] for k in ("ff2.w", "dec.w", "ff2_inh.w")}


def test_three_factor_rule_equals_the_two_factor_rule(digits):
    """Reward on, the change reaches the weight through eligibility traces (the centred count of the
    eligible neuron) and a dopamine pulse (the other neuron's error); with the surprise gain at 1 this is,
    in closed form, the two-factor product. Checked at an annealed rate (0.4): the trace once grew by the
    rate at each spike while its reset did not, so annealed learning drifted and training blew up."""
    X = digits["X_train"]
    start, off, on = (_one_learning_step(reward, X, flag) for reward, flag in ((False, 0.0), (False, 0.4), (True, 0.4)))
    for key in off:
        d_off, d_on = off[key] - start[key], on[key] - start[key]
        assert np.abs(d_off).max() > 1e-4, key  # the pathway learned
        # the whole pulse acts at the reward event on the cell's own trace, which decays by tau_c (10 s)
        # over the 35 ms from its restart: a factor 0.997 at most
        np.testing.assert_allclose(d_on, d_off, rtol=0.004, atol=1e-3 * np.abs(d_off).max(), err_msg=key)
