"""Write the results pages of the documentation, and the README's generated tables, from the committed JSON.

Every number on the results pages and in the README's marked blocks comes from a file under
``benchmarks/results/`` (each records its git commit and command line), so it cannot drift from it.

    python docs/make_results.py --out docs/_generated        # results pages (run by docs/conf.py)
    python docs/make_results.py --readme README.md           # rewrite the README's marked blocks
    python docs/make_results.py --readme README.md --check   # exit 1 if the README is out of date

The README blocks lie between ``<!-- results:NAME:start -->`` and ``<!-- results:NAME:end -->`` lines;
NAME is ``headline`` or ``features``.
"""

import argparse
import json
import math
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
GITHUB_BLOB = "../../benchmarks/results"  # not used for links: pages name files as code


def _load(rel):
    path = RESULTS / rel
    return json.loads(path.read_text()) if path.exists() else None


def _commit(prov):
    return (prov or {}).get("git_commit", "unknown")[:10]


def _source(rel, prov):
    """One line naming a result's file, commit, date and command."""
    prov = prov or {}
    date = prov.get("date", "")
    date = f", {date[:10]}" if date else ""
    cmd = prov.get("command")
    cmd = f"; command `{cmd}`" if cmd else ""
    return f"*Source: `benchmarks/results/{rel}` (commit `{_commit(prov)}`{date}){cmd}.*"


def _f(x, fmt):
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    return format(x, fmt)


def _stat(values, fmt):
    values = np.asarray(values, float)
    if len(values) == 1:
        return format(values[0], fmt)
    return f"{format(values.mean(), fmt)} ({format(values.min(), fmt)}–{format(values.max(), fmt)})"


def _present(text):
    return re.sub(r"(\d)\. ", r"\1 ", str(text))  # Brian2 writes "50. ms"


# ---------------------------------------------------------------------------------------------------- encoder

KOO_LABEL = "Koo Encoder (local rules, spiking read-out)"


def _models(run):
    """A run's models under today's keys: results before 0.4 call the shallow autoencoder ``autoencoder``."""
    from koo_spiking.studies.baselines import read_models

    return read_models(run["models"])


def _label(model, k):
    from koo_spiking.studies.baselines import LABELS

    return KOO_LABEL if model == "koo" else LABELS[model].format(k=k)


def _order():
    from koo_spiking.studies.baselines import KEYS

    return ("koo",) + KEYS


def _sorted_runs(report):
    return [report["runs"][k] for k in _seeds(report["runs"])]


def _seeds(runs):
    return sorted((k for k in runs if k.startswith("digits_seed")), key=lambda k: int(k[len("digits_seed") :]))


def digits_table(report, code=None):
    """One row per model (the Koo Encoder, then the baselines) of a report's digits seeds; a model missing
    from a seed (pca_unclipped and the deep autoencoder in results before 0.4; the Koo Encoder in a
    baselines-only report) is left out."""
    runs = {name: _models(r) for name, r in report["runs"].items()}
    seeds = _seeds(runs)
    code = code or runs[seeds[0]]["koo"]["code_size"]
    out = [
        f"| digits, code {code}, {len(seeds)} seeds | test MSE mean (min–max) | R² mean (min–max) "
        "| probe accuracy mean | spikes per test image |",
        "|---|---|---|---|---|",
    ]
    for model in _order():
        if any(model not in runs[k] for k in seeds):
            continue
        label = _label(model, code)
        ms_ = [runs[k][model] for k in seeds]
        probe = [m["probe_accuracy"] for m in ms_ if m.get("probe_accuracy") is not None]
        spikes = [m["spikes_per_image"] for m in ms_ if "spikes_per_image" in m]
        out.append(
            f"| {label} | {_stat([m['test_mse'] for m in ms_], '.4f')} | {_stat([m['r2'] for m in ms_], '.3f')} "
            f"| {format(np.mean(probe), '.3f') if probe else '–'} "
            f"| {format(np.mean(spikes), '.0f') if spikes else '–'} |"
        )
    return out


