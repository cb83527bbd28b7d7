"""Figures: spike rasters with E and I in two colours, astrocyte Ca2+ over time."""
import matplotlib.pyplot as plt
import numpy as np

__all__ = ["raster", "astrocyte_calcium", "save"]

COLORS = {"E": "#c0392b", "I": "#2471a3", "input": "#7f8c8d"}


def raster(ax, layers, t_unit=1.0):
    """Stack spike trains of several populations on one axis.

    layers : list of (label, spike_indices, spike_times_s, size, colour)
    """
    offset, ticks, labels = 0, [], []
    for label, idx, times, size, color in layers:
        ax.scatter(np.asarray(times) / t_unit, np.asarray(idx) + offset, s=1.5, c=color,
                   marker="|", linewidths=0.6, label=label, rasterized=True)
        ticks.append(offset + size / 2)
        labels.append(label)
        offset += size
        ax.axhline(offset - 0.5, color="0.8", lw=0.5)
    ax.set_yticks(ticks, labels)
    ax.set_ylim(-0.5, offset - 0.5)
    ax.set_xlabel("time (s)")
    return ax


def astrocyte_calcium(fig, t, calcium_um, gate=None, n_traces=6):
    """Heat map of Ca2+ (uM) for every astrocyte plus a few traces (and their gate)."""
    rows = 3 if gate is not None else 2
    axes = fig.subplots(rows, 1, sharex=True)
    im = axes[0].imshow(calcium_um, aspect="auto", origin="lower", cmap="magma",
                        extent=(t[0], t[-1], -0.5, len(calcium_um) - 0.5))
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


def save(fig, path):
    """Save and close a figure."""
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
