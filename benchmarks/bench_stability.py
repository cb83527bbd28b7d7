"""Long-run stability: the Koo Encoder trained for at least one hour of simulated time.

Trains with the spec's own schedule (``epochs`` raised until the run lasts ``--hours`` of
simulated time) on the embedded digits, in resumable chunks, then checks what must hold in a
run of any length, and prints the extremes:
- no NaN or inf in any learned variable (weights, thresholds, biases, running means, gates);
- every weight within its bounds [0, w_max] (Dale's principle: signs never flip);
- each hidden layer's mean spikes per image, in every tenth of the run, within a band
  around its homeostatic target (0.5x to 2x), and no layer silent;
- astrocyte Ca2+ finite and within (0, C_T] (the cell's total Ca2+ content), sampled along the run.

Usage: python benchmarks/bench_stability.py [--hours 1] [--spec models/koo_small.toml]
       [--chunk 2000] [--dir DIR] [--json out.json]
(``--dir`` keeps the checkpoint: rerunning with the same arguments resumes.)
"""

import argparse
import json
import math
import os
import sys
import tempfile

import numpy as np
from brian2 import second, umolar

from koo_spiking.astrocyte import ASTROCYTE_PARAMS
from koo_spiking.encoder import checkpoint as ck
from koo_spiking.encoder.estimator import KooEncoder, training_schedule
from koo_spiking.encoder.spec import load_spec
from koo_spiking.io.datasets import load_dataset
from koo_spiking.studies.train import provenance

HERE = os.path.dirname(os.path.abspath(__file__))
W_MAX = 10.0  # EncoderNetwork's weight bound


def plan(spec, n_images, hours):
    """Epochs (all pathways plastic) so that training lasts at least ``hours`` of simulated time."""
    T = float(spec["network"]["present"] / second)
    slots = math.ceil(hours * 3600 / T)
    dec = spec["learning"]["decoder_epochs"]
    spec["learning"]["epochs"] = max(1, math.ceil(slots / n_images) - dec)
    return (spec["learning"]["epochs"] + dec) * n_images * T / 3600


def check(result, spec):
    """Extremes of the run and the list of violated conditions."""
    extremes, failures = {}, []
    for key, value in result["state"].items():
        v = np.asarray(value, float)
        if not np.all(np.isfinite(v)):
            failures.append(f"{key}: {np.sum(~np.isfinite(v))} non-finite values")
            continue
        extremes[key] = (float(v.min()), float(v.max()))
        if key.endswith((".w", ".w_slow")) and (v.min() < 0 or v.max() > W_MAX):
            failures.append(f"{key}: weight outside [0, {W_MAX}] ({v.min():.4g}, {v.max():.4g})")
    bands = {}
    for layer in ("h1", "h2"):
        counts = np.asarray(result["counts"][layer], float)
        target = spec["learning"][f"target_{layer}"]
        means = [float(part.mean()) for part in np.array_split(counts, 10)]
        bands[layer] = {"target": target, "mean_per_tenth": means}
        if not all(0.5 * target <= m <= 2 * target for m in means):
            failures.append(f"{layer}: mean spikes per image left [{0.5 * target}, {2 * target}]: {means}")
        if np.any(counts[-len(counts) // 10 :].sum(0) == 0):
            failures.append(f"{layer}: a neuron never fired in the last tenth of the run")
    c_total = float(ASTROCYTE_PARAMS["C_T"].value / umolar)
    calcium = {}
    for name, (_, ca, gate) in result.get("astrocytes", {}).items():
        ca = np.asarray(ca, float)
        calcium[name] = {
            "min_uM": float(np.nanmin(ca)),
            "max_uM": float(np.nanmax(ca)),
            "gate_min": float(np.nanmin(gate)),
            "gate_max": float(np.nanmax(gate)),
        }
        if not np.all(np.isfinite(ca)) or ca.min() <= 0 or ca.max() > c_total:
            failures.append(f"{name} astrocytes: Ca2+ outside (0, {c_total}] uM")
    return {"extremes": extremes, "rates": bands, "calcium": calcium}, failures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=1.0, help="simulated training time (default 1)")
    parser.add_argument("--spec", default=os.path.join(HERE, "..", "models", "koo_small.toml"))
    parser.add_argument("--chunk", type=int, default=2000, help="images per resumable chunk")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dir", help="checkpoint directory (default: a new temporary one)")
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    if not args.hours > 0 or args.chunk <= 0:
        parser.error("--hours and --chunk must be positive")
    spec = load_spec(args.spec)
    X = load_dataset("digits", seed=args.seed)["X_train"]
    hours = plan(spec, len(X), args.hours)
    enc = KooEncoder(spec=spec, seed=args.seed, verbose=True)
    enc.spec_, enc.n_features_in_ = enc._resolved_spec(), X.shape[1]
    enc.input_stats_ = enc._input_stats(X, enc.spec_)
    order, schedule = training_schedule(len(X), enc.spec_, np.random.default_rng(args.seed))
    print(
        f"bench_stability: {len(order)} images = {hours:.2f} h simulated, {enc.spec_['learning']['epochs']} + "
        f"{enc.spec_['learning']['decoder_epochs']} epochs, chunks of {args.chunk}",
        flush=True,
    )
    directory = args.dir or tempfile.mkdtemp(prefix="koo_stability_")
    result = ck.run_chunks(enc, X[order], schedule, args.chunk, directory, state={}, astro=True)
    report, failures = check(result, enc.spec_)
    report.update(
        hours_simulated=hours,
        images=len(order),
        failures=failures,
        wall_s=result["wall_s"],
        provenance=provenance(enc.spec_),
    )
    for key, (lo, hi) in sorted(report["extremes"].items()):
        print(f"  {key:<24} min {lo:+.4g}  max {hi:+.4g}")
    for layer, b in report["rates"].items():
        print(
            f"  {layer} spikes/image per tenth (target {b['target']}): "
            + " ".join(f"{m:.2f}" for m in b["mean_per_tenth"])
        )
    for name, c in report["calcium"].items():
        print(
            f"  {name} astrocytes: Ca2+ {c['min_uM']:.3f}-{c['max_uM']:.3f} uM, gate {c['gate_min']:.2f}-{c['gate_max']:.2f}"
        )
    print("stable: all conditions hold" if not failures else "UNSTABLE:\n  " + "\n  ".join(failures))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(report, fh, indent=2, default=str)
        print(f"wrote {args.json}")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
