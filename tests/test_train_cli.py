"""``koo-spiking train``: outputs on the embedded digits, and one-line errors that write nothing."""

import gzip
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from koo_spiking.cli import main

MODELS = Path(__file__).parents[1] / "models"


def test_train_writes_metrics_and_figures(small_run):
    """The README's quick command (models/koo_small.toml) at 400 images (conftest ``small_run``): trains
    without collapse and beats the mean image. Seed 2: before koo_small's faster rate homeostasis, hidden 2
    collapsed with this seed (about 1 spike per cell against a target of 6) and the read-out overfired (R2 -5)."""
    from koo_spiking.io.datasets import load_dataset

    code, out = small_run
    assert code == 0
    for name in (
        "metrics.json",
        "reconstructions.png",
        "receptive_fields.png",
        "raster.png",
        "astrocytes.png",
        "state.npz",
    ):
        assert (out / name).stat().st_size > 0, name
    metrics = json.loads((out / "metrics.json").read_text())
    models = metrics["models"]
    assert {
        "koo",
        "untrained",
        "mean_image",
        "pca",
        "pca_unclipped",
        "shallow_autoencoder",
        "backprop_autoencoder",
    } <= set(models) and "autoencoder" not in models
    # the baselines' numbers, recomputed here from the same split
    ds = load_dataset("digits", 400, 100, seed=2)
    mean = ds["X_train"].mean(0)
    mean_mse = float(np.mean((ds["X_test"] - mean) ** 2))
    assert models["mean_image"]["test_mse"] == pytest.approx(mean_mse, rel=1e-9)
    assert models["mean_image"]["r2"] == pytest.approx(0.0, abs=0.05)
    assert models["pca"]["test_mse"] < 0.5 * mean_mse
    assert models["pca"]["test_mse"] < models["pca_unclipped"]["test_mse"]  # clipping to [0, 1] only helps
    assert models["pca"]["label"] == "PCA-16, clipped to [0, 1]"
    deep = models["backprop_autoencoder"]
    assert deep["architecture"] == "64-256-128-16-128-256-64" and deep["best_epoch"] <= deep["epochs"]
    assert deep["test_mse"] < models["shallow_autoencoder"]["test_mse"]
    koo = models["koo"]
    # the Koo Encoder's numbers, recomputed from the raw spikes of its 100 test images (spikes.npz) and
    # the split: a white pixel fires output_rate x present spikes in the reconstruction layer
    from koo_spiking.io.spikes import load_spikes

    record = load_spikes(str(out / "spikes.npz"))
    assert list(record.slot_image) == list(range(100))
    i, t = record.spikes["recon"]
    counts = np.array([np.bincount(i[(t >= a) & (t < b)], minlength=64) for a, b in record.slots])
    n_white = 120 * 0.1  # models/koo_small.toml inherits output_rate 120 Hz and present 100 ms
    X_hat = np.clip(counts / n_white, 0, 1)
    mse = float(np.mean((X_hat - ds["X_test"]) ** 2))
    assert koo["test_mse"] == pytest.approx(mse, rel=1e-9)
    assert koo["psnr"] == pytest.approx(10 * np.log10(1 / mse))
    assert koo["r2"] == pytest.approx(1 - np.sum((X_hat - ds["X_test"]) ** 2) / np.sum((ds["X_test"] - mean) ** 2))
    # the read-out learned from a silent start (untrained R^2 about -2) and beats the mean image
    assert koo["r2"] > models["untrained"]["r2"] + 2.0, koo
    assert koo["test_mse"] < 0.7 * mean_mse, koo
    assert koo["code_size"] == models["pca"]["code_size"] == models["shallow_autoencoder"]["code_size"] == 16
    assert models["backprop_autoencoder"]["code_size"] == 16
    assert koo["train_samples"] == 400 and koo["spikes_per_image"] > 0 and koo["images_per_s"] > 0
    assert 0.4 < koo["probe_accuracy"] <= 1  # the code separates digits (chance 0.1)
    diag = metrics["diagnostics"]
    assert diag["health"]["warnings"] == []
    for layer in ("h1", "h2"):
        assert diag["health"]["layers"][layer]["silent_fraction"] < 0.5
        assert diag["health"]["layers"][layer]["saturated_fraction"] == 0
    assert diag["dale"]["negative_weights"] == 0
    # each astrocyte's gate lives in its dynamic range and follows its own neuron's error (it sat at
    # 0.89-0.93 for every neuron, whatever its rate, with the self-excited 'network' cell)
    for layer in ("h1", "h2", "recon"):
        astro = diag["astrocytes"][layer]
        assert 0.1 < astro["gate_mean"] < 0.85, (layer, astro)
        assert astro["gate_spread_over_time_per_neuron"] > 0.05, (layer, astro)
        low, high = astro["learning_rate_factor_range"]
        assert high - low > 0.3, (layer, astro)
    for layer in ("h2", "recon"):
        assert diag["astrocytes"][layer]["corr_gate_vs_own_dopamine_across_neurons"] > 0.5
    prov = metrics["provenance"]
    assert prov["git_commit"] and "train" in prov["command"] and prov["spec"]["network"]["n_h1"] == "24"
    state = np.load(out / "state.npz")
    assert state["dec.w_slow"].shape == (16 * 64,)


