"""Parameter sweeps of the Koo Encoder: points from a TOML file, run on Dask, stored in SQLite.

A sweep file names a model spec, a data set, seeds, and grid or random ranges over spec
parameters written ``'section.key'`` with units (``"learning.eta" = [0.1, 0.3]``,
``"reward.tau_dop" = { low = "0.5 ms", high = "2 ms", log = true }``). Each point is a study
(``studies.train``: the same split, schedule and metrics as ``koo-spiking train``).

Run parameters (``encoder.runtime``) change through Brian2's ``run_args``; the others are
structural and group the points: one compilation per group and worker, each point a run of the
compiled binary in its own results directory. Points go to Dask ``distributed`` workers (a
``LocalCluster`` by default); each worker builds in its own directory. A point is stored by the
hash of its config, once: a rerun skips finished points, a point whose worker died is run again
(Dask reschedules it), so every row ends up present exactly once.
"""

import atexit
import hashlib
import itertools
import json
import math
import os
import re
import sys
import threading
import time

import numpy as np
import tomllib

from ..encoder import runtime
from ..encoder.spec import load_spec, read_toml, to_toml, validate_spec, with_values
from ..workers import stop_groups
from . import store
from .train import MIN_TRAIN

__all__ = ["load_sweep", "expand", "make_points", "run_sweep", "run_point", "SweepStopped", "same_error"]

_TOP = {"name", "description", "spec", "data", "train_samples", "test_samples", "seeds", "grid", "random"}
RASTER_SLOTS = 6  # test images whose spikes are stored per point
STOP_AFTER = 3  # identical failures, and no success, that stop a sweep (unless keep_going)


# ------------------------------------------------------------------ the sweep file
def _flatten(table, prefix=""):
    """``{"learning": {"eta": [..]}}`` and ``{"learning.eta": [..]}`` alike -> ``{"learning.eta": [..]}``."""
    out = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and "low" not in value and "high" not in value:
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value
    return out


def load_sweep(path):
    """Read and check a sweep file; every point is validated here, before anything runs.

    Returns a dict: ``name``, ``spec`` (resolved base spec), ``data``, ``train_samples``,
    ``test_samples``, ``seeds``, ``grid`` and ``random`` (flattened), ``path``.
    """
    raw = read_toml(path, "sweep")
    unknown = sorted(set(raw) - _TOP)
    if unknown:
        raise ValueError(f"sweep: unknown key {unknown[0]!r} in {path} (known: {', '.join(sorted(_TOP))})")
    if "spec" in raw:
        spec_path = os.path.join(os.path.dirname(os.path.abspath(path)), raw["spec"])
        spec = load_spec(spec_path if os.path.isfile(spec_path) else raw["spec"])  # a file beside it, or a name
    else:
        spec_path, spec = None, validate_spec({})
    seeds = raw.get("seeds", [0])
    if (
        not isinstance(seeds, list)
        or not seeds
        or any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in seeds)
    ):
        raise ValueError(f"sweep: seeds must be a non-empty list of non-negative integers, got {seeds!r}")
    for key in ("train_samples", "test_samples"):
        n = raw.get(key)
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n <= 0):
            raise ValueError(f"sweep: {key} must be a positive integer, got {n!r}")
    grid = _flatten(raw.get("grid", {}))
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise ValueError(f"sweep: [grid] {key} must be a non-empty list of values, got {values!r}")
    rand = dict(raw.get("random", {}))
    samples, rseed = rand.pop("samples", 0 if not rand else None), rand.pop("seed", 0)
    rand = _flatten(rand)
    if rand and (isinstance(samples, bool) or not isinstance(samples, int) or samples <= 0):
        raise ValueError(f"sweep: [random] needs samples = a positive number of draws, got {samples!r}")
    for key, rng in rand.items():
        if not isinstance(rng, dict) or set(rng) - {"low", "high", "log"} or not {"low", "high"} <= set(rng):
            raise ValueError(f"sweep: [random] {key} must be {{ low = ..., high = ..., log = false }}, got {rng!r}")
    both = sorted(set(grid) & set(rand))
    if both:
        raise ValueError(f"sweep: {both[0]} is both in [grid] and in [random]")
    sweep = {
        "name": str(raw.get("name", os.path.splitext(os.path.basename(path))[0])),
        "spec": spec,
        "spec_path": spec_path,
        "data": str(raw.get("data", "digits")),
        "train_samples": raw.get("train_samples"),
        "test_samples": raw.get("test_samples"),
        "seeds": seeds,
        "grid": grid,
        "random": rand,
        "samples": samples or 0,
        "random_seed": rseed,
        "path": path,
    }
    from ..io.datasets import load_dataset

    load_dataset(sweep["data"], sweep["train_samples"], sweep["test_samples"], 0)  # a bad data set fails here
    points = expand(sweep)  # checks every value and that each run parameter acts in its model
    if not points:
        raise ValueError("sweep: no points (give [grid] or [random] ranges)")
    return sweep


