"""Parameter sweeps: run_args without recompiling, Dask workers, the SQLite store, resumption."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from koo_spiking.studies import store
from koo_spiking.studies.sweep import expand, load_sweep, run_sweep

pytestmark = pytest.mark.cpp_standalone
SMALL = Path(__file__).parents[1] / "models" / "koo_small.toml"
SWEEP = f"""
name = "test"
spec = "{SMALL}"
data = "digits"
train_samples = 60
test_samples = 20
seeds = [0]

[grid]
"learning.epochs" = [1]
"learning.decoder_epochs" = [1]
"learning.eta" = [0.1, 0.4]
"astrocytes.gate_floor" = [0.1, 0.9]
"""


@pytest.fixture(scope="module")
def sweep_file(tmp_path_factory, unoptimized):  # short runs: compile fast (the workers inherit it)
    path = tmp_path_factory.mktemp("sweep") / "sweep.toml"
    path.write_text(SWEEP)
    return path


@pytest.fixture(scope="module")
def swept(sweep_file):
    db = sweep_file.parent / "two_workers.sqlite"
    stats = run_sweep(str(sweep_file), str(db), workers=2, verbose=False)
    return db, stats


def _rows(db):
    return {r["hash"]: r for r in store.rows(store.connect(str(db)))}


def test_a_sweep_on_two_workers_fills_the_database(swept):
    db, stats = swept
    rows = _rows(db)
    assert stats["done"] == 4 and stats["failed"] == 0 and len(rows) == 4
    assert all(r["status"] == "done" and r["attempts"] == 1 for r in rows.values())
    workers = {r["worker"] for r in rows.values()}
    assert workers <= {"0", "1"}  # the LocalCluster's two workers (the plan gives each two points)
    # one build per worker: the other points of each worker were runs of its compiled binary
    assert sum(r["compiled"] for r in rows.values()) == len(workers) == stats["compiled"]
    for r in rows.values():
        assert r["code_version"] and r["metrics"]["models"]["koo"]["test_mse"] == r["test_mse"]
        assert 0 < r["test_mse"] < 0.2 and r["spikes_per_image"] > 0 and r["run_s"] > 0
        assert store.raster(store.connect(str(db)), r["hash"]).spikes["h1"][0].size > 0
    # the learning rate and the astrocyte gate change what is learned
    assert len({round(r["test_mse"], 12) for r in rows.values()}) == 4


def test_a_rerun_does_nothing(swept, sweep_file):
    db, _ = swept
    before = _rows(db)
    t0 = time.time()
    stats = run_sweep(str(sweep_file), str(db), workers=2, verbose=False)
    assert stats == {"done": 0, "failed": 0, "skipped": 4, "compiled": 0, "wall_s": stats["wall_s"]}
    assert time.time() - t0 < 30  # no cluster, no build
    after = _rows(db)
    assert {k: r["finished"] for k, r in after.items()} == {k: r["finished"] for k, r in before.items()}


def test_a_run_args_sweep_compiles_once_and_matches_other_workers(swept, sweep_file):
    db, _ = swept
    one = sweep_file.parent / "one_worker.sqlite"
    stats = run_sweep(str(sweep_file), str(one), workers=1, verbose=False)
    rows = _rows(one)
    assert stats["compiled"] == 1 and sum(r["compiled"] for r in rows.values()) == 1
    # same point, same result, whichever worker ran it and whatever ran before it on that binary
    two = _rows(db)
    assert {k: r["test_mse"] for k, r in rows.items()} == {k: r["test_mse"] for k, r in two.items()}


def test_a_sweep_point_equals_a_fresh_build_with_its_values(swept):
    """run_args values give the spikes a network built with those values gives (nothing is frozen)."""
    from koo_spiking.encoder.spec import load_spec, with_values
    from koo_spiking.studies.train import prepare_study

    db, _ = swept
    row = next(
        r
        for r in _rows(db).values()
        if r["params"]["learning.eta"] == 0.4 and r["params"]["astrocytes.gate_floor"] == 0.1
    )
    spec = with_values(load_spec(str(SMALL)), row["params"])
    study = prepare_study(spec, "digits", 60, 20, 0)
    # built with the point's values (in worker 0's project: the code is the same, so make has little to do)
    with study["enc"].compile(
        study["frames"], study["schedule"], state={}, astro=True, raster=6, build_key="|worker 0"
    ) as compiled:
        result = compiled.run()
    recon = study["enc"].counts_to_images(result["counts"]["recon"][study["parts"]["test"]])
    assert np.mean((recon - study["ds"]["X_test"]) ** 2) == pytest.approx(row["test_mse"], rel=0, abs=0)


def _first_running(db, proc, deadline):
    """The first point seen running in the sweep database ``db`` while ``proc`` runs (None at the deadline)."""
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
        if db.exists():
            try:
                running = [r for r in store.rows(store.connect(str(db)), status="running") if r["pid"]]
            except Exception:  # the database is being created
                continue
            if running:
                return running[0]
    return None


def test_a_killed_worker_leaves_no_lost_or_duplicated_row(swept, sweep_file):
    db = sweep_file.parent / "killed.sqlite"
    code = (
        f"from koo_spiking.studies.sweep import run_sweep; "
        f"s = run_sweep({str(sweep_file)!r}, {str(db)!r}, workers=2, verbose=False); print(s)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    victim = _first_running(db, proc, time.time() + 600)
    if victim is not None:
        os.kill(victim["pid"], signal.SIGKILL)
    out, err = proc.communicate(timeout=900)
    assert victim is not None, f"no point was seen running: {out} {err}"
    assert proc.returncode == 0, err
    rows = _rows(db)
    assert len(rows) == 4 and all(r["status"] == "done" for r in rows.values())
    assert rows[victim["hash"]]["attempts"] >= 2  # it was run again after its worker died
    # the rerun point gives the result the undisturbed sweep gave
    assert {k: r["test_mse"] for k, r in rows.items()} == {k: r["test_mse"] for k, r in _rows(swept[0]).items()}


def _group(pgid):
    """Live processes of process group ``pgid`` (zombies excluded)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                out.append(int(entry))
    return out


