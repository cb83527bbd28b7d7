"""Data sets, scaled to [0, 1], with strict checks.

- ``digits``: scikit-learn's embedded 8x8 digits (1797 images), 75/25 stratified split, seed-fixed.
- ``fashion-mnist``: the four IDX files of Fashion-MNIST (Xiao, Rasul & Vollgraf 2017), from
  Debian's ``dataset-fashion-mnist`` (/usr/share/datasets/fashion-mnist) or a given directory.
- ``PATH.npy`` (one array, split 75/25) or ``PATH.npz`` (``X_train``/``X_test`` with optional
  ``y_train``/``y_test``, or ``X`` with optional ``y``).

Bad data raises ``ValueError`` (or ``FileNotFoundError``) with a one-line message.
"""

from __future__ import annotations

import gzip
import os
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["load_digits01", "check_images", "load_dataset", "read_idx", "resample", "FASHION_DIR", "Dataset"]

FASHION_DIR = "/usr/share/datasets/fashion-mnist"
_FASHION_FILES = {
    "X_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "X_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


class Dataset(dict):
    """``X_train``, ``y_train``, ``X_test``, ``y_test`` (labels may be None), ``name``, ``shape``."""


def load_digits01() -> tuple[np.ndarray, np.ndarray]:
    """The 1797 scikit-learn digits as (X in [0, 1] of shape (n, 64), labels)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.data.astype(np.float64) / 16.0, digits.target.astype(np.int64)


def check_images(X: ArrayLike, name: str = "X", n_pixels: int | None = None) -> np.ndarray:
    """Validate an image array: 2-D, finite, values in [0, 1]; returns float64."""
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array (n_samples, n_pixels), got shape {X.shape}")
    if not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
        raise ValueError(f"{name} must be numeric, got dtype {X.dtype}")
    X = X.astype(np.float64)
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} contains NaN or infinite values")
    if X.min() < 0 or X.max() > 1:
        raise ValueError(f"{name} values must lie in [0, 1], got range [{X.min():g}, {X.max():g}]")
    if n_pixels is not None and X.shape[1] != n_pixels:
        raise ValueError(f"{name} has {X.shape[1]} pixels per sample, expected {n_pixels}")
    return X


def read_idx(path: str, ndim: int | None = None) -> np.ndarray:
    """Read an IDX file (optionally gzipped) into a numpy array; checks magic, dims and length.

    ``ndim``: the number of dimensions the magic number must announce (3 for images, 1 for labels).
    """
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError) as err:
        raise ValueError(f"IDX file {path} could not be read: {err}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"IDX file {path} is corrupt: bad magic number (expected unsigned-byte data)")
    if ndim is not None and raw[3] != ndim:
        raise ValueError(
            f"IDX file {path} has the wrong magic number 0x{int.from_bytes(raw[:4], 'big'):08x} "
            f"(expected 0x{0x800 + ndim:08x}: {ndim}-D unsigned bytes)"
        )
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise ValueError(f"IDX file {path} is corrupt: truncated header")
    shape = tuple(int.from_bytes(raw[4 + 4 * k : 8 + 4 * k], "big") for k in range(ndim))
    expected = header + int(np.prod(shape))
    if len(raw) != expected:
        raise ValueError(
            f"IDX file {path} is truncated or corrupt: {len(raw)} bytes, expected {expected} for shape {shape}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _find(directory, stem):
    for name in (stem, stem + ".gz"):
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(f"missing IDX file {stem}(.gz) in {directory}")


def _load_idx_dir(directory, name):
    if not os.path.isdir(directory):
        raise FileNotFoundError(
            f"no such data directory: {directory}"
            + (" (install Debian's dataset-fashion-mnist)" if directory == FASHION_DIR else "")
        )
    paths = {key: _find(directory, stem) for key, stem in _FASHION_FILES.items()}  # all present?
    arrays = {key: read_idx(path, 3 if key.startswith("X") else 1) for key, path in paths.items()}
    for split in ("train", "test"):
        X, y = arrays[f"X_{split}"], arrays[f"y_{split}"]
        if X.ndim != 3 or y.ndim != 1 or len(X) != len(y):
            raise ValueError(f"{directory}: {split} images {X.shape} and labels {y.shape} do not match")
    shape = arrays["X_train"].shape[1:]
    return Dataset(
        name=name,
        shape=shape,
        X_train=arrays["X_train"].reshape(len(arrays["X_train"]), -1) / 255.0,
        y_train=arrays["y_train"].astype(np.int64),
        X_test=arrays["X_test"].reshape(len(arrays["X_test"]), -1) / 255.0,
        y_test=arrays["y_test"].astype(np.int64),
    )


def _split(X, y, seed):
    from sklearn.model_selection import train_test_split

    stratify = y if y is not None and len(np.unique(y)) > 1 and np.min(np.bincount(y)) >= 2 else None
    if y is None:
        Xtr, Xte = train_test_split(X, test_size=0.25, random_state=seed)
        return Xtr, None, Xte, None
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, stratify=stratify, random_state=seed)
    return Xtr, ytr, Xte, yte


def _load_array_file(path, seed):
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no such data file: {path}")
    try:
        loaded = np.load(path, allow_pickle=False)
    except Exception as err:
        raise ValueError(f"data file {path} could not be read: {err}") from None
    if path.endswith(".npy"):
        X, y = loaded, None
        parts = _split(check_images(X, path), None, seed)
    else:
        keys = set(loaded.files)
        if {"X_train", "X_test"} <= keys:
            parts = (
                loaded["X_train"],
                loaded["y_train"] if "y_train" in keys else None,
                loaded["X_test"],
                loaded["y_test"] if "y_test" in keys else None,
            )
        elif "X" in keys:
            y = loaded["y"].astype(np.int64) if "y" in keys else None
            parts = _split(check_images(loaded["X"], f"{path}:X"), y, seed)
        else:
            raise ValueError(f"data file {path} must hold X_train and X_test, or X (found: {sorted(keys)})")
    Xtr, ytr, Xte, yte = parts
    side = int(round(np.sqrt(np.shape(Xtr)[1]))) if np.ndim(Xtr) == 2 else 0
    shape = (side, side) if side * side == np.shape(Xtr)[1] else (1, np.shape(Xtr)[1])
    return Dataset(name=os.path.basename(path), shape=shape, X_train=Xtr, y_train=ytr, X_test=Xte, y_test=yte)


def load_dataset(
    data: str = "digits", train_samples: int | None = None, test_samples: int | None = None, seed: int = 0
) -> Dataset:
    """Load a data set by name or path and cut it to the requested sample budget.

    Returns a :class:`Dataset`; pixels are float64 in [0, 1].
    """
    if data == "digits":
        X, y = load_digits01()
        Xtr, ytr, Xte, yte = _split(X, y, seed)
        ds = Dataset(name="digits", shape=(8, 8), X_train=Xtr, y_train=ytr, X_test=Xte, y_test=yte)
    elif data == "fashion-mnist":
        ds = _load_idx_dir(FASHION_DIR, "fashion-mnist")
    elif os.path.isdir(data):
        ds = _load_idx_dir(data, os.path.basename(os.path.normpath(data)))
    elif data.endswith((".npy", ".npz")):
        ds = _load_array_file(data, seed)
    elif not os.path.exists(data):
        raise FileNotFoundError(
            f"unknown data set or missing path: {data!r} (digits, fashion-mnist, DIR, PATH.npy, PATH.npz)"
        )
    else:
        raise ValueError(f"data {data!r}: expected digits, fashion-mnist, an IDX directory, or .npy/.npz")
    for split in ("train", "test"):
        ds[f"X_{split}"] = check_images(ds[f"X_{split}"], f"{ds['name']} {split} images")
        y = ds.get(f"y_{split}")
        if y is not None and len(y) != len(ds[f"X_{split}"]):
            raise ValueError(f"{ds['name']}: {split} labels ({len(y)}) do not match images ({len(ds[f'X_{split}'])})")
    if ds["X_train"].shape[1] != ds["X_test"].shape[1]:
        raise ValueError(f"{ds['name']}: train and test images differ in size")
    for split, n in (("train", train_samples), ("test", test_samples)):
        if n is None:
            continue
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
            raise ValueError(f"--{split}-samples must be a positive integer, got {n!r}")
        if n > len(ds[f"X_{split}"]):
            raise ValueError(
                f"--{split}-samples {n} exceeds the {len(ds[f'X_{split}'])} {split} images of {ds['name']}"
            )
        ds[f"X_{split}"] = ds[f"X_{split}"][:n]
        if ds.get(f"y_{split}") is not None:
            ds[f"y_{split}"] = ds[f"y_{split}"][:n]
    return ds


def _overlap(n_in, n_out):
    """(n_out, n_in) weights: the fraction of each output pixel's span covered by each input pixel."""
    edges_in, edges_out = np.linspace(0, 1, n_in + 1), np.linspace(0, 1, n_out + 1)
    lo = np.maximum(edges_out[:-1, None], edges_in[None, :-1])
    hi = np.minimum(edges_out[1:, None], edges_in[None, 1:])
    w = np.clip(hi - lo, 0, None)
    return w / w.sum(1, keepdims=True)


def resample(X: ArrayLike, shape: tuple[int, int], new_shape: tuple[int, int]) -> np.ndarray:
    """Images (n, h*w) resampled to ``new_shape`` by area averaging (down) or area overlap (up)."""
    X = np.asarray(X, float)
    h, w = shape
    if X.ndim != 2 or X.shape[1] != h * w:
        raise ValueError(f"resample: images of shape {shape} must be rows of {h * w} pixels, got {X.shape}")
    A, B = _overlap(h, new_shape[0]), _overlap(w, new_shape[1])
    out = np.einsum("ij,njk,lk->nil", A, X.reshape(-1, h, w), B)
    return np.clip(out.reshape(len(X), -1), 0, 1)