def _run(args, tmp_path, capsys):
    """In-process, as the console script: status 2, one line on stderr, nothing written."""
    out = tmp_path / "never"
    assert main(["train", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert not out.exists()
    return err


def _idx(path, array, magic_dims):
    header = bytes([0, 0, 8, magic_dims]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(header + array.astype(np.uint8).tobytes())


def test_bad_data_errors(tmp_path, capsys):
    bad = tmp_path / "nan.npy"
    np.save(bad, np.full((20, 64), np.nan))
    assert "NaN" in _run(["--data", str(bad)], tmp_path, capsys)
    big = tmp_path / "big.npy"
    np.save(big, np.full((20, 64), 3.0))
    assert "[0, 1]" in _run(["--data", str(big)], tmp_path, capsys)
    cube = tmp_path / "cube.npy"
    np.save(cube, np.zeros((4, 8, 8)))
    assert "2-D" in _run(["--data", str(cube)], tmp_path, capsys)
    assert "no such data file" in _run(["--data", str(tmp_path / "nothing.npz")], tmp_path, capsys)
    # an IDX directory with a truncated image file
    idx = tmp_path / "idx"
    idx.mkdir()
    images, labels = np.zeros((10, 4, 4)), np.arange(10)
    for split in ("train", "t10k"):
        _idx(idx / f"{split}-images-idx3-ubyte.gz", images, 3)
        _idx(idx / f"{split}-labels-idx1-ubyte.gz", labels, 1)
    raw = gzip.decompress((idx / "train-images-idx3-ubyte.gz").read_bytes())
    (idx / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(raw[:-7]))
    assert "truncated" in _run(["--data", str(idx)], tmp_path, capsys)
    (idx / "t10k-labels-idx1-ubyte.gz").unlink()
    assert "missing IDX file" in _run(["--data", str(idx)], tmp_path, capsys)
    assert "exceeds" in _run(["--train-samples", "100000"], tmp_path, capsys)


def test_bad_spec_errors(tmp_path, capsys):
    spec = tmp_path / "bad.toml"
    spec.write_text("[network]\nn_h3 = 4\n")
    assert "unknown key 'n_h3'" in _run([str(spec)], tmp_path, capsys)
    spec.write_text('[network]\ndt = "0.5 mV"\n')
    assert "wrong unit" in _run([str(spec)], tmp_path, capsys)
    spec.write_text("[network\n")
    assert "not valid TOML" in _run([str(spec)], tmp_path, capsys)
    assert "no such file" in _run([str(tmp_path / "absent.toml")], tmp_path, capsys)


def test_bad_output_errors_before_anything_runs(tmp_path):
    """--out is checked first: a file, or a previous run without --overwrite, is refused in seconds."""

    def refused(out):
        proc = subprocess.run(
            [sys.executable, "-m", "koo_spiking.cli", "train", "--out", str(out)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        return proc.stderr

    a_file = tmp_path / "a_file"
    a_file.write_text("keep me")
    assert "is not a directory" in refused(a_file)
    assert a_file.read_text() == "keep me"
    previous = tmp_path / "previous"
    previous.mkdir()
    (previous / "metrics.json").write_text("{}")
    assert "--overwrite" in refused(previous)
    assert sorted(p.name for p in previous.iterdir()) == ["metrics.json"]
    from koo_spiking.studies.train import check_out

    check_out(previous, overwrite=True)  # allowed with --overwrite
    check_out(tmp_path / "new" / "deeper")  # a new directory below a writable one
