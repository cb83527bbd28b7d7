"""Effect sizes of an ablation study: bootstrap confidence intervals, paired tests, report writers.

The input is an ablation result (the content of ``ablation.json``): per variant its ``label``,
``size`` (number of mission features it has) and ``runs``, one per seed, whose ``models.koo``
holds the Koo Encoder's metrics. Each variant is compared with the full model seed by seed: the
effect is the mean over paired seeds of (variant - full model), with a bootstrap confidence
interval of that mean (:func:`scipy.stats.bootstrap`) and a two-sided paired t-test
(:func:`scipy.stats.ttest_rel`). Only seeds that are present and done in both variants are paired.
"""

import math
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from scipy import stats

__all__ = [
    "METRICS",
    "LABELS",
    "metric_values",
    "bootstrap_ci",
    "paired_effect",
    "summarize",
    "smallest_not_worse",
    "markdown",
    "write_markdown",
    "effect_figure",
    "write_figure",
]

METRICS = {"test_mse": "lower", "probe_accuracy": "higher", "spikes_per_image": "lower"}  # better direction
LABELS = {"test_mse": "test MSE", "probe_accuracy": "probe accuracy", "spikes_per_image": "spikes per image"}
DIGITS = {"test_mse": 4, "probe_accuracy": 3, "spikes_per_image": 0}


def metric_values(variant, metric):
    """``{seed: value}`` of ``metric`` of the Koo Encoder (``models.koo``), over the done runs of
    ``variant`` (one entry of ``ablation["variants"]``) that have a finite value, in run order."""
    done = [r for r in variant.get("runs", []) if r.get("status") == "done"]
    values = {r["seed"]: (r.get("models") or {}).get("koo", {}).get(metric) for r in done}
    return {seed: float(v) for seed, v in values.items() if v is not None and math.isfinite(float(v))}


def bootstrap_ci(values, confidence=0.95, n_resamples=9999, seed=0):
    """Mean of ``values`` and a bootstrap confidence interval of it.

    BCa intervals (:func:`scipy.stats.bootstrap`), percentile ones where BCa is undefined.

    Parameters
    ----------
    values : array_like
        One value per seed.
    confidence, n_resamples, seed : float, int, int
        Confidence level; number of resamples; seed of the resampling (same seed, same interval).

    Returns
    -------
    tuple of float
        ``(mean, low, high)``; ``(v, v, v)`` for identical values, ``(v, nan, nan)`` for one, all nan for none.
    """
    x = np.asarray(values, np.float64).ravel()
    if x.size == 0:
        return math.nan, math.nan, math.nan
    mean = float(x.mean())
    if x.size == 1:
        return mean, math.nan, math.nan
    if np.all(x == x[0]):
        return mean, mean, mean
    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # DegenerateDataWarning: BCa undefined, try percentile
            try:
                ci = stats.bootstrap(
                    (x,),
                    np.mean,
                    confidence_level=confidence,
                    n_resamples=n_resamples,
                    method=method,
                    rng=np.random.default_rng(seed),
                ).confidence_interval
            except (ValueError, FloatingPointError):
                continue
        if np.isfinite(ci.low) and np.isfinite(ci.high):
            return mean, float(ci.low), float(ci.high)
    return mean, math.nan, math.nan


def paired_effect(variant, reference, confidence=0.95, seed=0):
    """Mean paired difference ``variant - reference``, its bootstrap CI and a paired t-test.

    Parameters
    ----------
    variant, reference : dict or array_like
        Seed -> value mappings (only seeds in both are paired) or sequences of paired values.
    confidence, seed : float, int
        Confidence level of the interval; seed of the bootstrap.

    Returns
    -------
    dict
        ``diff`` (mean difference), ``low``, ``high`` (its CI), ``n`` (pairs), ``p`` (two-sided; nan
        with fewer than two pairs; 1.0 when all differences are 0, 0.0 when all equal a nonzero value).
    """
    if isinstance(variant, dict) and isinstance(reference, dict):
        seeds = [s for s in variant if s in reference]
        v, r = (np.array([d[s] for s in seeds], np.float64) for d in (variant, reference))
    else:
        v, r = np.asarray(variant, np.float64).ravel(), np.asarray(reference, np.float64).ravel()
        if v.shape != r.shape:
            raise ValueError(f"paired values differ in length: {v.size} and {r.size}")
    d = v - r
    diff, low, high = bootstrap_ci(d, confidence, seed=seed)
    scale = 1e-12 * max(np.abs(v).max(initial=0), np.abs(r).max(initial=0), np.finfo(float).tiny)
    if d.size < 2:
        p = math.nan
    elif np.ptp(d) <= scale:  # no variance of the differences (up to rounding): no t statistic
        p, low, high = (1.0 if abs(diff) <= scale else 0.0), diff, diff
    else:
        p = float(stats.ttest_rel(v, r).pvalue)
    return {"diff": diff, "low": low, "high": high, "p": p, "n": int(d.size)}


