"""The Koo Encoder: learns with local rules, behaves as a scikit-learn transformer, fails cleanly."""
import numpy as np
import pytest
from sklearn.base import clone

from koo_spiking import KooEncoder
from koo_spiking.data import load_dataset
from koo_spiking.encoder_spec import FEATURES

SMALL = {"network": {"n_h1": 36}, "learning": {"epochs": 3}}


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", train_samples=300, test_samples=100, seed=0)


@pytest.fixture(scope="module")
def trained(digits):
    enc = KooEncoder(spec=SMALL, code_size=16, backend="cpp_standalone", seed=3)
    return enc.fit(digits["X_train"])


@pytest.fixture(scope="module")
def encoded(trained, digits):
    return trained.encode(digits["X_test"])


@pytest.mark.cpp_standalone
def test_training_lowers_test_error(trained, encoded, digits):
    X = digits["X_test"]
    trained_mse = float(np.mean((encoded["reconstruction"] - X) ** 2))
    untrained = KooEncoder(spec=SMALL, code_size=16, backend="cpp_standalone", seed=3)
    untrained.spec_ = untrained._resolved_spec()
    n = len(X)
    counts = untrained.simulate(X, np.zeros(n), np.zeros(n))["counts"]["recon"]
    scale = float(untrained.spec_["network"]["input_rate"] * untrained.spec_["network"]["present"])
    untrained_mse = float(np.mean((np.clip(counts / scale, 0, 1) - X) ** 2))
    mean_mse = float(np.mean((digits["X_train"].mean(0) - X) ** 2))
    print(f"test MSE: trained {trained_mse:.4f}, untrained {untrained_mse:.4f}, mean image {mean_mse:.4f}")
    assert trained_mse < 0.8 * untrained_mse
    assert trained_mse < mean_mse


@pytest.mark.cpp_standalone
def test_transformer_shapes_and_inverse(trained, encoded, digits):
    X = digits["X_test"]
    code = encoded["code"]
    assert code.shape == (len(X), 16) and np.all(code >= 0) and code.sum() > 0
    assert encoded["reconstruction"].shape == X.shape
    back = trained.inverse_transform(code)
    assert back.shape == X.shape and 0 <= back.min() and back.max() <= 1
    # the readout of the code tracks the spiking reconstruction layer
    assert np.corrcoef(back.ravel(), encoded["reconstruction"].ravel())[0, 1] > 0.9
    with pytest.raises(ValueError, match="code"):
        trained.inverse_transform(code[:, :5])
    with pytest.raises(ValueError, match="pixels"):
        trained.transform(np.zeros((3, 10)))


def test_same_seed_same_spikes(trained, digits):
    # numpy target: no compilation; the learned weights are reused as they are
    X = digits["X_test"][:2]
    runs = []
    for seed in (3, 3, 4):
        twin = clone(trained).set_params(seed=seed, backend="numpy")
        twin.spec_, twin.weights_, twin.n_features_in_ = trained.spec_, trained.weights_, trained.n_features_in_
        runs.append(twin.transform(X))
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


def test_clone_and_params():
    enc = KooEncoder(code_size=8, epochs=2, features={"phase": True}, seed=5)
    twin = clone(enc)
    assert twin.get_params() == enc.get_params()
    twin.set_params(code_size=12)
    assert twin.code_size == 12 and enc.code_size == 8
    with pytest.raises(ValueError, match="call fit"):
        enc.transform(np.zeros((2, 64)))


@pytest.mark.parametrize("feature", FEATURES)
def test_each_feature_off_still_runs(feature, digits):
    spec = {"network": {"n_h1": 16, "n_h2": 4, "present": "50 ms"}, "learning": {"epochs": 1}}
    enc = KooEncoder(spec=spec, features={feature: not (feature == "phase")}, backend="numpy", seed=1)
    enc.fit(digits["X_train"][:4])
    code = enc.transform(digits["X_test"][:2])
    assert code.shape == (2, 4) and np.all(np.isfinite(code))


@pytest.mark.parametrize("X,match", [
    (np.full((3, 64), np.nan), "NaN"),
    (np.full((3, 64), 1.5), r"\[0, 1\]"),
    (np.zeros(64), "2-D"),
    (np.zeros((0, 64)), "2-D"),
])
def test_bad_data(X, match):
    with pytest.raises(ValueError, match=match):
        KooEncoder().fit(X)


@pytest.mark.parametrize("kwargs,match", [
    ({"spec": {"network": {"n_hidden": 3}}}, "unknown key 'n_hidden'"),
    ({"spec": {"network": {"dt": "1 mV"}}}, "wrong unit"),
    ({"spec": {"network": {"dt": 0.5}}}, "missing its unit"),
    ({"features": {"telepathy": True}}, "unknown feature"),
    ({"code_size": 0}, "code_size"),
    ({"backend": "gpu"}, "backend"),
    ({"spec": "/no/such/spec.toml"}, "no such file"),
])
def test_bad_spec(kwargs, match):
    with pytest.raises((ValueError, FileNotFoundError), match=match):
        KooEncoder(**kwargs).fit(np.zeros((2, 64)))


def test_model_specs_load_and_match_defaults():
    from pathlib import Path

    from koo_spiking.encoder_spec import load_spec, to_toml, validate_spec

    models = Path(__file__).parents[1] / "models"
    full = load_spec(str(models / "koo_encoder.toml"))
    assert full == validate_spec({"name": "koo_encoder"})   # the file lists the defaults
    for path in models.glob("*.toml"):
        load_spec(str(path))
    import tomllib

    assert validate_spec(tomllib.loads(to_toml())) == validate_spec({})
