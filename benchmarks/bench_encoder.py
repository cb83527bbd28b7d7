"""Encoder benchmark: the Koo Encoder against the mean image, PCA and the backprop autoencoders.

Every model sees the same split in the same run. Digits (all 1347 / 450 images, code 16) over
several seeds; optionally Fashion-MNIST (10 000 / 2 000 images, code 64), a rate-distortion
sweep (test MSE against spikes per image as the presentation time, hence every layer's spike budget,
varies) and an ablation (each feature flag flipped, one at a time, on the same split).
Prints a table and writes JSON with the git commit, the command line and the spec of each run.
The baselines (``studies.baselines``): the mean image, PCA-k clipped to [0, 1] (``pca``) and unclipped
(``pca_unclipped``), the shallow autoencoder (one hidden layer; ``autoencoder`` in results written
before 0.4) and the deep backprop autoencoder 256-128-k-128-256 (``backprop_autoencoder``).
``--baselines-only`` fits the baselines alone on the digits seeds' splits (no Koo Encoder; a minute
a seed) and writes their JSON.

Targets (issue 6): digits, every seed R^2 >= 0.75 and mean test MSE <= the shallow autoencoder
(goal: <= PCA-16), <= 1000 spikes per test image; Fashion-MNIST R^2 >= 0.70, probe >= 80 %. Issue 24:
every seed below its clipped PCA-16 (must), mean <= 1.3x the deep backprop autoencoder's (goal).

Usage: python benchmarks/bench_encoder.py [--seeds 0 1 2 3 4] [--jobs 2] [--fashion]
       [--rate-distortion] [--ablate [--ablate-seeds 0 1]] [--spec models/koo_encoder.toml] [--fashion-spec models/koo_fashion.toml]
       [--json out.json] [--quick]
       [--work DIR --checkpoint-every N]   (long runs: resumable, rerun the same command)
       [--markdown FILE]  (the README's tables)   --tables RESULTS.json  (only the tables of an earlier run)
       --baselines-only [--seeds 0 1 2 3 4] --json FILE   (the baselines alone)
"""

import argparse
import json
import os
import re
import sys
import tempfile

import numpy as np
import tomllib
from brian2 import ms

from koo_spiking.encoder.checkpoint import CHECKPOINT
from koo_spiking.encoder.spec import FEATURES, validate_spec
from koo_spiking.studies.baselines import KEYS, LABELS, read_models
from koo_spiking.studies.train import baselines, provenance, run_study
from koo_spiking.workers import process_pool

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(HERE, "..", "models")


def _one(job):
    name, spec, kw, work, every = job
    if not work:
        out = tempfile.mkdtemp(prefix=f"bench_encoder_{name}_")
        return name, run_study(spec, out=out, verbose=False, figures=False, **kw)
    # kept runs: a finished one is read back, an interrupted one resumed from its last chunk
    out = os.path.join(work, name)
    if os.path.exists(os.path.join(out, "metrics.json")):
        with open(os.path.join(out, "metrics.json")) as fh:
            return name, json.load(fh)
    resume = os.path.exists(os.path.join(out, "checkpoint", CHECKPOINT))
    return name, run_study(spec, out=out, verbose=False, figures=False, checkpoint_every=every, resume=resume, **kw)


