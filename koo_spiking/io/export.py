"""Export a run's spikes to Neo and NWB, the formats analysis tools read.

A :class:`~koo_spiking.io.spikes.SpikeRecord` becomes

- a Neo ``Block`` (:func:`to_neo`, :func:`write_neo`): one ``Segment`` over the recorded window,
  one ``SpikeTrain`` per cell annotated with ``population``, ``layer``, ``cell_type`` ("E"/"I")
  and ``index``, one ``Group`` per population holding its trains, the image presentations as an
  ``Epoch`` and sampled traces (e.g. astrocyte Ca2+) as ``IrregularlySampledSignal``\\ s.
  Neo (Garcia et al. 2014, Front Neuroinform 8:10) is what Elephant and most Python spike
  analysis code take as input. Files are Neo's MATLAB structure (``NeoMatlabIO``, through
  scipy): no pickles, readable from MATLAB too, and fast. NIX, Neo's own lossless format, needs
  the extra ``nixio`` package and took about 50 ms per spike train here (minutes per run).
- an NWB file (:func:`write_nwb`; Rübel et al. 2022, eLife 11:e78362) through pynwb: a units
  table (spike times per cell, columns ``population``, ``layer``, ``cell_type``, ``index``),
  the image presentations as the intervals table ``image_presentations`` (``start_time``,
  ``stop_time``, ``image``; -1 is a blank) and the traces as ``TimeSeries`` in the processing
  module ``traces``.

All times are seconds from the start of the simulation; spike times are written as the record's
float64 values, unchanged. :func:`export_run` exports ``RUN_DIR/spikes.npz``, the record that
``koo-spiking train`` writes.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
from typing import TYPE_CHECKING

import numpy as np

from .spikes import load_spikes

if TYPE_CHECKING:
    import neo

    from .spikes import SpikeRecord

__all__ = ["to_neo", "write_neo", "write_nwb", "export_run", "FORMATS", "SESSION_START"]

FORMATS = {"nwb": "spikes.nwb", "neo": "spikes.neo.mat"}
# NWB needs a wall-clock session start; a simulation has none, so a fixed one keeps files reproducible.
SESSION_START = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)


def _cell_trains(i, t, n):
    """Split one population's spikes into ``n`` per-cell arrays of times (order kept)."""
    order = np.argsort(i, kind="stable")
    bounds = np.cumsum(np.bincount(i, minlength=n))[:-1] if n else []
    return np.split(t[order], bounds) if n else []


def _units(unit):
    """A quantities unit for a trace's unit string; dimensionless when quantities does not know it."""
    import quantities as pq

    try:
        return pq.Quantity(1.0, unit).units if unit else pq.dimensionless
    except (LookupError, ValueError, TypeError, SyntaxError):
        return pq.dimensionless


