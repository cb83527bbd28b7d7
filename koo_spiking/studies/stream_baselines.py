"""Online baselines of the plasticity protocols, fed the protocol's stream image by image.

Two backprop autoencoders, each scikit-learn's ``MLPRegressor.partial_fit`` on one image at a time
(Adam at scikit-learn's defaults: learning rate 1e-3, L2 ``alpha`` 1e-4): the shallow one (one ReLU
hidden layer of the code size, ``shallow_autoencoder``; called ``autoencoder`` before 0.4) and the
online counterpart of the deep offline baseline (``backprop_autoencoder``: ReLU hidden layers
256-128-k-128-256, as :data:`~koo_spiking.studies.baselines.BACKPROP_AE`), and ``IncrementalPCA``
(fitted on batches of code-size images, the smallest it takes), evaluated on the held-out images at
the protocol's evaluation points; reconstructions clipped to [0, 1].
"""

import time

import numpy as np

from .baselines import BACKPROP_AE
from .continual import code_health

__all__ = ["run_baselines", "ONLINE"]

#: the online baselines' keys, in the order they are reported
ONLINE = ("shallow_autoencoder", "backprop_autoencoder", "incremental_pca")


def run_baselines(lay, k, seed=0):
    """The shallow and the deep backprop autoencoder (``partial_fit`` per image) and ``IncrementalPCA`` on
    the same stream.

    Before their first update no model has weights: the first point's reconstruction is all zeros
    and its health is None.

    Parameters
    ----------
    lay : dict
        The protocol's layout (``studies.plasticity.layout``): ``train_images``, ``frames``, ``points``,
        ``eval_sets``.
    k : int
        Code size.
    seed : int
        ``random_state`` of the autoencoders.

    Returns
    -------
    dict
        Key (:data:`ONLINE`) -> ``mse`` (points x tasks), ``health``, ``wall_s``, ``over_time``.
    """
    import warnings

    from sklearn.decomposition import IncrementalPCA
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor

    X_stream, n_px = lay["train_images"], lay["frames"].shape[1]
    deep = tuple(BACKPROP_AE["hidden"]) + (k,) + tuple(reversed(BACKPROP_AE["hidden"]))
    models = {
        "shallow_autoencoder": MLPRegressor(
            hidden_layer_sizes=(k,), activation="relu", solver="adam", random_state=seed
        ),
        "backprop_autoencoder": MLPRegressor(
            hidden_layer_sizes=deep, activation="relu", solver="adam", random_state=seed
        ),
        "incremental_pca": IncrementalPCA(n_components=min(k, n_px)),
    }
    code_layer = {"shallow_autoencoder": 1, "backprop_autoencoder": len(BACKPROP_AE["hidden"]) + 1}
    ipca = models["incremental_pca"]
    out = {
        name: {
            "mse": [],
            "health": [],
            "wall_s": 0.0,
            "over_time": {"weights": {"encoder": {"sample": [], "mean_abs": [], "std": []}}},
        }
        for name in models
    }

    def code(name, X):
        if name in code_layer:
            h, ae = X, models[name]
            for W, b in zip(ae.coefs_[: code_layer[name]], ae.intercepts_[: code_layer[name]]):
                h = np.maximum(h @ W + b, 0)
            return h
        return ipca.transform(X)

    def reconstruct(name, X):
        if name in code_layer:
            return models[name].predict(X)
        return ipca.inverse_transform(ipca.transform(X))

    def evaluate_point(sample):
        for name, model in models.items():
            fitted = hasattr(model, "coefs_" if name in code_layer else "components_")
            mse = [
                float(np.mean(((np.clip(reconstruct(name, X), 0, 1) if fitted else 0 * X) - X) ** 2))
                for X in lay["eval_sets"]
            ]
            out[name]["mse"].append(mse)
            out[name]["health"].append(
                code_health({"hidden": np.vstack([code(name, X) for X in lay["eval_sets"]])}) if fitted else None
            )
            if fitted:
                W = model.coefs_[0] if name in code_layer else model.components_
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
            for name in code_layer:
                t = time.time()
                models[name].partial_fit(x[None], x[None])
                out[name]["wall_s"] += time.time() - t
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
