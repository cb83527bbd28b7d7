"""The Koo Encoder as a scikit-learn transformer.

``KooEncoder`` learns a two-hidden-layer spiking code of images with local rules only (see
``encoder.network``). ``fit`` trains in one Brian2 run; ``transform`` returns the hidden-2 spike
counts (the code); ``reconstruct`` runs the whole network with the teacher off and reads the
reconstruction layer's spikes; ``inverse_transform`` maps a code through the learned read-out;
``score`` is the negative per-pixel MSE.
"""

from __future__ import annotations

import copy
import os
import time
from typing import TYPE_CHECKING, Any

import brian2
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from .. import backend
from ..io.datasets import check_images
from .compiled import CompiledNetwork
from .spec import FEATURES, check_memory, load_spec, validate_spec

if TYPE_CHECKING:
    from collections.abc import Mapping

    from brian2.units.fundamentalunits import Quantity
    from numpy.typing import ArrayLike

__all__ = ["KooEncoder", "training_schedule", "decoder_matrix"]


def training_schedule(
    n_images: int, spec: Mapping[str, Any], rng: np.random.Generator
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Image order and plasticity flags of a training run.

    ``epochs`` passes with every pathway plastic, then ``decoder_epochs`` passes with only the
    read-out plastic; in each phase the learning rate falls linearly from 1 to ``anneal_to``.
    Returns (order, schedule) with schedule keys ``enc``, ``dec``, ``teach``.
    """
    learn = spec["learning"]
    e1, e2 = learn["epochs"], learn["decoder_epochs"]
    order = np.concatenate([rng.permutation(n_images) for _ in range(e1 + e2)]).astype(int)
    n1, n2 = e1 * n_images, e2 * n_images
    ramp1 = np.linspace(1.0, learn["anneal_to"], n1)
    ramp2 = np.linspace(1.0, learn["anneal_to"], n2)
    enc = np.r_[ramp1, np.zeros(n2)]
    dec = np.r_[ramp1, ramp2]
    return order, {"enc": enc, "dec": dec, "teach": np.ones(n1 + n2)}


def evaluation_schedule(n_images: int) -> dict[str, np.ndarray]:
    """Plasticity and teacher off."""
    z = np.zeros(n_images)
    return {"enc": z, "dec": z, "teach": z}


class KooEncoder(TransformerMixin, BaseEstimator):
    """Spiking autoencoder with local learning (no backpropagation).

    Parameters
    ----------
    spec : str, dict or None
        Path of a TOML model spec, the name of a shipped one (``"koo_encoder"``, ``"koo_small"``,
        ``"koo_fashion"``, ``"koo_no_glia"``; from any folder), a (partial) spec dict, or None for
        the defaults (``models/koo_encoder.toml``).
    code_size : int or None
        Hidden-2 size; overrides the spec's ``[network] n_h2``.
    epochs : int or None
        Passes with every pathway plastic; overrides ``[learning] epochs``.
    features : dict or None
        Feature flags to override, e.g. ``{"astrocytes": False}``.
    backend : {'cpp_standalone', 'cython', 'numpy'}
        Code-generation target for every simulation.
    seed : int
        Seeds Brian2's and numpy's generators: same seed and backend, same spikes.
    verbose : bool
        Show progress (images/s) while simulating.
    """

    def __init__(
        self,
        spec: str | os.PathLike | dict[str, Any] | None = None,
        code_size: int | None = None,
        epochs: int | None = None,
        features: Mapping[str, bool] | None = None,
        backend: str = "cpp_standalone",
        seed: int = 0,
        verbose: bool = False,
    ) -> None:
        self.spec = spec
        self.code_size = code_size
        self.epochs = epochs
        self.features = features
        self.backend = backend
        self.seed = seed
        self.verbose = verbose

    # ------------------------------------------------------------------ helpers
    def _resolved_spec(self):
        if self.spec is None or isinstance(self.spec, dict):
            raw = copy.deepcopy(self.spec) if isinstance(self.spec, dict) else {}
            spec = raw if _is_resolved(raw) else validate_spec(raw)
        elif isinstance(self.spec, (str, os.PathLike)):
            spec = load_spec(os.fspath(self.spec))
        else:
            raise ValueError(f"KooEncoder: spec must be a path, a dict or None, got {type(self.spec).__name__}")
        spec = copy.deepcopy(spec)
        if self.code_size is not None:
            if not _positive_int(self.code_size):
                raise ValueError(f"KooEncoder: code_size must be a positive integer, got {self.code_size!r}")
            spec["network"]["n_h2"] = int(self.code_size)
        if self.epochs is not None:
            if not _positive_int(self.epochs):
                raise ValueError(f"KooEncoder: epochs must be a positive integer, got {self.epochs!r}")
            spec["learning"]["epochs"] = int(self.epochs)
        for name, value in (self.features or {}).items():
            if name not in FEATURES:
                raise ValueError(f"KooEncoder: unknown feature {name!r} (known: {', '.join(FEATURES)})")
            if not isinstance(value, bool):
                raise ValueError(f"KooEncoder: feature {name!r} must be True or False, got {value!r}")
            spec["features"][name] = value
        if self.backend not in backend.TARGETS:
            raise ValueError(f"KooEncoder: unknown backend {self.backend!r} (choose from {', '.join(backend.TARGETS)})")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise ValueError(f"KooEncoder: seed must be a non-negative integer, got {self.seed!r}")
        spec["learning"]["seed"] = int(self.seed)
        return spec

    def _input_stats(self, X, spec):
        """Mean image and the power of the centred input counts (sum of pixel variances)."""
        n0 = float(spec["network"]["input_rate"] * spec["network"]["present"])
        return float(np.sum(np.var(X * n0, axis=0))), X.mean(0)

    def simulate(
        self,
        frames: ArrayLike,
        schedule: Mapping[str, ArrayLike],
        state: Mapping[str, np.ndarray] | None = None,
        spec: Mapping[str, Any] | None = None,
        stats: tuple[float, np.ndarray] | None = None,
        raster: bool | int = False,
        astro: bool = False,
        full_state: Mapping[str, np.ndarray] | None = None,
        t_start: Quantity | None = None,
        seed: int | None = None,
        keep_full: bool = False,
        weights_every: int | None = None,
        profile: str | os.PathLike | None = None,
    ) -> dict[str, Any]:
        """Run the network over a schedule of image slots in one Brian2 run.

        Parameters
        ----------
        frames : array (n_slots, n_pixels)
        schedule : dict of arrays (n_slots,)
            ``enc``, ``dec`` (plasticity) and ``teach`` (sensory teacher) per slot.
        state : dict, optional
            Learned state to start from (default: the fitted state, if any).
        raster : bool or int
            Also record every spike: of the whole run (True) or of its last ``raster`` slots only
            (an int; the run is split in two, the spike monitors active in the second part).
        astro : bool
            Also record the astrocytes' Ca2+ and gates.
        full_state, t_start, seed, keep_full
            For runs split into chunks (``encoder.checkpoint``): every state variable to start from,
            the chunk's start in the whole schedule, its seed (default ``self.seed``), and whether to
            return the full state at the end (``full_state`` in the result).
        weights_every : int, optional
            Record each pathway's weight mean, standard deviation and mean magnitude every so many
            slots (``weights``: pathway -> dict of arrays, with ``t`` in s).
        profile : str, optional
            ``cpp_standalone``: run the binary under ``perf record``, its samples written to this path.

        Returns
        -------
        dict
            ``counts`` and ``dopamine`` (layer -> array (n_slots, n)), ``phase`` (h1, h2 -> complex
            array), ``state`` (learned state after the run), ``wall_s``; ``raster``
            (layer -> (i, t in s), t from the first recorded slot's start) with ``window``
            (``slots``: slots recorded, ``astro``: layer -> (t as the raster's, Ca2+ in uM
            (n_times, n_cells)) at the astrocytes' time step) and ``astrocytes``
            (layer -> (t, Ca2+ in uM, gate), the whole run, coarsely sampled) when asked.
        """
        spec = spec or self.spec_
        stats = stats or self.input_stats_
        state = self.state_ if state is None and hasattr(self, "state_") else state
        t0 = time.time()
        with CompiledNetwork(
            self,
            frames,
            schedule,
            spec,
            stats,
            state,
            raster=raster,
            astro=astro,
            full_state=full_state,
            t_start=t_start,
            seed=seed,
            keep_full=keep_full,
            weights_every=weights_every,
            profile=profile,
        ) as compiled:
            out = compiled.run()
        out["wall_s"] = time.time() - t0
        return out

    def compile(
        self,
        frames: ArrayLike,
        schedule: Mapping[str, ArrayLike],
        spec: Mapping[str, Any] | None = None,
        stats: tuple[float, np.ndarray] | None = None,
        state: Mapping[str, np.ndarray] | None = None,
        raster: bool | int = False,
        astro: bool = False,
        build_key: str = "",
        cache: bool = True,
    ) -> CompiledNetwork:
        """The network over a schedule, built once and run with :meth:`CompiledNetwork.run`, e.g. once per
        point of a sweep over run parameters (``encoder.runtime``): in ``cpp_standalone`` it compiles
        once. Close it (or use it in a ``with`` block) when done."""
        spec = spec or self.spec_
        stats = stats or self.input_stats_
        state = self.state_ if state is None and hasattr(self, "state_") else state
        return CompiledNetwork(
            self, frames, schedule, spec, stats, state, raster=raster, astro=astro, build_key=build_key, cache=cache
        )

    def _report(self, n_slots, spec):
        if not self.verbose:
            return None
        if self.backend == "cpp_standalone":
            return None  # progress_group reports instead
        per_s = 1.0 / float(spec["network"]["present"] / brian2.second)

        def report(elapsed, complete, t_start, duration):
            done = min(float(complete * duration) * per_s, n_slots)  # the run ends with one empty slot
            rate = done / max(float(elapsed), 1e-9)
            bar = "#" * int(30 * complete)
            print(
                f"\r  [{bar:<30}] {complete:4.0%} {done:6.0f}/{n_slots} images, {rate:6.1f} images/s",
                end="\n" if complete >= 1 else "",
                flush=True,
            )

        return report

    def _check_fitted(self):
        if not hasattr(self, "state_"):
            raise ValueError("KooEncoder: call fit before using the encoder")

    # ------------------------------------------------------------------ estimator API
    def fit(self, X: ArrayLike, y: Any = None) -> KooEncoder:
        """Learn from images X (n_samples, n_pixels) in [0, 1]; y is ignored."""
        X = check_images(X)
        self.spec_ = self._resolved_spec()
        learn = self.spec_["learning"]
        check_memory(self.spec_, X.shape[1], len(X) * (learn["epochs"] + learn["decoder_epochs"]))
        self.input_stats_ = self._input_stats(X, self.spec_)
        order, schedule = training_schedule(len(X), self.spec_, np.random.default_rng(self.seed))
        result = self.simulate(X[order], schedule, state={})
        self.state_ = result["state"]
        self.n_features_in_ = X.shape[1]
        self.train_counts_ = result["counts"]
        self.train_order_ = order
        self.fit_wall_s_ = result["wall_s"]
        return self

    def encode(self, X: ArrayLike, raster: bool | int = False) -> dict[str, Any]:
        """Run the trained network on X (teacher and plasticity off).

        Returns the ``simulate`` result plus ``code`` (hidden-2 counts) and ``reconstruction``.
        """
        self._check_fitted()
        X = check_images(X, n_pixels=self.n_features_in_)
        result = self.simulate(X, evaluation_schedule(len(X)), raster=raster)
        result["code"] = result["counts"]["h2"]
        result["reconstruction"] = self.counts_to_images(result["counts"]["recon"])
        return result

    def counts_to_images(self, counts: ArrayLike) -> np.ndarray:
        """Reconstruction-layer spike counts to pixel values (a white pixel fires output_rate x present)."""
        n0 = float(self.spec_["network"]["output_rate"] * self.spec_["network"]["present"])
        return np.clip(np.asarray(counts, float) / n0, 0, 1)

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Hidden-2 spike counts per image, shape (n_samples, code_size)."""
        return self.encode(X)["code"]

    def reconstruct(self, X: ArrayLike) -> np.ndarray:
        """Images decoded from the reconstruction layer's spikes, shape like X."""
        return self.encode(X)["reconstruction"]

    def decoder_matrix(self) -> np.ndarray:
        """Effective read-out (code_size, n_pixels): excitatory weights minus the inhibitory pool's.

        An h2 spike adds its tied weight to each reconstruction cell and ``a_in`` to each I cell of
        the read-out's pool; an I spike removes its I->E weight from each reconstruction cell.
        """
        self._check_fitted()
        return decoder_matrix(self.state_, self.n_features_in_)

    def inverse_transform(self, code: ArrayLike) -> np.ndarray:
        """Reconstruction from a code through the read-out's learned weights and bias.

        This is the rate read-out of the reconstruction layer: its integrate-and-fire cells fire
        the rounded-down integrated drive; the spiking value is given by ``reconstruct``.
        """
        self._check_fitted()
        code = np.asarray(code, dtype=float)
        n_h2 = self.spec_["network"]["n_h2"]
        if code.ndim != 2 or code.shape[1] != n_h2:
            raise ValueError(f"KooEncoder: code must have shape (n_samples, {n_h2}), got {code.shape}")
        if not np.all(np.isfinite(code)) or code.min() < 0:
            raise ValueError("KooEncoder: code must hold finite, non-negative spike counts")
        T = float(self.spec_["network"]["present"] / brian2.second)
        bias = self.state_["recon.I_b"] * T / float(brian2.mV)
        drive = code @ self.decoder_matrix() + bias
        return self.counts_to_images(np.floor(np.maximum(drive, 0)))

    def score(self, X: ArrayLike, y: Any = None) -> float:
        """Negative mean squared error per pixel of ``reconstruct(X)``."""
        X = check_images(X)
        return -float(np.mean((self.reconstruct(X) - X) ** 2))


def decoder_matrix(state: Mapping[str, np.ndarray], n_px: int) -> np.ndarray:
    """Effective read-out (code_size, n_pixels) of a learned state; see ``KooEncoder.decoder_matrix``."""
    weight = _weight(state, "dec")
    # tied synapses are stored source-major: (reconstruction cell, h2 cell)
    weight = weight.reshape(n_px, len(weight) // n_px).T
    if "recon_I.a_in" in state:
        a_in = state["recon_I.a_in"]
        v = _weight(state, "dec_inh").reshape(n_px, len(a_in))
        weight = weight - (v @ a_in)[None, :]
    return weight


def _weight(state, name):
    if f"{name}.w" in state:
        return state[f"{name}.w"]
    return state[f"{name}.w_slow"] + state[f"{name}.w_fast"]


def _positive_int(value):
    return not isinstance(value, bool) and isinstance(value, (int, np.integer)) and value > 0


def _is_resolved(raw):
    try:
        return hasattr(raw["network"]["dt"], "dim")
    except (KeyError, TypeError):
        return False
