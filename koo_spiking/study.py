"""The training study: the Koo Encoder against the mean image, PCA and a backprop autoencoder.

All models see the same split and sample budget. Outputs (written only once everything
succeeded): ``metrics.json``, ``reconstructions.png``, ``receptive_fields.png``, ``raster.png``,
``astrocytes.png`` and ``weights.npz``.
"""
import json
import os
import shutil
import tempfile
import time

import numpy as np

from .data import load_dataset
from .encoder import KooEncoder

__all__ = ["run_study", "reconstruction_metrics", "baselines"]


def reconstruction_metrics(X_hat, X, mean_image):
    """Per-pixel test MSE, PSNR (peak 1) and R^2 against the training mean image."""
    mse = float(np.mean((X_hat - X) ** 2))
    sst = float(np.sum((X - mean_image) ** 2))
    return {"test_mse": mse, "psnr": float(10 * np.log10(1.0 / max(mse, 1e-12))),
            "r2": float(1 - np.sum((X_hat - X) ** 2) / sst)}


def probe_accuracy(code_train, y_train, code_test, y_test):
    """Logistic-regression probe on a code, trained on the train split, scored on the test split."""
    if y_train is None or y_test is None or len(np.unique(y_train)) < 2:
        return None
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    probe.fit(code_train, y_train)
    return float(probe.score(code_test, y_test))


def baselines(ds, k, seed):
    """Mean image, PCA-k and the one-hidden-layer backprop autoencoder (MLPRegressor)."""
    from sklearn.decomposition import PCA
    from sklearn.neural_network import MLPRegressor

    Xtr, Xte, ytr, yte = ds["X_train"], ds["X_test"], ds.get("y_train"), ds.get("y_test")
    mean = Xtr.mean(0)
    out, recon = {}, {}
    t0 = time.time()
    recon["mean_image"] = np.repeat(mean[None], len(Xte), 0)
    out["mean_image"] = {**reconstruction_metrics(recon["mean_image"], Xte, mean), "probe_accuracy": None,
                         "code_size": 0, "train_samples": len(Xtr), "wall_s": time.time() - t0}
    t0 = time.time()
    pca = PCA(n_components=min(k, *Xtr.shape), random_state=seed).fit(Xtr)
    recon["pca"] = np.clip(pca.inverse_transform(pca.transform(Xte)), 0, 1)
    out["pca"] = {**reconstruction_metrics(recon["pca"], Xte, mean),
                  "probe_accuracy": probe_accuracy(pca.transform(Xtr), ytr, pca.transform(Xte), yte),
                  "code_size": int(pca.n_components_), "train_samples": len(Xtr), "wall_s": time.time() - t0}
    t0 = time.time()
    ae = MLPRegressor(hidden_layer_sizes=(k,), activation="relu", solver="adam", max_iter=500,
                      early_stopping=True, random_state=seed, tol=1e-6, n_iter_no_change=20)
    ae.fit(Xtr, Xtr)

    def ae_code(X):
        return np.maximum(X @ ae.coefs_[0] + ae.intercepts_[0], 0)

    recon["autoencoder"] = np.clip(ae.predict(Xte), 0, 1)
    out["autoencoder"] = {**reconstruction_metrics(recon["autoencoder"], Xte, mean),
                          "probe_accuracy": probe_accuracy(ae_code(Xtr), ytr, ae_code(Xte), yte),
                          "code_size": k, "train_samples": len(Xtr), "wall_s": time.time() - t0}
    return out, recon


