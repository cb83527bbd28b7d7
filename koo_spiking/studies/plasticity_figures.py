"""Figures of a plasticity protocol: learning curves across switches and network health over time."""

import numpy as np
from matplotlib.figure import Figure

from ..plotting import save

__all__ = ["learning_curves", "health", "learning_curves_figure", "health_figure"]

_LABEL = {
    "koo": "Koo Encoder",
    "shallow_autoencoder": "shallow autoencoder (one hidden layer)",
    "backprop_autoencoder": "backprop autoencoder (256-128-k-128-256)",
    "incremental_pca": "IncrementalPCA",
    "autoencoder": "shallow autoencoder (one hidden layer)",
}  # the last: its name in results before 0.4


def _blocks(ax, result):
    """Shade every other block and name its task."""
    starts = result["block_starts"] + [result["points"][-1]["sample"]]
    for b, task in enumerate(result["blocks"]):
        if task % 2:
            ax.axvspan(starts[b], starts[b + 1], color="0.92", lw=0)
        if b > 0:
            ax.axvline(starts[b], color="0.6", lw=0.6, ls=":")


def learning_curves(path, result):
    """Save :func:`learning_curves_figure` to ``path``."""
    save(learning_curves_figure(result), path)


def health(path, result):
    """Save :func:`health_figure` to ``path``."""
    save(health_figure(result), path)


def learning_curves_figure(result):
    """Test MSE of every task over training samples, one panel per model, blocks shaded."""
    samples = np.array([p["sample"] for p in result["points"]])
    models = result["models"]
    fig = Figure(figsize=(10, 2.6 * len(models)))
    axes = fig.subplots(len(models), 1, sharex=True, squeeze=False)
    top = max(np.max(np.asarray(m["mse"])[1:]) for m in models.values())
    colors = [f"C{j % 10}" for j in range(len(result["tasks"]))]
    for ax, (name, m) in zip(axes[:, 0], models.items()):
        _blocks(ax, result)
        mse = np.asarray(m["mse"])
        for j, task in enumerate(result["tasks"]):
            ax.plot(samples, mse[:, j], color=colors[j], lw=1.2, marker=".", ms=3, label=task["name"])
        x = m["metrics"]
        f = x["forgetting"]["mean"]
        a = x["samples_to_adapt"]
        ax.set_title(
            f"{_LABEL.get(name, name)}: samples to adapt {'-' if a is None else f'{a:.0f}'}, "
            f"forgetting {'-' if f is None else f'{f:+.4f}'}",
            fontsize=9,
        )
        ax.set_ylabel("test MSE")
        ax.set_ylim(0, 1.05 * top)
    axes[0, 0].legend(fontsize=7, ncol=min(5, len(result["tasks"])), loc="upper right")
    axes[-1, 0].set_xlabel("training images seen (shaded: every other block)")
    fig.suptitle(
        f"{result['protocol']} on {result['data']} (seed {result['seed']}): held-out MSE of every task, "
        "plasticity off while evaluated",
        fontsize=10,
    )
    return fig


def health_figure(result):
    """Silent fraction and effective rank of the hidden codes, weight magnitudes and astrocyte gate spread."""
    samples = np.array([p["sample"] for p in result["points"]])
    fig = Figure(figsize=(11, 6))
    axes = fig.subplots(2, 2, sharex=True)
    for name, m in result["models"].items():
        known = [k for k, h in enumerate(m["health"]) if h is not None]
        for layer in m["health"][known[0]]:
            label = f"{_LABEL.get(name, name)} {layer}"
            for ax, key in ((axes[0, 0], "silent_fraction"), (axes[0, 1], "effective_rank")):
                ax.plot(samples[known], [m["health"][k][layer][key] for k in known], lw=1, label=label)
        for pathway, w in m["over_time"]["weights"].items():
            axes[1, 0].plot(w["sample"], w["mean_abs"], lw=1, label=f"{_LABEL.get(name, name)} {pathway}")
        for layer, g in m["over_time"].get("gates", {}).items():
            axes[1, 1].plot(g["sample"], g["spread"], lw=1, label=layer)
    for ax in axes.ravel():
        _blocks(ax, result)
    axes[0, 0].set_ylabel("silent fraction")
    axes[0, 1].set_ylabel("effective rank")
    axes[1, 0].set_ylabel("mean |weight|")
    axes[1, 0].set_yscale("log")
    axes[1, 1].set_ylabel("astrocyte gate spread (SD)")
    if not result["models"]["koo"]["over_time"].get("gates"):
        axes[1, 1].text(0.5, 0.5, "astrocytes switched off", ha="center", va="center", transform=axes[1, 1].transAxes)
    for ax in axes.ravel():
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=6, ncol=2)
    for ax in axes[1]:
        ax.set_xlabel("training images seen")
    fig.suptitle("Network health over the protocol (Dohare et al. 2024)", fontsize=10)
    return fig