def encoder_page(digits, fashion):
    out = [
        "# Encoder benchmark",
        "",
        "The Koo Encoder against the mean image, PCA-k (reconstruction clipped to [0, 1], and unclipped), the "
        "shallow autoencoder (scikit-learn `MLPRegressor`, one ReLU hidden layer of k, default training) and the "
        "deep backprop autoencoder (256-128-k-128-256, ReLU, Adam, early stopping on a held-out 10 %; "
        "`koo_spiking.studies.baselines`), each seed on its own train/test split, every model of a seed on the "
        "same split. Produced by `benchmarks/bench_encoder.py` (`--tables RESULTS.json` prints these tables from "
        "a result file). Results written before 0.4 have no unclipped PCA and no deep autoencoder, and call the "
        "shallow one `autoencoder`.",
        "",
    ]
    if digits:
        runs = digits["runs"]
        seeds = _seeds(runs)
        out += ["## Digits, five seeds", "", _source("encoder_digits.json", digits["provenance"]), ""]
        out += digits_table(digits)
        models = {k: _models(runs[k]) for k in seeds}
        ref = "backprop_autoencoder" if "backprop_autoencoder" in models[seeds[0]] else "shallow_autoencoder"
        per = ", ".join(f"{models[k]['koo']['test_mse']:.4f} / {models[k][ref]['test_mse']:.4f}" for k in seeds)
        first = runs[seeds[0]]["models"]["koo"]["spikes_per_image_by_layer"]
        out += [
            "",
            f"Per seed (Koo / {ref.replace('_', ' ')} test MSE): {per}.",
            "",
            f"Spikes per test image on {seeds[0]}: " + ", ".join(f"{k} {v:.0f}" for k, v in first.items()) + ".",
            "",
        ]
        rd = digits["summary"].get("rate_distortion")
        if rd:
            out += [
                "## Rate–distortion (seed 0)",
                "",
                "Each image shown for a shorter or longer time with every rate held, so every layer's spike "
                "budget scales with the presentation time.",
                "",
                "| presentation time | spikes per test image | of which hidden 1 + hidden 2 | test MSE | R² |",
                "|---|---|---|---|---|",
            ]
            for p in rd:
                by = p["spikes_per_image_by_layer"]
                out.append(
                    f"| {_present(p['present'])} | {p['spikes_per_image']:.0f} | {by['h1'] + by['h2']:.0f} | "
                    f"{p['test_mse']:.4f} | {p['r2']:.3f} |"
                )
            out.append("")
        ab = digits["summary"].get("ablation")
        if ab:
            out += [
                "## Each feature flipped on seed 0",
                "",
                "One seed, the same split as the full model; the five-seed ablation with confidence intervals "
                "is on the [ablation page](ablation.md).",
                "",
                "| variant (one flag flipped) | seed | test MSE | vs full | R² | probe | vs full | spikes per image "
                "| health warnings |",
                "|---|---|---|---|---|---|---|---|---|",
            ]
            for r in ab:
                out.append(
                    f"| {r['variant'].replace('_', ' ', 1)} | {r['seed']} | {r['test_mse']:.4f} | "
                    f"{r.get('d_test_mse', float('nan')):+.4f} | {r['r2']:.3f} | {r['probe']:.3f} | "
                    f"{r.get('d_probe', float('nan')):+.3f} | {r['spikes_per_image']:.0f} | "
                    f"{r['health_warnings']} |"
                )
            out.append("")
    base = _load("baselines_digits.json")
    if base:
        out += [
            "## Baselines alone, digits (`--baselines-only`)",
            "",
            _source("baselines_digits.json", base["provenance"]),
            "",
            "Every baseline on the same seeds' splits as above, by the committed code of that commit.",
            "",
        ]
        out += digits_table(base, code=16)
        epochs = [r["models"]["backprop_autoencoder"] for r in _sorted_runs(base)]
        out += [
            "",
            "Deep backprop autoencoder per seed (test MSE, epochs trained / best epoch, seconds on one core): "
            + ", ".join(f"{m['test_mse']:.4f} ({m['epochs']}/{m['best_epoch']}, {m['wall_s']:.0f} s)" for m in epochs)
            + ".",
            "",
        ]
    if fashion:
        m = _models(fashion["runs"]["fashion"])
        out += [
            "## Fashion-MNIST",
            "",
            _source("encoder_fashion.json", fashion["provenance"]),
            "",
            f"| Fashion-MNIST, {m['koo']['train_samples']} train images, code {m['koo']['code_size']} | test MSE "
            "| R² | probe accuracy | spikes per test image |",
            "|---|---|---|---|---|",
        ]
        for model in _order():
            if model not in m:
                continue
            label, x = _label(model, m["koo"]["code_size"]), m[model]
            out.append(
                f"| {label} | {x['test_mse']:.4f} | {x['r2']:.3f} | {_f(x.get('probe_accuracy'), '.3f')} "
                f"| {_f(x.get('spikes_per_image'), '.0f')} |"
            )
        out.append("")
    out += [""] + twin_section(_load("twin_digits.json"))
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------------- ablation


