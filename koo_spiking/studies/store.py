"""SQLite store of sweep points: one row per point, written only by the process that runs the sweep.

Table ``points``: ``hash`` (primary key: the point's config hashed, so a point is stored once
however often a sweep is rerun), ``sweep`` (name), ``grp`` (its compilation group), ``config``
(JSON: spec, data, samples, seed, params), ``params`` (JSON: 'section.key' -> value as written
in the sweep file), ``seed``, ``status`` (pending, running, done, failed), ``attempts``, the
headline metrics of the Koo Encoder (``test_mse``, ``r2``, ``psnr``, ``probe_accuracy``,
``spikes_per_image``), ``metrics`` (JSON: every model's metrics and the diagnostics, as in
``metrics.json``), timings (``build_s``, ``run_s``, ``wall_s``), ``compiled`` (1 when this
point's run built the network), ``worker``, ``pid``, ``code_version`` (git commit), ``error``,
``started`` and ``finished`` (Unix time). Table ``rasters``: ``hash``, ``npz`` (bytes of a
:func:`koo_spiking.io.spikes.save_spikes` file: the spikes of the last test images).
"""

import json
import os
import sqlite3
import tempfile
import time

from ..io.spikes import load_spikes, save_spikes

__all__ = [
    "SCHEMA",
    "HEADLINE",
    "connect",
    "add_points",
    "mark_running",
    "mark_done",
    "mark_failed",
    "rows",
    "raster",
    "raster_bytes",
]

HEADLINE = ("test_mse", "r2", "psnr", "probe_accuracy", "spikes_per_image")

SCHEMA = """
CREATE TABLE IF NOT EXISTS points (
    hash TEXT PRIMARY KEY,
    sweep TEXT NOT NULL,
    grp TEXT NOT NULL,
    config TEXT NOT NULL,
    params TEXT NOT NULL,
    seed INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    test_mse REAL, r2 REAL, psnr REAL, probe_accuracy REAL, spikes_per_image REAL,
    metrics TEXT,
    build_s REAL, run_s REAL, wall_s REAL,
    compiled INTEGER,
    worker TEXT, pid INTEGER,
    code_version TEXT,
    error TEXT,
    started REAL, finished REAL
);
CREATE TABLE IF NOT EXISTS rasters (
    hash TEXT PRIMARY KEY REFERENCES points(hash),
    npz BLOB NOT NULL
);
"""


def connect(path):
    """Open (creating if needed) a sweep database."""
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise ValueError(f"--db {path}: the directory {parent} does not exist")
    try:
        db = sqlite3.connect(path, timeout=60)
        db.executescript(SCHEMA)
    except sqlite3.DatabaseError as err:
        raise ValueError(f"--db {path} is not a sweep database ({err})") from None
    db.row_factory = sqlite3.Row
    return db


def add_points(db, points):
    """Insert points not yet stored (by hash); returns how many were new."""
    before = db.total_changes
    with db:
        db.executemany(
            "INSERT OR IGNORE INTO points (hash, sweep, grp, config, params, seed) VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    p["hash"],
                    p["sweep"],
                    p["group"],
                    json.dumps(p["config"], sort_keys=True),
                    json.dumps(p["params"], sort_keys=True),
                    p["config"]["seed"],
                )
                for p in points
            ],
        )
    return db.total_changes - before


def mark_running(db, key, worker, pid):
    """Mark the point ``key`` as running on ``worker`` (process ``pid``), one more attempt; a done point stays."""
    with db:
        db.execute(
            "UPDATE points SET status = 'running', attempts = attempts + 1, worker = ?, pid = ?, started = ? "
            "WHERE hash = ? AND status != 'done'",
            (worker, pid, time.time(), key),
        )


def mark_done(db, key, result):
    """Store a finished point: its metrics, timings and raster, in one transaction."""
    koo = result["summary"]["models"]["koo"]
    with db:
        db.execute(
            f"UPDATE points SET status = 'done', {', '.join(f'{m} = ?' for m in HEADLINE)}, metrics = ?, "
            "build_s = ?, run_s = ?, wall_s = ?, compiled = ?, worker = ?, pid = ?, code_version = ?, "
            "error = NULL, finished = ? WHERE hash = ?",
            (
                *[koo.get(m) for m in HEADLINE],
                json.dumps(result["summary"]),
                result["build_s"],
                result["run_s"],
                result["wall_s"],
                int(result["compiled"]),
                result["worker"],
                result["pid"],
                result["code_version"],
                time.time(),
                key,
            ),
        )
        if result.get("raster") is not None:
            db.execute("INSERT OR REPLACE INTO rasters (hash, npz) VALUES (?, ?)", (key, result["raster"]))


def mark_failed(db, key, error):
    """Mark the point ``key`` as failed with ``error`` (one line); a done point stays done."""
    with db:
        db.execute(
            "UPDATE points SET status = 'failed', error = ?, finished = ? WHERE hash = ? AND status != 'done'",
            (error, time.time(), key),
        )


def rows(db, sweep=None, status=None):
    """Points as dicts (``config``, ``params`` and ``metrics`` decoded)."""
    query, args = "SELECT * FROM points", []
    where = [(c, v) for c, v in (("sweep", sweep), ("status", status)) if v is not None]
    if where:
        query += " WHERE " + " AND ".join(f"{c} = ?" for c, _ in where)
        args = [v for _, v in where]
    out = []
    for row in db.execute(query + " ORDER BY rowid", args):
        row = dict(row)
        for key in ("config", "params", "metrics"):
            row[key] = json.loads(row[key]) if row[key] else None
        out.append(row)
    return out


def raster_bytes(record):
    """A SpikeRecord as the bytes of its ``.npz`` file."""
    with tempfile.TemporaryDirectory(prefix="koo_raster_") as tmp:
        path = os.path.join(tmp, "spikes.npz")
        save_spikes(path, record)
        with open(path, "rb") as fh:
            return fh.read()


def raster(db, key):
    """The SpikeRecord stored for a point, or None."""
    row = db.execute("SELECT npz FROM rasters WHERE hash = ?", (key,)).fetchone()
    if row is None:
        return None
    with tempfile.TemporaryDirectory(prefix="koo_raster_") as tmp:
        path = os.path.join(tmp, "spikes.npz")
        with open(path, "wb") as fh:
            fh.write(row[0])
        return load_spikes(path)