def _draw(key, rng_spec, rng):
    """One random value of a range: numbers, or quantities in the unit of ``low``."""
    low, high, log = rng_spec["low"], rng_spec["high"], bool(rng_spec.get("log", False))
    if isinstance(low, str) != isinstance(high, str):
        raise ValueError(f"sweep: [random] {key}: low and high must both have units or neither")
    unit = ""
    if isinstance(low, str):
        (a, unit), (b, unit_b) = (_split_quantity(key, v) for v in (low, high))
        if unit_b != unit:
            raise ValueError(f"sweep: [random] {key}: give low and high in the same unit ({unit!r}, {unit_b!r})")
    else:
        a, b = low, high
    if isinstance(a, bool) or isinstance(b, bool) or not (a < b) or (log and a <= 0):
        raise ValueError(f"sweep: [random] {key}: need low < high (and low > 0 with log), got {low!r}, {high!r}")
    x = math.exp(rng.uniform(math.log(a), math.log(b))) if log else rng.uniform(a, b)
    x = float(f"{x:.4g}")
    return f"{x:g} {unit}" if unit else x


def _split_quantity(key, text):
    parts = text.strip().split(None, 1)
    try:
        return float(parts[0]), parts[1]
    except (ValueError, IndexError):
        raise ValueError(f"sweep: [random] {key}: {text!r} is not a quantity like '2 ms'") from None


def _digest(obj):
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def expand(sweep):
    """The sweep's points: grid product x random draws x seeds, each checked and hashed.

    A point is ``{"hash", "sweep", "group", "config", "params"}``; ``config`` holds everything
    that determines its result (the spec as TOML, data, samples, seed, params), ``group`` the part
    that needs a compilation (the config without run parameters).
    """
    keys = sorted(sweep["grid"])
    combos = [dict(zip(keys, vals)) for vals in itertools.product(*(sweep["grid"][k] for k in keys))] or [{}]
    if sweep["random"]:
        rng = np.random.default_rng(sweep["random_seed"])
        draws = [
            {k: _draw(k, sweep["random"][k], rng) for k in sorted(sweep["random"])} for _ in range(sweep["samples"])
        ]
        combos = [{**c, **d} for c in combos for d in draws]
    return make_points(
        sweep["name"],
        sweep["spec"],
        combos,
        sweep["seeds"],
        sweep["data"],
        sweep["train_samples"],
        sweep["test_samples"],
    )


