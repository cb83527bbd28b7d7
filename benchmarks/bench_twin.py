"""Benchmark of the Koo Encoder v3 rate twin (koo_spiking.encoder.twin.RateTwin) on digits, code 16.

Per seed (the project's split of ``load_dataset("digits", None, None, seed)``): the twin's default model, its
variants (one hidden layer, feedback tied / Kolen-Pollack / random instead of the weight mirror, Dale off, astrocytes off,
dopamine on, forgetting on, no amortised start, spike counts of at most 8 per window) and PCA-16 with and without
clipping. Prints a table (test MSE per seed, mean) and the paired comparison of each variant with the default
model: mean difference, paired t-test p and Holm-corrected p over all variants.

Usage::

    python benchmarks/bench_twin.py [--seeds 0 1 2 3 4] [--epochs 50] [--json PATH] [--quick]
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
from scipy import stats

from koo_spiking.encoder.twin import RateTwin
from koo_spiking.io.datasets import load_dataset

VARIANTS = {  # name -> RateTwin keyword overrides of the default model
    "twin": {},
    "one_hidden_layer": {"layers": 1},
    "feedback_tied": {"feedback": "tied"},
    "feedback_kolen_pollack": {"feedback": "kolen_pollack", "decay": 1.0, "decay_until": 0.25},
    "feedback_random": {"feedback": "random"},
    "dale_off": {"dale": False},
    "astrocytes_off": {"astrocytes": False},
    "dopamine_on": {"dopamine": True},
    "forgetting_on": {"forgetting": True},
    "amortised_off": {"amortised": False},
}


SOURCES = ("koo_spiking/encoder/twin.py", "koo_spiking/io/datasets.py", "benchmarks/bench_twin.py")


def git_commit():
    """``git rev-parse HEAD`` with '+dirty' when the files this benchmark runs (:data:`SOURCES`) differ from it,
    and whether any other tracked file differs (the shared checkout often has others' work in progress)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

    def git(*args):
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD") or None
        dirty = git("status", "--porcelain", "--untracked-files=no", "--", *SOURCES)
        other = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None, None
    return (commit + "+dirty" if commit and dirty else commit), bool(other)


def holm(pvalues):
    """Holm-Bonferroni adjusted p-values (same order as given; nan stays nan)."""
    p = np.asarray(pvalues, float)
    ok = np.flatnonzero(np.isfinite(p))
    adj = np.full_like(p, np.nan)
    order = ok[np.argsort(p[ok])]
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(order) - rank) * p[i]))
        adj[i] = running
    return adj


def pca_mse(Xtr, Xte, k, seed):
    from sklearn.decomposition import PCA

    pca = PCA(n_components=k, random_state=seed).fit(Xtr)
    R = pca.inverse_transform(pca.transform(Xte))
    return float(np.mean((np.clip(R, 0, 1) - Xte) ** 2)), float(np.mean((R - Xte) ** 2))


def run(seeds, epochs, variants, log=print):
    results = {name: {} for name in variants}
    results.update({"pca16_clipped": {}, "pca16": {}})
    extra = {}
    for seed in seeds:
        ds = load_dataset("digits", None, None, seed)
        Xtr, Xte = ds["X_train"], ds["X_test"]
        results["pca16_clipped"][seed], results["pca16"][seed] = pca_mse(Xtr, Xte, 16, seed)
        for name, kw in variants.items():
            model = RateTwin(seed=seed, epochs=epochs, track_every=epochs, **kw).fit(Xtr)
            mse = model.mse(Xte)
            row = {"test_mse": mse, "fit_s": model.fit_time_, "encoder_only_mse": model.encoder_mse(Xte)}
            if model.feedback != "tied":
                row["alignment_deg"] = model.alignment()
            if name == "twin":
                row["untrained_mse"] = RateTwin(seed=seed, epochs=1, eta=1e-12, eta_plain=1e-12).fit(Xtr).mse(Xte)
                for window in (8, 16, 32):
                    for noise in ("deterministic", "poisson"):
                        model.set_params(spike_window=window, spike_noise=noise)
                        row[f"spikes{window}_{noise}_mse"] = model.mse(Xte)
                model.set_params(spike_window=None)
                row["spike_budget_8"] = model.spike_budget(Xte, 8)
                row["settle_steps_mse"] = {}
                for k in (0, 2, 5, 10, 20, 50):
                    model.set_params(n_settle_test=k)
                    row["settle_steps_mse"][k] = model.mse(Xte)
                model.set_params(n_settle_test=None)
            results[name][seed] = mse
            extra.setdefault(name, {})[seed] = row
            log(
                f"seed {seed} {name:24s} mse {mse:.5f}  fit {model.fit_time_:5.1f} s"
                + (f"  align {np.round(row['alignment_deg'], 1).tolist()}" if "alignment_deg" in row else "")
            )
    return results, extra


def compare(results, reference="twin"):
    names = [n for n in results if n != reference]
    rows = []
    for name in names:
        seeds = [s for s in results[name] if s in results[reference]]
        v = np.array([results[name][s] for s in seeds])
        r = np.array([results[reference][s] for s in seeds])
        d = v - r
        p = float(stats.ttest_rel(v, r).pvalue) if len(d) >= 2 and np.ptp(d) > 0 else float("nan")
        rows.append(
            {"variant": name, "mean_diff": float(d.mean()), "n": len(d), "p": p, "worse_on_seeds": int((d > 0).sum())}
        )
    for row, adj in zip(rows, holm([r["p"] for r in rows])):
        row["p_holm"] = float(adj)
    return rows


def table(results, seeds, comparison):
    lines = ["| model | " + " | ".join(f"seed {s}" for s in seeds) + " | mean |", "|---|" + "---|" * (len(seeds) + 1)]
    for name, vals in results.items():
        lines.append(
            f"| {name} | "
            + " | ".join(f"{vals[s]:.4f}" for s in seeds)
            + f" | {np.mean([vals[s] for s in seeds]):.4f} |"
        )
    lines += ["", "| variant vs twin | mean diff | seeds worse | p (paired t) | p (Holm) |", "|---|---|---|---|---|"]
    for r in comparison:
        lines.append(
            f"| {r['variant']} | {r['mean_diff']:+.4f} | {r['worse_on_seeds']}/{r['n']} | {r['p']:.3g} "
            f"| {r['p_holm']:.3g} |"
        )
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--epochs", type=int, default=RateTwin().epochs)
    ap.add_argument("--json", help="write results to this path")
    ap.add_argument("--quick", action="store_true", help="default model and PCA only")
    args = ap.parse_args(argv)
    variants = {"twin": {}} if args.quick else VARIANTS
    t0 = time.time()
    results, extra = run(args.seeds, args.epochs, variants)
    comparison = compare(results)
    print(table(results, args.seeds, comparison))
    print(f"total {time.time() - t0:.0f} s")
    if args.json:
        commit, tree_dirty = git_commit()
        out = {
            "git_commit": commit,
            "other_tracked_files_modified": tree_dirty,
            "command": " ".join([os.path.basename(sys.argv[0])] + sys.argv[1:]),
            "date_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
            "settings": {
                "dataset": "digits",
                "code": 16,
                "seeds": args.seeds,
                "epochs": args.epochs,
                "defaults": {k: v for k, v in RateTwin().get_params().items()},
                "variants": variants,
            },
            "test_mse": {k: {str(s): v for s, v in d.items()} for k, d in results.items()},
            "details": {k: {str(s): v for s, v in d.items()} for k, d in extra.items()},
            "comparison_vs_twin": comparison,
            "wall_s": time.time() - t0,
        }
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
