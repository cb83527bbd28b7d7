"""Benchmark: a sweep through Brian2's run_args against the same sweep recompiling per point.

Both sweeps run the same points (a grid over the learning rate and the astrocyte gate floor of the
small spec) with ``koo-spiking sweep``'s engine on one local Dask worker, one after the other in
this process, each from a cold build cache: ``run_args`` builds the network once and runs the
binary per point; the baseline builds every point in a fresh project directory (what a sweep
over frozen constants costs). Prints builds, total time, build and run time per point, the
ratio of the totals, and whether both gave the same result for every point.

    python benchmarks/bench_sweep.py [--points 16] [--json benchmarks/results/sweep.json]
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

import numpy as np

from koo_spiking.encoder.spec import load_spec
from koo_spiking.studies import store
from koo_spiking.studies.sweep import make_points, run_sweep
from koo_spiking.studies.train import plain_spec, provenance

HERE = os.path.dirname(os.path.abspath(__file__))


def grid(n):
    """n points: a side x side grid over learning.eta and astrocytes.gate_floor (n a square)."""
    side = int(round(np.sqrt(n)))
    if side * side != n:
        raise ValueError(f"--points must be a square number (4, 9, 16, ...), got {n}")
    etas = np.round(np.linspace(0.1, 0.4, side), 4)
    floors = np.round(np.linspace(0.1, 0.9, side), 4)
    return [{"learning.eta": float(e), "astrocytes.gate_floor": float(f)} for e in etas for f in floors]


def sweep(points, work, name, recompile):
    db = os.path.join(work, f"{name}.sqlite")
    os.environ["KOO_BUILD_CACHE"] = os.path.join(work, f"cache_{name}")  # cold: nothing compiled before
    t0 = time.time()
    stats = run_sweep(None, db, workers=1, recompile=recompile, points=points, name=name, verbose=False)
    total = time.time() - t0
    rows = store.rows(store.connect(db))
    return {
        "points": len(rows),
        "builds": stats["compiled"],
        "failed": stats["failed"],
        "total_s": total,
        "build_s_mean": float(np.mean([r["build_s"] for r in rows if r["compiled"]])),
        "run_s_mean": float(np.mean([r["run_s"] for r in rows])),
        "test_mse": {r["hash"]: r["test_mse"] for r in rows},
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=16, help="points of the sweep, a square number (default 16)")
    parser.add_argument("--spec", default=os.path.join(HERE, "..", "models", "koo_small.toml"))
    parser.add_argument("--train-samples", type=int, default=60)
    parser.add_argument("--test-samples", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=1, help="epochs and read-out epochs of each point (default 1)")
    parser.add_argument(
        "--optimize",
        default="0",
        choices=("0", "1", "2", "3"),
        help="C++ optimisation level of the builds (KOO_OPTIMIZE; default 0: short runs)",
    )
    parser.add_argument("--work", default=None, help="working directory (default: a temporary one, removed)")
    parser.add_argument("--json", default=None, help="write the results here")
    args = parser.parse_args(argv)
    os.environ["KOO_OPTIMIZE"] = args.optimize
    spec = load_spec(args.spec)
    combos = [{"learning.epochs": args.epochs, "learning.decoder_epochs": args.epochs, **c} for c in grid(args.points)]
    points = make_points("bench", spec, combos, [0], "digits", args.train_samples, args.test_samples)
    work = args.work or tempfile.mkdtemp(prefix="koo_bench_sweep_")
    os.makedirs(work, exist_ok=True)
    try:
        fast = sweep(points, work, "run_args", recompile=False)
        slow = sweep(points, work, "recompile", recompile=True)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    same = fast["test_mse"] == slow["test_mse"]
    rows = [
        ("sweep", "points", "builds", "total s", "build s (mean)", "run s per point"),
        (
            "run_args (build once)",
            fast["points"],
            fast["builds"],
            f"{fast['total_s']:.0f}",
            f"{fast['build_s_mean']:.1f}",
            f"{fast['run_s_mean']:.2f}",
        ),
        (
            "recompile per point",
            slow["points"],
            slow["builds"],
            f"{slow['total_s']:.0f}",
            f"{slow['build_s_mean']:.1f}",
            f"{slow['run_s_mean']:.2f}",
        ),
    ]
    for row in rows:
        print(f"{row[0]:<24} {row[1]:>6} {row[2]:>6} {row[3]:>8} {row[4]:>15} {row[5]:>16}")
    ratio = slow["total_s"] / fast["total_s"]
    print(f"total time ratio recompile / run_args: {ratio:.1f}; same result for every point: {same}")
    if args.json:
        out = {
            "provenance": provenance(spec, " ".join(["python"] + sys.argv)),
            "spec": plain_spec(spec),
            "points": args.points,
            "train_samples": args.train_samples,
            "test_samples": args.test_samples,
            "epochs": args.epochs,
            "optimize": args.optimize,
            "cores": os.cpu_count(),
            "run_args": {k: v for k, v in fast.items() if k != "test_mse"},
            "recompile": {k: v for k, v in slow.items() if k != "test_mse"},
            "total_ratio": ratio,
            "same_results": same,
        }
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)
    return 0 if same and not fast["failed"] and not slow["failed"] else 1


if __name__ == "__main__":
    sys.exit(main())
