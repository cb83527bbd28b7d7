"""Offline baselines of the Koo Encoder: one implementation each, seeded and deterministic.

Every baseline is fitted on the training images and reconstructs the test images; it returns a
:class:`Baseline` (test reconstructions, per-image MSE, codes for the probe), so that every caller
computes the same metrics from the same arrays.

=========================  ==========================================================================
key                        what it is
=========================  ==========================================================================
``mean_image``             the mean training image for every test image
``pca``                    PCA-k, reconstruction clipped to [0, 1] (pixels live there)
``pca_unclipped``          PCA-k, reconstruction as it is
``shallow_autoencoder``    one ReLU hidden layer of k, scikit-learn's ``MLPRegressor`` with its default
                           Adam training and early stopping (validation R²); output clipped to [0, 1].
                           Called ``autoencoder`` before 0.4 (:data:`OLD_KEYS`)
``backprop_autoencoder``   the deep one: input-256-128-k-128-256-input (:data:`BACKPROP_AE`), see
                           :func:`backprop_autoencoder`
=========================  ==========================================================================

Results written before 0.4 name the shallow autoencoder ``autoencoder``; read any ``models``
mapping through :func:`read_models` to get today's keys.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "Baseline",
    "BACKPROP_AE",
    "LABELS",
    "OLD_KEYS",
    "KEYS",
    "mean_image",
    "pca",
    "shallow_autoencoder",
    "backprop_autoencoder",
    "fit_baselines",
    "read_models",
]

#: the deep backprop autoencoder's recipe (every value documented in :func:`backprop_autoencoder`)
BACKPROP_AE = {
    "hidden": (256, 128),
    "learning_rate": 1e-3,
    "batch_size": 200,
    "alpha": 0.1,
    "validation_fraction": 0.1,
    "patience": 50,
    "max_epochs": 2000,
}

#: keys of the baselines, in the order they are reported
KEYS = ("mean_image", "pca", "pca_unclipped", "shallow_autoencoder", "backprop_autoencoder")

#: human-readable names (``{k}``: the code size)
LABELS = {
    "mean_image": "mean image",
    "pca": "PCA-{k}, clipped to [0, 1]",
    "pca_unclipped": "PCA-{k}, unclipped",
    "shallow_autoencoder": "shallow autoencoder (one hidden layer of {k})",
    "backprop_autoencoder": "backprop autoencoder (256-128-{k}-128-256)",
}

#: keys of results written before 0.4 -> today's key of the same model
OLD_KEYS = {"autoencoder": "shallow_autoencoder"}


@dataclass
class Baseline:
    """A fitted baseline's test reconstructions and what the metrics need.

    Attributes
    ----------
    reconstruction : ndarray, shape (n_test, n_pixels)
        The test images as the baseline reconstructs them.
    per_image_mse : ndarray, shape (n_test,)
        Mean squared pixel error of each test image.
    code_size : int
        Size of the code (0 for the mean image).
    wall_s : float
        Seconds to fit and reconstruct.
    code_train, code_test : ndarray or None
        The codes of the training and test images (for a linear probe); None without a code.
    info : dict
        Details of the fit (epochs, best epoch, ...), written beside the metrics.
    """

    reconstruction: np.ndarray
    per_image_mse: np.ndarray
    code_size: int
    wall_s: float
    code_train: np.ndarray | None = None
    code_test: np.ndarray | None = None
    info: dict = field(default_factory=dict)


def _result(R: np.ndarray, X_test: np.ndarray, k: int, t0: float, codes=(None, None), **info) -> Baseline:
    return Baseline(R, np.mean((R - X_test) ** 2, axis=1), int(k), time.time() - t0, codes[0], codes[1], info)


def mean_image(X_train: np.ndarray, X_test: np.ndarray) -> Baseline:
    """The mean training image as every test image's reconstruction.

    Parameters
    ----------
    X_train, X_test : ndarray, shape (n, n_pixels)
        Training and test images.

    Returns
    -------
    Baseline
    """
    t0 = time.time()
    return _result(np.repeat(X_train.mean(0)[None], len(X_test), 0), X_test, 0, t0)


def pca(X_train: np.ndarray, X_test: np.ndarray, k: int, seed: int = 0, clip: bool = True) -> Baseline:
    """PCA with ``k`` components (at most the data allow), reconstruction clipped to [0, 1] or not.

    Parameters
    ----------
    X_train, X_test : ndarray, shape (n, n_pixels)
        Training and test images, pixels in [0, 1].
    k : int
        Number of components.
    seed : int
        ``random_state`` of the solver.
    clip : bool
        Clip the reconstruction to [0, 1]. For targets in [0, 1] this never increases any pixel's error.

    Returns
    -------
    Baseline
        The code is the ``k`` principal-component scores.
    """
    from sklearn.decomposition import PCA

    t0 = time.time()
    model = PCA(n_components=min(k, *X_train.shape), random_state=seed).fit(X_train)
    code_te = model.transform(X_test)
    R = model.inverse_transform(code_te)
    if clip:
        R = np.clip(R, 0, 1)
    return _result(R, X_test, model.n_components_, t0, (model.transform(X_train), code_te))


def _relu_code(model, X: np.ndarray, layers: int) -> np.ndarray:
    """The ReLU activity of an MLP's ``layers``-th hidden layer."""
    h = X
    for W, b in zip(model.coefs_[:layers], model.intercepts_[:layers]):
        h = np.maximum(h @ W + b, 0)
    return h


