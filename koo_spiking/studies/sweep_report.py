"""Report of a sweep stored by :mod:`koo_spiking.studies.store`: tables, curves, heat maps, rasters.

:func:`write_report` reads a sweep database read-only and writes, from its finished points: ``table.md``
and ``table.csv`` (one row per point; in the Markdown also a header, the means over seeds and the failed
points), ``curves_<param>.png`` (for each parameter with >= 2 values, three panels: test MSE, probe
accuracy, spikes per image; one line per combination of the other parameters; mean over seeds, min-max
bars), ``heatmap_<p1>__<p2>.png`` (each pair of them: the three metrics averaged over seeds and the other
parameters), ``raster_best.png`` / ``raster_worst.png`` (lowest / highest test MSE among the points with
a raster stored) and ``report.json`` (counts, best and worst points, rasters drawn, files). Numbers and
quantities like "2 ms" are plotted as numbers, the unit on the axis; bools, text and mixed units as
categories. In file names, dots (any character outside ``[A-Za-z0-9_-]``) become underscores.
"""

import csv
import itertools
import json
import re
import sqlite3
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from . import store
from .inspection import raster_figure

__all__ = ["PLOTTED", "write_report"]

PLOTTED = ("test_mse", "probe_accuracy", "spikes_per_image")  # the metrics of the curves and heat maps
FORMATS = {
    "test_mse": "{:.4f}",
    "r2": "{:.3f}",
    "psnr": "{:.2f}",
    "probe_accuracy": "{:.3f}",
    "spikes_per_image": "{:.0f}",
    "build_s": "{:.1f}",
    "run_s": "{:.1f}",
}
TITLES = {"test_mse": "test MSE", "probe_accuracy": "probe accuracy", "spikes_per_image": "spikes / image"}
_QUANTITY = re.compile(r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([^\d\s.+-].*?)?\s*")
_REQUIRED = {
    "hash",
    "sweep",
    "config",
    "params",
    "seed",
    "status",
    "metrics",
    "build_s",
    "run_s",
    "compiled",
    "code_version",
    *store.HEADLINE,
}


def _text(value):
    """A parameter value as written in the sweep file ('—': the point has no such parameter)."""
    return "—" if value is None else value if isinstance(value, str) else json.dumps(value)


def _axis(values):
    """(unit, numbers) when every value is a number or a quantity like '2 ms' of one unit, else (None, texts)."""
    found = [_QUANTITY.fullmatch(v) if isinstance(v, str) else None for v in values]
    parsed = [
        (float(v), "")
        if isinstance(v, (int, float)) and not isinstance(v, bool)
        else (float(m.group(1)), m.group(2) or "")
        if m
        else None
        for v, m in zip(values, found)
    ]
    units = {q[1] for q in parsed if q is not None}
    if None not in parsed and len(units) == 1:
        return units.pop(), [q[0] for q in parsed]
    return None, [_text(v) for v in values]


def _show(level, unit=None):
    """A level on a figure: numbers with %g (and the unit when given), categories as they are."""
    return f"{level:g}" + (f" {unit}" if unit else "") if isinstance(level, float) else str(level)


def _fmt(key, value):
    return "—" if value is None or not np.isfinite(value) else FORMATS[key].format(value)


def _group(points, key):
    """Points grouped by ``key(point)``, in sorted key order."""
    return {k: list(g) for k, g in itertools.groupby(sorted(points, key=key), key)}


def _stats(points, metric):
    """Mean, min, max and count of ``metric`` over ``points`` (missing and non-finite values left out)."""
    v = np.array([p[metric] for p in points if p[metric] is not None], float)
    v = v[np.isfinite(v)]
    return (v.mean(), v.min(), v.max(), len(v)) if len(v) else (np.nan, np.nan, np.nan, 0)


def _load(db_path, sweep):
    """Rows, finished rows by test MSE (finite), rasters of the best and worst; the file is opened read-only."""
    if not Path(db_path).is_file():
        raise FileNotFoundError(f"no sweep database at {db_path}")
    db = sqlite3.connect(Path(db_path).resolve().as_uri() + "?mode=ro", uri=True, timeout=60)
    try:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        missing = _REQUIRED - {r[1] for r in db.execute("PRAGMA table_info(points)")}
        if missing:
            raise sqlite3.DatabaseError(f"no points table with {', '.join(sorted(missing))}")
        db.row_factory = sqlite3.Row
        known = sorted(r[0] for r in db.execute("SELECT DISTINCT sweep FROM points"))
        if sweep is not None and sweep not in known:
            raise ValueError(f"{db_path}: no sweep named {sweep!r} (sweeps: {', '.join(known) or 'none'})")
        rows = store.rows(db, sweep=sweep)
        done = [r for r in rows if r["status"] == "done"]
        if not done:
            raise ValueError(
                f"{db_path}: no finished point ({len(rows)} points stored"
                + ("" if sweep is None else f" in sweep {sweep!r}")
                + ")"
            )
        ranked = sorted(
            (r for r in done if r["test_mse"] is not None and np.isfinite(r["test_mse"])), key=lambda r: r["test_mse"]
        )
        stored = {r[0] for r in db.execute("SELECT hash FROM rasters")} if "rasters" in tables else set()
        ends, rasters = [r for r in ranked if r["hash"] in stored], {}
        for tag, r in [("best", ends[0]), ("worst", ends[-1])] if ends else []:
            try:
                rasters[tag] = r, store.raster(db, r["hash"])
            except (ValueError, OSError, KeyError, zipfile.BadZipFile) as err:  # a damaged raster: noted, skipped
                rasters[tag] = r, f"{r['hash']}: {err}"
        return rows, done, ranked, rasters
    except sqlite3.DatabaseError as err:
        raise ValueError(f"{db_path} is not a sweep database ({err})") from None
    finally:
        db.close()


def write_report(db_path, out, sweep=None):
    """Write the report of a sweep database into ``out`` (created if needed); nothing is printed.

    Parameters
    ----------
    db_path, out : str or Path
        SQLite file written by :mod:`koo_spiking.studies.store`; the output directory.
    sweep : str, optional
        Only the points of this sweep (default: every point of the database, whatever its sweep).

    Returns
    -------
    list of str
        The files written, ``report.json`` last.

    Raises
    ------
    FileNotFoundError, ValueError
        No file at ``db_path``; not a sweep database, no sweep of that name, or no finished point.
    """
    rows, done, ranked, rasters = _load(db_path, sweep)
    (out := Path(out)).mkdir(parents=True, exist_ok=True)
    names = sorted({k for r in done for k in r["params"]})
    axes = {n: _axis([r["params"].get(n) for r in done]) for n in names}  # numbers of one unit, or categories
    units = {n: unit for n, (unit, _) in axes.items()}
    for k, r in enumerate(done):
        r["levels"] = {n: levels[k] for n, (_, levels) in axes.items()}
    varying = [n for n in names if len({r["levels"][n] for r in done}) >= 2]
    done.sort(key=lambda r: (tuple(r["levels"][n] for n in names), r["seed"]))
    safe = lambda name: re.sub(r"[^A-Za-z0-9_-]+", "_", name)  # noqa: E731
    counts = {s: sum(r["status"] == s for r in rows) for s in ("done", "failed", "pending", "running")}
    sweeps = sorted({r["sweep"] for r in rows})
    files = _tables(out, str(db_path), sweeps, counts, names, done, [r for r in rows if r["status"] == "failed"])
    files += [_curves(out / f"curves_{safe(p)}.png", done, names, varying, p, units) for p in varying]
    files += [
        _heatmap(out / f"heatmap_{safe(p1)}__{safe(p2)}.png", done, (p1, p2), units)
        for p1, p2 in itertools.combinations(varying, 2)
    ]
    brief = lambda r: {k: r[k] for k in ("hash", "sweep", "params", "seed", "test_mse")}  # noqa: E731
    report = {
        "db": str(db_path),
        "sweeps": sweeps,
        "counts": counts,
        "parameters": names,
        "varying": varying,
        "best": brief(ranked[0]) if ranked else None,
        "worst": brief(ranked[-1]) if ranked else None,
        "raster_best": None,
        "raster_worst": None,
        "raster_errors": [],
    }
    for tag, (r, record) in rasters.items():
        if isinstance(record, str):
            report["raster_errors"].append(record)
            continue
        params = ", ".join(f"{k}={_text(v)}" for k, v in sorted(r["params"].items()))
        title = f"{tag} point: test MSE {r['test_mse']:.4f} ({params}, seed {r['seed']})"
        raster_figure(out / f"raster_{tag}.png", record, title=title)
        files.append(out / f"raster_{tag}.png")
        report[f"raster_{tag}"] = {**brief(r), "title": title}
    files.append(out / "report.json")
    report["files"] = [str(f) for f in files]
    (out / "report.json").write_text(json.dumps(report, indent=1, default=str) + "\n")
    return report["files"]


def _tables(out, db_path, sweeps, counts, names, done, failed):
    """``table.md`` (header, one row per point, means over seeds, failed points) and ``table.csv``."""
    line = lambda cells: "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"  # noqa: E731
    md = lambda head, body: [line(head), "|" + "---|" * len(head), *map(line, body)]  # noqa: E731
    lines = [
        "# Sweep report",
        "",
        f"- database: `{db_path}`",
        f"- sweep{'s' if len(sweeps) > 1 else ''}: {', '.join(sweeps)}"
        + (" (several sweeps in this database: all their points are reported)" if len(sweeps) > 1 else ""),
        "- points: " + ", ".join(f"{v} {k}" for k, v in counts.items()),
        "- code versions: "
        + ", ".join(
            f"{v} ({n} points)" for v, n in Counter(r["code_version"] or "unknown" for r in done).most_common()
        ),
        f"- parameters: {', '.join(names) or 'none'}",
        "",
        "## Points",
        "",
    ]
    lines += md(
        [*names, "seed", *store.HEADLINE, "build_s", "run_s", "compiled"],
        [
            [
                *(_text(r["params"].get(n)) for n in names),
                r["seed"],
                *(_fmt(m, r[m]) for m in (*store.HEADLINE, "build_s", "run_s")),
                {1: "yes", 0: "no"}.get(r["compiled"], "—"),
            ]
            for r in done
        ],
    )
    lines += ["", "## Mean over seeds", "", "Mean, and [min, max] over the seeds when there are 2 or more.", ""]
    table = [
        [
            *(_text(g[0]["params"].get(n)) for n in names),
            len({r["seed"] for r in g}),  # one row a combination
            *(
                _fmt(m, mean) + (f" [{_fmt(m, lo)}, {_fmt(m, hi)}]" if k >= 2 else "")
                for m, mean, lo, hi, k in ((m, *_stats(g, m)) for m in store.HEADLINE)
            ),
        ]
        for g in _group(done, lambda r: tuple(r["levels"][n] for n in names)).values()
    ]
    lines += md([*names, "seeds", *store.HEADLINE], table)
    if failed:  # the last line of each error (a traceback's exception)
        lines += ["", f"## Failed points ({len(failed)})", ""]
        lines += [
            f"- {r['hash'][:12]} {json.dumps(r['params'], sort_keys=True)} seed {r['seed']}: "
            + ((r["error"] or "no error stored").strip().splitlines() or [""])[-1][:200]
            for r in failed[:50]
        ]
    (out / "table.md").write_text("\n".join(lines) + "\n")
    extra = ["build_s", "run_s", "wall_s", "compiled", "code_version"]
    with open(out / "table.csv", "w", newline="") as fh:  # the same points, numbers at full precision
        csv.writer(fh).writerows(
            [
                ["hash", "sweep", *names, "seed", *store.HEADLINE, *extra],
                *(
                    [
                        r["hash"],
                        r["sweep"],
                        *(_text(r["params"][n]) if n in r["params"] else "" for n in names),
                        r["seed"],
                        *("" if r[k] is None else r[k] for k in (*store.HEADLINE, *extra)),
                    ]
                    for r in done
                ),
            ]
        )
    return [out / "table.md", out / "table.csv"]


def _curves(path, done, names, varying, p, units):
    """Each plotted metric against ``p``, one line per combination of the others; log x when > 0 and >= 50x."""
    others = [n for n in names if n != p]
    levels = sorted({r["levels"][p] for r in done})
    x_of = {lv: (lv if units[p] is not None else k) for k, lv in enumerate(levels)}
    fig = Figure(figsize=(4.3 * len(PLOTTED), 3.8), layout="constrained")
    axes = fig.subplots(1, len(PLOTTED))
    for combo, group in _group(done, lambda r: tuple(r["levels"][n] for n in others)).items():
        label = ", ".join(f"{n}={_show(v, units[n])}" for n, v in zip(others, combo) if n in varying) or None
        by_x = _group(group, lambda r: r["levels"][p])  # what is left in each: the seeds
        for ax, m in zip(axes, PLOTTED):
            st = np.array([_stats(g, m) for g in by_x.values()])
            err = np.where(st[:, 3] >= 2, [st[:, 0] - st[:, 1], st[:, 2] - st[:, 0]], 0.0)
            ax.errorbar([x_of[lv] for lv in by_x], st[:, 0], yerr=err, marker="o", ms=4, capsize=3, lw=1, label=label)
    for ax, m in zip(axes, PLOTTED):
        ax.set(xlabel=f"{p} ({units[p]})" if units[p] else p, ylabel=TITLES[m])
        ax.grid(alpha=0.3)
        if units[p] is None:
            ax.set_xticks(range(len(levels)), levels)
        elif min(levels) > 0 and max(levels) >= 50 * min(levels):
            ax.set_xscale("log")
    if any(n in varying for n in others):
        axes[0].legend(fontsize=6)
    fig.suptitle(f"{p}: mean over seeds, bars: min-max over seeds (where 2 or more)", fontsize=9)
    fig.savefig(path, dpi=110)
    return path


def _heatmap(path, done, pair, units):
    """Each plotted metric over two parameters, mean over seeds and the other parameters."""
    l1, l2 = (sorted({r["levels"][p] for r in done}) for p in pair)
    cells = _group(done, lambda r: (r["levels"][pair[0]], r["levels"][pair[1]]))
    fig = Figure(figsize=(max(4.5, len(l2) + 2.5) * len(PLOTTED), max(3.5, 0.5 * len(l1) + 2)), layout="constrained")
    for ax, m in zip(fig.subplots(1, len(PLOTTED)), PLOTTED):
        grid = np.full((len(l1), len(l2)), np.nan)
        for (a, b), group in cells.items():
            grid[l1.index(a), l2.index(b)] = _stats(group, m)[0]
        finite = grid[np.isfinite(grid)]
        lo, hi = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
        image = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis", vmin=lo, vmax=hi)
        fig.colorbar(image, ax=ax, shrink=0.85)
        for i, j in np.ndindex(grid.shape):  # dark cells (low values) get white text
            dark = np.isfinite(grid[i, j]) and grid[i, j] < lo + 0.5 * (hi - lo)
            ax.text(j, i, _fmt(m, grid[i, j]), ha="center", va="center", fontsize=8, color="white" if dark else "black")
        ax.set_xticks(range(len(l2)), [_show(v) for v in l2])
        ax.set_yticks(range(len(l1)), [_show(v) for v in l1])
        ax.set(
            xlabel=f"{pair[1]} ({units[pair[1]]})" if units[pair[1]] else pair[1],
            title=TITLES[m],
            ylabel=f"{pair[0]} ({units[pair[0]]})" if units[pair[0]] else pair[0],
        )
    fig.suptitle(f"{pair[0]} x {pair[1]}: mean over seeds and other parameters", fontsize=9)
    fig.savefig(path, dpi=110)
    return path
