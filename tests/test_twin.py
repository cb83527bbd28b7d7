"""Tests of the Koo Encoder v3 rate twin (koo_spiking.encoder.twin.RateTwin). Numpy only, about 30 s.

What can fail here:
- quality: the trained twin (seed 0, digits, code 16) must beat clipped PCA-16 on the test images, and the
  two-hidden-layer twin must beat the one-hidden-layer one;
- the quality bound itself is checked against broken learners: a mean-image output, a random-projection code with
  a least-squares linear read-out, and the twin with its learning switched off (rate ~0) all fail it, so a
  broken learning rule cannot pass ``test_twin_beats_clipped_pca``;
- feedback learning: the weight mirror and Kolen-Pollack bring the angle between B and W^T down from ~90 degrees;
- Dale's principle: after training every weight out of an E cell is >= 0 and every weight out of an I cell <= 0,
  and the effective matrices are exactly P - N A;
- determinism (same seed, same codes; another seed, other codes) and one-line ValueErrors on bad input.
"""

import numpy as np
import pytest

from koo_spiking.encoder.twin import RateTwin, alignment_angle
from koo_spiking.io.datasets import load_dataset


@pytest.fixture(scope="module")
def digits():
    ds = load_dataset("digits", None, None, 0)
    return ds["X_train"], ds["X_test"]


@pytest.fixture(scope="module")
def trained(digits):
    Xtr, _ = digits
    return RateTwin(seed=0, track_every=10).fit(Xtr)


def pca16_clipped(Xtr, Xte):
    from sklearn.decomposition import PCA

    pca = PCA(n_components=16, random_state=0).fit(Xtr)
    return float(np.mean((np.clip(pca.inverse_transform(pca.transform(Xte)), 0, 1) - Xte) ** 2))


def passes_quality(mse, Xtr, Xte):
    """The quality bound: below clipped PCA-16 on the same split (the linear code's best)."""
    return mse < pca16_clipped(Xtr, Xte)


def test_twin_beats_clipped_pca(trained, digits):
    Xtr, Xte = digits
    mse = trained.mse(Xte)
    assert passes_quality(mse, Xtr, Xte), f"twin {mse:.5f} not below clipped PCA-16 {pca16_clipped(Xtr, Xte):.5f}"
    assert mse <= 0.0085
    assert trained.transform(Xte).shape == (len(Xte), 16)
    assert np.all(trained.transform(Xte) >= 0)  # rates
    R = trained.reconstruct(Xte)
    assert R.shape == Xte.shape and R.min() >= 0 and R.max() <= 1
    assert trained.score(Xte) == pytest.approx(-mse)


def test_broken_learners_fail_the_bound(digits):
    """Mean-image output, a random-projection code with a least-squares read-out and an untrained twin all fail."""
    Xtr, Xte = digits
    mean = np.mean((Xtr.mean(0) - Xte) ** 2)
    assert not passes_quality(mean, Xtr, Xte)
    rng = np.random.default_rng(0)
    P = rng.normal(size=(64, 16))
    code_tr, code_te = np.maximum(Xtr @ P, 0), np.maximum(Xte @ P, 0)
    A = np.c_[code_tr, np.ones(len(Xtr))]
    D, *_ = np.linalg.lstsq(A, Xtr, rcond=None)
    rand_mse = np.mean((np.clip(np.c_[code_te, np.ones(len(Xte))] @ D, 0, 1) - Xte) ** 2)
    assert not passes_quality(rand_mse, Xtr, Xte)
    untrained = RateTwin(seed=0, epochs=1, eta=1e-12).fit(Xtr).mse(Xte)
    assert not passes_quality(untrained, Xtr, Xte)
    assert untrained > 3 * pca16_clipped(Xtr, Xte)  # learning is what makes the twin good


def test_two_layers_beat_one(trained, digits):
    Xtr, Xte = digits
    one = RateTwin(seed=0, layers=1).fit(Xtr).mse(Xte)
    assert trained.mse(Xte) < one


def test_mirror_alignment_falls(trained):
    angles = np.array(trained.history_["alignment"])  # epochs x layers, first row before learning
    assert np.all(angles[0] > 70)
    assert np.all(angles[-1] < 20), angles[-1]
    W, _, B, _, _ = trained._weights()
    assert alignment_angle(W[0].T, W[0]) == pytest.approx(0.0, abs=1e-5)


def test_kolen_pollack_alignment_falls(digits):
    Xtr, _ = digits
    m = RateTwin(seed=0, feedback="kolen_pollack", decay=5.0, decay_until=1.0, epochs=6, track_every=1).fit(Xtr[:400])
    angles = np.array(m.history_["alignment"])
    assert np.all(angles[0] > 85)
    assert np.all(angles[-1] < 70) and angles[-1][1] < 30, angles[-1]  # KP aligns the top layer fastest


def test_dale_signs_hold_after_training(trained):
    p = trained.params_
    for name in ("W0", "W1", "V0", "V1"):
        assert np.all(p[name + "P"] >= 0), name  # out of E cells: excitatory
        assert np.all(-p[name + "N"] <= 0), name  # out of I cells: inhibitory
    for A in trained.pools_:
        assert np.all(A >= 0)  # E -> I pooling
    W0 = trained._w("W0", 1)
    np.testing.assert_allclose(W0, p["W0P"] - p["W0N"] @ trained.pools_[1])


def test_determinism(digits):
    Xtr, Xte = digits
    kw = dict(epochs=2, n_h1=32)
    a = RateTwin(seed=3, **kw).fit(Xtr[:300]).transform(Xte[:50])
    b = RateTwin(seed=3, **kw).fit(Xtr[:300]).transform(Xte[:50])
    c = RateTwin(seed=4, **kw).fit(Xtr[:300]).transform(Xte[:50])
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.full((5, 64), np.nan), "NaN"),
        (np.zeros(64), "2-D"),
        (-np.ones((5, 64)), r"\[0, 1\]"),
        (np.zeros((5, 63)), "expected 64"),
    ],
)
def test_bad_input_raises_one_line(trained, bad, match):
    with pytest.raises(ValueError, match=match) as err:
        trained.transform(bad)
    assert "\n" not in str(err.value)


def test_bad_fit_input_and_params():
    with pytest.raises(ValueError, match="NaN"):
        RateTwin().fit(np.full((5, 64), np.nan))
    with pytest.raises(ValueError, match="feedback"):
        RateTwin(feedback="magic").fit(np.zeros((5, 64)))
    with pytest.raises(ValueError, match="not fitted"):
        RateTwin().transform(np.zeros((2, 64)))
    with pytest.raises(ValueError, match="code"):
        RateTwin(epochs=1).fit(np.random.default_rng(0).random((20, 64))).inverse_transform(-np.ones((2, 16)))


def test_spike_counts(trained, digits):
    _, Xte = digits
    rate = trained.mse(Xte)
    trained.set_params(spike_window=32, spike_noise="deterministic")
    try:
        counts = trained.mse(Xte)  # 32 levels per code cell: a small cost
        trained.set_params(spike_window=4)
        coarse = trained.mse(Xte)  # 4 levels: clearly worse
        budget = trained.spike_budget(Xte, 8)
    finally:
        trained.set_params(spike_window=None)
    assert counts < 1.5 * rate
    assert coarse > counts
    assert 0 < budget["total"] < 64 * 8 * 4