def shallow_autoencoder(X_train: np.ndarray, X_test: np.ndarray, k: int, seed: int = 0) -> Baseline:
    """One ReLU hidden layer of ``k``: scikit-learn's ``MLPRegressor`` as this package used it before 0.4.

    Adam at scikit-learn's defaults (learning rate 1e-3, batches of 200, L2 ``alpha`` 1e-4), early stopping
    on 10 % of the training images held out (scikit-learn's criterion: their R², averaged over pixels; 20
    epochs without improvement by 1e-6), at most 500 epochs; identity output clipped to [0, 1].

    Parameters
    ----------
    X_train, X_test : ndarray, shape (n, n_pixels)
        Training (at least 20, for the held-out split) and test images.
    k : int
        Code size (the hidden layer).
    seed : int
        ``random_state`` of the initial weights, the shuffling and the held-out split.

    Returns
    -------
    Baseline
        The code is the hidden layer's ReLU activity.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor

    t0 = time.time()
    ae = MLPRegressor(
        hidden_layer_sizes=(k,),
        activation="relu",
        solver="adam",
        max_iter=500,
        early_stopping=True,
        random_state=seed,
        tol=1e-6,
        n_iter_no_change=20,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ae.fit(X_train, X_train)
    R = np.clip(ae.predict(X_test), 0, 1)
    return _result(R, X_test, k, t0, (_relu_code(ae, X_train, 1), _relu_code(ae, X_test, 1)), epochs=int(ae.n_iter_))


def backprop_autoencoder(X_train: np.ndarray, X_test: np.ndarray, k: int, seed: int = 0, **recipe) -> Baseline:
    """The deep backprop autoencoder, input-256-128-k-128-256-input, trained to convergence.

    The recipe (:data:`BACKPROP_AE`; ``recipe`` overrides any of its keys):

    - ReLU in every hidden layer (the code is the ReLU activity of the k-cell layer), identity output;
      the reconstruction is the output clipped to [0, 1] (as PCA's and the shallow autoencoder's; the
      pixels live there);
    - scikit-learn's ``MLPRegressor`` (Glorot-uniform initial weights), squared error, Adam with learning
      rate ``learning_rate`` (1e-3) and scikit-learn's other Adam defaults, shuffled batches of
      ``batch_size`` (200), L2 penalty ``alpha`` 0.1 (scikit-learn's scaling: ``alpha / 2 * ||W||² /
      batch``). The penalty was chosen once, on seed 0 of digits, among 1e-4 (scikit-learn's default),
      1e-2, 0.1, 0.3 and 1 by test MSE after a fixed number of epochs: a choice that can only favour
      the baseline;
    - early stopping: ``validation_fraction`` (10 %) of the training images are held out (a seeded
      permutation) and never trained on; after every epoch (``partial_fit`` over the other 90 %) the held-out
      images' MSE of the clipped reconstruction is measured; training stops after ``patience`` (50) epochs
      without a new minimum, or after ``max_epochs`` (2000), and the weights of the best epoch are kept.
      (scikit-learn's own early stopping scores the pixel-averaged R², which is dominated by the near-constant
      border pixels and stopped too early: test MSE 0.0082 against 0.0070 on digits seed 0.)

    One model per seed, no restarts. On digits' 1347 training images it takes some 500 epochs, 20-60 s on
    one core (``OMP_NUM_THREADS=1``).

    Parameters
    ----------
    X_train, X_test : ndarray, shape (n, n_pixels)
        Training (at least 2) and test images, pixels in [0, 1].
    k : int
        Code size.
    seed : int
        Seeds the initial weights, the shuffling and the held-out split.
    **recipe
        Keys of :data:`BACKPROP_AE` to override (``hidden``, ``learning_rate``, ``batch_size``, ``alpha``,
        ``validation_fraction``, ``patience``, ``max_epochs``).

    Returns
    -------
    Baseline
        ``info``: ``epochs`` (trained), ``best_epoch``, ``validation_mse``, ``architecture``.
    """
    from sklearn.neural_network import MLPRegressor

    unknown = sorted(set(recipe) - set(BACKPROP_AE))
    if unknown:
        raise ValueError(f"backprop_autoencoder: unknown recipe key {unknown[0]!r} (known: {', '.join(BACKPROP_AE)})")
    r = {**BACKPROP_AE, **recipe}
    t0 = time.time()
    perm = np.random.default_rng(seed).permutation(len(X_train))
    n_val = min(len(X_train) - 1, max(1, int(round(r["validation_fraction"] * len(X_train)))))
    X_val, X_fit = X_train[perm[:n_val]], X_train[perm[n_val:]]
    hidden = tuple(r["hidden"]) + (k,) + tuple(reversed(r["hidden"]))
    ae = MLPRegressor(
        hidden_layer_sizes=hidden,
        activation="relu",
        solver="adam",
        alpha=r["alpha"],
        batch_size=min(r["batch_size"], len(X_fit)),
        learning_rate_init=r["learning_rate"],
        random_state=seed,
    )
    best, best_epoch, best_weights = np.inf, 0, None
    for epoch in range(1, r["max_epochs"] + 1):
        ae.partial_fit(X_fit, X_fit)
        val = float(np.mean((np.clip(ae.predict(X_val), 0, 1) - X_val) ** 2))
        if val < best:
            best, best_epoch = val, epoch
            best_weights = ([w.copy() for w in ae.coefs_], [b.copy() for b in ae.intercepts_])
        elif epoch - best_epoch >= r["patience"]:
            break
    ae.coefs_, ae.intercepts_ = best_weights
    depth = len(r["hidden"]) + 1
    R = np.clip(ae.predict(X_test), 0, 1)
    return _result(
        R,
        X_test,
        k,
        t0,
        (_relu_code(ae, X_train, depth), _relu_code(ae, X_test, depth)),
        epochs=epoch,
        best_epoch=best_epoch,
        validation_mse=best,
        architecture="-".join(str(n) for n in (X_train.shape[1], *hidden, X_train.shape[1])),
    )


def fit_baselines(X_train: np.ndarray, X_test: np.ndarray, k: int, seed: int = 0) -> dict[str, Baseline]:
    """Every baseline of :data:`KEYS` on one split.

    Parameters
    ----------
    X_train, X_test : ndarray, shape (n, n_pixels)
        Training and test images, pixels in [0, 1].
    k : int
        Code size of PCA and the autoencoders.
    seed : int
        Seed of every baseline.

    Returns
    -------
    dict
        Key (:data:`KEYS`) -> :class:`Baseline`.
    """
    return {
        "mean_image": mean_image(X_train, X_test),
        "pca": pca(X_train, X_test, k, seed),
        "pca_unclipped": pca(X_train, X_test, k, seed, clip=False),
        "shallow_autoencoder": shallow_autoencoder(X_train, X_test, k, seed),
        "backprop_autoencoder": backprop_autoencoder(X_train, X_test, k, seed),
    }


def read_models(models: dict) -> dict:
    """A ``models`` mapping of any version's results with today's keys.

    Results written before 0.4 call the shallow (one hidden layer) autoencoder ``autoencoder``
    (:data:`OLD_KEYS`); it is returned as ``shallow_autoencoder``. Other keys are kept as they are.

    Parameters
    ----------
    models : dict
        Model key -> anything (metrics, curves).

    Returns
    -------
    dict
        A new mapping, in the same order.
    """
    out = {}
    for key, value in models.items():
        new = OLD_KEYS.get(key, key)
        if new != key and new in models:
            raise ValueError(f"results hold both {key!r} (the name before 0.4) and {new!r}")
        out[new] = value
    return out
