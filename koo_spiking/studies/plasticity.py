"""Plasticity protocols: the Koo Encoder and its baselines on a changing stream of images.

``koo-spiking plasticity SPEC --protocol P --data D --seed S --out DIR``

- ``class-split``: the classes' first half (digits 0-4), then the second half (5-9);
- ``domain-switch``: ``--data`` then ``--other`` (default: digits <-> fashion-mnist), the other
  domain resampled to the first one's image size (Fashion 28x28 -> 8x8, digits 8x8 -> 28x28);
- ``repeated``: the two class halves (or, with ``--other``, the two domains) alternating, A, B,
  A, B ..., ``--switches`` switches (at least 10);
- ``stream``: every training image once, its classes arriving one after another.

The Koo Encoder runs the whole protocol as one Brian2 run: the image of every slot comes from
a ``TimedArray``, and the plasticity flags of the schedule switch learning off in evaluation
windows, where the held-out images of every task are shown (the same ones each time) at
regular points of the stream and densely right after each switch. A window also leaves the
learner's slow state as it found it: the astrocytes and the running means of the activity power
are saved when it starts and restored when it ends (``encoder.hold``), so a window does not change
the learning rates of the images after it (what remains is one image's astrocyte dynamics and the
random numbers the window's images draw). The baselines (``studies.stream_baselines``: the shallow
and the deep backprop autoencoder, scikit-learn's ``MLPRegressor.partial_fit`` image by image, and
``IncrementalPCA``, fitted on batches of code-size images) see the same stream and are evaluated at
the same points, without side effects. The goals are ratios to the deep one (``backprop_autoencoder``;
before 0.4 to the shallow one, then called ``autoencoder``). Metrics: ``studies.continual``.
"""

import json
import os
import shutil
import time

import numpy as np
from brian2 import second

from ..encoder import checkpoint
from ..encoder.estimator import KooEncoder
from ..encoder.hold import hold_flags
from ..encoder.record import slot_index
from ..encoder.spec import check_memory, spec_path
from ..io.datasets import load_dataset, resample
from . import continual
from .baselines import read_models
from .stream_baselines import run_baselines
from .train import UNSCORED, provenance, rescued

__all__ = [
    "PROTOCOLS",
    "build_tasks",
    "layout",
    "run_koo",
    "run_baselines",
    "evaluate",
    "run_protocol",
    "resume_protocol",
]

PROTOCOLS = ("class-split", "domain-switch", "repeated", "stream")
DEFAULT_PASSES = {"class-split": 2, "domain-switch": 2, "repeated": 1, "stream": 1}
_OTHER = {"digits": "fashion-mnist", "fashion-mnist": "digits"}


def _task(name, X_train, X_test, y_train=None, y_test=None):
    if len(X_train) == 0 or len(X_test) == 0:
        raise ValueError(f"plasticity: task {name!r} has no training or no held-out images")
    return {"name": name, "X_train": X_train, "X_test": X_test, "y_train": y_train, "y_test": y_test}