def run_study(spec=None, data="digits", train_samples=None, test_samples=None, seed=0, out="out",
              backend="cpp_standalone", verbose=True):
    """Train the Koo Encoder and the baselines on one split; write metrics and figures to ``out``."""
    ds = load_dataset(data, train_samples, test_samples, seed)
    enc = KooEncoder(spec=spec, backend=backend, seed=seed, verbose=verbose)
    spec_r = enc._resolved_spec()  # validates the spec before anything runs or is written
    Xtr, Xte = ds["X_train"], ds["X_test"]
    k = spec_r["network"]["n_h2"]
    say = print if verbose else (lambda *a, **kw: None)
    say(f"koo-spiking train: {ds['name']}, {len(Xtr)} train / {len(Xte)} test images, code size {k}, "
        f"{spec_r['learning']['epochs']} epochs, backend {backend}")
    tmp = tempfile.mkdtemp(prefix="koo_study_")
    try:
        # one compiled run: the test set through the untrained network, training, then the train
        # and test sets again with teacher and plasticity off
        frames, plastic, teach = enc._schedule(Xtr, spec_r["learning"]["epochs"], spec_r["learning"]["anneal_to"])
        n_pre = len(Xte)
        n_train = n_pre + len(frames)
        frames = np.vstack([Xte, frames, Xtr, Xte])
        zeros_pre, zeros_post = np.zeros(n_pre), np.zeros(len(Xtr) + len(Xte))
        t0 = time.time()
        enc.spec_ = spec_r
        result = enc.simulate(frames, np.r_[zeros_pre, plastic, zeros_post], np.r_[zeros_pre, teach, zeros_post],
                              astro=True)
        wall = time.time() - t0
        enc.weights_, enc.n_features_in_ = result["weights"], Xtr.shape[1]
        scale = float(spec_r["network"]["input_rate"] * spec_r["network"]["present"])
        counts = result["counts"]
        code_tr = counts["h2"][n_train:n_train + len(Xtr)]
        code_te = counts["h2"][n_train + len(Xtr):]
        recon_te = np.clip(counts["recon"][n_train + len(Xtr):] / scale, 0, 1)
        mean = Xtr.mean(0)
        spikes = sum(counts[layer][n_train + len(Xtr):].sum() for layer in ("input", "h1", "h2", "recon"))
        metrics = {"koo": {**reconstruction_metrics(recon_te, Xte, mean),
                           "probe_accuracy": probe_accuracy(code_tr, ds.get("y_train"), code_te, ds.get("y_test")),
                           "code_size": k, "train_samples": len(Xtr), "wall_s": wall,
                           "spikes_per_image": float(spikes / len(Xte)),
                           "images_per_s": float(len(frames) / wall)}}
        u_recon = np.clip(counts["recon"][:n_pre] / scale, 0, 1)
        metrics["untrained"] = {**reconstruction_metrics(u_recon, Xte, mean), "code_size": k,
                                "train_samples": 0, "wall_s": None}
        say("running a few test images for the raster ...")
        shown = enc.encode(Xte[:8], raster=True)
        say("fitting baselines (mean image, PCA, backprop autoencoder) ...")
        base, base_recon = baselines(ds, k, seed)
        metrics.update(base)
        phase = _phase_report(result, n_train, len(Xtr), ds)
        summary = {"data": ds["name"], "image_shape": list(ds["shape"]), "seed": seed, "backend": backend,
                   "spec": _plain(spec_r), "models": metrics, "phase_code": phase}
        from . import encoder_figures as figs

        figs.reconstructions(os.path.join(tmp, "reconstructions.png"), Xte[:10], ds["shape"],
                             {"koo": recon_te[:10], "pca": base_recon["pca"][:10],
                              "autoencoder": base_recon["autoencoder"][:10], "mean image": base_recon["mean_image"][:10]})
        figs.receptive_fields(os.path.join(tmp, "receptive_fields.png"), enc.weights_, spec_r, ds["shape"])
        figs.raster(os.path.join(tmp, "raster.png"), shown["raster"], spec_r)
        figs.astrocytes(os.path.join(tmp, "astrocytes.png"), result.get("astrocytes", {}))
        np.savez_compressed(os.path.join(tmp, "weights.npz"), **enc.weights_)
        with open(os.path.join(tmp, "metrics.json"), "w") as fh:
            json.dump(summary, fh, indent=2)
        os.makedirs(out, exist_ok=True)
        for name in sorted(os.listdir(tmp)):
            shutil.move(os.path.join(tmp, name), os.path.join(out, name))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    say(_table(metrics))
    say(f"wrote {', '.join(sorted(os.listdir(out)))} to {out}")
    return summary


def _phase_report(result, n_train, n_tr, ds):
    """Does the complex (phase) read-out of hidden 2 add to its spike counts? Probe both."""
    z = result["phase"]["h2"]
    counts = result["counts"]["h2"]
    tr, te = slice(n_train, n_train + n_tr), slice(n_train + n_tr, None)
    amp = probe_accuracy(counts[tr], ds.get("y_train"), counts[te], ds.get("y_test"))
    cplx = np.hstack([z.real, z.imag])
    both = probe_accuracy(np.hstack([counts[tr], cplx[tr]]), ds.get("y_train"),
                          np.hstack([counts[te], cplx[te]]), ds.get("y_test"))
    return {"probe_accuracy_counts": amp, "probe_accuracy_counts_and_phase": both,
            "note": "phase = mean spike phase against the oscillation; amplitude = spike count"}


def _plain(spec):
    return {sec: ({k: str(v) for k, v in val.items()} if isinstance(val, dict) else val) for sec, val in spec.items()}


def _table(metrics):
    def cell(value, fmt):
        return "" if value is None else format(value, fmt)

    rows = [f"{'model':<12} {'test_mse':>9} {'psnr':>7} {'r2':>7} {'probe':>7} {'code':>5} {'wall_s':>8}"]
    for name, m in metrics.items():
        rows.append(f"{name:<12} {m['test_mse']:>9.4f} {m['psnr']:>7.2f} {m['r2']:>7.3f} "
                    f"{cell(m.get('probe_accuracy'), '.3f'):>7} {m['code_size']:>5} {cell(m['wall_s'], '.1f'):>8}")
    return "\n".join(rows)
