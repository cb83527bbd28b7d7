"""The sweep report: tables, CSV, figures and best/worst rasters from a synthetic sweep database."""

import csv
import json
import sqlite3

import numpy as np
import pytest

from koo_spiking.io.spikes import SpikeRecord
from koo_spiking.studies import store
from koo_spiking.studies.sweep_report import _axis, write_report

ETAS = [0.01, 0.02]
FLOORS = ["0.1 umolar", "0.3 umolar"]
SEEDS = [0, 1]
PNG = b"\x89PNG\r\n\x1a\n"


def metrics(i, j, seed):
    """Known headline metrics of point (eta index i, gate floor index j, seed)."""
    mse = 0.01 * (i + 1) + 0.004 * j + 0.002 * seed
    return {
        "test_mse": mse,
        "r2": 0.9 - 10 * mse,
        "psnr": 20.0 + i + 0.25 * j,
        "probe_accuracy": 0.5 + 0.1 * i + 0.05 * j + 0.01 * seed,
        "spikes_per_image": 100.0 * (i + 1) + 10 * j + seed,
    }


def record(n_spikes):
    rng = np.random.default_rng(n_spikes)
    pops = {
        "input": {"n": 4, "layer": "input", "cell_type": "E"},
        "E0": {"n": 6, "layer": "hidden", "cell_type": "E"},
        "I0": {"n": 2, "layer": "hidden", "cell_type": "I"},
    }
    spikes = {k: (rng.integers(0, p["n"], n_spikes), np.sort(rng.uniform(0, 0.2, n_spikes))) for k, p in pops.items()}
    return SpikeRecord(spikes, pops, 0.0, 0.2, slots=[[0, 0.1], [0.1, 0.2]], slot_image=[3, 7])


def point(name, params, seed, sweep="gate_eta"):
    return {"hash": name, "sweep": sweep, "group": "g0", "config": {"seed": seed, "spec": "koo"}, "params": params}


def result(values, seed, raster=None):
    return {
        "summary": {"models": {"koo": values, "pca": {"test_mse": 0.5}}, "diagnostics": {}},
        "build_s": 1.5 + seed,
        "run_s": 2.25,
        "wall_s": 4.0,
        "compiled": seed == 0,
        "worker": "w0",
        "pid": 1,
        "code_version": "abc1234",
        "raster": raster,
    }


@pytest.fixture
def sweep_db(tmp_path):
    """2 etas x 2 gate floors x 2 seeds done, one failed and one pending point; rasters for two points."""
    path = tmp_path / "sweep.sqlite"
    db = store.connect(str(path))
    expected = {}
    for i, eta in enumerate(ETAS):
        for j, floor in enumerate(FLOORS):
            for seed in SEEDS:
                expected[f"p{i}{j}{seed}"] = (i, j, seed, eta, floor)
    store.add_points(
        db, [point(h, {"learning.eta": e[3], "astrocytes.gate_floor": e[4]}, e[2]) for h, e in expected.items()]
    )
    store.add_points(
        db,
        [
            point("failed", {"learning.eta": 0.05, "astrocytes.gate_floor": "0.1 umolar"}, 0),
            point("pending", {"learning.eta": 0.05, "astrocytes.gate_floor": "0.3 umolar"}, 0),
        ],
    )
    # rasters for p010 (MSE 0.014) and p101 (MSE 0.022): neither the overall best nor the worst point
    rasters = {"p010": store.raster_bytes(record(30)), "p101": store.raster_bytes(record(50))}
    for h, (i, j, seed, _, _) in expected.items():
        store.mark_done(db, h, result(metrics(i, j, seed), seed, rasters.get(h)))
    store.mark_failed(db, "failed", "Traceback...\nRuntimeError: out of memory")
    db.close()
    return path, expected