def make_points(name, base, combos, seeds, data, train_samples=None, test_samples=None):
    """Points of parameter combinations (``'section.key'`` -> value) x seeds on a base spec, each checked.

    ``group``: what needs a compilation (the config without run parameters); ``structure``: the
    same without the seed (a worker that built it recompiles only what the seed changes).
    """
    if train_samples is not None and train_samples < MIN_TRAIN:  # checked here, not on every worker
        raise ValueError(
            f"--train-samples must be at least {MIN_TRAIN} (the backprop autoencoder holds out 10 % "
            f"for early stopping), got {train_samples}"
        )
    points = []
    for params in combos:
        spec = with_values(base, params)  # unknown names, wrong units, bad values: one line, before any run
        for key in params:
            if runtime.is_run_parameter(key) and key not in runtime.active(spec):
                raise ValueError(
                    f"sweep: {key} has no effect in this model (its feature is off in the spec); "
                    "switch the feature on or sweep another parameter"
                )
        structural = {k: v for k, v in params.items() if not runtime.is_run_parameter(k)}
        for seed in seeds:
            common = {"data": data, "train_samples": train_samples, "test_samples": test_samples, "spec": to_toml(base)}
            config = {**common, "seed": seed, "params": params}
            points.append(
                {
                    "hash": _digest(config),
                    "sweep": name,
                    "config": config,
                    "params": params,
                    "group": _digest({**common, "seed": seed, "structural": structural}),
                    "structure": _digest({**common, "structural": structural}),
                }
            )
    return points


# ------------------------------------------------------------------ one point (on a worker)
_HELD = {"group": None, "compiled": None, "study": None, "base": {}}


def _worker_name():
    try:
        from distributed import get_worker

        return str(get_worker().name)
    except (ImportError, ValueError):
        return "local"


def _event(**msg):
    try:
        from distributed import get_worker

        get_worker().log_event("koo-sweep", msg)
    except (ImportError, ValueError):
        pass


def _release():
    if _HELD["compiled"] is not None:
        _HELD["compiled"].close()
    _HELD.update(group=None, compiled=None, study=None)


def _release_at_exit():
    if not _HELD.get("atexit"):
        atexit.register(_release)  # close the held network before the interpreter tears down modules
        _HELD["atexit"] = True


def run_point(point, backend="cpp_standalone", recompile=False, rescue_dir=None):
    """Run one point; the compiled network of its group stays held for the next point of that group.

    ``recompile``: build the network anew for this point, in a fresh directory (the benchmark's
    baseline of a sweep without ``run_args``). ``rescue_dir``: where the simulation's learned state
    and counts are saved (``<hash>.npz``) when scoring or the record fails after it.
    """
    from .train import baselines, prepare_study, provenance, rescued, score_study, test_record

    t0 = time.time()
    _release_at_exit()
    if os.getpgrp() != os.getpid() and _worker_name() != "local":
        os.setpgrp()  # a Dask worker leads a process group: the client stops it with its compiler and binary
    worker, pid = _worker_name(), os.getpid()
    _event(hash=point["hash"], state="running", worker=worker, pid=pid)
    cfg = point["config"]
    base_spec = validate_spec(tomllib.loads(cfg["spec"]))
    structural = {k: v for k, v in cfg["params"].items() if not runtime.is_run_parameter(k)}
    if recompile or _HELD["group"] != point["group"]:
        _release()
        study = prepare_study(
            with_values(base_spec, structural),
            cfg["data"],
            cfg["train_samples"],
            cfg["test_samples"],
            cfg["seed"],
            backend=backend,
        )
        key = (cfg["data"], cfg["train_samples"], cfg["test_samples"], cfg["seed"], study["spec"]["network"]["n_h2"])
        if key not in _HELD["base"]:  # metrics only (small): kept for every split this worker has seen
            _HELD["base"][key] = baselines(study["ds"], study["spec"]["network"]["n_h2"], cfg["seed"])[0]
        enc = study["enc"]
        n_test = len(study["ds"]["X_test"])
        compiled = enc.compile(
            study["frames"],
            study["schedule"],
            state={},
            astro=True,
            raster=min(RASTER_SLOTS, n_test),
            build_key=f"|worker {worker}",
            cache=not recompile,
        )
        _HELD.update(group=point["group"], compiled=compiled, study=study, key=key)
    study, compiled = _HELD["study"], _HELD["compiled"]
    spec = with_values(study["spec"], {k: v for k, v in cfg["params"].items() if runtime.is_run_parameter(k)})
    result = compiled.run(spec)
    with rescued(result, rescue_dir and os.path.join(rescue_dir, f"{point['hash']}.npz")):
        summary, _ = score_study({**study, "spec": spec}, result, _HELD["base"][_HELD["key"]])
        record = test_record(study, result)
    out = {
        "hash": point["hash"],
        "summary": summary,
        "build_s": compiled.build_s if result["compiled"] else 0.0,
        "run_s": result["run_s"],
        "wall_s": time.time() - t0,
        "compiled": result["compiled"],
        "worker": worker,
        "pid": pid,
        "code_version": provenance()["git_commit"],
        "raster": store.raster_bytes(record),
    }
    if recompile:
        _release()
    _event(hash=point["hash"], state="finished", worker=worker, pid=pid)
    return out


