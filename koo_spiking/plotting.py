"""Figures: spike rasters with E and I in two colours, astrocyte Ca2+ over time, weights as image tiles."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure
    from matplotlib.image import AxesImage
    from numpy.typing import ArrayLike

__all__ = ["raster", "astrocyte_calcium", "save", "spike_raster", "weight_mosaic"]

COLORS = {"E": "#c0392b", "I": "#2471a3", "input": "#7f8c8d"}


def raster(ax: Axes, layers: Iterable[tuple[str, ArrayLike, ArrayLike, int, Any]], t_unit: float = 1.0) -> Axes:
    """Stack spike trains of several populations on one axis.

    layers : list of (label, spike_indices, spike_times_s, size, colour)
    """
    offset, ticks, labels = 0, [], []
    for label, idx, times, size, color in layers:
        ax.scatter(
            np.asarray(times) / t_unit,
            np.asarray(idx) + offset,
            s=1.5,
            c=color,
            marker="|",
            linewidths=0.6,
            label=label,
            rasterized=True,
        )
        ticks.append(offset + size / 2)
        labels.append(label)
        offset += size
        ax.axhline(offset - 0.5, color="0.8", lw=0.5)
    ax.set_yticks(ticks, labels)
    ax.set_ylim(-0.5, offset - 0.5)
    ax.set_xlabel("time (s)")
    return ax


def astrocyte_calcium(
    fig: Figure | SubFigure, t: np.ndarray, calcium_um: np.ndarray, gate: np.ndarray | None = None, n_traces: int = 6
) -> np.ndarray:
    """Heat map of Ca2+ (uM) for every astrocyte plus a few traces (and their gate)."""
    rows = 3 if gate is not None else 2
    axes = fig.subplots(rows, 1, sharex=True)
    im = axes[0].imshow(
        calcium_um, aspect="auto", origin="lower", cmap="magma", extent=(t[0], t[-1], -0.5, len(calcium_um) - 0.5)
    )
    fig.colorbar(im, ax=list(axes), label="Ca$^{2+}$ (µM)", fraction=0.03, pad=0.02)
    axes[0].set_ylabel("astrocyte")
    pick = np.linspace(0, len(calcium_um) - 1, min(n_traces, len(calcium_um))).astype(int)
    for k in pick:
        axes[1].plot(t, calcium_um[k], lw=0.8, label=f"#{k}")
    axes[1].set_ylabel("Ca$^{2+}$ (µM)")
    axes[1].legend(fontsize=6, ncol=len(pick), loc="upper left")
    if gate is not None:
        for k in pick:
            axes[2].plot(t, gate[k], lw=0.8)
        axes[2].set_ylabel("plasticity gate")
        axes[2].set_ylim(-0.02, 1.02)
    axes[-1].set_xlabel("time (s)")
    return axes


def save(fig: Figure, path: str | os.PathLike) -> None:
    """Save and close a figure."""
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def spike_raster(
    ax: Axes,
    populations: Iterable[tuple[str, ArrayLike, ArrayLike, int, Any]],
    boundaries: ArrayLike | None = None,
    tick_every: int | None = None,
    size: float = 14,
    lw: float = 1.0,
) -> Axes:
    """Spike trains of several populations stacked on one axis, every neuron labelled by its index.

    populations : list of (label, spike_indices, spike_times_s, size, colour), bottom to top.
    boundaries : times (s) drawn as dotted vertical lines (e.g. image onsets).
    tick_every : index step of the y ticks within each population (default: about 4 ticks each).
    The population's name is written at the left of its block, its neurons' indices on the axis.
    """
    offset, ticks, labels = 0, [], []
    for label, idx, times, n, color in populations:
        ax.scatter(
            np.asarray(times), np.asarray(idx) + offset, s=size, c=color, marker="|", linewidths=lw, rasterized=True
        )
        step = tick_every or max(1, int(np.ceil(n / 4 / 4) * 4))
        for k in range(0, n, step):
            ticks.append(offset + k)
            labels.append(str(k))
        ax.text(
            -0.045,
            (offset + (n - 1) / 2) / 1.0,
            label,
            color=color,
            rotation=90,
            ha="right",
            va="center",
            transform=ax.get_yaxis_transform(),
            fontsize=10,
            fontweight="bold",
        )
        offset += n
        ax.axhline(offset - 0.5, color="0.6", lw=0.6)
    if boundaries is not None:
        ax.vlines(boundaries, -0.5, offset - 0.5, colors="0.45", lw=0.6, ls=":")
    ax.set_yticks(ticks, labels, fontsize=7)
    ax.set_ylim(-0.5, offset - 0.5)
    ax.set_ylabel("neuron index", labelpad=2)
    return ax


def weight_mosaic(
    ax: Axes,
    weights: ArrayLike,
    image_shape: tuple[int, int],
    cmap: str = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
    cols: int | None = None,
) -> AxesImage:
    """Each column of ``weights`` (n_inputs x n_neurons) as a small image, tiled row by row.

    Neuron k sits at row k // cols, column k % cols; returns the ``imshow`` artist (for a colour bar).
    """
    weights = np.asarray(weights, dtype=float)
    n = weights.shape[1]
    h, w = image_shape
    cols = cols or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    tile = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1), np.nan)
    for k in range(n):
        r, c = divmod(k, cols)
        tile[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = weights[:, k].reshape(h, w)
    im = ax.imshow(tile, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_xticks([c * (w + 1) + (w - 1) / 2 for c in range(cols)], [str(c) for c in range(cols)], fontsize=6)
    ax.set_yticks([r * (h + 1) + (h - 1) / 2 for r in range(rows)], [str(r * cols) for r in range(rows)], fontsize=6)
    ax.tick_params(length=0)
    return im