def test_tables(sweep_db, tmp_path):
    path, expected = sweep_db
    files = write_report(path, tmp_path / "report")
    md = (tmp_path / "report" / "table.md").read_text()
    lines = md.splitlines()
    assert str(path) in md and "gate_eta" in md and "abc1234" in md
    assert "8 done" in md and "1 failed" in md and "1 pending" in md and "out of memory" in md
    for i, j, seed, eta, floor in expected.values():  # one row per point, columns in the documented order
        m = metrics(i, j, seed)
        row = (
            f"| {floor} | {eta} | {seed} | {m['test_mse']:.4f} | {m['r2']:.3f} | {m['psnr']:.2f} | "
            f"{m['probe_accuracy']:.3f} | {m['spikes_per_image']:.0f} | {1.5 + seed:.1f} | 2.2 | "
            f"{'yes' if seed == 0 else 'no'} |"
        )
        assert row in lines, row
    # means over seeds, by hand: (eta 0.01, floor 0.1): MSE 0.010 and 0.012; (0.02, 0.3): 0.024 and 0.026
    assert (
        "| 0.1 umolar | 0.01 | 2 | 0.0110 [0.0100, 0.0120] | 0.790 [0.780, 0.800] | 20.00 [20.00, 20.00] | "
        "0.505 [0.500, 0.510] | 100 [100, 101] |"
    ) in lines
    assert (
        "| 0.3 umolar | 0.02 | 2 | 0.0250 [0.0240, 0.0260] | 0.650 [0.640, 0.660] | 21.25 [21.25, 21.25] | "
        "0.655 [0.650, 0.660] | 210 [210, 211] |"
    ) in lines
    assert sum(line.startswith("| 0.") for line in lines) == 8 + 4  # 8 points, 4 combinations
    # the CSV: one row per done point at full precision
    with open(tmp_path / "report" / "table.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 8 and {r["hash"] for r in rows} == set(expected)
    for r in rows:
        i, j, seed, eta, floor = expected[r["hash"]]
        assert (float(r["learning.eta"]), r["astrocytes.gate_floor"], int(r["seed"])) == (eta, floor, seed)
        for key, value in metrics(i, j, seed).items():
            assert float(r[key]) == pytest.approx(value, abs=1e-12)
    assert str(tmp_path / "report" / "table.md") in files


def test_figures_and_rasters(sweep_db, tmp_path):
    path, _ = sweep_db
    out = tmp_path / "deep" / "report"
    files = write_report(str(path), str(out))
    names = {
        "table.md",
        "table.csv",
        "report.json",
        "curves_learning_eta.png",
        "curves_astrocytes_gate_floor.png",
        "heatmap_astrocytes_gate_floor__learning_eta.png",
        "raster_best.png",
        "raster_worst.png",
    }
    assert sorted(files) == sorted(str(out / n) for n in names)
    assert {p.name for p in out.iterdir()} == names
    for name in names:
        if name.endswith(".png"):
            assert (out / name).read_bytes()[:8] == PNG and (out / name).stat().st_size > 5000
    report = json.loads((out / "report.json").read_text())
    assert report["best"]["hash"] == "p000" and report["worst"]["hash"] == "p111"  # over every done point
    assert report["raster_best"]["hash"] == "p010" and report["raster_worst"]["hash"] == "p101"  # with a raster
    assert "0.0140" in report["raster_best"]["title"] and "learning.eta=0.01" in report["raster_best"]["title"]
    assert report["counts"] == {"done": 8, "failed": 1, "pending": 1, "running": 0}
    assert report["varying"] == ["astrocytes.gate_floor", "learning.eta"]


def test_sweep_filter_bool_parameter_and_no_raster(tmp_path):
    """Two sweeps in one file; a bool parameter (categorical), one seed, no raster: no heat map, no raster file."""
    path = tmp_path / "two.sqlite"
    db = store.connect(str(path))
    store.add_points(
        db,
        [
            point("a", {"features.stdp": True}, 0, "ablation"),
            point("b", {"features.stdp": False}, 0, "ablation"),
            point("c", {"learning.eta": 0.5}, 0, "other"),
        ],
    )
    for h, mse in (("a", 0.02), ("b", 0.03), ("c", 0.04)):
        store.mark_done(db, h, result({"test_mse": mse, "probe_accuracy": None}, 0))
    db.close()
    files = write_report(path, tmp_path / "ablation", sweep="ablation")
    assert sorted(f.rsplit("/", 1)[1] for f in files) == [
        "curves_features_stdp.png",
        "report.json",
        "table.csv",
        "table.md",
    ]
    md = (tmp_path / "ablation" / "table.md").read_text()
    assert "| true | 0 | 0.0200 | — |" in md and "| false | 0 | 0.0300 |" in md and "0.0400" not in md
    report = json.loads((tmp_path / "ablation" / "report.json").read_text())
    assert report["raster_best"] is None and report["best"]["hash"] == "a"
    # every sweep: both names, the union of the parameters
    write_report(path, tmp_path / "all")
    md = (tmp_path / "all" / "table.md").read_text()
    assert "ablation, other" in md and "several sweeps" in md and "0.0400" in md
    assert "| features.stdp | learning.eta | seed |" in md
    with pytest.raises(ValueError, match="no sweep named 'nope'"):
        write_report(path, tmp_path / "x", sweep="nope")


def test_axis():
    assert _axis(["2 ms", "0.5 ms"]) == ("ms", [2.0, 0.5])
    assert _axis([1, 2.5]) == ("", [1.0, 2.5])
    assert _axis([True, False]) == (None, ["true", "false"])
    assert _axis(["2 ms", "3 mV"])[0] is None and _axis(["2 ms", None])[0] is None


def test_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no sweep database"):
        write_report(tmp_path / "missing.sqlite", tmp_path / "out")
    store.connect(str(tmp_path / "empty.sqlite")).close()
    with pytest.raises(ValueError, match="no finished point"):
        write_report(tmp_path / "empty.sqlite", tmp_path / "out")
    db = store.connect(str(tmp_path / "pending.sqlite"))
    store.add_points(db, [point("a", {"learning.eta": 0.1}, 0)])
    db.close()
    with pytest.raises(ValueError, match=r"no finished point \(1 points stored"):
        write_report(tmp_path / "pending.sqlite", tmp_path / "out")
    (tmp_path / "text.sqlite").write_text("not a database\n" * 100)
    with pytest.raises(ValueError, match="not a sweep database"):
        write_report(tmp_path / "text.sqlite", tmp_path / "out")
    other = sqlite3.connect(tmp_path / "other.sqlite")
    other.execute("CREATE TABLE things (x)")
    other.commit()
    other.close()
    with pytest.raises(ValueError, match="not a sweep database"):
        write_report(tmp_path / "other.sqlite", tmp_path / "out")
    tables = sqlite3.connect(tmp_path / "other.sqlite").execute("SELECT name FROM sqlite_master").fetchall()
    assert tables == [("things",)]  # opened read-only: no schema added
    assert not (tmp_path / "out").exists()  # nothing written before the checks pass