def summarize(ablation, alpha=0.05, seed=0):
    """One row per variant: size, seeds, and per metric the mean, its CI and the effect vs the full model.

    Parameters
    ----------
    ablation : dict
        Ablation result, as in ``ablation.json``.
    alpha, seed : float, int
        Significance level of the paired t-tests (CIs at ``1 - alpha``); seed of the bootstraps.

    Returns
    -------
    list of dict
        In the variants' order, keys ``name``, ``label``, ``size``, ``n_seeds``, ``full`` (bool) and, per
        key of :data:`METRICS`, a dict: ``mean``, ``low``, ``high``, ``n``, ``effect`` (:func:`paired_effect`,
        None for the full model), ``worse`` and ``better`` (effect in that direction with p < alpha).
    """
    full, variants, rows = ablation.get("full", "full"), ablation.get("variants", {}), []
    if full not in variants:
        raise ValueError(f"ablation has no full variant {full!r}")
    for name, var in variants.items():
        row = {
            "name": name,
            "label": var.get("label", name),
            "size": var.get("size"),
            "full": name == full,
            "n_seeds": sum(run.get("status") == "done" for run in var.get("runs", [])),
        }
        for metric, better in METRICS.items():
            values, ref = metric_values(var, metric), metric_values(variants[full], metric)
            mean, low, high = bootstrap_ci(list(values.values()), 1 - alpha, seed=seed)
            effect = None if name == full else paired_effect(values, ref, 1 - alpha, seed)
            sig = effect is not None and effect["p"] < alpha  # nan p is never significant
            up = sig and effect["diff"] > 0
            row[metric] = {
                "mean": mean,
                "low": low,
                "high": high,
                "n": len(values),
                "effect": effect,
                "worse": sig and up == (better == "lower"),
                "better": sig and up == (better == "higher"),
            }
        rows.append(row)
    return rows


def smallest_not_worse(rows, metrics=("test_mse", "probe_accuracy")):
    """Name of the smallest variant not significantly worse than the full model on any of ``metrics``.

    ``rows``: output of :func:`summarize`. A variant qualifies when each metric has a tested effect
    (two paired seeds or more) not flagged ``worse``; the full model qualifies. Ties on ``size`` go to
    the lower mean test MSE. Returns the variant's name, None when no row qualifies.
    """
    if any(m not in METRICS for m in metrics):
        raise ValueError(f"unknown metric in {list(metrics)}; known: {list(METRICS)}")
    ok = [r for r in rows if r["full"] or all(r[m]["effect"]["n"] >= 2 and not r[m]["worse"] for m in metrics)]
    key = lambda r: (r["size"], np.nan_to_num(r["test_mse"]["mean"], nan=math.inf))  # nan MSE: last
    return min(ok, key=key)["name"] if ok else None


def markdown(ablation, alpha=0.05, seed=0):
    """The report of :func:`write_markdown` as a string."""
    rows = summarize(ablation, alpha, seed)
    _num = lambda x, k: "n/a" if x is None or not math.isfinite(x) else f"{x:.{k}f}"
    _p = lambda p: "n/a" if not math.isfinite(p) else "<0.001" if p < 0.001 else f"{p:.3f}"
    prov, seeds, pct = ablation.get("provenance", {}), ablation.get("seeds", []), f"{100 * (1 - alpha):g} %"
    runs = sorted(
        {r["code_version"] for v in ablation["variants"].values() for r in v.get("runs", []) if r.get("code_version")}
    )
    ran = f" (runs on {', '.join(runs)})" if runs and runs != [prov.get("git_commit")] else ""
    lines = [
        f"Ablation on {ablation.get('data', '?')}, seeds {', '.join(map(str, seeds))}; "
        f"git commit {prov.get('git_commit', 'unknown')}{ran}; command `{prov.get('command', 'unknown')}`.",
        "",
    ]
    head = ["Variant", "Seeds"]
    for m in METRICS:
        head += [f"{LABELS[m]} [{pct} CI]", f"{LABELS[m]} effect vs full [{pct} CI]", "p"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["label"].replace("|", "\\|"), f"{r['n_seeds']}/{len(seeds)}"]
        for m in METRICS:
            s, k = r[m], DIGITS[m]
            cells.append(f"{_num(s['mean'], k)} [{_num(s['low'], k)}, {_num(s['high'], k)}]")
            e, flag = s["effect"], " (worse)" if s["worse"] else " (better)" if s["better"] else ""
            cells += (
                ["reference", ""]
                if e is None
                else [
                    f"{e['diff']:+.{k}f} [{_num(e['low'], k)}, {_num(e['high'], k)}]{flag}"
                    if math.isfinite(e["diff"])
                    else "n/a",
                    _p(e["p"]),
                ]
            )
        lines.append("| " + " | ".join(cells) + " |")
    best = next(r for r in rows if r["name"] == smallest_not_worse(rows))
    lines += [
        "",
        f"Smallest model not significantly worse than the full one (test MSE and probe accuracy, "
        f"p < {alpha:g}): **{best['label']}** (`{best['name']}`, {best['size']} feature{'s' if best['size'] != 1 else ''}).",
        "",
        f"Statistics: means over seeds with {pct} bootstrap confidence intervals of the mean "
        f"(scipy.stats.bootstrap, BCa, percentile where BCa is undefined). The effect is the mean over "
        f"seeds of (variant - full model), paired by seed (only seeds done in both), with a bootstrap "
        f"CI of that mean and a two-sided paired t-test across seeds (scipy.stats.ttest_rel); "
        f"(worse)/(better) marks effects with p < {alpha:g}. Lower is better for test MSE and spikes "
        f"per image, higher for probe accuracy.",
        "",
    ]
    lines += [f"Not ablated: {name} ({why})." for name, why in ablation.get("not_available", {}).items()]
    return "\n".join(lines)