def _read(path):
    with open(path, "rb") as fh:
        return tomllib.load(fh)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seeds",
        type=int,
        nargs="*",
        default=[0, 1, 2, 3, 4],
        help="digits seeds (none: skip digits, e.g. with --fashion)",
    )
    parser.add_argument("--fashion-seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2, help="runs in parallel (one process each)")
    parser.add_argument("--spec", default=os.path.join(MODELS, "koo_encoder.toml"))
    parser.add_argument("--fashion", action="store_true", help="also Fashion-MNIST, code 64")
    parser.add_argument("--fashion-spec", default=os.path.join(MODELS, "koo_fashion.toml"))
    parser.add_argument("--fashion-train", type=int, default=10000)
    parser.add_argument("--fashion-test", type=int, default=2000)
    parser.add_argument(
        "--rate-distortion",
        action="store_true",
        help="also presentation times of 50 and 200 ms with every rate held (first seed): test "
        "MSE against spikes per image",
    )
    parser.add_argument(
        "--ablate",
        action="store_true",
        help="also each feature flipped from the spec's value, one at a time (ablation seeds)",
    )
    parser.add_argument(
        "--ablate-seeds",
        type=int,
        nargs="+",
        default=None,
        help="seeds of the ablation runs (default: the first digits seed)",
    )
    parser.add_argument("--quick", action="store_true", help="small budgets (smoke test)")
    parser.add_argument(
        "--work",
        help="keep each run in WORK/NAME: rerunning the command reads finished runs "
        "back and resumes interrupted ones (with --checkpoint-every)",
    )
    parser.add_argument(
        "--checkpoint-every",
        type=int,
        default=None,
        metavar="N",
        help="with --work: save each run's full state every N images",
    )
    parser.add_argument("--json")
    parser.add_argument("--markdown", metavar="FILE", help="also write the README's tables of the results")
    parser.add_argument(
        "--tables",
        metavar="RESULTS.json",
        help="run nothing: print (and with --markdown write) the tables of an earlier run's JSON",
    )
    parser.add_argument(
        "--baselines-only",
        action="store_true",
        help="fit only the baselines on the digits seeds' splits (code 16) and write their JSON",
    )
    args = parser.parse_args(argv)
    if args.baselines_only:
        return baselines_only(args.seeds, args.json)
    if args.tables:
        with open(args.tables) as fh:
            text = markdown(json.load(fh))
        print(text)
        if args.markdown:
            with open(args.markdown, "w") as fh:
                fh.write(text)
        return 0
    spec = _read(args.spec)
    small = dict(train_samples=300, test_samples=100) if args.quick else {}
    if args.quick:
        spec.setdefault("learning", {}).update(epochs=1, decoder_epochs=1)
    jobs = [(f"digits_seed{s}", spec, dict(data="digits", seed=s, **small)) for s in args.seeds]
    if args.rate_distortion:
        for factor in (0.5, 2.0):
            jobs.append(
                (
                    f"digits_present{factor:g}x",
                    presentation_variant(spec, factor),
                    dict(data="digits", seed=(args.seeds or [0])[0], **small),
                )
            )
    if args.ablate:
        resolved = validate_spec(json.loads(json.dumps(spec)))["features"]
        for seed in args.ablate_seeds or (args.seeds or [0])[:1]:
            for feature in FEATURES:
                variant = json.loads(json.dumps(spec))
                variant.setdefault("features", {})[feature] = not resolved[feature]
                name = f"ablate_{'no' if resolved[feature] else 'with'}_{feature}_seed{seed}"
                jobs.append((name, variant, dict(data="digits", seed=seed, **small)))
    if args.fashion:
        fs = _read(args.fashion_spec)
        if args.quick:
            fs.setdefault("learning", {}).update(epochs=1, decoder_epochs=1)
        jobs.append(
            (
                "fashion",
                fs,
                dict(
                    data="fashion-mnist",
                    seed=args.fashion_seed,
                    train_samples=500 if args.quick else args.fashion_train,
                    test_samples=200 if args.quick else args.fashion_test,
                ),
            )
        )
    if args.checkpoint_every and not args.work:
        parser.error("--checkpoint-every needs --work")
    jobs = [job + (args.work, args.checkpoint_every) for job in jobs]
    print(f"bench_encoder: {len(jobs)} runs, {args.jobs} at a time", flush=True)
    results = {}
    with process_pool(args.jobs) as pool:  # SIGTERM/SIGINT: the workers and their binaries stop too
        for name, summary in pool.map(_one, jobs):
            m = summary["models"]["koo"]
            print(
                f"  {name}: test MSE {m['test_mse']:.4f}, R2 {m['r2']:.3f}, probe {m['probe_accuracy']}, "
                f"{m['spikes_per_image']:.0f} spikes/image, {m['images_per_s']:.1f} images/s",
                flush=True,
            )
            results[name] = summary
    report = {"provenance": provenance(), "runs": results, "summary": summarize(results)}
    print(table(report["summary"]))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(report, fh, indent=2, default=str)
        print(f"wrote {args.json}")
    if args.markdown:
        with open(args.markdown, "w") as fh:
            fh.write(markdown(json.loads(json.dumps(report, default=str))))
        print(f"wrote {args.markdown}")
    return 0


def baselines_only(seeds, path=None, k=16):
    """The baselines alone on each digits seed's split (the split the full benchmark uses); writes
    ``{"provenance", "runs": {"digits_seedS": {"models": ...}}, "summary"}`` to ``path``."""
    from koo_spiking.io.datasets import load_dataset

    runs = {}
    for seed in seeds:
        ds = load_dataset("digits", None, None, seed)
        models, _ = baselines(ds, k, seed)
        runs[f"digits_seed{seed}"] = {"data": "digits", "seed": seed, "models": models}
        print(
            f"  seed {seed}: "
            + ", ".join(f"{key} {m['test_mse']:.4f} ({m['wall_s']:.1f} s)" for key, m in models.items()),
            flush=True,
        )
    report = {
        "provenance": provenance(),
        "runs": runs,
        "summary": {
            key: {
                "test_mse_mean": float(np.mean([r["models"][key]["test_mse"] for r in runs.values()])),
                "test_mse": [r["models"][key]["test_mse"] for r in runs.values()],
            }
            for key in KEYS
        },
    }
    for key, s in report["summary"].items():
        print(f"{key:<22} test MSE mean {s['test_mse_mean']:.4f} " + " ".join(f"{v:.4f}" for v in s["test_mse"]))
    if path:
        with open(path, "w") as fh:
            json.dump(report, fh, indent=2)
        print(f"wrote {path}")
    return 0


def _label(model, k):
    return "Koo Encoder (local rules, spiking read-out)" if model == "koo" else LABELS[model].format(k=k)


def _stat(values, fmt):
    values = np.asarray(values, float)
    if len(values) == 1:
        return format(values[0], fmt)
    return f"{format(values.mean(), fmt)} ({format(values.min(), fmt)}–{format(values.max(), fmt)})"


def markdown(report):
    """The README's tables of a report (this script's JSON): every number comes from its runs."""
    runs = {name: {**r, "models": read_models(r["models"])} for name, r in report["runs"].items()}
    prov = report["provenance"]
    out = [f"<!-- bench_encoder.py tables: commit {prov['git_commit'][:10]}, `{prov['command']}` -->"]
    seeds = sorted((k for k in runs if k.startswith("digits_seed")), key=lambda k: int(k[len("digits_seed") :]))
    if seeds:
        out += [
            "",
            f"| digits, code {runs[seeds[0]]['models']['koo']['code_size']}, {len(seeds)} seeds | test MSE "
            "mean (min–max) | R² mean (min–max) | probe accuracy mean | spikes per test image |",
            "|---|---|---|---|---|",
        ]
        code = runs[seeds[0]]["models"]["koo"]["code_size"]
        for model in ("koo",) + KEYS:
            if any(model not in runs[k]["models"] for k in seeds):
                continue  # pca_unclipped and the deep autoencoder: not in results written before 0.4
            label = _label(model, code)
            ms_ = [runs[k]["models"][model] for k in seeds]
            probe = [m["probe_accuracy"] for m in ms_ if m["probe_accuracy"] is not None]
            spikes = [m["spikes_per_image"] for m in ms_ if "spikes_per_image" in m]
            out.append(
                f"| {label} | {_stat([m['test_mse'] for m in ms_], '.4f')} | {_stat([m['r2'] for m in ms_], '.3f')} "
                f"| {format(np.mean(probe), '.3f') if probe else '–'} | "
                f"{format(np.mean(spikes), '.0f') if spikes else '–'} |"
            )
        ref = "backprop_autoencoder" if "backprop_autoencoder" in runs[seeds[0]]["models"] else "shallow_autoencoder"
        per = ", ".join(
            f"{runs[k]['models']['koo']['test_mse']:.4f} / {runs[k]['models'][ref]['test_mse']:.4f}" for k in seeds
        )
        out += ["", f"Per seed (Koo / {_label(ref, code)} test MSE): {per}."]
        first = runs[seeds[0]]["models"]["koo"]["spikes_per_image_by_layer"]
        out.append(f"Spikes per test image on {seeds[0]}: " + ", ".join(f"{k} {v:.0f}" for k, v in first.items()) + ".")
    rd = report["summary"].get("rate_distortion")
    if rd:
        out += [
            "",
            "| presentation time | spikes per test image | of which hidden 1 + hidden 2 | test MSE | R² |",
            "|---|---|---|---|---|",
        ]
        for p in rd:
            by = p["spikes_per_image_by_layer"]
            present = re.sub(r"(\d)\. ", r"\1 ", str(p["present"]))  # Brian2 writes "50. ms"
            out.append(
                f"| {present} | {p['spikes_per_image']:.0f} | {by['h1'] + by['h2']:.0f} | "
                f"{p['test_mse']:.4f} | {p['r2']:.3f} |"
            )
    ab = report["summary"].get("ablation")
    if ab:
        out += [
            "",
            "| variant (one flag flipped) | seed | test MSE | vs full | R² | probe | vs full | spikes per image "
            "| health warnings |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in ab:
            out.append(
                f"| {r['variant'].replace('_', ' ', 1)} | {r['seed']} | {r['test_mse']:.4f} | "
                f"{r.get('d_test_mse', float('nan')):+.4f} | {r['r2']:.3f} | {r['probe']:.3f} | "
                f"{r.get('d_probe', float('nan')):+.3f} | {r['spikes_per_image']:.0f} | {r['health_warnings']} |"
            )
    if "fashion" in runs:
        m = runs["fashion"]["models"]
        out += [
            "",
            f"| Fashion-MNIST, {m['koo']['train_samples']} train images, code {m['koo']['code_size']} | test MSE "
            "| R² | probe accuracy | spikes per test image |",
            "|---|---|---|---|---|",
        ]
        for model in ("koo",) + KEYS:
            if model not in m:
                continue
            label, x = _label(model, m["koo"]["code_size"]), m[model]
            probe = "–" if x["probe_accuracy"] is None else f"{x['probe_accuracy']:.3f}"
            spikes = f"{x['spikes_per_image']:.0f}" if "spikes_per_image" in x else "–"
            out.append(f"| {label} | {x['test_mse']:.4f} | {x['r2']:.3f} | {probe} | {spikes} |")
    return "\n".join(out) + "\n"


def presentation_variant(spec, factor):
    """The spec with each image shown ``factor`` times as long and every rate held: the input, the
    read-out and the hidden targets (spikes per image) all scale with the presentation time; the
    dopamine pulse shortens with short images (it must end before the traces restart)."""
    variant = json.loads(json.dumps(spec))
    resolved = validate_spec(json.loads(json.dumps(spec)))
    present = resolved["network"]["present"] * factor
    variant.setdefault("network", {})["present"] = f"{float(present / ms):g} ms"
    learn = variant.setdefault("learning", {})
    for key in ("target_h1", "target_h2", "target_i"):
        learn[key] = resolved["learning"][key] * factor
    tau_dop = min(resolved["reward"]["tau_dop"], present / 50)
    variant.setdefault("reward", {})["tau_dop"] = f"{float(tau_dop / ms):g} ms"
    return variant


def summarize(results):
    results = {name: {**r, "models": read_models(r["models"])} for name, r in results.items()}
    out = {}
    seeds = {k: v for k, v in results.items() if k.startswith("digits_seed")}
    if seeds:
        koo = [v["models"]["koo"] for v in seeds.values()]
        base = {
            b: float(np.mean([v["models"][b]["test_mse"] for v in seeds.values()]))
            for b in KEYS
            if all(b in v["models"] for v in seeds.values())
        }
        mse = np.array([k["test_mse"] for k in koo])
        r2 = np.array([k["r2"] for k in koo])
        spikes = np.array([k["spikes_per_image"] for k in koo])
        out["digits"] = {
            "seeds": len(koo),
            "test_mse_mean": float(mse.mean()),
            "test_mse_min": float(mse.min()),
            "test_mse_max": float(mse.max()),
            "r2_mean": float(r2.mean()),
            "r2_min": float(r2.min()),
            "r2_max": float(r2.max()),
            "spikes_per_image_mean": float(spikes.mean()),
            "probe_mean": float(np.mean([k["probe_accuracy"] for k in koo])),
            "images_per_s_mean": float(np.mean([k["images_per_s"] for k in koo])),
            "baseline_test_mse_mean": base,
            "must_every_seed_r2_ge_0.75": bool(r2.min() >= 0.75),
            "must_mean_mse_le_shallow_autoencoder": bool(mse.mean() <= base["shallow_autoencoder"]),
            "goal_mean_mse_le_pca": bool(mse.mean() <= base["pca"]),
            "must_every_seed_mse_lt_pca": bool(
                all(v["models"]["koo"]["test_mse"] < v["models"]["pca"]["test_mse"] for v in seeds.values())
            ),
            "must_spikes_le_1000": bool(spikes.mean() <= 1000),
        }
        if "backprop_autoencoder" in base:
            out["digits"]["goal_mean_mse_le_1.3x_backprop_autoencoder"] = bool(
                mse.mean() <= 1.3 * base["backprop_autoencoder"]
            )
    rd = {k: v for k, v in results.items() if k.startswith("digits_present")}
    if rd:
        first = min((k for k in seeds), key=lambda k: int(k[len("digits_seed") :]), default=None)
        points = [(v["provenance"]["spec"]["network"]["present"], v["models"]["koo"]) for v in rd.values()]
        if first:
            points.append((results[first]["provenance"]["spec"]["network"]["present"], results[first]["models"]["koo"]))
        points.sort(key=lambda p: p[1]["spikes_per_image"])
        out["rate_distortion"] = [
            {
                "present": str(p),
                "spikes_per_image": m["spikes_per_image"],
                "spikes_per_image_by_layer": m["spikes_per_image_by_layer"],
                "test_mse": m["test_mse"],
                "r2": m["r2"],
            }
            for p, m in points
        ]
    ablation = {k: v for k, v in results.items() if k.startswith("ablate_")}
    if ablation:
        rows = []
        for name, v in sorted(ablation.items()):
            seed = int(name.rsplit("_seed", 1)[1])
            full = results.get(f"digits_seed{seed}")
            m = v["models"]["koo"]
            row = {
                "variant": name.rsplit("_seed", 1)[0][len("ablate_") :],
                "seed": seed,
                "test_mse": m["test_mse"],
                "r2": m["r2"],
                "probe": m["probe_accuracy"],
                "spikes_per_image": m["spikes_per_image"],
                "health_warnings": len(v["diagnostics"]["health"]["warnings"]),
            }
            if full:
                f = full["models"]["koo"]
                row.update(
                    d_test_mse=m["test_mse"] - f["test_mse"],
                    d_probe=(m["probe_accuracy"] or 0) - (f["probe_accuracy"] or 0),
                    d_spikes=m["spikes_per_image"] - f["spikes_per_image"],
                )
            rows.append(row)
        out["ablation"] = rows
    if "fashion" in results:
        m = results["fashion"]["models"]
        out["fashion"] = {
            "test_mse": m["koo"]["test_mse"],
            "r2": m["koo"]["r2"],
            "probe": m["koo"]["probe_accuracy"],
            **{f"{b}_mse": m[b]["test_mse"] for b in KEYS if b in m},
            "must_r2_ge_0.70": m["koo"]["r2"] >= 0.70,
            "must_probe_ge_0.80": (m["koo"]["probe_accuracy"] or 0) >= 0.80,
        }
    return out


def table(summary):
    rows = []
    d = summary.get("digits")
    if d:
        b = d["baseline_test_mse_mean"]
        ref = "backprop_autoencoder" if "backprop_autoencoder" in b else "shallow_autoencoder"
        rows += [
            f"digits over {d['seeds']} seeds: Koo test MSE mean {d['test_mse_mean']:.4f} "
            f"(min {d['test_mse_min']:.4f}, max {d['test_mse_max']:.4f}), R2 mean {d['r2_mean']:.3f} "
            f"(min {d['r2_min']:.3f}), {d['spikes_per_image_mean']:.0f} spikes/image, "
            f"{d['images_per_s_mean']:.1f} images/s",
            "  baselines: " + ", ".join(f"{name} {v:.4f}" for name, v in b.items()),
            f"  Koo/{ref} MSE ratio {d['test_mse_mean'] / b[ref]:.2f}, Koo/PCA {d['test_mse_mean'] / b['pca']:.2f}",
            "  targets: " + ", ".join(f"{k} {v}" for k, v in d.items() if k.startswith(("must", "goal"))),
        ]
    for p in summary.get("rate_distortion", []):
        rows.append(
            f"  rate-distortion, present {p['present']}: {p['spikes_per_image']:.0f} spikes/image, "
            f"MSE {p['test_mse']:.4f}, R2 {p['r2']:.3f}"
        )
    for r in summary.get("ablation", []):
        delta = (
            f" (vs full: MSE {r['d_test_mse']:+.4f}, probe {r['d_probe']:+.3f}, spikes {r['d_spikes']:+.0f})"
            if "d_test_mse" in r
            else ""
        )
        rows.append(
            f"  ablation {r['variant']:<18} seed {r['seed']}: MSE {r['test_mse']:.4f}, R2 {r['r2']:.3f}, "
            f"probe {r['probe']}, {r['spikes_per_image']:.0f} spikes/image{delta}, "
            f"{r['health_warnings']} health warnings"
        )
    if "fashion" in summary:
        rows.append("fashion: " + ", ".join(f"{k} {v}" for k, v in summary["fashion"].items()))
    return "\n".join(rows)


if __name__ == "__main__":
    sys.exit(main())
