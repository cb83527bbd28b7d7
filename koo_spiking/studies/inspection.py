"""Views of a run's recorded spikes: rasters with population rates, astrocyte Ca2+, receptive fields.

Named ``inspection`` (not ``inspect``) so it never shadows the standard library's module.
Everything reads a :class:`~koo_spiking.io.spikes.SpikeRecord`; large records stay fast: a panel
with more than ``CAP`` spikes is drawn as a 2-D histogram image, never point by point. Times on
the figures are seconds from the record's start (the first recorded image).
"""

import json
import os
import re

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import to_rgb

from ..io.spikes import load_spikes
from ..plotting import COLORS, astrocyte_calcium, save

__all__ = [
    "CAP",
    "layers",
    "parse_time",
    "raster_panel",
    "rate_panel",
    "raster_figure",
    "astrocyte_figure",
    "inspect_run",
]

CAP = 200_000  # spikes per panel drawn as points; above: an image
MAX_SAMPLES = 2000  # trace samples per heat map


def layers(record):
    """Layer name -> its populations (E first, then I), in the record's order."""
    out = {}
    for name, pop in record.populations.items():
        out.setdefault(pop["layer"], []).append(name)
    return {layer: sorted(names, key=lambda n: record.populations[n]["cell_type"]) for layer, names in out.items()}


def parse_time(text):
    """Seconds from '0.5', '0.5 s', '200 ms' or '200ms'."""
    match = re.fullmatch(r"\s*([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(s|ms)?\s*", str(text))
    if not match:
        raise ValueError(f"time {text!r}: give seconds, e.g. 0.5, '0.5 s' or '200 ms'")
    return float(match.group(1)) * (1e-3 if match.group(2) == "ms" else 1.0)


def _color(record, name):
    pop = record.populations[name]
    return COLORS["input"] if pop["layer"] == "input" else COLORS[pop["cell_type"]]


def _boundaries(ax, record, origin):
    if len(record.slots):
        edges = np.unique(np.r_[record.slots[:, 0], record.slots[-1, 1]]) - origin
        ax.vlines(edges, 0, 1, transform=ax.get_xaxis_transform(), colors="0.55", lw=0.5, ls=":")


def raster_panel(ax, record, names, origin=None, cap=CAP):
    """Spikes of populations ``names`` stacked on one axis, neuron index upwards.

    E cells red, I cells blue, inputs grey; dotted lines: image boundaries. Above ``cap``
    spikes the panel is a 2-D histogram image (time x cell, at most 1500 x 800 bins).
    Returns True when the image was drawn.
    """
    origin = record.t_start if origin is None else origin
    sizes = [record.populations[n]["n"] for n in names]
    offsets = np.r_[0, np.cumsum(sizes)]
    total = sum(len(record.spikes[n][0]) for n in names)
    t0, t1 = record.t_start - origin, record.t_stop - origin
    image = total > cap
    if image:
        t_edges = np.linspace(t0, t1, 1501)
        y_edges = np.linspace(-0.5, offsets[-1] - 0.5, min(int(offsets[-1]), 800) + 1)
        rgb = np.ones((len(y_edges) - 1, len(t_edges) - 1, 3))
        for name, off in zip(names, offsets):
            i, t = record.spikes[name]
            h, _, _ = np.histogram2d(i + off, t - origin, bins=[y_edges, t_edges])
            alpha = np.clip(h / max(np.percentile(h[h > 0], 99) if h.any() else 1, 1), 0, 1)[..., None]
            rgb = rgb * (1 - alpha) + np.asarray(to_rgb(_color(record, name))) * alpha
        ax.imshow(rgb, origin="lower", aspect="auto", interpolation="nearest", extent=(t0, t1, -0.5, offsets[-1] - 0.5))
    else:
        for name, off in zip(names, offsets):
            i, t = record.spikes[name]
            ax.scatter(t - origin, i + off, s=2, c=_color(record, name), marker="|", linewidths=0.5, rasterized=True)
    for off in offsets[1:-1]:
        ax.axhline(off - 0.5, color="0.8", lw=0.5)
    _boundaries(ax, record, origin)
    ax.set_yticks(
        [off + s / 2 for off, s in zip(offsets, sizes)], [f"{n} ({record.populations[n]['cell_type']})" for n in names]
    )
    ax.set_ylim(-0.5, offsets[-1] - 0.5)
    ax.set_xlim(t0, t1)
    return image


def rate_panel(ax, record, names, origin=None, n_bins=200):
    """Population rate (Hz per cell) of each population in ``n_bins`` bins over the record."""
    origin = record.t_start if origin is None else origin
    edges = np.linspace(record.t_start, record.t_stop, n_bins + 1)
    width = edges[1] - edges[0]
    styles = {layer: ("-", "--", ":", "-.")[k % 4] for k, layer in enumerate(layers(record))}
    for name in names:
        counts, _ = np.histogram(record.spikes[name][1], bins=edges)
        ax.step(
            edges[:-1] - origin,
            counts / (record.populations[name]["n"] * width),
            where="post",
            color=_color(record, name),
            ls=styles[record.populations[name]["layer"]],
            lw=0.8,
            label=name,
        )
    _boundaries(ax, record, origin)
    ax.set_ylabel("rate (Hz/cell)")
    ax.legend(fontsize=6, loc="upper right", ncol=len(names))
    return ax


