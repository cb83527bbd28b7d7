"""Figures of the encoder study: reconstructions, receptive fields, astrocytes (rasters: ``studies.inspection``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np

from ..plotting import astrocyte_calcium, save

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping

__all__ = ["reconstructions", "receptive_fields", "astrocytes"]


def reconstructions(
    path: str | os.PathLike, originals: np.ndarray, shape: tuple[int, int], models: Mapping[str, np.ndarray]
) -> None:
    """Originals on the top row, each model's reconstructions below."""
    rows = [("original", originals)] + list(models.items())
    n = len(originals)
    fig, axes = plt.subplots(len(rows), n, figsize=(1.1 * n, 1.2 * len(rows)), squeeze=False)
    for r, (label, images) in enumerate(rows):
        for c in range(n):
            ax = axes[r][c]
            ax.imshow(np.asarray(images[c]).reshape(shape), cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r][0].set_ylabel(label, fontsize=8)
    save(fig, path)


def _tiles(ax, fields, shape, title):
    n = len(fields)
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    h, w = shape
    canvas = np.full((rows * (h + 1), cols * (w + 1)), np.nan)
    for k, f in enumerate(fields):
        r, c = divmod(k, cols)
        f = f - f.min()
        canvas[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = (f / (f.max() or 1)).reshape(shape)
    ax.imshow(canvas, cmap="viridis")
    ax.set_title(title, fontsize=9)
    ax.axis("off")


def receptive_fields(path: str | os.PathLike, state: Mapping[str, np.ndarray], shape: tuple[int, int]) -> None:
    """Input fields of the first hidden layer (tied weights) and hidden-2 projective fields (read-out).

    ``state`` is a learned state (``KooEncoder.state_`` or a run's ``state.npz``).
    """
    from .estimator import decoder_matrix

    n_px = int(np.prod(shape))
    w1 = _weight(state, "ff1")
    w1 = w1.reshape(len(w1) // n_px, n_px)
    dec = decoder_matrix(state, n_px)
    fig, axes = plt.subplots(1, 2, figsize=(10, 5))
    first = "hidden 1" if any(k.startswith("ff2.") for k in state) else "hidden 2 (the only hidden layer)"
    _tiles(axes[0], w1, shape, f"{first}: tied input weights of {len(w1)} E cells")
    _tiles(axes[1], dec, shape, f"hidden 2: read-out (projective) fields of {len(dec)} E cells")
    save(fig, path)


def _weight(state, name):
    if f"{name}.w" in state:
        return state[f"{name}.w"]
    return state[f"{name}.w_slow"] + state[f"{name}.w_fast"]


def astrocytes(path: str | os.PathLike, traces: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]]) -> None:
    """Ca2+ of every astrocyte of each layer over the run, with their plasticity gates."""
    if not traces:
        fig, ax = plt.subplots(figsize=(6, 2))
        ax.text(0.5, 0.5, "astrocytes switched off in this spec", ha="center", va="center")
        ax.axis("off")
        save(fig, path)
        return
    fig = plt.figure(figsize=(11, 3.2 * len(traces)))
    subfigs = fig.subfigures(len(traces), 1, squeeze=False)
    for sub, (name, (t, calcium, gate)) in zip(subfigs[:, 0], traces.items()):
        astrocyte_calcium(sub, t, calcium, gate=gate, n_traces=5)
        sub.suptitle(f"{name}: one astrocyte per neuron", fontsize=9)
    save(fig, path)