def _class_halves(ds):
    if ds.get("y_train") is None:
        raise ValueError(f"plasticity: {ds['name']} has no labels; class-split, repeated and stream need them")
    classes = np.unique(ds["y_train"])
    if len(classes) < 2:
        raise ValueError(f"plasticity: {ds['name']} has one class; class-split needs at least two")
    halves = [classes[: len(classes) // 2], classes[len(classes) // 2 :]]
    return [_subset(ds, part) for part in halves]


def _subset(ds, classes):
    tr, te = np.isin(ds["y_train"], classes), np.isin(ds["y_test"], classes)
    label = f"{ds['name']} {classes[0]}-{classes[-1]}" if len(classes) > 1 else f"{ds['name']} {classes[0]}"
    return _task(label, ds["X_train"][tr], ds["X_test"][te], ds["y_train"][tr], ds["y_test"][te])


def _domains(ds, other, train_samples, test_samples, seed):
    ds2 = load_dataset(other, train_samples, test_samples, seed)
    shape, shape2 = tuple(ds["shape"]), tuple(ds2["shape"])
    if 1 in shape or 1 in shape2:
        raise ValueError(
            f"plasticity: domain-switch needs 2-D images, got {ds['name']} {shape} and {ds2['name']} {shape2}"
        )
    X2 = {k: resample(ds2[k], shape2, shape) if shape2 != shape else ds2[k] for k in ("X_train", "X_test")}
    how = f" ({shape2[0]}x{shape2[1]} -> {shape[0]}x{shape[1]})" if shape2 != shape else ""
    return [
        _task(ds["name"], ds["X_train"], ds["X_test"], ds.get("y_train"), ds.get("y_test")),
        _task(ds2["name"] + how, X2["X_train"], X2["X_test"], ds2.get("y_train"), ds2.get("y_test")),
    ]


def build_tasks(protocol, data="digits", other=None, train_samples=None, test_samples=None, seed=0, switches=10):
    """Tasks (name, images) and the block sequence (task index per block) of a protocol."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"--protocol must be one of {', '.join(PROTOCOLS)}, got {protocol!r}")
    if isinstance(switches, bool) or not isinstance(switches, int) or switches < 1:
        raise ValueError(f"--switches must be a positive integer, got {switches!r}")
    if protocol == "repeated" and switches < 10:
        raise ValueError(f"--switches: the repeated protocol needs at least 10 switches, got {switches}")
    ds = load_dataset(data, train_samples, test_samples, seed)
    if protocol == "domain-switch" or (protocol == "repeated" and other is not None):
        other = other or _OTHER.get(data)
        if other is None:
            raise ValueError(f"plasticity: give --other for a domain switch from {data!r}")
        tasks = _domains(ds, other, train_samples, test_samples, seed)
    elif protocol == "stream":
        if ds.get("y_train") is None:
            raise ValueError(f"plasticity: {ds['name']} has no labels; the stream protocol needs them")
        tasks = [_subset(ds, [c]) for c in np.unique(ds["y_train"])]
    else:
        tasks = _class_halves(ds)
    blocks = [k % 2 for k in range(switches + 1)] if protocol == "repeated" else list(range(len(tasks)))
    return ds, tasks, blocks


def _eval_offsets(n, every):
    """Evaluation points inside a block of n training samples: dense after the switch, then regular."""
    early = [every // 8, every // 4, every // 2]
    points = {p for p in early if p > 0} | set(range(every, n, every))
    return sorted(p for p in points if 0 < p < n) + [n]


def layout(tasks, blocks, passes, eval_every, eval_images, rng, rate=1.0, hold=True):
    """Frames, schedule and bookkeeping of the whole protocol as one run of image slots.

    Training slots learn at ``rate`` (a multiplier of every learning rate, constant over the stream).
    ``hold``: the evaluation windows leave the astrocytes and the running means as they found them
    (``encoder.hold``); off, they run on through each window (the learner is then disturbed by
    being measured).
    Returns a dict: ``frames`` (n_slots, n_pixels), ``schedule`` (``enc``, ``dec``, ``teach``),
    ``train_slots`` (slot of each training sample, in order), ``train_images`` (the images),
    ``points`` (evaluation points: ``sample`` seen so far, ``block``, ``block_sample``, ``slots``:
    task -> first slot of its window), ``eval_sets`` (task -> held-out images shown), ``block_starts``.
    """
    eval_sets = [t["X_test"][:eval_images] for t in tasks]
    frames, flags, train_slots, train_images, points, starts = [], [], [], [], [], []
    sample = 0

    def window(block, block_sample):
        first = {}
        for j, X in enumerate(eval_sets):
            first[j] = len(frames)
            frames.extend(X)
            flags.extend([0.0] * len(X))
        points.append({"sample": sample, "block": block, "block_sample": block_sample, "slots": first})

    window(-1, 0)
    for b, task in enumerate(blocks):
        X = tasks[task]["X_train"]
        order = np.concatenate([rng.permutation(len(X)) for _ in range(passes)])
        starts.append(sample)
        offsets = set(_eval_offsets(len(order), eval_every))
        for k, idx in enumerate(order, start=1):
            train_slots.append(len(frames))
            train_images.append(X[idx])
            frames.append(X[idx])
            flags.append(1.0)  # (the teacher's flag; the learning flags are rate x this)
            sample += 1
            if k in offsets:
                window(b, k)
    frames, flags = np.asarray(frames, float), np.asarray(flags, float)
    schedule = {"enc": rate * flags, "dec": rate * flags, "teach": flags, **(hold_flags(1 - flags) if hold else {})}
    return {
        "frames": frames,
        "schedule": schedule,
        "train_slots": np.asarray(train_slots),
        "train_images": np.asarray(train_images),
        "points": points,
        "eval_sets": eval_sets,
        "block_starts": starts,
        "n_train": sample,
    }


def run_koo(
    spec,
    lay,
    stats_images,
    backend="cpp_standalone",
    seed=0,
    verbose=False,
    checkpoint_every=None,
    checkpoint_dir=None,
    say=print,
    rescue_path=None,
):
    """The Koo Encoder over the whole protocol in one run: per evaluation point, the MSE of every task
    and the hidden codes' health; weights and astrocyte gates over time.

    With ``checkpoint_every`` the run is split into chunks of that many slots, its full state saved in
    ``checkpoint_dir`` after each and continued from there when it holds a checkpoint of the same run
    (``encoder.checkpoint``). If the evaluation after the run fails, the run's learned state and counts
    are saved in ``rescue_path`` first (``studies.train.rescued``).
    """
    enc = KooEncoder(spec=spec, backend=backend, seed=seed, verbose=verbose)
    spec_r = enc._resolved_spec()
    frames = lay["frames"]
    check_memory(spec_r, frames.shape[1], len(frames))
    enc.spec_, enc.n_features_in_ = spec_r, frames.shape[1]
    enc.input_stats_ = enc._input_stats(stats_images, spec_r)
    every = max(1, int(np.ceil(len(frames) / 200)))
    astro = spec_r["features"]["astrocytes"]
    if checkpoint_every:
        result = checkpoint.run_chunks(
            enc,
            frames,
            lay["schedule"],
            checkpoint_every,
            checkpoint_dir,
            state={},
            astro=astro,
            weights_every=every,
            say=say,
        )
    else:
        result = enc.simulate(frames, lay["schedule"], state={}, astro=astro, weights_every=every)
    with rescued(result, rescue_path):  # the evaluation: if it fails, the simulation is saved first
        t0 = time.time()  # (a resumed run's wall time counts every chunk's, from the checkpoint)
        counts = result["counts"]
        hidden = [k for k in ("h1", "h2") if k in counts]
        mse, health = [], []
        for p in lay["points"]:
            row, codes = [], {k: [] for k in hidden}
            for j, X in enumerate(lay["eval_sets"]):
                s = slice(p["slots"][j], p["slots"][j] + len(X))
                row.append(float(np.mean((enc.counts_to_images(counts["recon"][s]) - X) ** 2)))
                for k in hidden:
                    codes[k].append(counts[k][s])
            mse.append(row)
            health.append(continual.code_health({k: np.vstack(v) for k, v in codes.items()}))
        T = float(spec_r["network"]["present"] / second)
        slot_sample = np.searchsorted(lay["train_slots"], np.arange(len(frames) + 1))  # samples before each slot
        over_time = {"weights": {}, "gates": {}}
        for name, w in result.get("weights", {}).items():
            slots = np.clip(np.round(w["t"] / T).astype(int), 0, len(frames))
            over_time["weights"][name] = {
                "sample": slot_sample[slots].tolist(),
                "mean_abs": w["mean_abs"].tolist(),
                "std": w["std"].tolist(),
            }
            if "active" in w:  # structural plasticity: fraction of the possible synapses alive
                over_time["weights"][name].update(
                    alive_fraction=w["active"].tolist(),
                    count_min=w["count_min"].tolist(),
                    count_max=w["count_max"].tolist(),
                )
        for layer, (t, _, gate) in result.get("astrocytes", {}).items():
            slots = np.clip(slot_index(t, spec_r), 0, len(frames))
            g = np.asarray(gate)
            over_time["gates"][layer] = {
                "sample": slot_sample[slots].tolist(),
                "spread": g.std(0).tolist(),
                "mean": g.mean(0).tolist(),
            }
    return {
        "mse": mse,
        "health": health,
        "over_time": over_time,
        "spec": spec_r,
        "state": result["state"],
        "wall_s": result["wall_s"] + time.time() - t0,
    }


def evaluate(model, lay, blocks, within=0.1, tail=3):
    """Continual-learning metrics of one model's evaluation curves (``studies.continual``)."""
    mse = np.asarray(model["mse"], float)
    points = lay["points"]
    samples = np.array([p["sample"] for p in points], float)
    blk = np.array([p["block"] for p in points])
    per_block, ends = [], []
    for b, task in enumerate(blocks):
        # the block's curve starts at the point before its first sample (the end of the previous block)
        idx = np.r_[np.flatnonzero(blk == b - 1)[-1:], np.flatnonzero(blk == b)]
        m = continual.block_metrics(samples[idx], mse[idx, task], within, tail)
        # adaptation is measured only where the switch raised the error above the block's asymptote band
        # and the block has points beyond its asymptote's tail
        m["measurable"] = bool(b > 0 and len(idx) >= tail + 2 and m["first"] > (1 + within) * m["asymptote"])
        per_block.append({"block": b, "task": int(task), "switch": b > 0, **m})
        ends.append(mse[np.flatnonzero(blk == b)[-1]])
    R = continual.task_matrix(ends)
    switches = [m for m in per_block if m["switch"] and m["measurable"]]
    n_switch = sum(m["switch"] for m in per_block)
    adapt_note = (
        None
        if switches
        else (
            "no switch"
            if not n_switch
            else f"not measurable: none of the {n_switch} switches raised the error above {1 + within:g}x the block's "
            f"asymptote with more than {tail} evaluation points after it (evaluate more often, or train longer)"
        )
    )
    learned = any(R[b, t] < (1 - within) * mse[0, t] for b, t in enumerate(blocks))
    health_t = {}
    known = [k for k, h in enumerate(model["health"]) if h is not None]
    for layer in model["health"][known[0]]:
        for key in ("silent_fraction", "effective_rank"):
            y = [model["health"][k][layer][key] for k in known]
            health_t[f"{layer}.{key}"] = continual.trend(samples[known], y)
    return {
        "blocks": per_block,
        "samples_to_adapt": float(np.mean([m["samples_to_adapt"] for m in switches])) if switches else None,
        "samples_to_adapt_note": adapt_note,
        "measurable_switches": len(switches),
        "learned": bool(learned),
        "area_after_switch": float(np.mean([m["area"] for m in switches])) if switches else None,
        "mean_mse_after_switch": float(np.mean([m["mean_mse"] for m in switches])) if switches else None,
        "task_matrix": R.tolist(),
        "initial": mse[0].tolist(),
        "forgetting": continual.forgetting(R, blocks),
        "forward_transfer": continual.forward_transfer(R, blocks, mse[0]),
        "final_mse": float(mse[-1].mean()),
        "health_trend": health_t,
    }


GOALS = {"samples_to_adapt": 0.2, "forgetting": 0.5}  # Koo / the reference (the deep autoencoder), at most
#: the model the goals are measured against: the deep backprop autoencoder's online counterpart
REFERENCE = "backprop_autoencoder"


def _ratio(a, b):
    if a is None or b is None:
        return None
    if b <= 0:
        return None if a > 0 else 0.0
    return float(a / b)


def summary(metrics, reference=REFERENCE):
    """The goals: adaptation and forgetting against the reference model, silent-fraction trend.

    ``metrics``: model key -> :func:`evaluate`'s metrics, with ``koo`` and the ``reference``
    (:data:`REFERENCE`, the deep backprop autoencoder's online counterpart; results before 0.4 have only
    the shallow one, under ``autoencoder``: pass ``reference="shallow_autoencoder"`` to compare with those).
    The returned ``reference`` names the model the ratios divide by.

    A goal that cannot be measured at the run's size is ``None`` (met: ``None``) with a note saying
    why: adaptation when no switch raised the error enough, with enough evaluation points after it,
    for both models; forgetting when the Koo Encoder learned nothing (its error fell by less than
    10 % on every task it trained on), so that it had nothing to forget.
    """
    metrics = read_models(metrics)
    if reference not in metrics:
        raise ValueError(f"summary: no metrics of the reference model {reference!r} (have: {', '.join(metrics)})")
    koo, ae = metrics["koo"], metrics[reference]
    adapt = _ratio(koo["samples_to_adapt"], ae["samples_to_adapt"])
    adapt_note = None
    if adapt is None:
        adapt_note = next(
            (
                f"{who}: {m['samples_to_adapt_note']}"
                for who, m in (("Koo", koo), (reference, ae))
                if m.get("samples_to_adapt_note")
            ),
            "not measurable",
        )
    forget = _ratio(koo["forgetting"]["mean"], ae["forgetting"]["mean"])
    if koo["forgetting"]["mean"] is not None and koo["forgetting"]["mean"] <= 0:
        forget = 0.0  # no forgetting at all meets the goal whatever the baseline does
    forget_note = None
    if not koo.get("learned", True):
        forget, forget_note = (
            None,
            (
                "not measurable: the Koo Encoder's error fell by less than 10 % on every task "
                "it trained on, so it had nothing to forget"
            ),
        )
    elif forget is None:
        forget_note = "not measurable: no task was trained before another"
    silent = {k: v for k, v in koo["health_trend"].items() if k.endswith("silent_fraction")}
    return {
        "reference": reference,
        "samples_to_adapt_ratio": adapt,
        "samples_to_adapt_goal": GOALS["samples_to_adapt"],
        "samples_to_adapt_met": None if adapt is None else adapt <= GOALS["samples_to_adapt"],
        "samples_to_adapt_note": adapt_note,
        "forgetting_ratio": forget,
        "forgetting_goal": GOALS["forgetting"],
        "forgetting_met": None if forget is None else forget <= GOALS["forgetting"],
        "forgetting_note": forget_note,
        "silent_fraction_change": {k: v["change"] for k, v in silent.items()},
        "silent_fraction_met": all(v["change"] <= 0 for v in silent.values()),
    }


def _check_int(name, value, low=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"--{name} must be an integer >= {low}, got {value!r}")


def run_protocol(
    spec=None,
    protocol="class-split",
    data="digits",
    other=None,
    seed=0,
    out="plasticity",
    train_samples=None,
    test_samples=None,
    passes=None,
    switches=10,
    eval_every=100,
    eval_images=100,
    rate=0.1,
    backend="cpp_standalone",
    command=None,
    overwrite=False,
    verbose=True,
    checkpoint_every=None,
    resume=False,
):
    """Run a protocol for the Koo Encoder and the baselines; write ``plasticity.json``,
    ``learning_curves.png`` and ``health.png`` to ``out``. Returns the JSON's content.

    With ``checkpoint_every`` the Koo Encoder's run is split into chunks of that many image slots
    (training and evaluation images) and its full state saved in ``out/checkpoint`` after each;
    :func:`resume_protocol` continues an interrupted run from there.
    """
    from .train import check_checkpoint, check_out, write_run_args

    for name, value in (("seed", seed), ("eval-every", eval_every), ("eval-images", eval_images)):
        _check_int(name, value, 0 if name == "seed" else 1)
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate <= 1:
        raise ValueError(f"--rate must be in (0, 1], got {rate!r}")
    passes = DEFAULT_PASSES.get(protocol, 1) if passes is None else passes
    _check_int("passes", passes)
    if protocol == "stream" and passes != 1:
        raise ValueError(f"--passes: the stream protocol shows every image once, got {passes}")
    paths = {
        k: os.path.join(os.path.abspath(os.fspath(out)), k)
        for k in ("plasticity.json", "learning_curves.png", "health.png")
    }
    held = [p for p in paths.values() if os.path.exists(p)]
    if held and not overwrite:
        raise ValueError(
            f"--out {out} holds a previous protocol run ({os.path.basename(held[0])}); pass "
            "--overwrite or choose another directory"
        )
    check_out(out, overwrite=True)
    ck_dir, stale = check_checkpoint(out, checkpoint_every, resume, overwrite, command="plasticity")
    ds, tasks, blocks = build_tasks(protocol, data, other, train_samples, test_samples, seed, switches)
    spec_r = KooEncoder(spec=spec, backend=backend, seed=seed)._resolved_spec()  # checked before running
    rng = np.random.default_rng(seed)
    lay = layout(tasks, blocks, passes, eval_every, eval_images, rng, rate)
    check_memory(spec_r, lay["frames"].shape[1], len(lay["frames"]))
    if stale:  # --overwrite: the interrupted run goes only once the new one has passed every check
        shutil.rmtree(ck_dir)
    if checkpoint_every:
        write_run_args(
            ck_dir,
            dict(
                spec=spec_r if spec is None or isinstance(spec, dict) else os.path.abspath(spec_path(spec)),
                protocol=protocol,
                data=data,
                other=other,
                seed=seed,
                train_samples=train_samples,
                test_samples=test_samples,
                passes=passes,
                switches=switches,
                eval_every=eval_every,
                eval_images=eval_images,
                rate=rate,
                backend=backend,
                checkpoint_every=checkpoint_every,
            ),
        )
    say = print if verbose else (lambda *a, **kw: None)
    say(
        f"koo-spiking plasticity: {protocol}, tasks {', '.join(t['name'] for t in tasks)}; {len(blocks)} "
        f"blocks, {lay['n_train']} training images, {len(lay['points'])} evaluation windows of "
        f"{sum(len(x) for x in lay['eval_sets'])} images; {len(lay['frames'])} slots in one run"
        + (f", in chunks of {checkpoint_every}" if checkpoint_every else "")
    )
    rescue = os.path.join(os.path.abspath(os.fspath(out)), UNSCORED)
    koo = run_koo(
        spec_r,
        lay,
        tasks[blocks[0]]["X_train"],
        backend=backend,
        seed=seed,
        verbose=verbose,
        checkpoint_every=checkpoint_every,
        checkpoint_dir=ck_dir,
        say=say,
        rescue_path=rescue,
    )
    say(f"  Koo Encoder: {koo['wall_s']:.1f} s; baselines on the same stream ...")
    with rescued({"state": koo["state"], "mse": koo["mse"]}, rescue):  # the Koo Encoder's run is not lost
        return _finish(
            koo,
            lay,
            blocks,
            tasks,
            spec_r,
            seed,
            command,
            protocol,
            data,
            other,
            passes,
            rate,
            eval_every,
            eval_images,
            checkpoint_every,
            out,
            paths,
            ck_dir,
            say,
        )


def _finish(
    koo,
    lay,
    blocks,
    tasks,
    spec_r,
    seed,
    command,
    protocol,
    data,
    other,
    passes,
    rate,
    eval_every,
    eval_images,
    checkpoint_every,
    out,
    paths,
    ck_dir,
    say,
):
    """Baselines, metrics, JSON and figures of a protocol run once the Koo Encoder has run."""
    from . import plasticity_figures as figures

    models = {"koo": koo, **run_baselines(lay, spec_r["network"]["n_h2"], seed)}
    metrics = {name: evaluate(m, lay, blocks) for name, m in models.items()}
    result = {
        "provenance": provenance(spec_r, command),
        "protocol": protocol,
        "data": data,
        "other": other,
        "seed": seed,
        "passes": passes,
        "rate": rate,
        "eval_every": eval_every,
        "eval_images": eval_images,
        "checkpoint_every": checkpoint_every,
        "tasks": [
            {"name": t["name"], "train_images": len(t["X_train"]), "eval_images": len(x)}
            for t, x in zip(tasks, lay["eval_sets"])
        ],
        "blocks": blocks,
        "block_starts": lay["block_starts"],
        "points": [{k: p[k] for k in ("sample", "block", "block_sample")} for p in lay["points"]],
        "models": {
            name: {
                "mse": m["mse"],
                "health": m["health"],
                "over_time": m["over_time"],
                "wall_s": m["wall_s"],
                "metrics": metrics[name],
            }
            for name, m in models.items()
        },
        "summary": summary(metrics),
    }
    os.makedirs(out, exist_ok=True)
    tmp = paths["plasticity.json"] + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(result, fh, indent=1)
    figures.learning_curves(paths["learning_curves.png"], result)
    figures.health(paths["health.png"], result)
    os.replace(tmp, paths["plasticity.json"])  # last: it marks a complete run
    if ck_dir:
        shutil.rmtree(ck_dir, ignore_errors=True)  # the run is complete
    if os.path.isfile(os.path.join(out, UNSCORED)):  # of an earlier, failed attempt (--overwrite)
        os.remove(os.path.join(out, UNSCORED))
    say(table(result))
    say(f"wrote {', '.join(paths.values())}")
    return result


def resume_protocol(out, verbose=True, command=None):
    """Continue an interrupted ``run_protocol`` from its checkpoint in ``out/checkpoint``."""
    from .train import read_run_args

    return run_protocol(out=out, verbose=verbose, command=command, resume=True, **read_run_args(out, "plasticity.json"))


def table(result):
    """The protocol's headline numbers, one row per model."""
    rows = [f"{'model':<20} {'adapt (samples)':>16} {'area after switch':>18} {'forgetting':>11} {'final MSE':>10}"]
    for name, m in result["models"].items():
        x = m["metrics"]
        f, a, area = x["forgetting"]["mean"], x["samples_to_adapt"], x["area_after_switch"]
        rows.append(
            f"{name:<20} {'-' if a is None else f'{a:.0f}':>16} "
            f"{'-' if area is None else f'{area:.3g}':>18} "
            f"{'-' if f is None else f'{f:+.4f}':>11} {x['final_mse']:>10.4f}"
        )
    s = result["summary"]

    def num(x):
        return "not measurable" if x is None else f"{x:.2f}"

    silent = ", ".join(f"{k.split('.')[0]} {v:+.3f}" for k, v in s["silent_fraction_change"].items())
    rows.append(
        f"goals (Koo / {s.get('reference', 'shallow_autoencoder')}): samples to adapt {num(s['samples_to_adapt_ratio'])} "
        f"(<= {s['samples_to_adapt_goal']}), forgetting {num(s['forgetting_ratio'])} (<= {s['forgetting_goal']}); "
        f"silent fraction change {silent} (<= 0)"
    )
    rows += [f"  {note}" for note in (s.get("samples_to_adapt_note"), s.get("forgetting_note")) if note]
    return "\n".join(rows)