def ablation_page(ablations):
    from koo_spiking.studies import effects

    out = [
        "# Ablation over seeds",
        "",
        "Produced by `koo-spiking ablate` (`koo_spiking.studies.ablate`); the tables are rendered by "
        "`koo_spiking.studies.effects.markdown` from the committed `ablation.json`, the same function that "
        "wrote the study's own `ablation.md`. Mean over seeds [95 % bootstrap CI]; effect = variant − full "
        "model, paired by seed, with its bootstrap CI and the p of a paired t-test.",
        "",
    ]
    for rel, data in ablations:
        out += [f"## `{rel}`", "", _source(rel, data.get("provenance")), "", effects.markdown(data), ""]
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------------- plasticity


def _median_forgetting(m):
    values = [v for block in m["forgetting"]["per_block"].values() for v in block.values()]
    return float(np.median(values)) if values else float("nan")


def _proto_label(d):
    data = d["data"] + (f" → {d['other']}" if d.get("other") else "")
    n_train = sum(t["train_images"] for t in d["tasks"]) if d["tasks"] and isinstance(d["tasks"][0], dict) else None
    return f"{d['protocol']} on {data}, seed {d['seed']}, rate {d['rate']}" + (
        f" ({n_train} training images per pass)" if n_train else ""
    )


PROTOCOL_LABELS = {
    "koo": "Koo Encoder",
    "shallow_autoencoder": "shallow autoencoder (one hidden layer)",
    "backprop_autoencoder": "backprop autoencoder (256-128-k-128-256)",
    "incremental_pca": "IncrementalPCA",
}


def protocol_rows(d):
    rows = []
    models = _models(d)
    for key, label in PROTOCOL_LABELS.items():
        if key not in models:
            continue  # the deep autoencoder: not in results before 0.4
        m = models[key]["metrics"]
        rows.append(
            f"| {label} | {_f(m['samples_to_adapt'], '.0f')} | {_f(m['area_after_switch'], '.1f')} | "
            f"{m['forgetting']['mean']:+.4f}; {_median_forgetting(m):+.4f} | {m['final_mse']:.4f} |"
        )
    return rows


def bench_rows(runs):
    from koo_spiking.studies.baselines import read_models

    runs = [{**r, "metrics": read_models(r["metrics"])} for r in runs]
    out = []
    for name in runs[0]["metrics"]:
        ms = [r["metrics"].get(name) for r in runs]
        if any(m is None for m in ms):
            continue

        def cell(values, fmt, per_seed=True):
            values = [v for v in values if v is not None]
            if not values:
                return "–"
            mean = format(float(np.mean(values)), fmt)
            return f"{mean} [{', '.join(format(v, fmt) for v in values)}]" if per_seed and len(values) > 1 else mean

        out.append(
            f"| {name} | {cell([m['final_mse'] for m in ms], '.4f')} "
            f"| {cell([m['samples_to_adapt'] for m in ms], '.0f')} "
            f"| {cell([m['area_after_switch'] for m in ms], '.1f')} "
            f"| {cell([m['forgetting']['mean'] for m in ms], '+.4f', False)}; "
            f"{cell([_median_forgetting(m) for m in ms], '+.4f', False)} |"
        )
    return out