def to_neo(record: SpikeRecord) -> neo.Block:
    """The record as a Neo ``Block``.

    Parameters
    ----------
    record : SpikeRecord

    Returns
    -------
    neo.Block
        One ``Segment`` covering ``[t_start, t_stop]``; ``segment.spiketrains`` holds one
        ``SpikeTrain`` per cell (populations in the record's order, cells by index) annotated
        with ``population``, ``layer``, ``cell_type`` and ``index``; ``block.groups`` has one
        ``Group`` per population (annotated with ``layer``, ``cell_type``, ``n_cells``) with the
        same trains; ``segment.epochs[0]`` (``image_slots``) has one entry per image
        presentation, its label the image index as text and the annotation ``image`` the
        indices; each trace is an ``IrregularlySampledSignal`` named after it.
    """
    import neo
    import quantities as pq

    t0, t1 = record.t_start * pq.s, record.t_stop * pq.s
    block = neo.Block(name="koo_spiking run", t_start=record.t_start, t_stop=record.t_stop)
    seg = neo.Segment(name="recording", description=f"recorded window {record.t_start}-{record.t_stop} s")
    block.segments.append(seg)
    for name, p in record.populations.items():
        i, t = record.spikes[name]
        group = neo.Group(
            name=name, allowed_types=[neo.SpikeTrain], layer=p["layer"], cell_type=p["cell_type"], n_cells=p["n"]
        )
        for k, times in enumerate(_cell_trains(i, t, p["n"])):
            train = neo.SpikeTrain(
                times * pq.s,
                t_start=t0,
                t_stop=t1,
                name=f"{name}[{k}]",
                population=name,
                layer=p["layer"],
                cell_type=p["cell_type"],
                index=k,
            )
            seg.spiketrains.append(train)
            group.add(train)
        block.groups.append(group)
    slots = record.slots
    seg.epochs.append(
        neo.Epoch(
            times=slots[:, 0] * pq.s,
            durations=(slots[:, 1] - slots[:, 0]) * pq.s,
            labels=np.array([str(k) for k in record.slot_image], dtype="U"),
            name="image_slots",
            description="image presentations (-1: blank)",
            image=record.slot_image.copy(),
        )
    )
    for name, (t, v, unit) in record.traces.items():
        values = np.asarray(v, np.float64).reshape(len(t), -1)
        seg.irregularlysampledsignals.append(
            neo.IrregularlySampledSignal(t * pq.s, values, units=_units(unit), name=name, unit=unit)
        )
    return block