def _atomic(path, write):
    """Call ``write(tmp_path)`` for a temporary file next to ``path``, then move it onto ``path``."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        os.remove(tmp)
        raise
    return os.fspath(path)


def write_markdown(path, ablation, alpha=0.05):
    """Write :func:`markdown` (the table, the smallest adequate model, the statistics used) to
    ``path``, atomically (a temporary file, then :func:`os.replace`); returns ``path``."""
    text = markdown(ablation, alpha)
    return _atomic(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def effect_figure(ablation, alpha=0.05):
    """Forest plot of the effects vs the full model: one panel per metric, one row per other variant.

    Filled markers: p < ``alpha`` (red when worse, green when better); open markers: not significant.
    Bars: the bootstrap CI of the mean paired difference. Returns a :class:`matplotlib.figure.Figure`.
    """
    rows = [r for r in summarize(ablation, alpha) if not r["full"]]
    fig = Figure(figsize=(13, 1.5 + 0.45 * max(len(rows), 1)), layout="constrained")
    axes = fig.subplots(1, len(METRICS), sharey=True, squeeze=False)[0]
    y = -np.arange(len(rows))
    for ax, (metric, better) in zip(axes, METRICS.items()):
        ax.axvline(0, color="0.5", lw=1)
        for yi, r in zip(y, rows):
            s, e = r[metric], r[metric]["effect"]
            color = "tab:red" if s["worse"] else "tab:green" if s["better"] else "0.3"
            if math.isfinite(e["low"]):
                ax.plot([e["low"], e["high"]], [yi, yi], color=color, lw=1.5)
            if math.isfinite(e["diff"]):  # filled marker: significant
                ax.plot(e["diff"], yi, "o", color=color, mfc=color if e["p"] < alpha else "white", ms=7)
        worse = "right" if better == "lower" else "left"
        ax.set_xlabel(f"{LABELS[metric]}:\nvariant - full model ({worse} is worse)")
        ax.grid(axis="x", alpha=0.3)
        sizes = sorted(abs(r[metric]["effect"]["diff"]) for r in rows if math.isfinite(r[metric]["effect"]["diff"]))
        if len(sizes) > 1 and sizes[-2] > 0 and sizes[-1] > 10 * sizes[-2]:
            # one effect dwarfs the rest: linear near 0, logarithmic beyond, so the small ones stay readable
            ax.set_xscale("symlog", linthresh=2 * sizes[-2], linscale=2)
        else:
            ax.locator_params(axis="x", nbins=5)
    axes[0].set_yticks(y, [r["label"] for r in rows])
    axes[0].set_ylim(-len(rows) + 0.4, 0.6)
    if not rows:
        axes[0].text(0.5, 0.5, "no variants to compare", ha="center", transform=axes[0].transAxes)
    fig.suptitle(
        f"Ablation on {ablation.get('data', '?')}: effect vs full model "
        f"({100 * (1 - alpha):g} % CI; filled: p < {alpha:g})"
    )
    return fig


def write_figure(path, ablation, alpha=0.05):
    """Save :func:`effect_figure` as a PNG, atomically; returns ``path``."""
    fig = effect_figure(ablation, alpha)
    try:
        return _atomic(path, lambda tmp: fig.savefig(tmp, format="png", dpi=120))
    finally:
        fig.clear()
