"""Figures of the encoder study: reconstructions, receptive fields, rasters, astrocytes."""
import matplotlib.pyplot as plt
import numpy as np

from ..plotting import COLORS, astrocyte_calcium, save

__all__ = ["reconstructions", "receptive_fields", "raster", "astrocytes"]


def reconstructions(path, originals, shape, models):
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
        canvas[r * (h + 1): r * (h + 1) + h, c * (w + 1): c * (w + 1) + w] = (f / (f.max() or 1)).reshape(shape)
    ax.imshow(canvas, cmap="viridis")
    ax.set_title(title, fontsize=9)
    ax.axis("off")


def receptive_fields(path, encoder, shape):
    """Hidden-1 fields (tied input weights) and hidden-2 projective fields (effective read-out)."""
    n_px = int(np.prod(shape))
    state, spec = encoder.state_, encoder.spec_
    n1 = spec["network"]["n_h1"]
    w1 = _weight(state, "ff1").reshape(n1, n_px)
    dec = encoder.decoder_matrix()
    fig, axes = plt.subplots(1, 2, figsize=(10, 5))
    _tiles(axes[0], w1, shape, f"hidden 1: tied input weights of {n1} E cells")
    _tiles(axes[1], dec, shape, f"hidden 2: read-out (projective) fields of {len(dec)} E cells")
    save(fig, path)


def _weight(state, name):
    if f"{name}.w" in state:
        return state[f"{name}.w"]
    return state[f"{name}.w_slow"] + state[f"{name}.w_fast"]


def raster(path, spikes, spec):
    """All layers of a few test images; E cells red, I cells blue."""
    order = [("input", "input", COLORS["input"]), ("h1", "hidden 1 E", COLORS["E"]),
             ("h1_I", "hidden 1 I", COLORS["I"]), ("h2", "hidden 2 E", COLORS["E"]),
             ("h2_I", "hidden 2 I", COLORS["I"]), ("recon", "reconstruction E", COLORS["E"]),
             ("recon_I", "reconstruction I", COLORS["I"])]
    net = spec["network"]
    sizes = {"h1": net["n_h1"], "h2": net["n_h2"], "h1_I": -(-net["n_h1"] // net["ei_ratio"]),
             "h2_I": -(-net["n_h2"] // net["ei_ratio"])}
    fig, ax = plt.subplots(figsize=(11, 6))
    offset, ticks, labels = 0, [], []
    for key, label, color in order:
        if key not in spikes:
            continue
        i, t = spikes[key]
        size = sizes.get(key, int(i.max()) + 1 if len(i) else 1)
        if key in ("input", "recon", "recon_I"):
            size = max(size, int(i.max()) + 1 if len(i) else 1)
        ax.scatter(t, i + offset, s=2, c=color, marker="|", linewidths=0.5, rasterized=True)
        ticks.append(offset + size / 2)
        labels.append(label)
        offset += size
        ax.axhline(offset - 0.5, color="0.8", lw=0.5)
    present = float(spec["network"]["present"])
    for k in range(1, 9):
        ax.axvline(k * present, color="0.6", lw=0.5, ls=":")
    ax.set_yticks(ticks, labels)
    ax.set_xlabel("time (s); dotted lines: image boundaries")
    ax.set_title("Koo Encoder on test images: excitatory (red), inhibitory (blue), inputs (grey)")
    save(fig, path)


def astrocytes(path, traces):
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