# ------------------------------------------------------------------ the sweep (client side)
def _plan(todo, addresses):
    """Worker for each point. A structure (its groups differ only by seed) stays on one worker, so
    it is compiled once there and each further seed recompiles only what the seed changes; with
    fewer structures than workers, a structure's groups (or a group's points) are shared out."""
    by_structure = {}
    for p in todo:
        by_structure.setdefault(p.get("structure", p["group"]), []).append(p)
    n = max(1, len(addresses))
    share = max(1, n // max(1, len(by_structure)))
    plan, slot = [], 0
    for members in by_structure.values():
        groups = list(dict.fromkeys(p["group"] for p in members))
        units = groups if len(groups) >= share else [p["hash"] for p in members]
        parts = min(share, len(units))
        for p in members:
            k = units.index(p["group"] if units is groups else p["hash"])
            plan.append((p, addresses[(slot + k * parts // len(units)) % n] if addresses else None))
        slot += parts
    return plan


def _client(workers, scheduler):
    from distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler), None
    cluster = LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    )
    return Client(cluster), cluster


class SweepStopped(RuntimeError):
    """The first points of a sweep all failed with the same error; the rest were not run."""


def same_error(message):
    """A failure's message with its numbers, paths and hashes masked, to recognise a repeated error."""
    message = re.sub(r"\[simulation saved in [^\]]*\]", "", message)
    return re.sub(r"[0-9a-f]{8,}|\d+(\.\d+)?(e[-+]?\d+)?", "#", message).strip()


def run_sweep(
    path,
    db_path,
    workers=None,
    scheduler=None,
    backend="cpp_standalone",
    recompile=False,
    verbose=True,
    points=None,
    name=None,
    keep_going=False,
    stop_after=STOP_AFTER,
):
    """Run every unfinished point of a sweep file (or of ``points``) and store it in ``db_path``.

    Returns ``{"done", "failed", "skipped", "compiled", "wall_s"}``; raises ``ValueError`` (one
    line) for a bad sweep file or database before anything runs. When the first ``stop_after``
    points to finish all failed with the same error (numbers aside) and none succeeded, the points
    not yet finished are cancelled and :class:`SweepStopped` is raised with that error, once;
    ``keep_going`` runs every point whatever fails. A point that fails after its simulation
    leaves that simulation's learned state and counts in ``<db folder>/unscored/<hash>.npz``.
    """
    t0 = time.time()
    if points is None:
        sweep = load_sweep(path)
        points, name = expand(sweep), sweep["name"]
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers <= 0):
        raise ValueError(f"--workers must be a positive integer, got {workers!r}")
    db = store.connect(db_path)
    store.add_points(db, points)
    finished = {r["hash"] for r in store.rows(db, status="done")}
    todo = [p for p in points if p["hash"] not in finished]
    say = print if verbose else (lambda *a, **k: None)
    say(
        f"sweep {name}: {len(points)} points, {len(points) - len(todo)} already done, {len(todo)} to run "
        f"in {len({p['group'] for p in todo})} compilation group(s); database {db_path}"
    )
    stats = {"done": 0, "failed": 0, "skipped": len(points) - len(todo), "compiled": 0}
    if not todo:
        stats["wall_s"] = time.time() - t0
        return stats
    workers = workers or min(os.cpu_count() or 1, len({p["group"] for p in todo}), len(todo))
    client, cluster = _client(workers, scheduler)
    events, lock, pids = [], threading.Lock(), set()

    def on_event(event):
        with lock:
            events.append(event[1] if isinstance(event, tuple) else event)

    try:
        from distributed import wait

        client.subscribe_topic("koo-sweep", on_event)
        addresses = sorted(client.scheduler_info()["workers"])
        futures = {}
        rescue_dir = os.path.join(os.path.dirname(os.path.abspath(db_path)), "unscored")
        for p, address in _plan(todo, addresses):
            fut = client.submit(
                run_point,
                p,
                backend,
                recompile,
                rescue_dir,
                key=f"koo-point-{p['hash']}-{time.time_ns()}",
                workers=[address] if address else None,
                allow_other_workers=True,
                pure=False,
            )
            futures[fut] = p
        pending, running, last = set(futures), set(), 0.0
        order = {f: k for k, f in enumerate(futures)}
        walls, errors, recorded = [], [], set()
        while pending:
            try:
                done, pending = wait(pending, timeout=2, return_when="FIRST_COMPLETED")
            except TimeoutError:  # nothing finished in the last 2 s
                done = set()
            with lock:
                seen, events[:] = list(events), []
            for msg in seen:
                pids.add(msg.get("pid"))
                if msg.get("state") == "running":
                    store.mark_running(db, msg["hash"], msg["worker"], msg["pid"])
                    running.add(msg["hash"])
            for fut in sorted(done, key=order.get):  # in submission order: the same stop for the same failures
                p = futures[fut]
                recorded.add(fut)
                running.discard(p["hash"])
                try:
                    result = fut.result()
                except Exception as err:  # the point's error (or a worker that died too often): one line
                    errors.append(f"{type(err).__name__}: {' '.join(str(err).split())}")
                    store.mark_failed(db, p["hash"], errors[-1][:400])
                    stats["failed"] += 1
                    if (
                        not keep_going
                        and not stats["done"]
                        and len(errors) >= stop_after
                        and len({same_error(e) for e in errors}) == 1
                    ):
                        rest = [f for f in futures if f not in recorded]
                        client.cancel([f for f in rest if not f.done()])
                        raise SweepStopped(
                            f"the first {len(errors)} points failed with the same error and none "
                            f"succeeded, so the sweep stopped; {len(rest)} other point(s) not recorded "
                            f"(rerun to retry them, --keep-going to run them all): {errors[-1]}"
                        ) from None
                    continue
                store.mark_done(db, p["hash"], result)
                stats["done"] += 1
                stats["compiled"] += int(result["compiled"])
                walls.append(result["wall_s"])
            if verbose and (done or time.time() - last > 30):
                last = time.time()
                left = len(pending)
                eta = np.mean(walls) * left / max(1, min(workers, left)) if walls else float("nan")
                shown = f" (last: {errors[-1][:120]})" if errors else ""
                say(
                    f"  {stats['done'] + stats['skipped']}/{len(points)} done, {len(running & {futures[f]['hash'] for f in pending})} "
                    f"running, {stats['failed']} failed{shown}, ETA {_duration(eta)}",
                    flush=True,
                )
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
            # a worker interrupted in a compilation or a simulation: stop what it started as well
            stop_groups(sorted({m["pid"] for m in events if m.get("pid")} | pids))
    stats["wall_s"] = time.time() - t0
    say(
        f"sweep {name}: {stats['done']} run, {stats['skipped']} skipped, {stats['failed']} failed, "
        f"{stats['compiled']} build(s) (one per group and worker), {_duration(stats['wall_s'])}"
    )
    if stats["failed"]:
        print(
            f"koo-spiking: warning: {stats['failed']} point(s) failed; their errors are in the database "
            f"(status 'failed'); rerun the sweep to retry them",
            file=sys.stderr,
        )
    return stats


def _duration(seconds):
    if not np.isfinite(seconds):
        return "?"
    seconds = int(round(seconds))
    return (
        f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"
    )