def plasticity_page():
    head = "| model | samples to adapt | area after switch | forgetting (mean; median over blocks) | final MSE |"
    out = [
        "# Plasticity: a changing stream",
        "",
        "`koo-spiking plasticity` runs (`koo_spiking.studies.plasticity`); metrics from "
        "`koo_spiking.studies.continual`. Samples to adapt: images after a switch until the new task's MSE is "
        "within 10 % of its asymptote; area: under the post-switch curve; forgetting: the growth of the other "
        "task's MSE over a block.",
        "",
        "## Protocols",
        "",
    ]
    for folder in sorted(RESULTS.glob("plasticity_*/plasticity.json")):
        rel = str(folder.relative_to(RESULTS))
        d = json.loads(folder.read_text())
        out += [f"### {_proto_label(d)}", "", _source(rel, d["provenance"]), "", head, "|---|---|---|---|---|"]
        out += protocol_rows(d) + [""]
    bench = [
        RESULTS / f
        for f in (
            "plasticity_bench_repeated_digits.json",
            "plasticity_bench_repeated_digits_seed1.json",
            "plasticity_bench_repeated_digits_seed2.json",
        )
    ]
    runs = [json.loads(p.read_text()) for p in bench if p.exists()]
    bhead = [
        "| model | final MSE | samples to adapt | area after switch | forgetting (mean; median) |",
        "|---|---|---|---|---|",
    ]
    if runs:
        out += [
            "## Which feature is responsible (repeated protocol, three seeds)",
            "",
            "`benchmarks/bench_plasticity.py`: the baselines and the Koo Encoder's variants on the same stream; "
            "mean [per seed]. `no_astrocytes_matched` has no astrocytes but its learning rate and consolidation "
            "set to what the full run's mean gate gave; `unheld_windows` does not hold the learner's slow state "
            "through the evaluation windows.",
            "",
        ]
        out += [_source(str(p.relative_to(RESULTS)), r["provenance"]) + "  " for p, r in zip(bench, runs)]
        out += [""] + bhead + bench_rows(runs) + [""]
    extra = [
        (
            "Learning rate 0.3 (the breakdown that set the default to 0.1)",
            ["plasticity_bench_repeated_digits_rate0.3.json"],
        ),
        (
            "Other run settings, seed 0",
            sorted(str(p.relative_to(RESULTS)) for p in RESULTS.glob("plasticity_settings_seed0/*.json")),
        ),
        (
            "Structural plasticity, more pruning",
            sorted(str(p.relative_to(RESULTS)) for p in RESULTS.glob("plasticity_structural_repeated_digits/*.json")),
        ),
    ]
    for title, rels in extra:
        rels = [r for r in rels if (RESULTS / r).exists()]
        if not rels:
            continue
        out += [f"## {title}", ""]
        for rel in rels:
            r = json.loads((RESULTS / rel).read_text())
            sets = ", ".join(f"`{k}={v}`" for k, v in (r.get("set") or {}).items()) or "no `--set`"
            out += [f"### `{rel}` (rate {r['rate']}; {sets})", "", _source(rel, r["provenance"]), ""]
            out += bhead + bench_rows([r]) + [""]
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------------- performance


def build_section(b):
    """The main job's build, cold and warm, against the build before the build changes (bench_build.py)."""
    if not b:
        return []
    s = b["summary"]
    out = [
        "## Building the main job: cold and warm",
        "",
        _source("build.json", b["provenance"]),
        "",
        f"`{b['job']['command'] if isinstance(b.get('job'), dict) and 'command' in b['job'] else b.get('job')}`"
        f", today's build (`{str(b.get('today'))[:10]}`) against this one (`{str(b.get('new'))[:10]}`), "
        "alternating in one run, each with its own empty cache first (cold), then again (warm).",
        "",
        "| build | wall s | CPU s (compilers included) | C++ files compiled |",
        "|---|---|---|---|",
    ]
    for key, label in (
        ("today_cold", "today, cold"),
        ("new_cold", "new, cold"),
        ("today_warm", "today, warm"),
        ("new_warm", "new, warm"),
    ):
        x = s[key]
        out.append(f"| {label} | {x['wall_s']:.0f} | {x['cpu_s']:.0f} | {x['files_compiled']} |")
    out += [
        "",
        f"New/today: cold wall **{s['ratio_new_today_cold_wall']:.2f}** (CPU {s['ratio_new_today_cold_cpu']:.2f}), "
        f"warm wall **{s['ratio_new_today_warm_wall']:.2f}** (CPU {s['ratio_new_today_warm_cpu']:.2f}).",
        "",
    ]
    return out


