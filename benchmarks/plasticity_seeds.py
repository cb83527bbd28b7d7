"""Table of ``bench_plasticity.py`` results over seeds: mean [per seed] of each model's numbers.

python benchmarks/plasticity_seeds.py benchmarks/results/plasticity_bench_repeated_digits*.json
"""

import argparse
import json

import numpy as np


def _row(values, fmt, per_seed=True):
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    mean = format(float(np.mean(values)), fmt)
    return f"{mean} [{', '.join(format(v, fmt) for v in values)}]" if per_seed else mean


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", help="JSON files written by bench_plasticity.py --json")
    args = parser.parse_args(argv)
    runs = [json.load(open(path)) for path in args.files]
    seeds = [r["seed"] for r in runs]
    commits = sorted({r["provenance"]["git_commit"][:7] for r in runs})
    print(f"{runs[0]['protocol']} on {runs[0]['data']}, seeds {seeds}, commits {', '.join(commits)}")
    print("| model | final MSE | samples to adapt | area after switch | forgetting (mean; median over blocks) |")
    print("|---|---|---|---|---|")
    for name in runs[0]["metrics"]:
        ms = [r["metrics"].get(name) for r in runs]
        if any(m is None for m in ms):
            continue
        median = [
            float(np.median([v for block in m["forgetting"]["per_block"].values() for v in block.values()])) for m in ms
        ]
        print(
            f"| {name} | {_row([m['final_mse'] for m in ms], '.4f')} "
            f"| {_row([m['samples_to_adapt'] for m in ms], '.0f')} "
            f"| {_row([m['area_after_switch'] for m in ms], '.1f')} "
            f"| {_row([m['forgetting']['mean'] for m in ms], '+.4f', False)}; {_row(median, '+.4f', False)} |"
        )


if __name__ == "__main__":
    main()
