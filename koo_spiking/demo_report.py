"""What the demo shows, measured and drawn: plasticity, astrocytes tied to their neurons, E/I.

``measure`` turns the results of :class:`koo_spiking.demo.DemoNetwork` into the numbers of the
demo's ``summary.json``; ``figures`` draws ``raster.png``, ``astrocytes.png`` and
``receptive_fields.png``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["measure", "figures", "finite"]


def _rates(idx, times, n, edges):
    """Spike counts per cell and bin divided by the bin width: (n, bins) in Hz."""
    counts = np.zeros((n, len(edges) - 1))
    if len(idx):
        np.add.at(counts, (idx, np.clip(np.searchsorted(edges, times, side="right") - 1, 0, len(edges) - 2)), 1)
    return counts / np.diff(edges)


def _pearson(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) < 3 or a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def measure(res: Mapping[str, Any], tau_rate: float = 1.0) -> dict[str, Any]:
    """The numbers that show the demo's science, from :meth:`DemoNetwork.results`.

    Plasticity: how far the input -> E weights moved, and how well the change matches what each
    neuron saw when it fired (``hebbian_match``: correlation over all synapses of the weight change
    with the sum of the images weighted by the neuron's spikes in each). Astrocytes: across
    astrocytes, the correlation of each one's mean Ca2+ with its neuron's rate; in time, the median
    over astrocytes of the correlation of Ca2+ with its own neuron's rate filtered by an alpha kernel
    peaking ``tau_rate`` s back (IP3 builds up over about a second), and as a control with the other
    neurons' rates. E/I: the correlation in time of the two populations' rates (20 ms bins) and the
    I rate in bins where E fires against bins where it does not.
    """
    dur, n_img, per = res["duration"], len(res["images"]), res["period"]
    sizes, spikes = res["sizes"], res["spikes"]
    n_e = sizes["E"]
    counts = {k: len(spikes[k][0]) for k in spikes}
    # plasticity
    e_per_image = _rates(*spikes["E"], n_e, np.arange(n_img + 1) * per) * per  # (n_e, n_img) spike counts
    rate_e = e_per_image.sum(1) / dur
    w0, w1 = res["w_before"], res["w_after"]
    dw = w1 - w0
    seen = res["images"].T @ e_per_image.T  # (64, n_e): the input each neuron saw at its spikes
    never = np.bincount(spikes["input"][0], minlength=64) == 0  # inputs that never fired
    w_max = res["w_max"]
    # astrocytes
    t_a, C, gate = res["astro_t"], res["calcium"], res["gate"]
    mean_c = C.mean(1)
    t_r, smooth = _smoothed_rates(spikes["E"], n_e, dur, tau_rate)
    at = np.clip(np.searchsorted(t_r, t_a, side="right") - 1, 0, len(t_r) - 1)

    def median_corr(pairs):  # in time: astrocyte k's Ca2+ against neuron m's recent rate
        values = [_pearson(C[k], smooth[m, at]) for k, m in pairs if rate_e[m] > 0]
        values = [v for v in values if np.isfinite(v)]
        return float(np.median(values)) if values else float("nan")

    own = median_corr((k, k) for k in range(n_e))
    other = median_corr((k, m) for k in range(n_e) for m in range(n_e) if m != k)
    active = rate_e > 0
    top = rate_e >= np.percentile(rate_e, 75)
    # E/I in time, 20 ms bins
    bins = np.arange(0, dur + 0.01, 0.02)
    pop = {k: np.histogram(spikes[k][1], bins)[0] / (sizes[k] * 0.02) for k in ("E", "I")}
    e_on = pop["E"] > 0

    def mean_or_nan(x):
        return float(np.mean(x)) if len(x) else float("nan")

    return {
        "spikes": counts,
        "rates_hz": {k: counts[k] / (sizes[k] * dur) for k in spikes},
        "weights_input_to_E": {
            "mean_before": float(w0.mean()),
            "mean_after": float(w1.mean()),
            "mean_abs_change": float(np.abs(dw).mean()),
            "mean_abs_change_rel_w_max": float(np.abs(dw).mean() / w_max),
            "max_abs_change": float(np.abs(dw).max()),
            "fraction_changed_over_10pct_of_w_max": float(np.mean(np.abs(dw) > 0.1 * w_max)),
            "neurons_changed_over_25pct_of_w_max": int(np.sum(np.abs(dw).max(0) > 0.25 * w_max)),
            "hebbian_match": _pearson(dw.ravel(), seen.ravel()),
            "max_abs_change_of_silent_inputs": float(np.abs(dw[never]).max()) if never.any() else 0.0,
            "silent_inputs": int(never.sum()),
        },
        "astrocytes": {
            "mean_calcium_uM": float(C.mean()),
            "max_calcium_uM": float(C.max()),
            "mean_gate": float(gate.mean()),
            "gate_range_across_astrocytes": [float(gate.mean(1).min()), float(gate.mean(1).max())],
            "corr_mean_calcium_vs_neuron_rate": _pearson(mean_c, rate_e),
            "corr_calcium_vs_own_neuron_rate_in_time": own,
            "corr_calcium_vs_other_neurons_rate_in_time": other,
            "rate_kernel_peak_s": tau_rate,
            "mean_calcium_of_silent_neurons_uM": mean_or_nan(mean_c[~active]),
            "mean_calcium_of_top_quarter_uM": mean_or_nan(mean_c[top]),
            "mean_calcium_of_bottom_quarter_uM": mean_or_nan(mean_c[rate_e <= np.percentile(rate_e, 25)]),
        },
        "e_i": {
            "corr_E_I_rate_20ms": _pearson(pop["E"], pop["I"]),
            "I_rate_when_E_fires_hz": mean_or_nan(pop["I"][e_on]),
            "I_rate_when_E_silent_hz": mean_or_nan(pop["I"][~e_on]),
            "E_neurons_active": int(active.sum()),
            "E_fraction_firing_per_image": float((e_per_image > 0).mean()),
            "E_rate_range_hz": [float(rate_e.min()), float(rate_e.max())],
        },
    }


def _smoothed_rates(spikes, n, duration, tau, dt=0.01):
    """Each neuron's rate (Hz) on a ``dt`` grid, filtered by a causal alpha kernel t*exp(-t/tau) (peak ``tau`` back)."""
    edges = np.arange(0, duration + dt / 2, dt)
    rates = _rates(*spikes, n, edges)
    lag = np.arange(0, 8 * tau, dt)
    kernel = lag * np.exp(-lag / tau)
    kernel /= kernel.sum()
    return edges[:-1], np.array([np.convolve(r, kernel)[: len(edges) - 1] for r in rates])


def figures(res: Mapping[str, Any], summary: Mapping[str, Any], out: str | os.PathLike) -> list[str]:
    """raster.png, astrocytes.png and receptive_fields.png of a run (``DemoNetwork.results``)."""
    import matplotlib.pyplot as plt

    from .plotting import COLORS, save, spike_raster, weight_mosaic

    dur, per, sizes, spikes = res["duration"], res["period"], res["sizes"], res["spikes"]
    onsets = np.arange(len(res["labels"])) * per
    written = []
    # 1. raster: inputs, E and I, with the population rates beneath
    fig, (ax_in, ax_ei, ax_rate) = plt.subplots(
        3, 1, figsize=(14, 10), sharex=True, gridspec_kw={"height_ratios": [2, 2.6, 1.3], "hspace": 0.06}
    )
    labels = np.asarray(res["labels"])
    starts = np.r_[0, np.nonzero(np.diff(labels))[0] + 1]  # first image of each run of one class
    for ax in (ax_in, ax_ei, ax_rate):  # every other block of one class shaded
        for b, (a, z) in enumerate(zip(starts, np.r_[starts[1:], len(labels)])):
            if b % 2 == 0:
                ax.axvspan(onsets[a], onsets[z - 1] + per, color="0.94", zorder=0, lw=0)
    spike_raster(
        ax_in, [("input", *spikes["input"], 64, COLORS["input"])], boundaries=onsets, tick_every=8, size=10, lw=0.8
    )
    ax_in.set_ylabel("pixel index")
    for t, label in zip(onsets, res["labels"]):
        ax_in.text(
            t + res["present"] / 2,
            1.01,
            str(label),
            ha="center",
            va="bottom",
            fontsize=9,
            transform=ax_in.get_xaxis_transform(),
        )
    spike_raster(
        ax_ei,
        [("E", *spikes["E"], sizes["E"], COLORS["E"]), ("I", *spikes["I"], sizes["I"], COLORS["I"])],
        boundaries=onsets,
    )
    edges = np.arange(0.0, dur + 0.01, 0.02)
    ax_i = ax_rate.twinx()
    for ax, name in ((ax_rate, "E"), (ax_i, "I")):
        counts, _ = np.histogram(spikes[name][1], bins=edges)
        ax.step(edges[:-1], counts / (sizes[name] * 0.02), where="post", color=COLORS[name], lw=1.1)
        ax.set_ylabel(f"{name} rate (Hz/cell)", color=COLORS[name])
        ax.tick_params(axis="y", colors=COLORS[name])
        ax.set_ylim(0, None)
    ax_rate.vlines(onsets, 0, 1, transform=ax_rate.get_xaxis_transform(), colors="0.45", lw=0.6, ls=":")
    ax_rate.set_xlim(0, dur)
    ax_rate.set_xlabel(
        "time (s); dotted lines: image onsets (each digit shown "
        f"{res['present'] * 1e3:.0f} ms, then {(per - res['present']) * 1e3:.0f} ms blank); "
        "population rates in 20 ms bins"
    )
    e_i = summary["e_i"]
    ax_in.set_title(
        f"Digits (class above each slot) as Poisson inputs (grey) drive {sizes['E']} excitatory (red) and "
        f"{sizes['I']} inhibitory (blue) neurons: E {summary['rates_hz']['E']:.1f} Hz, "
        f"I {summary['rates_hz']['I']:.1f} Hz on average\nthe I cells fire when the E cells do "
        f"(rates correlate r = {e_i['corr_E_I_rate_20ms']:.2f} in 20 ms bins; I "
        f"{e_i['I_rate_when_E_fires_hz']:.1f} Hz in bins with E spikes, "
        f"{e_i['I_rate_when_E_silent_hz']:.1f} Hz without)",
        fontsize=10,
        pad=18,
    )
    path = os.path.join(out, "raster.png")
    save(fig, path)
    written.append(path)
    # 2. astrocytes: each follows its own neuron
    a = summary["astrocytes"]
    t_r, smooth = _smoothed_rates(spikes["E"], sizes["E"], dur, a["rate_kernel_peak_s"])
    order = np.argsort(-smooth.mean(1), kind="stable")
    t_a, C, gate = res["astro_t"], res["calcium"], res["gate"]
    fig = plt.figure(figsize=(13, 10))
    grid = fig.add_gridspec(3, 2, width_ratios=[3, 1], height_ratios=[1, 1, 1], hspace=0.35, wspace=0.32)
    ax_r, ax_c = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[1, 0])
    im = ax_r.imshow(
        smooth[order],
        aspect="auto",
        origin="lower",
        cmap="Reds",
        interpolation="nearest",
        extent=(0, dur, -0.5, sizes["E"] - 0.5),
    )
    fig.colorbar(im, ax=ax_r, label="rate (Hz)", pad=0.01)
    ax_r.set_title(
        f"E neurons' rates (alpha kernel, peak {a['rate_kernel_peak_s']:g} s back), most active at the bottom",
        fontsize=10,
    )
    step = t_a[1] - t_a[0] if len(t_a) > 1 else dur
    im = ax_c.imshow(
        C[order],
        aspect="auto",
        origin="lower",
        cmap="magma",
        interpolation="nearest",
        extent=(t_a[0], t_a[-1] + step, -0.5, sizes["E"] - 0.5),
    )
    fig.colorbar(im, ax=ax_c, label="Ca$^{2+}$ (µM)", pad=0.01)
    ax_c.set_title("their astrocytes' Ca$^{2+}$, same order (astrocyte k is driven by neuron k's spikes)", fontsize=10)
    for ax in (ax_r, ax_c):
        ax.set_ylabel("neuron / astrocyte rank")
        ax.vlines(onsets, -0.5, sizes["E"] - 0.5, colors="0.6", lw=0.4, ls=":")
    ax_t = fig.add_subplot(grid[2, 0], sharex=ax_r)
    # three of the more active neurons whose rates peak early, midway and late: Ca2+ follows each in turn
    upper = order[: max(3, len(order) // 2)]
    by_peak = upper[np.argsort(t_r[np.argmax(smooth[upper], axis=1)], kind="stable")]
    picks = [by_peak[0], by_peak[len(by_peak) // 2], by_peak[-1]]
    ax_g = ax_t.twinx()
    for k, color in zip(picks, ("#7b1fa2", "#ef6c00", "#607d8b")):
        ax_t.plot(t_a, C[k], color=color, lw=1.4, label=f"Ca$^{{2+}}$ of astrocyte {k}")
        ax_g.plot(t_r, smooth[k], color=color, lw=0.8, ls="--")
    ax_t.set_ylabel("Ca$^{2+}$ (µM), solid")
    ax_g.set_ylabel("its neuron's rate (Hz), dashed")
    ax_t.legend(fontsize=8, loc="upper left")
    ax_t.set_xlabel("time (s)")
    ax_t.set_xlim(0, dur)
    ax_s = fig.add_subplot(grid[0:2, 1])
    rate_e = np.bincount(spikes["E"][0], minlength=sizes["E"]) / dur
    ax_s.scatter(rate_e, C.mean(1), s=18, c=COLORS["E"])
    ax_s.set_xlabel("neuron's mean rate (Hz)")
    ax_s.set_ylabel("astrocyte's mean Ca$^{2+}$ (µM)")
    ax_s.set_title(f"across astrocytes: r = {a['corr_mean_calcium_vs_neuron_rate']:.2f}", fontsize=10)
    ax_h = fig.add_subplot(grid[2, 1])
    ax_h.scatter(rate_e, gate.mean(1), s=14, c="#455a64")
    ax_h.set_xlabel("neuron's mean rate (Hz)")
    ax_h.set_ylabel("mean plasticity gate")
    ax_h.set_ylim(-0.02, 1.02)
    fig.suptitle(
        f"One astrocyte per excitatory neuron (De Pittà's driven G-ChI cell, {sizes['E']} on a sheet "
        f"with IP3 gap junctions)\nin time, Ca$^{{2+}}$ follows its own neuron's rate (median r = "
        f"{a['corr_calcium_vs_own_neuron_rate_in_time']:.2f}; other neurons' rates: "
        f"{a['corr_calcium_vs_other_neurons_rate_in_time']:.2f})",
        fontsize=10,
    )
    path = os.path.join(out, "astrocytes.png")
    save(fig, path)
    written.append(path)
    # 3. receptive fields: input -> E weights before and after, and their change
    w0, w1 = res["w_before"], res["w_after"]
    dw = w1 - w0
    fig, axes = plt.subplots(1, 3, figsize=(15, 5.4))
    for ax, W, title in ((axes[0], w0, "before"), (axes[1], w1, "after")):
        im = weight_mosaic(ax, W, (8, 8), vmin=0, vmax=res["w_max"])
        ax.set_title(f"input -> E weights {title} (neuron k: row + column)", fontsize=10)
    fig.colorbar(im, ax=axes[:2], fraction=0.025, pad=0.02, label="weight")
    lim = max(float(np.abs(dw).max()), 1e-9)
    im = weight_mosaic(axes[2], dw, (8, 8), cmap="RdBu_r", vmin=-lim, vmax=lim)
    fig.colorbar(im, ax=axes[2], fraction=0.046, pad=0.02, label="change")
    w = summary["weights_input_to_E"]
    axes[2].set_title(
        f"change (mean |dw| {w['mean_abs_change']:.2f} = {100 * w['mean_abs_change_rel_w_max']:.1f} % of w_max)",
        fontsize=10,
    )
    fig.suptitle(
        f"STDP (astrocyte-gated) imprints the digits each neuron fired to: change vs the input it saw "
        f"when firing, r = {w['hebbian_match']:.2f}",
        fontsize=10,
    )
    path = os.path.join(out, "receptive_fields.png")
    save(fig, path)
    written.append(path)
    return written


def finite(value: Any) -> Any:
    """``value`` with every NaN replaced by None (JSON has no NaN)."""
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
