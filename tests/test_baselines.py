"""The offline baselines (``koo_spiking.studies.baselines``): bounds that can fail, determinism, the PCA
clipping invariant, and results written before 0.4 (``autoencoder`` = the shallow one) read correctly.

Timing: the deep autoencoder is trained here on digits' full training split with a shorter budget than
the recipe's (``max_epochs`` 200, ``patience`` 20 instead of 2000 and 50: about 10 s on one core, against
some 500 epochs for the recipe); the bound it must meet (below clipped PCA-16) is the recipe's claim, so
a shorter training can only make it harder to pass.
"""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from koo_spiking.io.datasets import load_dataset
from koo_spiking.studies import baselines as bl

ROOT = Path(__file__).parents[1]
SHORT = {"max_epochs": 200, "patience": 20}  # the test's budget (see the module docstring)


@pytest.fixture(scope="module")
def digits():
    ds = load_dataset("digits", None, None, 0)
    return ds["X_train"], ds["X_test"]


def test_deep_autoencoder_beats_clipped_pca(digits):
    """The deep backprop autoencoder must beat clipped PCA-16 on the test images by a margin (0.9x its MSE;
    this short training reaches 0.0086 against 0.0105).

    A linear decoder cannot pass this (PCA-16 is the best 16-dimensional linear reconstruction of the
    training set), nor can an autoencoder that is not trained (``max_epochs=1``: checked below)."""
    Xtr, Xte = digits
    deep = bl.backprop_autoencoder(Xtr, Xte, 16, seed=0, **SHORT)
    pca = bl.pca(Xtr, Xte, 16, seed=0)
    assert deep.reconstruction.shape == Xte.shape and deep.code_test.shape == (len(Xte), 16)
    assert deep.per_image_mse.mean() < 0.9 * pca.per_image_mse.mean(), (
        deep.per_image_mse.mean(),
        pca.per_image_mse.mean(),
    )
    assert deep.info["architecture"] == "64-256-128-16-128-256-64"
    assert deep.info["best_epoch"] <= deep.info["epochs"] <= SHORT["max_epochs"]
    untrained = bl.backprop_autoencoder(Xtr, Xte, 16, seed=0, max_epochs=1)
    assert untrained.per_image_mse.mean() > pca.per_image_mse.mean()  # the bound can fail


def test_deterministic_with_a_seed(digits):
    """Same seed, same reconstructions to the bit; another seed, another model."""
    Xtr, Xte = digits[0][:200], digits[1][:50]
    a, b = (bl.backprop_autoencoder(Xtr, Xte, 8, seed=3, max_epochs=15) for _ in range(2))
    np.testing.assert_array_equal(a.reconstruction, b.reconstruction)
    assert a.info == {**b.info}
    c = bl.backprop_autoencoder(Xtr, Xte, 8, seed=4, max_epochs=15)
    assert not np.array_equal(a.reconstruction, c.reconstruction)
    s1, s2 = (bl.shallow_autoencoder(Xtr, Xte, 8, seed=3) for _ in range(2))
    np.testing.assert_array_equal(s1.reconstruction, s2.reconstruction)


def test_clipping_pca_never_increases_the_error(digits):
    """For targets in [0, 1], clipping a reconstruction to [0, 1] can only move each pixel closer to its
    target: every test image's MSE clipped <= unclipped, strictly lower overall (PCA does leave [0, 1])."""
    Xtr, Xte = digits
    clipped, raw = bl.pca(Xtr, Xte, 16, seed=0), bl.pca(Xtr, Xte, 16, seed=0, clip=False)
    assert raw.reconstruction.min() < 0 or raw.reconstruction.max() > 1
    assert np.all(clipped.per_image_mse <= raw.per_image_mse + 1e-15)
    assert clipped.per_image_mse.mean() < raw.per_image_mse.mean()
    np.testing.assert_array_equal(clipped.reconstruction, np.clip(raw.reconstruction, 0, 1))
    np.testing.assert_allclose(raw.per_image_mse, np.mean((raw.reconstruction - Xte) ** 2, axis=1))


def test_shallow_and_pca_keep_their_numbers(digits):
    """The renamed shallow autoencoder and clipped PCA give the committed results' numbers (seed 0's split,
    ``benchmarks/results/encoder_digits.json``, written before 0.4 with the key ``autoencoder``)."""
    Xtr, Xte = digits
    old = json.loads((ROOT / "benchmarks/results/encoder_digits.json").read_text())["runs"]["digits_seed0"]["models"]
    models = bl.read_models(old)
    assert models["shallow_autoencoder"] is old["autoencoder"] and "autoencoder" not in models
    assert bl.shallow_autoencoder(Xtr, Xte, 16, 0).per_image_mse.mean() == pytest.approx(
        models["shallow_autoencoder"]["test_mse"], rel=1e-6
    )
    assert bl.pca(Xtr, Xte, 16, 0).per_image_mse.mean() == pytest.approx(models["pca"]["test_mse"], rel=1e-9)


def test_old_key_reading():
    """``autoencoder`` (before 0.4) reads as ``shallow_autoencoder``; order and other keys kept; both at once refused."""
    old = {"koo": 1, "mean_image": 2, "pca": 3, "autoencoder": 4}
    assert list(bl.read_models(old).items()) == [("koo", 1), ("mean_image", 2), ("pca", 3), ("shallow_autoencoder", 4)]
    new = {"pca": 3, "shallow_autoencoder": 4, "backprop_autoencoder": 5}
    assert bl.read_models(new) == new
    with pytest.raises(ValueError, match="both 'autoencoder'"):
        bl.read_models({"autoencoder": 1, "shallow_autoencoder": 2})
    with pytest.raises(ValueError, match="unknown recipe key"):
        bl.backprop_autoencoder(np.zeros((4, 2)), np.zeros((1, 2)), 1, hiden=(3,))


def test_results_pages_render_old_json():
    """docs/make_results.py names the old ``autoencoder`` row of the committed JSON as the shallow autoencoder,
    with its number, and the plasticity goals still compute against the shallow one of old results."""
    spec = importlib.util.spec_from_file_location("make_results", ROOT / "docs" / "make_results.py")
    mr = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mr)
    report = json.loads((ROOT / "benchmarks/results/encoder_digits.json").read_text())
    rows = {line.split(" | ")[0].lstrip("| "): line for line in mr.digits_table(report)[2:]}
    seeds = mr._seeds(report["runs"])
    shallow = np.mean([report["runs"][k]["models"]["autoencoder"]["test_mse"] for k in seeds])
    assert rows["shallow autoencoder (one hidden layer of 16)"].split(" | ")[1].startswith(f"{shallow:.4f}")
    assert not any(label.startswith("backprop") for label in rows)  # no deep autoencoder in the old file
    from koo_spiking.studies.plasticity import summary

    protocol = json.loads((ROOT / "benchmarks/results/plasticity_repeated_digits/plasticity.json").read_text())
    metrics = {k: m["metrics"] for k, m in protocol["models"].items()}
    s = summary(metrics, reference="shallow_autoencoder")
    assert s["reference"] == "shallow_autoencoder"
    assert s["samples_to_adapt_ratio"] == protocol["summary"]["samples_to_adapt_ratio"]
    with pytest.raises(ValueError, match="backprop_autoencoder"):
        summary(metrics)  # the default reference is not in old results: refused, not silently replaced
