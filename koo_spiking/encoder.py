"""The Koo Encoder as a scikit-learn transformer.

``KooEncoder`` learns a two-hidden-layer spiking code of images with local rules only (see
``encoder_network``). ``fit`` trains in one Brian2 run; ``transform`` returns the hidden-2 spike
counts (the code); ``inverse_transform`` maps a code through the reconstruction layer's learned
decoder and integrate-and-fire readout; ``reconstruct`` runs the whole network with the teacher
off; ``score`` is the negative per-pixel MSE.
"""
import copy
import os
import tempfile
import time

import brian2
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from . import backend
from .data import check_images
from .encoder_network import EncoderNetwork
from .encoder_spec import FEATURES, load_spec, validate_spec

__all__ = ["KooEncoder"]

_STATE = {  # learned state kept after fit: (object, variable, unit)
    "ff1": ("w_slow", "w_fast"), "ff1_fb": ("w_slow", "w_fast"), "ff2": ("w_slow", "w_fast"),
    "ff2_fb": ("w_slow", "w_fast"), "h1_IE": ("W",), "h2_IE": ("W",), "decoder": ("D",),
    "decoder_inh": ("D_neg",),
    "recon": ("err_avg",), "h1": ("theta",), "h2": ("theta",),
}


class KooEncoder(TransformerMixin, BaseEstimator):
    """Spiking autoencoder with local learning (no backpropagation).

    Parameters
    ----------
    spec : str, dict or None
        Path of a TOML model spec, a spec dict, or None for the defaults (``models/koo_encoder.toml``).
    code_size : int or None
        Hidden-2 size; overrides the spec's ``[network] n_h2``.
    epochs : int or None
        Passes over the training data; overrides ``[learning] epochs``.
    features : dict or None
        Feature flags to override, e.g. ``{"astrocytes": False}``.
    backend : {'cpp_standalone', 'cython', 'numpy'}
        Code-generation target for every simulation.
    seed : int
        Seeds Brian2's and numpy's generators: same seed and backend, same spikes.
    verbose : bool
        Show progress (images/s) while simulating.
    """

    def __init__(self, spec=None, code_size=None, epochs=None, features=None, backend="cpp_standalone",
                 seed=0, verbose=False):
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
            spec = validate_spec(raw) if "network" not in raw or not _is_resolved(raw) else raw
        elif isinstance(self.spec, (str, os.PathLike)):
            spec = load_spec(os.fspath(self.spec))
        else:
            raise ValueError(f"KooEncoder: spec must be a path, a dict or None, got {type(self.spec).__name__}")
        spec = copy.deepcopy(spec)
        if self.code_size is not None:
            if isinstance(self.code_size, bool) or not isinstance(self.code_size, (int, np.integer)) or self.code_size <= 0:
                raise ValueError(f"KooEncoder: code_size must be a positive integer, got {self.code_size!r}")
            spec["network"]["n_h2"] = int(self.code_size)
        if self.epochs is not None:
            if isinstance(self.epochs, bool) or not isinstance(self.epochs, (int, np.integer)) or self.epochs <= 0:
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
        spec["learning"]["seed"] = int(self.seed)
        return spec

    def simulate(self, frames, plastic, teach, weights=None, spec=None, raster=False, astro=False):
        """Run the network over a schedule of image slots; returns counts per slot and state.

        Returns
        -------
        dict
            ``counts`` (layer -> array (n_slots, n)), ``phase`` (layer -> complex array),
            ``weights`` (learned state), ``wall_s``, ``raster`` (layer -> (i, t)) if asked,
            ``astrocytes`` (layer -> (t, Ca2+ in uM, gate)) if ``raster`` or ``astro``.
        """
        spec = spec or self.spec_
        out = {}
        t0 = time.time()
        directory = tempfile.mkdtemp(prefix="koo_encoder_") if self.backend == "cpp_standalone" else None
        with backend.backend(self.backend, directory=directory):
            brian2.start_scope()
            brian2.defaultclock.dt = spec["network"]["dt"]
            backend.seed(self.seed)
            model = EncoderNetwork(spec, frames, plastic, teach, weights=weights)
            net = model.build()
            spike_mons, astro_mons = {}, {}
            if raster:
                for name in ("inputs", "h1", "h2", "recon"):
                    spike_mons[name] = brian2.SpikeMonitor(model.groups[name], name=f"raster_{name}")
                for name, (I, _) in model.inhib.items():
                    spike_mons[f"{name}_I"] = brian2.SpikeMonitor(I, name=f"raster_{name}_I")
            if raster or astro:
                every = max(0.1, float(model.duration / brian2.second) / 500) * brian2.second
                astro_mons = {name: brian2.StateMonitor(a, ["C", "gate"], record=True, dt=every,
                                                        name=f"astro_{name}")
                              for name, a in model.astros.items()}
            net.add(*spike_mons.values(), *astro_mons.values())
            net.run(model.duration, report=self._report(len(frames), spec), report_period=5 * brian2.second,
                    namespace={})
            out["counts"] = {k: np.asarray(m.count).T[1:].astype(float) for k, m in model.monitors.items()}
            out["phase"] = {k: (np.asarray(model.monitors[k].cph).T[1:] + 1j * np.asarray(model.monitors[k].sph).T[1:])
                            for k in ("h1", "h2")}
            state = {}
            for obj, names in _STATE.items():
                target = model.synapses.get(obj) or model.groups.get(obj) or _inhib(model, obj)
                if target is None:
                    continue
                for var in names:
                    value = np.asarray(getattr(target, var)[:], dtype=float)
                    state[f"{obj}.{var}"] = value / 1e-3 if var == "theta" else value
            out["weights"] = state
            if raster:
                out["raster"] = {k: (np.asarray(m.i[:]), np.asarray(m.t[:] / brian2.second)) for k, m in spike_mons.items()}
            if astro_mons:
                out["astrocytes"] = {k: (np.asarray(m.t / brian2.second), np.asarray(m.C / brian2.umolar),
                                         np.asarray(m.gate)) for k, m in astro_mons.items()}
        out["wall_s"] = time.time() - t0
        return out

    def _report(self, n_slots, spec):
        if not self.verbose:
            return None
        per_s = 1.0 / float(spec["network"]["present"] / brian2.second)
        if self.backend == "cpp_standalone":
            return ('int n = (int)(completed*30); std::cout << "\\r  [" << std::string(n, \'#\') '
                    '<< std::string(30 - n, \' \') << "] " << (int)(completed*100) << "% " '
                    f'<< (int)(completed*duration*{per_s}) << "/{n_slots} images, " '
                    f'<< (elapsed > 0 ? completed*duration*{per_s}/elapsed : 0) << " images/s" '
                    '<< (completed >= 1 ? "\\n" : "") << std::flush;')

        def report(elapsed, complete, t_start, duration):
            done = float(complete * duration) * per_s
            rate = done / max(float(elapsed), 1e-9)
            bar = "#" * int(30 * complete)
            print(f"\r  [{bar:<30}] {complete:4.0%} {done:6.0f}/{n_slots} images, {rate:6.1f} images/s",
                  end="\n" if complete >= 1 else "", flush=True)
        return report

    def _schedule(self, X, epochs, anneal_to=1.0):
        """Training slots: shuffled epochs; plasticity annealed linearly from 1 to ``anneal_to``."""
        rng = np.random.default_rng(self.seed)
        order = np.concatenate([rng.permutation(len(X)) for _ in range(epochs)])
        return X[order], np.linspace(1.0, anneal_to, len(order)), np.ones(len(order))

    def _check_fitted(self):
        if not hasattr(self, "weights_"):
            raise ValueError("KooEncoder: call fit before using the encoder")

    # ------------------------------------------------------------------ estimator API
    def fit(self, X, y=None):
        """Learn from images X (n_samples, n_pixels) in [0, 1]; y is ignored."""
        X = check_images(X)
        self.spec_ = self._resolved_spec()
        frames, plastic, teach = self._schedule(X, self.spec_["learning"]["epochs"], self.spec_["learning"]["anneal_to"])
        result = self.simulate(frames, plastic, teach)
        self.weights_ = result["weights"]
        self.n_features_in_ = X.shape[1]
        self.train_counts_ = result["counts"]
        self.fit_wall_s_ = result["wall_s"]
        return self

    def encode(self, X, raster=False):
        """Run the trained network on X (teacher and plasticity off): code, reconstruction, phases."""
        self._check_fitted()
        X = check_images(X, n_pixels=self.n_features_in_)
        n = len(X)
        result = self.simulate(X, np.zeros(n), np.zeros(n), weights=self.weights_, raster=raster)
        scale = float(self.spec_["network"]["input_rate"] * self.spec_["network"]["present"])
        result["code"] = result["counts"]["h2"]
        result["reconstruction"] = np.clip(result["counts"]["recon"] / scale, 0, 1)
        return result

    def transform(self, X):
        """Hidden-2 spike counts per image, shape (n_samples, code_size)."""
        return self.encode(X)["code"]

    def reconstruct(self, X):
        """Images decoded from the reconstruction layer's spikes, shape like X."""
        return self.encode(X)["reconstruction"]

    def inverse_transform(self, code):
        """Reconstruction from a code through the decoder and the integrate-and-fire readout."""
        self._check_fitted()
        code = np.asarray(code, dtype=float)
        n_h2 = self.spec_["network"]["n_h2"]
        if code.ndim != 2 or code.shape[1] != n_h2:
            raise ValueError(f"KooEncoder: code must have shape (n_samples, {n_h2}), got {code.shape}")
        if not np.all(np.isfinite(code)) or code.min() < 0:
            raise ValueError("KooEncoder: code must hold finite, non-negative spike counts")
        D = self.weights_["decoder.D"].reshape(n_h2, self.n_features_in_)
        if "decoder_inh.D_neg" in self.weights_:  # I partners fire with their E cells
            D = D - self.weights_["decoder_inh.D_neg"].reshape(n_h2, self.n_features_in_)
        drive = code @ D
        scale = float(self.spec_["network"]["input_rate"] * self.spec_["network"]["present"])
        return np.clip(np.floor(drive) / scale, 0, 1)

    def score(self, X, y=None):
        """Negative mean squared error per pixel of ``reconstruct(X)``."""
        X = check_images(X)
        return -float(np.mean((self.reconstruct(X) - X) ** 2))


def _inhib(model, obj):
    if obj.endswith("_IE"):
        pair = model.inhib.get(obj[:-3])
        return pair[1] if pair else None
    return None


def _is_resolved(raw):
    try:
        return hasattr(raw["network"]["dt"], "dim")
    except (KeyError, TypeError):
        return False
