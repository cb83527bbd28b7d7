"""Ablation study: the full Koo Encoder, each feature left out, and the minimal core, over seeds.

Every variant flips structural spec values of the full model (feature flags, the astrocytes'
coupling) and runs as sweep points (``studies.sweep``) on the same splits: one point per variant
and seed, stored in ``OUT/ablation.sqlite``, so the study is resumable and spreads over Dask
workers. Writes ``ablation.json`` (every run's metrics and diagnostics), ``ablation.md`` (means,
bootstrap CIs, paired effects against the full model) and ``ablation.png`` (``studies.effects``).
"""

import json
import os
import sys

from ..encoder.spec import FEATURES, load_spec, validate_spec, with_values
from . import effects, store
from .sweep import make_points, run_sweep
from .train import plain_spec, provenance

__all__ = ["variant_table", "run_ablation", "NOT_AVAILABLE"]

#: mission features the encoder cannot leave out yet, with the reason (reported in the outputs)
NOT_AVAILABLE = {}
_LABEL = {
    "second_hidden": "second hidden layer",
    "inhibition": "inhibitory populations",
    "astrocytes": "astrocytes",
    "reward": "per-neuron reward",
    "short_term": "short-term plasticity",
    "forgetting": "forgetting/consolidation",
    "phase": "phase code",
    "stdp": "STDP pairings",
    "structural": "structural plasticity",
}
_ORDER = (
    "second_hidden",
    "inhibition",
    "astrocytes",
    "reward",
    "short_term",
    "forgetting",
    "phase",
    "stdp",
    "structural",
)


def _size(spec):
    """Mission features present: each feature flag on, and the astrocytes' coupling."""
    f = spec["features"]
    return sum(bool(f[name]) for name in FEATURES) + int(f["astrocytes"] and spec["astrocytes"]["coupling"] != "none")


def variant_table(spec):
    """Name -> (label, flips) of every variant of a resolved spec: the full model first, then each
    feature flipped (left out when on, added when the full model has it off), the astrocytes
    without their coupling, and the minimal core (plain local-learning layers: the two hidden layers
    with their inhibition, no other feature)."""
    out = {"full": ("full model", {})}
    f = spec["features"]
    for name in _ORDER:
        label = f"no {_LABEL[name]}" if f[name] else f"with {_LABEL[name]}"
        out[f"no_{name}" if f[name] else f"with_{name}"] = (label, {f"features.{name}": not f[name]})
        if name == "astrocytes" and f["astrocytes"] and spec["astrocytes"]["coupling"] != "none":
            out["no_coupling"] = ("astrocytes without coupling", {"astrocytes.coupling": "none"})
    core = {f"features.{name}": False for name in FEATURES if name not in ("second_hidden", "inhibition") and f[name]}
    if core:
        out["minimal"] = ("minimal core (no glia, reward, STP, STDP, forgetting, phase, pruning)", core)
    return out


def _check_out(out):
    out = os.path.abspath(os.fspath(out))
    if os.path.exists(out) and not os.path.isdir(out):
        raise ValueError(f"--out {out} exists and is not a directory")
    parent = out
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.access(parent, os.W_OK):
        raise ValueError(f"--out {out}: the directory {parent} is not writable")
    return out


def run_ablation(
    spec=None,
    data="digits",
    seeds=5,
    out="ablation",
    variants=None,
    train_samples=None,
    test_samples=None,
    workers=None,
    scheduler=None,
    command=None,
    verbose=True,
    keep_going=False,
):
    """Run (or resume) the ablation and write its JSON, Markdown and PNG to ``out``.

    Parameters
    ----------
    spec : str, dict or None
        The full model (a TOML path, a spec dict, or None for the defaults).
    seeds : int
        Seeds 0..seeds-1; each seed draws its own split, the same for every variant.
    variants : list of str, optional
        A subset of :func:`variant_table`'s names (the full model is always run).
    keep_going : bool
        Run every point even when the first ones all fail with the same error (see
        :func:`~koo_spiking.studies.sweep.run_sweep`).

    Returns
    -------
    dict
        ``ablation`` (the JSON's content), ``failed`` (points that failed), ``paths``.
    """
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds <= 0:
        raise ValueError(f"--seeds must be a positive integer, got {seeds!r}")
    out = _check_out(out)
    base = load_spec(os.fspath(spec)) if isinstance(spec, (str, os.PathLike)) else validate_spec(spec or {})
    table = variant_table(base)
    if variants is not None:
        unknown = sorted(set(variants) - set(table))
        if unknown:
            raise ValueError(f"ablate: unknown variant {unknown[0]!r} (known: {', '.join(table)})")
        table = {k: v for k, v in table.items() if k == "full" or k in variants}
    points = {
        name: make_points("ablation", base, [flips], list(range(seeds)), data, train_samples, test_samples)
        for name, (_, flips) in table.items()
    }
    from ..io.datasets import load_dataset

    load_dataset(data, train_samples, test_samples, 0)  # a bad data set fails here, before anything runs
    os.makedirs(out, exist_ok=True)
    db_path = os.path.join(out, "ablation.sqlite")
    stats = run_sweep(
        None,
        db_path,
        workers=workers,
        scheduler=scheduler,
        verbose=verbose,
        keep_going=keep_going,
        points=[p for pts in points.values() for p in pts],
        name="ablation",
    )
    db = store.connect(db_path)
    rows = {r["hash"]: r for r in store.rows(db)}
    result = {
        "provenance": provenance(base, command),
        "data": data,
        "seeds": list(range(seeds)),
        "train_samples": train_samples,
        "test_samples": test_samples,
        "full": "full",
        "variants": {},
        "not_available": NOT_AVAILABLE,
        "timing": {k: stats[k] for k in ("done", "skipped", "failed", "compiled")},
    }
    for name, (label, flips) in table.items():
        runs = []
        for p in points[name]:
            row = rows[p["hash"]]
            run = {
                "seed": row["seed"],
                "status": row["status"],
                "hash": row["hash"],
                "code_version": row["code_version"],
                "wall_s": row["wall_s"],
            }
            if row["status"] == "done":
                run.update(models=row["metrics"]["models"], diagnostics=row["metrics"]["diagnostics"])
            else:
                run["error"] = row["error"]
            runs.append(run)
        result["variants"][name] = {
            "label": label,
            "flips": flips,
            "size": _size(with_values(base, flips)),
            "spec": plain_spec(with_values(base, flips)),
            "runs": runs,
        }
    paths = [os.path.join(out, name) for name in ("ablation.json", "ablation.md", "ablation.png")]
    tmp = paths[0] + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(result, fh, indent=1)
    os.replace(tmp, paths[0])
    effects.write_markdown(paths[1], result)
    effects.write_figure(paths[2], result)
    if verbose:
        rows_ = effects.summarize(result)
        print(f"smallest model not significantly worse than the full one: {effects.smallest_not_worse(rows_)}")
        print(f"wrote {', '.join(paths)}")
    if stats["failed"]:
        print(
            f"koo-spiking: warning: {stats['failed']} run(s) failed (see {paths[1]}); rerun to retry them",
            file=sys.stderr,
        )
    return {"ablation": result, "failed": stats["failed"], "paths": paths}
