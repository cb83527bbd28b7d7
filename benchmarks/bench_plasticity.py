"""Benchmark: adaptation, forgetting and health of the Koo Encoder and its baselines on one stream.

One protocol (``koo-spiking plasticity``'s engine), one stream: the shallow and the deep backprop
autoencoder (``MLPRegressor.partial_fit``; ``studies.stream_baselines``) and ``IncrementalPCA`` once, the Koo Encoder's full model and its
variants with one mission feature switched (astrocytes, reward, forgetting off; structural
plasticity on, as it is off in the full model), each as one compiled Brian2 run on the same
images. ``no_astrocytes_matched`` is the control of the astrocytes' effect on the learning rate:
no astrocytes, but the learning-rate multiplier and the consolidation set to what the full run's
mean gate gave (``gate_floor + (1 - gate_floor) * gate`` and ``consolidation * (1 - gate / 2)``),
so what remains is the gates' spread over neurons and time. ``unheld_windows`` is the full model
measured with evaluation windows that do not hold the astrocytes and running means
(``encoder.hold``): how much measuring the learner disturbs it. Prints, per model, the samples
to adapt after a switch, the area under the post-switch curves, the forgetting, the
silent-fraction change and the final MSE, then the issue's goals as ratios against the deep backprop
autoencoder (``backprop_autoencoder``) of the same run (results written before 0.4 divide by the shallow
one, then called ``autoencoder``):

| metric | goal |
| samples to adapt after a switch | <= 1/5 of the deep backprop autoencoder's |
| forgetting of task A after B | <= 1/2 of the deep backprop autoencoder's |
| silent-neuron fraction over >= 10 switches | does not grow |

    python benchmarks/bench_plasticity.py [--protocol repeated] [--json benchmarks/results/plasticity.json]
"""

import argparse
import json
import os
import sys
import time

import numpy as np

from koo_spiking.encoder.spec import load_spec, with_values
from koo_spiking.studies.plasticity import (
    DEFAULT_PASSES,
    REFERENCE,
    build_tasks,
    evaluate,
    layout,
    run_baselines,
    run_koo,
    summary,
)
from koo_spiking.studies.train import plain_spec, provenance

HERE = os.path.dirname(os.path.abspath(__file__))
VARIANTS = {
    "full": {},
    "no_astrocytes": {"features.astrocytes": False},
    "no_reward": {"features.reward": False},
    "no_forgetting": {"features.forgetting": False},
    "with_structural": {"features.structural": True},
    "no_astrocytes_matched": {"features.astrocytes": False},
    "unheld_windows": {},
}
MATCHED = "no_astrocytes_matched"  # its rate and consolidation come from the full run's mean gate


def mean_gate(model):
    """The astrocyte gate averaged over every cell, layer and sampled time of a Koo run."""
    gates = model["over_time"]["gates"]
    values = np.concatenate([np.asarray(g["mean"], float) for g in gates.values()])
    return float(values.mean())


def matched(base, full, rate):
    """(spec, rate) of the no-astrocytes control matched to the full run's mean gate."""
    g, a = mean_gate(full), base["astrocytes"]
    spec = with_values(
        base,
        {"features.astrocytes": False, "forgetting.consolidation": base["forgetting"]["consolidation"] * (1 - 0.5 * g)},
    )
    return spec, rate * (a["gate_floor"] + (1 - a["gate_floor"]) * g), g


def _toml_value(text):
    """A --set value as TOML reads it (a number, a boolean, a quoted or bare string)."""
    import tomllib

    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text  # a quantity such as 20 s