def test_the_sweep_stops_its_workers_with_it(sweep_file, tmp_path, sig=signal.SIGTERM):
    """SIGTERM to ``koo-spiking sweep`` while a worker compiles: the worker and its compiler stop too (SIGINT takes
    the same way out: the CLI turns both into an exception that closes the cluster, then stops the workers' groups;
    the pool of ``koo_spiking.workers`` is tested with both in test_workers.py)."""
    db = tmp_path / "stopped.sqlite"
    env = {**os.environ, "KOO_BUILD_CACHE": "off"}  # a fresh build: the worker is busy compiling when signalled
    proc = subprocess.Popen(
        [sys.executable, "-m", "koo_spiking.cli", "sweep", str(sweep_file), "--db", str(db), "--workers", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.time() + 600
    running = _first_running(db, proc, deadline)
    assert running is not None, proc.communicate(timeout=60)[0]
    worker = running["pid"]
    while time.time() < deadline and len(_group(worker)) < 2:  # the worker has started its compiler
        time.sleep(0.2)
    assert len(_group(worker)) >= 2
    proc.send_signal(sig)
    out = proc.communicate(timeout=120)[0]
    assert proc.returncode != 0, out
    deadline = time.time() + 20
    while _group(worker) and time.time() < deadline:
        time.sleep(0.2)
    assert not _group(worker), f"still running after the sweep ended: {_group(worker)}"


# ------------------------------------------------------------------ the sweep file, checked before anything runs
def _sweep(tmp_path, text):
    path = tmp_path / "s.toml"
    path.write_text(f'spec = "{SMALL}"\n' + text)
    return str(path)


@pytest.mark.parametrize(
    "text, message",
    [
        ('[grid]\n"learning.etaa" = [0.1]\n', "unknown parameter 'learning.etaa'"),
        ('[grid]\n"reward.tau_dop" = [2]\n', "missing its unit"),
        ('[grid]\n"reward.tau_dop" = ["2 mV"]\n', "wrong unit"),
        ('[grid]\n"learning.eta" = [-0.1]\n', "must be non-negative"),
        ('[grid]\n"stdp.amplitude" = [0.1, 0.2]\n', "stdp.amplitude has no effect"),
        ('[grid]\n"learning.eta" = 0.1\n', "non-empty list"),
        ('seeds = [-1]\n[grid]\n"learning.eta" = [0.1]\n', "seeds must be"),
        ("colour = 1\n", "unknown key 'colour'"),
        ('data = "no_such.npz"\n[grid]\n"learning.eta" = [0.1]\n', "no such data file"),
        ('train_samples = 0\n[grid]\n"learning.eta" = [0.1]\n', "train_samples must be a positive integer"),
        ('[random]\n"learning.eta" = { low = 0.1, high = 0.4 }\n', "samples"),
        ('[random]\nsamples = 2\n"learning.eta" = { low = 0.4, high = 0.1 }\n', "need low < high"),
        ('[random]\nsamples = 2\n"reward.tau_dop" = { low = "1 ms", high = "2 s" }\n', "same unit"),
        (
            '[grid]\n"learning.eta" = [0.1]\n[random]\nsamples = 2\n"learning.eta" = { low = 0.1, high = 0.4 }\n',
            "both in [grid] and in [random]",
        ),
    ],
)
def test_bad_sweep_files_are_refused_before_anything_runs(tmp_path, text, message):
    with pytest.raises((ValueError, FileNotFoundError), match=message.replace("[", r"\[").replace("]", r"\]")):
        load_sweep(_sweep(tmp_path, text))
    assert not list(tmp_path.glob("*.sqlite"))


def test_random_ranges_are_drawn_reproducibly_within_bounds(tmp_path):
    text = (
        'seeds = [0, 1]\n[grid]\n"astrocytes.gate_floor" = [0.2, 0.5]\n"learning.target_h1" = [5.0, 6.0]\n'
        "[random]\nsamples = 3\nseed = 7\n"
        '"reward.tau_dop" = { low = "0.5 ms", high = "2 ms", log = true }\n"learning.eta" = { low = 0.05, high = 0.4 }\n'
    )
    points = expand(load_sweep(_sweep(tmp_path, text)))
    assert len(points) == 2 * 2 * 3 * 2 and len({p["hash"] for p in points}) == 24
    taus = [float(p["params"]["reward.tau_dop"].split()[0]) for p in points]
    assert all(p["params"]["reward.tau_dop"].endswith(" ms") for p in points) and 0.5 <= min(taus) <= max(taus) <= 2
    assert all(0.05 <= p["params"]["learning.eta"] <= 0.4 for p in points)
    assert [p["hash"] for p in expand(load_sweep(_sweep(tmp_path, text)))] == [p["hash"] for p in points]
    # run parameters share a group (one compilation) per seed; a structural parameter (a rate target,
    # which sets initial values) splits it
    assert len({p["group"] for p in points}) == 2 * 2 and len({p["structure"] for p in points}) == 2
    assert json.dumps(points[0]["config"], sort_keys=True)  # the config is plain JSON


def test_the_sweep_example_is_valid():
    sweep = load_sweep(str(Path(__file__).parents[1] / "models" / "sweep_example.toml"))
    points = expand(sweep)
    assert len(points) == 4 and len({p["group"] for p in points}) == 1


def test_sweep_stops_after_identical_failures(tmp_path, capsys):
    """The first points all failing with the same error (here: the data file is gone when they run) stop
    the sweep after 3, with that error once, instead of running the rest; ``keep_going`` runs them all.
    Before, an ablation whose every point died at its end ran all 24 for 27 minutes."""
    from koo_spiking.encoder.spec import load_spec
    from koo_spiking.studies.sweep import SweepStopped, make_points

    data = tmp_path / "images.npy"
    np.save(data, np.random.default_rng(0).uniform(0, 1, (60, 64)))
    points = make_points(
        "doomed", load_spec(SMALL), [{"learning.eta": e} for e in np.linspace(0.1, 0.5, 10)], [0], str(data), 40, 10
    )
    data.unlink()
    stopped = r"the first 3 points failed with the same error and none succeeded, so the sweep stopped; 7 other"
    with pytest.raises(SweepStopped, match=stopped + r".*images\.npy"):
        run_sweep(None, str(tmp_path / "a.sqlite"), workers=1, points=points, name="doomed", verbose=False)
    rows = store.rows(store.connect(str(tmp_path / "a.sqlite")))
    assert sum(r["status"] == "failed" for r in rows) == 3
    stats = run_sweep(
        None, str(tmp_path / "b.sqlite"), workers=1, points=points, name="doomed", verbose=False, keep_going=True
    )
    assert stats["failed"] == len(points) and stats["done"] == 0


def test_same_error_ignores_numbers_and_rescue_paths():
    from koo_spiking.studies.sweep import same_error

    a = "ValueError: spike record: input: spike time outside [762.9000000000001, 763.6000000000001] s"
    b = "ValueError: spike record: input: spike time outside [10.600000000000001, 10.8] s [simulation saved in /x/0a1b2c3d4e.npz]"
    assert same_error(a) == same_error(b)
    assert same_error(a) != same_error("ValueError: spike record: recon: index outside 0..63")


def test_a_worker_fits_the_baselines_of_a_split_once(monkeypatch):
    """Points of several structures and seeds on one worker (an ablation's order: a structure's seeds, then the
    next structure's): the baselines of each split are fitted once and every point is scored against its own."""
    import contextlib

    from koo_spiking.studies import sweep, train

    fitted = []

    def baselines(ds, k, seed):
        fitted.append(seed)
        return {"pca": {"seed": seed}}, {}

    class Compiled:
        build_s = 0.0

        def run(self, spec):
            return {"compiled": False, "run_s": 0.0}

        def close(self):
            pass

    class Enc:
        def compile(self, *args, **kwargs):
            return Compiled()

    scored = []
    monkeypatch.setattr(train, "baselines", baselines)
    monkeypatch.setattr(
        train,
        "prepare_study",
        lambda spec, data, n_train, n_test, seed, backend: {
            "spec": spec,
            "enc": Enc(),
            "frames": None,
            "schedule": None,
            "ds": {"X_test": np.zeros((2, 4))},
        },
    )
    monkeypatch.setattr(train, "score_study", lambda study, result, base: (scored.append(base["pca"]["seed"]), None))
    monkeypatch.setattr(train, "rescued", lambda result, path: contextlib.nullcontext())
    monkeypatch.setattr(train, "test_record", lambda study, result: None)
    monkeypatch.setattr(train, "provenance", lambda: {"git_commit": None})
    monkeypatch.setattr(sweep.store, "raster_bytes", lambda record: b"")
    monkeypatch.setattr(sweep, "_HELD", {"group": None, "compiled": None, "study": None, "base": {}})
    spec = Path(__file__).parents[1].joinpath("models", "koo_small.toml").read_text()
    seeds = [0, 1, 2, 0, 1, 2]
    for n, seed in enumerate(seeds):
        cfg = {"spec": spec, "params": {}, "data": "digits", "train_samples": 20, "test_samples": 2, "seed": seed}
        sweep.run_point({"hash": f"p{n}", "group": f"variant {n // 3} seed {seed}", "config": cfg})
    assert sorted(fitted) == [0, 1, 2]  # once per split, not once per point
    assert scored == seeds  # each point against its own split's baselines