def _target(path, ext):
    """Check that ``path`` can be written before doing any work; a one-line error otherwise."""
    path = os.fspath(path)
    if not path.endswith(ext):
        raise ValueError(f"{path}: expected a file name ending in {ext}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"cannot write {path}: folder {folder} does not exist")
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot write {path}: it is a folder")
    if not os.access(folder, os.W_OK):
        raise PermissionError(f"cannot write {path}: folder {folder} is not writable")
    return path


def _atomic(path, suffix, write):
    """Run ``write(tmp)`` on a temporary name next to ``path``, then rename it to ``path``."""
    tmp = path + suffix
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def write_neo(record: SpikeRecord, path: str | os.PathLike) -> str:
    """Write :func:`to_neo`'s Block to a Neo MATLAB file (``.mat``), atomically.

    Read it back with ``neo.io.NeoMatlabIO(path).read_block()``. The file holds each train's
    times as float64 seconds, unchanged. scipy squeezes one-element arrays on reading, so take
    ``np.atleast_1d`` of the epoch's ``image`` annotation.

    Parameters
    ----------
    record : SpikeRecord
    path : str or path-like
        Ends in ``.mat``; its folder must exist.

    Returns
    -------
    str
        ``path``.
    """
    from neo.io import NeoMatlabIO

    path = _target(path, ".mat")
    block = to_neo(record)
    # the temporary name keeps the .mat ending so that scipy does not append one
    return _atomic(path, ".part.mat", lambda tmp: NeoMatlabIO(tmp).write_block(block))


def _digest(record):
    """A short hash of the record's content: the default NWB identifier, stable across exports."""
    h = hashlib.sha256(json.dumps([record.populations, record.t_start, record.t_stop]).encode())
    for name in record.populations:
        for a in record.spikes[name]:
            h.update(np.ascontiguousarray(a).tobytes())
    h.update(record.slots.tobytes())
    h.update(record.slot_image.tobytes())
    return h.hexdigest()[:16]


def write_nwb(
    record: SpikeRecord,
    path: str | os.PathLike,
    session_description: str = "koo_spiking spiking autoencoder run",
    identifier: str | None = None,
    session_start_time: datetime.datetime = SESSION_START,
) -> str:
    """Write the record as an NWB file with pynwb, atomically.

    Parameters
    ----------
    record : SpikeRecord
    path : str or path-like
        Ends in ``.nwb``; its folder must exist.
    session_description : str
    identifier : str, optional
        Default: ``koo_spiking-`` and a hash of the record's content, the same for the same record.
    session_start_time : datetime, optional
        Default :data:`SESSION_START` (2000-01-01 UTC, a fixed stand-in: a simulation has no
        wall-clock start). It is also written as the file creation date, so that exporting the
        same record twice gives the same content.

    Returns
    -------
    str
        ``path``.

    Notes
    -----
    Units table: one row per cell, ``spike_times`` (s), ``obs_intervals`` the recorded window
    (a silent cell was recorded, not missing), ``population``, ``layer``, ``cell_type``,
    ``index``. Intervals table ``image_presentations``: ``start_time``, ``stop_time``,
    ``image``. Processing module ``traces``: one ``TimeSeries`` (n_times, n_cells) per trace
    with its timestamps.
    """
    try:
        from pynwb import NWBHDF5IO, NWBFile, TimeSeries
        from pynwb.epoch import TimeIntervals
    except ImportError:
        raise ImportError("NWB export needs pynwb: pip install 'koo_spiking[export]'") from None

    path = _target(path, ".nwb")
    nwb = NWBFile(
        session_description=session_description,
        identifier=identifier or f"koo_spiking-{_digest(record)}",
        session_start_time=session_start_time,
        file_create_date=session_start_time,
        source_script="koo_spiking",
        source_script_file_name="koo_spiking/io/export.py",
    )
    columns = {
        "population": "population (neuron group) of the cell",
        "layer": "network layer",
        "cell_type": "E (excitatory) or I (inhibitory)",
        "index": "index of the cell in its population",
    }
    for col, text in columns.items():
        nwb.add_unit_column(col, text)
    window = [[record.t_start, record.t_stop]]
    for name, p in record.populations.items():
        i, t = record.spikes[name]
        for k, times in enumerate(_cell_trains(i, t, p["n"])):
            nwb.add_unit(
                spike_times=times,
                obs_intervals=window,
                population=name,
                layer=p["layer"],
                cell_type=p["cell_type"],
                index=k,
            )
    if len(record.slots):
        table = TimeIntervals(name="image_presentations", description="one row per image presentation")
        table.add_column("image", "index of the image shown (-1: blank)")
        for (start, stop), image in zip(record.slots, record.slot_image):
            table.add_interval(start_time=float(start), stop_time=float(stop), image=int(image))
        nwb.add_time_intervals(table)
    if record.traces:
        module = nwb.create_processing_module("traces", "sampled state variables, e.g. astrocyte Ca2+")
        for name, (t, v, unit) in record.traces.items():
            module.add(
                TimeSeries(
                    name=name, data=v, timestamps=t, unit=unit or "n/a", description=f"{name}: one column per cell"
                )
            )

    def write(tmp):
        with NWBHDF5IO(tmp, "w") as io:
            io.write(nwb)

    return _atomic(path, ".part.nwb", write)


def export_run(
    run_dir: str | os.PathLike, fmt: str, out: str | os.PathLike | None = None, overwrite: bool = False
) -> str:
    """Export ``RUN_DIR/spikes.npz`` as NWB (``fmt="nwb"``) or Neo (``fmt="neo"``).

    Parameters
    ----------
    run_dir : str or path-like
        A training run's folder.
    fmt : {"nwb", "neo"}
    out : str or path-like, optional
        Output file; default ``RUN_DIR/spikes.nwb`` or ``RUN_DIR/spikes.neo.mat``.
    overwrite : bool
        Replace an existing output file (default: refuse it, as ``koo-spiking train --out`` does).

    Returns
    -------
    str
        The file written.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}: choose {' or '.join(map(repr, FORMATS))}")
    source = os.path.join(os.fspath(run_dir), "spikes.npz")
    if not os.path.isfile(source):
        raise FileNotFoundError(f"no spike record at {source}: `koo-spiking train` writes it")
    out = os.path.join(os.fspath(run_dir), FORMATS[fmt]) if out is None else os.fspath(out)
    if os.path.isdir(out):
        raise ValueError(f"--out {out} is a directory; name the file to write")
    if os.path.exists(out) and not overwrite:
        raise ValueError(f"--out {out} exists; pass --overwrite to replace it")
    record = load_spikes(source)
    return write_nwb(record, out) if fmt == "nwb" else write_neo(record, out)
