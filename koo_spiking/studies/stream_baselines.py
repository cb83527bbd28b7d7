"""Online baselines of the plasticity protocols, fed the protocol's stream image by image.

The backprop autoencoder (scikit-learn's ``MLPRegressor.partial_fit`` on each image, one ReLU
hidden layer of the code size) and ``IncrementalPCA`` (fitted on batches of code-size images, the
smallest it takes), evaluated on the held-out images at the protocol's evaluation points.
"""
import time

import numpy as np

from .continual import code_health

__all__ = ["run_baselines"]


def run_baselines(lay, k, seed=0):
    """The backprop autoencoder (``partial_fit`` per image) and ``IncrementalPCA`` on the same stream.

    Before their first update neither model has weights: the first point's reconstruction is
    all zeros and its health is None.
    """
    import warnings

    from sklearn.decomposition import IncrementalPCA
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor

    X_stream, n_px = lay["train_images"], lay["frames"].shape[1]
    ae = MLPRegressor(hidden_layer_sizes=(k,), activation="relu", solver="adam", random_state=seed)
    ipca = IncrementalPCA(n_components=min(k, n_px))
    models = {"autoencoder": ae, "incremental_pca": ipca}
    out = {name: {"mse": [], "health": [], "wall_s": 0.0,
                  "over_time": {"weights": {"encoder": {"sample": [], "mean_abs": [], "std": []}}}}
           for name in models}

    def code(name, X):
        if name == "autoencoder":
            return np.maximum(X @ ae.coefs_[0] + ae.intercepts_[0], 0)
        return ipca.transform(X)

    def reconstruct(name, X):
        if name == "autoencoder":
            return ae.predict(X)
        return ipca.inverse_transform(ipca.transform(X))

    def evaluate_point(sample):
        for name in models:
            fitted = hasattr(models[name], "coefs_" if name == "autoencoder" else "components_")
            mse = [float(np.mean(((np.clip(reconstruct(name, X), 0, 1) if fitted else 0 * X) - X) ** 2))
                   for X in lay["eval_sets"]]
            out[name]["mse"].append(mse)
            out[name]["health"].append(code_health({"hidden": np.vstack([code(name, X) for X in lay["eval_sets"]])})
                                       if fitted else None)
            if fitted:
                W = ae.coefs_[0] if name == "autoencoder" else ipca.components_
                wt = out[name]["over_time"]["weights"]["encoder"]
                wt["sample"].append(sample)
                wt["mean_abs"].append(float(np.abs(W).mean()))
                wt["std"].append(float(W.std()))

    points = [p["sample"] for p in lay["points"]]
    evaluate_point(0)
    buffer, nxt = [], 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for s, x in enumerate(X_stream, start=1):
            t = time.time()
            ae.partial_fit(x[None], x[None])
            out["autoencoder"]["wall_s"] += time.time() - t
            t = time.time()
            buffer.append(x)
            if len(buffer) >= ipca.n_components:  # IncrementalPCA needs batches of at least k images
                ipca.partial_fit(np.asarray(buffer))
                buffer = []
            out["incremental_pca"]["wall_s"] += time.time() - t
            while nxt < len(points) and points[nxt] == s:
                evaluate_point(s)
                nxt += 1
    return out
