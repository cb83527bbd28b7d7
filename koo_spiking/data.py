"""Data sets: scikit-learn's embedded 8x8 digits, scaled to [0, 1]."""
import numpy as np

__all__ = ["load_digits01", "check_images"]


def load_digits01():
    """The 1797 scikit-learn digits as (X in [0, 1] of shape (n, 64), labels)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.data.astype(np.float64) / 16.0, digits.target.astype(np.int64)


def check_images(X, name="X", n_pixels=None):
    """Validate an image array: 2-D, finite, values in [0, 1]; returns float64."""
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array (n_samples, n_pixels), got shape {X.shape}")
    if not np.issubdtype(X.dtype, np.number):
        raise ValueError(f"{name} must be numeric, got dtype {X.dtype}")
    X = X.astype(np.float64)
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} contains NaN or infinite values")
    if X.min() < 0 or X.max() > 1:
        raise ValueError(f"{name} values must lie in [0, 1], got range [{X.min():g}, {X.max():g}]")
    if n_pixels is not None and X.shape[1] != n_pixels:
        raise ValueError(f"{name} has {X.shape[1]} pixels per sample, expected {n_pixels}")
    return X