def throughput_section(rel, th, label):
    """Simulation throughput of this build against today's (bench_throughput.py), same sizes, one run."""
    if not th:
        return []
    s, z = th["summary"], th["sizes"]
    out = [
        f"## Simulation throughput at {label}",
        "",
        _source(rel, th["provenance"]),
        "",
        f"Both builds simulate the same {z['images']} images (hidden 1 of {z['n_h1']}, hidden 2 of {z['n_h2']}, "
        f"dt {z['dt']}, {_present(z['present'])} per image, {z['backend']}), alternating, in one run.",
        "",
        "| build | images per CPU-second (median) | images per wall-second (median) | neurons | synapses "
        "| spikes per image |",
        "|---|---|---|---|---|---|",
    ]
    for key in ("today", "new"):
        x = s[key]
        out.append(
            f"| {key} | {x['images_per_s_median']:.0f} | {x.get('images_per_wall_s_median', float('nan')):.0f} "
            f"| {x['neurons']} | {x['synapses']} | {x['spikes_per_image']:.0f} |"
        )
    rounds = ", ".join(f"{r:.2f}" for r in s["ratio_new_today_images_per_s_per_round"])
    out += [
        "",
        f"New/today images per CPU-second: **{s['ratio_new_today_images_per_s']:.2f}** (rounds {rounds}); "
        f"per wall-second {s['ratio_new_today_images_per_wall_s']:.2f}.",
        "",
    ]
    return out


def twin_section(t):
    """The rate twin of the next encoder on digits (bench_twin.py): test MSE per variant and seed."""
    if not t:
        return []
    prov = {"git_commit": t.get("git_commit"), "command": t.get("command"), "date": t.get("date_utc", "")}
    mse = t["test_mse"]
    seeds = sorted(next(iter(mse.values())), key=int)
    out = [
        "## The rate twin of the next encoder (digits, code 16)",
        "",
        _source("twin_digits.json", prov),
        "",
        "A numpy model at the level of rates (`koo_spiking.encoder.twin.RateTwin`): predictive coding with "
        "inference, local rules, Dale E/I, learned feedback (weight mirror), astrocyte-gated learning rates. "
        "Test MSE per seed; the variants change one setting of the twin.",
        "",
        "| variant | " + " | ".join(f"seed {k}" for k in seeds) + " | mean |",
        "|---|" + "---|" * (len(seeds) + 1),
    ]
    for name, per in mse.items():
        vals = [per[k] for k in seeds]
        out.append(f"| {name} | " + " | ".join(f"{v:.4f}" for v in vals) + f" | {np.mean(vals):.4f} |")
    return out + [""]