def _fmt(x, spec):
    return "-" if x is None else format(x, spec)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--protocol", default="repeated", choices=("class-split", "domain-switch", "repeated", "stream")
    )
    parser.add_argument("--data", default="digits")
    parser.add_argument("--other", default=None)
    parser.add_argument("--spec", default=os.path.join(HERE, "..", "models", "koo_encoder.toml"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train-samples", type=int, default=None)
    parser.add_argument("--test-samples", type=int, default=None)
    parser.add_argument("--switches", type=int, default=10)
    parser.add_argument("--eval-every", type=int, default=100)
    parser.add_argument("--eval-images", type=int, default=100)
    parser.add_argument("--rate", type=float, default=0.1, help="the Koo Encoder's learning-rate multiplier")
    parser.add_argument(
        "--variants", default=",".join(VARIANTS), help=f"comma-separated subset of {', '.join(VARIANTS)}"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="change a spec value for every variant (repeatable), e.g. --set 'forgetting.tau=20 s'",
    )
    parser.add_argument("--json", default=None, help="write the results here")
    args = parser.parse_args(argv)
    variants = args.variants.split(",")
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown variant {unknown[0]!r} (known: {', '.join(VARIANTS)})")
    if MATCHED in variants:  # the full run first: it sets the control's rate
        variants = ["full"] + [v for v in variants if v != "full"]
    changes = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--set {item!r}: write SECTION.KEY=VALUE")
        changes[key.strip()] = _toml_value(value.strip())
    try:
        base = with_values(load_spec(args.spec), changes)
    except ValueError as err:
        parser.error(str(err))
    specs = {name: with_values(base, VARIANTS[name]) for name in variants}  # all checked before anything runs
    _, tasks, blocks = build_tasks(
        args.protocol, args.data, args.other, args.train_samples, args.test_samples, args.seed, args.switches
    )

    def stream(rate, hold=True):  # the same images in the same order, learned at ``rate``
        return layout(
            tasks,
            blocks,
            DEFAULT_PASSES[args.protocol],
            args.eval_every,
            args.eval_images,
            np.random.default_rng(args.seed),
            rate,
            hold=hold,
        )

    lay = stream(args.rate)
    print(
        f"{args.protocol} on {args.data}: {len(blocks)} blocks, {lay['n_train']} training images, "
        f"{len(lay['points'])} evaluation windows, {len(lay['frames'])} slots per Koo run",
        flush=True,
    )
    t0 = time.time()
    models = run_baselines(lay, base["network"]["n_h2"], args.seed)
    print(f"  baselines: {time.time() - t0:.0f} s", flush=True)
    controls = {}
    for name in variants:
        t0 = time.time()
        lay_k = lay
        if name == MATCHED:
            specs[name], rate, g = matched(base, models["koo:full"], args.rate)
            lay_k = stream(rate)
            controls[name] = {"mean_gate": g, "rate": rate, "consolidation": specs[name]["forgetting"]["consolidation"]}
            print(
                f"  {name}: full run's mean gate {g:.3f} -> rate {rate:.4f}, consolidation "
                f"{controls[name]['consolidation']:.4f}",
                flush=True,
            )
        if name == "unheld_windows":
            lay_k = stream(args.rate, hold=False)
        models[f"koo:{name}"] = run_koo(specs[name], lay_k, tasks[blocks[0]]["X_train"], seed=args.seed)
        print(f"  Koo {name}: {time.time() - t0:.0f} s", flush=True)
    metrics = {name: evaluate(m, lay, blocks) for name, m in models.items()}
    rows, goals = [], {}
    print(f"\n{'model':<22} {'adapt':>6} {'area':>7} {'forgetting':>11} {'silent change':>14} {'final MSE':>10}")
    for name, m in metrics.items():
        silent = {k: v["change"] for k, v in m["health_trend"].items() if k.endswith("silent_fraction")}
        worst = max(silent.values()) if silent else None
        rows.append(name)
        print(
            f"{name:<22} {_fmt(m['samples_to_adapt'], '.0f'):>6} {_fmt(m['area_after_switch'], '.3g'):>7} "
            f"{_fmt(m['forgetting']['mean'], '+.4f'):>11} {_fmt(worst, '+.3f'):>14} {m['final_mse']:>10.4f}"
        )
    print(
        f"\n{'Koo variant':<22} {'adapt / AE':>10} {'goal <= 0.2':>11} {'forget / AE':>11} {'goal <= 0.5':>11} "
        f"{'silent':>7}"
    )
    for name in variants:
        s = summary({"koo": metrics[f"koo:{name}"], REFERENCE: metrics[REFERENCE]})
        goals[name] = s
        print(
            f"{name:<22} {_fmt(s['samples_to_adapt_ratio'], '.2f'):>10} {str(s['samples_to_adapt_met']):>11} "
            f"{_fmt(s['forgetting_ratio'], '.2f'):>11} {str(s['forgetting_met']):>11} "
            f"{'ok' if s['silent_fraction_met'] else 'grows':>7}"
        )
    if args.json:
        out = {
            "provenance": provenance(
                base, " ".join(["python", os.path.relpath(__file__)] + sys.argv[1:] if argv is None else argv)
            ),
            "protocol": args.protocol,
            "data": args.data,
            "other": args.other,
            "seed": args.seed,
            "rate": args.rate,
            "set": changes,
            "tasks": [t["name"] for t in tasks],
            "blocks": blocks,
            "variants": {
                name: {"flips": VARIANTS[name], "spec": plain_spec(specs[name]), **controls.get(name, {})}
                for name in variants
            },
            "metrics": metrics,
            "goals": goals,
            "points": [p["sample"] for p in lay["points"]],
            "mse": {name: m["mse"] for name, m in models.items()},
            "wall_s": {name: m["wall_s"] for name, m in models.items()},
            # weights (and with structural plasticity the live fractions) and astrocyte gates over time
            "over_time": {name: m["over_time"] for name, m in models.items() if name.startswith("koo:")},
        }
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