def raster_figure(path, record, names=None, origin=None, title=None, cap=CAP):
    """Raster of populations ``names`` (default: all) with their population rates beneath."""
    names = [n for pops in layers(record).values() for n in pops] if names is None else list(names)
    origin = record.t_start if origin is None else origin
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    image = raster_panel(top, record, names, origin, cap)
    title = title or "spikes: excitatory (red), inhibitory (blue), inputs (grey); dotted: image boundaries"
    top.set_title(
        title + ("\n(more than %d spikes: a 2-D histogram, darker = more spikes)" % cap if image else ""), fontsize=9
    )
    rate_panel(bottom, record, names, origin)
    bottom.set_xlabel("time from the first recorded image (s)")
    save(fig, path)


def astrocyte_figure(path, record, names, origin=None):
    """Ca2+ heat map (cells x time) and a few traces of each named trace of the record."""
    origin = record.t_start if origin is None else origin
    fig = plt.figure(figsize=(11, 3.2 * len(names)))
    for sub, name in zip(fig.subfigures(len(names), 1, squeeze=False)[:, 0], names):
        t, v, unit = record.traces[name]
        step = max(1, len(t) // MAX_SAMPLES)  # decimated in time for long records
        if len(t) < 2:
            sub.text(0.5, 0.5, f"{name}: fewer than 2 samples in this window", ha="center")
            continue
        axes = astrocyte_calcium(sub, t[::step] - origin, v[::step].T, n_traces=5)
        axes[-1].set_xlabel("time from the first recorded image (s)")
        sub.suptitle(f"{name}: Ca$^{{2+}}$ ({unit}), one astrocyte per neuron", fontsize=9)
    save(fig, path)


# layers whose learned weights the receptive-field figure shows: h1's input fields, h2's and recon's
# read-out (projective) fields; None: every layer
FIELD_LAYERS = (None, "h1", "h2", "recon")


def _check(run_dir, t0, t1, layer):
    """The record and its window, or a ValueError; nothing is written before this passes."""
    if not os.path.isdir(run_dir):
        raise ValueError(f"no run directory {run_dir}")
    path = os.path.join(run_dir, "spikes.npz")
    if not os.path.isfile(path):
        raise ValueError(f"{run_dir} has no spikes.npz; `koo-spiking train --record N` (default 50) writes one")
    record = load_spikes(path)
    known = layers(record)
    if layer is not None and layer not in known and layer not in record.populations:
        raise ValueError(
            f"unknown layer {layer!r} (layers: {', '.join(known)}; "
            f"populations: {', '.join(sorted(record.populations))})"
        )
    length = record.t_stop - record.t_start
    a = 0.0 if t0 is None else float(t0)
    b = length if t1 is None else float(t1)
    if not 0 <= a < b <= length + 1e-12:
        raise ValueError(
            f"--from {a:g} s / --to {b:g} s: need 0 <= from < to <= {length:g} s "
            "(seconds from the first recorded image)"
        )
    return record, record.window(record.t_start + a, record.t_start + b), known


def inspect_run(run_dir, t0=None, t1=None, layer=None, out=None):
    """Write the views of a run's ``spikes.npz`` (and ``state.npz``) as PNG files.

    Parameters
    ----------
    run_dir : str
        A ``koo-spiking train`` output directory.
    t0, t1 : float, optional
        Window in seconds from the first recorded image (default: the whole record).
    layer : str, optional
        Only this layer, its E and I cells together (``input``, ``h1``, ``h2``, ``recon``), or one
        population of the record (``h2_I``); default: every layer.
    out : str, optional
        Output directory (default: ``run_dir/inspect``).

    Returns
    -------
    list of str
        The files written: ``raster_<layer>.png`` (raster and rates), ``astrocytes_<layer>.png``
        (when the record holds that layer's Ca2+) and ``receptive_fields.png`` (with state.npz;
        for every layer with learned weights to or from the pixels: h1, h2 and recon, and for
        all layers; not for ``input`` alone).
    """
    record, window, known = _check(run_dir, t0, t1, layer)
    out = os.path.join(run_dir, "inspect") if out is None else out
    os.makedirs(out, exist_ok=True)
    written = []
    for name in [layer] if layer else known:
        pops = known[name] if name in known else [name]  # a layer, or one population of it
        path = os.path.join(out, f"raster_{name}.png")
        raster_figure(
            path,
            window,
            pops,
            origin=record.t_start,
            title=f"layer {name}: " + ", ".join(f"{p} {len(window.spikes[p][0])} spikes" for p in pops),
        )
        written.append(path)
        traces = [f"{p}_astro" for p in pops if f"{p}_astro" in window.traces]
        if traces:
            written.append(os.path.join(out, f"astrocytes_{name}.png"))
            astrocyte_figure(written[-1], window, traces, origin=record.t_start)
    state, metrics = os.path.join(run_dir, "state.npz"), os.path.join(run_dir, "metrics.json")
    owner = None if layer is None else record.populations.get(layer, {"layer": layer})["layer"]
    if owner in FIELD_LAYERS and os.path.isfile(state) and os.path.isfile(metrics):
        from ..encoder.figures import receptive_fields

        with open(metrics) as fh:
            shape = json.load(fh)["image_shape"]
        with np.load(state) as data:
            receptive_fields(os.path.join(out, "receptive_fields.png"), dict(data), shape)
        written.append(os.path.join(out, "receptive_fields.png"))
    return written