def performance_page():
    out = ["# Performance and stability", ""]
    bm = _load("bench_models.json")
    if bm:
        out += [
            "## Model library across code-generation targets",
            "",
            f"*Source: `benchmarks/results/bench_models.json` (`python benchmarks/bench_models.py --json FILE`; "
            f"{bm.get('machine_cores', '?')} cores, shared; compare ratios within one run).*",
            "",
            "CUBA: Brette et al. 2007 (4000 neurons, 80 inputs each). `ei_astro`: an E/I network of 4000 neurons "
            "with one astrocyte per excitatory neuron, built as this library does (`koo`: event-driven synapses, "
            "astrocytes on a 10 ms clock) and as a per-synapse clock-driven tripartite design after Stimberg "
            "et al. (2019) example 6.",
            "",
            "| benchmark | variant | wall s per simulated s | setup + compile s | simulated s | spikes "
            "| speed-up against the slowest |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in bm["results"]:
            out.append(
                f"| {r['benchmark']} | {r['variant']} | {r['s_per_sim_s']:.2f} | {r['setup_compile_s']:.1f} | "
                f"{r['simulated_s']:g} | {r['spikes']} | {r['speedup_vs_baseline']:.1f}× |"
            )
        out.append("")
    out += build_section(_load("build.json"))
    for rel, label in (("throughput.json", "digits size"), ("throughput_fashion.json", "Fashion-MNIST size")):
        out += throughput_section(rel, _load(rel), label)
    sw = _load("sweep.json")
    if sw:
        a, b = sw["run_args"], sw["recompile"]
        out += [
            "## Sweeps: `run_args` against recompiling",
            "",
            _source("sweep.json", sw["provenance"]),
            "",
            f"The same {sw['points']}-point sweep ({sw['train_samples']} training / {sw['test_samples']} test "
            f"digits, {sw['epochs']} epoch(s), builds at `-O{sw['optimize']}`, {sw['cores']} cores), each from a "
            "cold build cache.",
            "",
            "| strategy | points | builds | build s (mean) | run s (mean) | total s |",
            "|---|---|---|---|---|---|",
        ]
        for name, x in (("run_args (one build, the binary rerun)", a), ("recompile every point", b)):
            out.append(
                f"| {name} | {x['points']} | {x['builds']} | {x['build_s_mean']:.1f} | {x['run_s_mean']:.1f} "
                f"| {x['total_s']:.0f} |"
            )
        out += [
            "",
            f"Recompiling takes **{sw['total_ratio']:.1f}×** the time; same results for every point: "
            f"{sw['same_results']}.",
            "",
        ]
    st = _load("stability.json")
    if st:
        out += [
            "## Long-run stability",
            "",
            _source("stability.json", st["provenance"]),
            "",
            f"{st['images']} images = {st['hours_simulated']:.2f} h simulated in {st['wall_s'] / 60:.1f} min wall; "
            f"failed conditions: {len(st['failures'])}"
            + (f" ({'; '.join(map(str, st['failures']))})" if st["failures"] else " (all hold)")
            + ".",
            "",
        ]
        rates = st.get("rates", {})
        if rates:
            out += [
                "| hidden layer | target (spikes per cell and image) | mean in each tenth of the run: min–max |",
                "|---|---|---|",
            ]
            for layer, r in rates.items():
                per = r.get("mean_per_tenth", [])
                span = f"{min(per):.2f}–{max(per):.2f}" if per else "–"
                out.append(f"| {layer} | {r.get('target', '–'):g} | {span} |")
            out.append("")
        ca = st.get("calcium", {})
        if ca:
            out += ["| population | astrocyte Ca²⁺ min–max (µM) | gate min–max |", "|---|---|---|"]
            for layer, c in ca.items():
                out.append(
                    f"| {layer} | {c['min_uM']:.2f}–{c['max_uM']:.2f} | {c['gate_min']:.2f}–{c['gate_max']:.2f} |"
                )
            out.append("")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------------- README blocks

FEATURE_NOTES = {  # what a feature is, in a few words (prose); every number comes from the JSON
    "second_hidden": "a second spiking hidden layer",
    "inhibition": "inhibitory populations (1 I per 4 E)",
    "astrocytes": "one astrocyte per neuron gating its learning",
    "coupling": "IP3 gap junctions between astrocytes",
    "reward": "per-neuron dopamine on eligibility traces",
    "short_term": "Tsodyks–Markram short-term plasticity",
    "forgetting": "fast weights that decay unless consolidated",
    "phase": "spike phase as part of the code",
    "stdp": "spike-timing pairings in the eligibility traces",
    "structural": "synapse pruning and regrowth",
}
VARIANT_FEATURE = {
    "no_second_hidden": "second_hidden",
    "no_inhibition": "inhibition",
    "no_astrocytes": "astrocytes",
    "no_coupling": "coupling",
    "no_reward": "reward",
    "with_short_term": "short_term",
    "no_forgetting": "forgetting",
    "no_phase": "phase",
    "with_stdp": "stdp",
    "with_structural": "structural",
}


def headline_block():
    digits, fashion = _load("encoder_digits.json"), _load("encoder_fashion.json")
    out = [
        f"Digits (8×8, scikit-learn), all training / 450 test images per seed; commit `{_commit(digits['provenance'])}`, "
        f"`benchmarks/results/encoder_digits.json`:",
        "",
    ]
    out += digits_table(digits)
    base = _load("baselines_digits.json")
    if base:
        models = [_models(r) for r in _sorted_runs(base)]
        deep = [m["backprop_autoencoder"]["test_mse"] for m in models]
        unclipped = [m["pca_unclipped"]["test_mse"] for m in models]
        out += [
            "",
            f"On the same {len(models)} splits, the deep backprop autoencoder (256-128-16-128-256, ReLU, Adam, early "
            f"stopping on a held-out 10 %; `koo_spiking.studies.baselines`) reaches {_stat(deep, '.4f')} and "
            f"unclipped PCA-16 {_stat(unclipped, '.4f')} (commit `{_commit(base['provenance'])}`, "
            "`benchmarks/results/baselines_digits.json`).",
        ]
    if fashion:
        m = _models(fashion["runs"]["fashion"])
        out += [
            "",
            f"Fashion-MNIST ({m['koo']['train_samples']} training images, code {m['koo']['code_size']}; "
            f"`benchmarks/results/encoder_fashion.json`): Koo Encoder test MSE {m['koo']['test_mse']:.4f}, "
            f"R² {m['koo']['r2']:.3f}, probe {m['koo']['probe_accuracy']:.3f}; clipped PCA {m['pca']['test_mse']:.4f}; "
            f"shallow autoencoder {m['shallow_autoencoder']['test_mse']:.4f}"
            + (
                f"; deep backprop autoencoder {m['backprop_autoencoder']['test_mse']:.4f}"
                if "backprop_autoencoder" in m
                else ""
            )
            + ".",
        ]
    return "\n".join(out)


def features_block():
    from koo_spiking.studies import effects

    main, extra = _load("ablation_digits/ablation.json"), _load("ablation_digits_structural/ablation.json")
    rows = {r["name"]: r for r in effects.summarize(main)}
    if extra:
        rows.update({r["name"]: r for r in effects.summarize(extra) if r["name"] not in rows})
    feats = {k: v == "True" or v is True for k, v in main["provenance"]["spec"]["features"].items()}
    feats.setdefault("structural", False)
    n = len(main["seeds"])
    out = [
        f"Effect of switching each feature (off if on by default, on if off) on the test MSE and the probe "
        f"accuracy, {n} seeds on digits, paired by seed; `benchmarks/results/ablation_digits*/`, commit "
        f"`{_commit(main['provenance'])}` (structural plasticity: `{_commit((extra or {}).get('provenance'))}`). "
        f"**worse**/**better**: the switched model is significantly worse/better (paired t-test, p < 0.05).",
        "",
        "| feature | default | what it is | test MSE effect [95 % CI], p | probe effect, p |",
        "|---|---|---|---|---|",
    ]

    def cell(s, k):
        e = s["effect"]
        p = "<0.001" if e["p"] < 0.001 else f"{e['p']:.3f}"
        flag = " **worse**" if s["worse"] else " **better**" if s["better"] else ""
        return f"{e['diff']:+.{k}f} [{e['low']:+.{k}f}, {e['high']:+.{k}f}], p {p}{flag}"

    for variant, feature in VARIANT_FEATURE.items():
        r = rows.get(variant)
        if r is None:
            continue
        default = feats.get(feature, True) if feature != "coupling" else feats.get("astrocytes", True)
        out.append(
            f"| `{feature}` | {'on' if default else 'off'} | {FEATURE_NOTES[feature]} | "
            f"{cell(r['test_mse'], 4)} | {cell(r['probe_accuracy'], 3)} |"
        )
    if "minimal" in rows:
        r = rows["minimal"]
        out.append(
            f"| minimal core | – | the two hidden layers with inhibition, nothing else | "
            f"{cell(r['test_mse'], 4)} | {cell(r['probe_accuracy'], 3)} |"
        )
    return "\n".join(out)


def known_limits_block():
    digits = _load("encoder_digits.json")
    m = _models(digits["runs"]["digits_seed0"])
    deep = m.get("backprop_autoencoder")
    source = "`benchmarks/results/encoder_digits.json`"
    base = _load("baselines_digits.json")
    if deep is None and base:  # results before 0.4: the deep autoencoder from the baselines-only run
        deep = _models(base["runs"]["digits_seed0"])["backprop_autoencoder"]
        source += ", the deep autoencoder: `benchmarks/results/baselines_digits.json`"
    shallow = (
        f"the one-hidden-layer (shallow) backprop autoencoder's (scikit-learn `MLPRegressor`) "
        f"{m['shallow_autoencoder']['test_mse']:.4f}"
    )
    return (
        f"On digits seed 0 the Koo Encoder's test MSE is {m['koo']['test_mse']:.4f} against clipped PCA-16's "
        f"{m['pca']['test_mse']:.4f}"
        + (
            f", {shallow} and the deep backprop autoencoder's (256-128-16-128-256) {deep['test_mse']:.4f}"
            if deep
            else f" and {shallow}"
        )
        + f" ({source})."
    ) + twin_line()


def twin_line():
    """The rate twin's headline (the design model of the next encoder), when its result is committed."""
    t = _load("twin_digits.json")
    if not t:
        return ""
    twin, pca = t["test_mse"]["twin"], t["test_mse"].get("pca16_clipped", {})
    below = sum(twin[k] < pca[k] for k in twin if k in pca)
    return (
        f" The rate twin of the next encoder (numpy, the same local rules at the level of rates) reaches "
        f"{np.mean(list(twin.values())):.4f} mean over {len(twin)} seeds, below clipped PCA-16 on {below} of "
        f"{len(twin)} (`benchmarks/results/twin_digits.json`); the spiking network does not follow it yet."
    )


BLOCKS = {"headline": headline_block, "features": features_block, "limits": known_limits_block}


def update_readme(path, check=False):
    text = Path(path).read_text()
    new = text
    for name, make in BLOCKS.items():
        pat = re.compile(rf"(<!-- results:{name}:start -->\n)(.*?)(<!-- results:{name}:end -->)", re.S)
        if pat.search(new):
            body = make()
            new = pat.sub(lambda m, body=body: m.group(1) + body + "\n" + m.group(3), new)
    if check:
        if new != text:
            print(f"{path} is out of date: run `python docs/make_results.py --readme {path}`", file=sys.stderr)
            return 1
        return 0
    if new != text:
        Path(path).write_text(new)
        print(f"updated {path}")
    return 0


# ---------------------------------------------------------------------------------------------------- main


def write_pages(out):
    res = Path(out) / "results"
    res.mkdir(parents=True, exist_ok=True)
    ablations = [
        (str(p.relative_to(RESULTS)), json.loads(p.read_text()))
        for p in sorted(RESULTS.glob("ablation*/ablation.json"))
    ]
    pages = {
        "encoder.md": encoder_page(_load("encoder_digits.json"), _load("encoder_fashion.json")),
        "ablation.md": ablation_page(ablations),
        "plasticity.md": plasticity_page(),
        "performance.md": performance_page(),
    }
    covered = {
        "encoder_digits.json",
        "encoder_fashion.json",
        "bench_models.json",
        "throughput.json",
        "throughput_fashion.json",
        "build.json",
        "twin_digits.json",
        "baselines_digits.json",
        "sweep.json",
        "stability.json",
    } | {r for r, _ in ablations}
    covered |= {str(p.relative_to(RESULTS)) for p in RESULTS.glob("plasticity*/**/*.json")}
    covered |= {p.name for p in RESULTS.glob("plasticity_bench_*.json")}
    files = sorted(str(p.relative_to(RESULTS)) for p in RESULTS.rglob("*.json"))
    index = [
        "# Results",
        "",
        "Generated by `docs/make_results.py` from the JSON files in `benchmarks/results/`, each of which records "
        "the git commit and the command that produced it. To regenerate a result, rerun its command (see "
        "{doc}`/contributing`) and commit the new JSON; the pages and the README's tables follow.",
        "",
        "```{toctree}",
        ":maxdepth: 1",
        "",
        "encoder",
        "ablation",
        "plasticity",
        "performance",
        "```",
        "",
        "## Files",
        "",
        "| file | commit | date | on a page |",
        "|---|---|---|---|",
    ]
    for rel in files:
        try:
            prov = json.loads((RESULTS / rel).read_text()).get("provenance") or {}
        except (ValueError, AttributeError):
            prov = {}
        index.append(
            f"| `{rel}` | `{_commit(prov)}` | {prov.get('date', '')[:10]} | {'yes' if rel in covered else 'no'} |"
        )
    pages["index.md"] = "\n".join(index)
    for name, text in pages.items():
        target = res / name
        text = text.rstrip() + "\n"
        if not target.exists() or target.read_text() != text:
            target.write_text(text)
    return sorted(set(files) - covered)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", help="write the results pages to OUT/results/")
    parser.add_argument("--readme", help="rewrite the generated blocks of this README")
    parser.add_argument("--check", action="store_true", help="with --readme: only check, exit 1 if out of date")
    args = parser.parse_args(argv)
    if not (args.out or args.readme):
        parser.error("give --out and/or --readme")
    rc = 0
    if args.out:
        missing = write_pages(args.out)
        if missing:
            print("results not on any page: " + ", ".join(missing), file=sys.stderr)
    if args.readme:
        rc = update_readme(args.readme, args.check)
    return rc


if __name__ == "__main__":
    sys.exit(main())
