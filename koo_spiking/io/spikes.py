"""Recorded spikes of a run, in one ``.npz`` file that inspection and export read.

Layout of the file (plain numpy arrays, no pickles):

- ``<pop>.i`` (int32) and ``<pop>.t`` (float64, seconds): one entry per spike of population ``pop``;
- ``_meta``: a JSON string with ``populations`` (``pop`` -> ``{"n": cells, "layer": name,
  "cell_type": "E" or "I"}``), ``t_start`` and ``t_stop`` (seconds, the recorded window);
- ``_slots``: float64 array (n, 2), start and stop (seconds) of each image presentation in the
  window; ``_slot_image``: int64 array (n,), the index of the image shown (-1: blank);
- ``_trace.<name>.t`` (seconds) and ``_trace.<name>.v`` (array (n_times, n_cells)), optional
  sampled traces such as astrocyte Ca2+ (``unit`` in ``_meta["traces"][name]``).
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Mapping

    from numpy.typing import ArrayLike

__all__ = ["SpikeRecord", "save_spikes", "load_spikes"]


class SpikeRecord:
    """Spikes of several populations over one window, with the image slots and optional traces.

    Parameters
    ----------
    spikes : dict
        Population name -> (indices, times in seconds).
    populations : dict
        Population name -> ``{"n": int, "layer": str, "cell_type": "E" | "I"}``.
    t_start, t_stop : float
        The recorded window, seconds.
    slots : array (n, 2), optional
        Start and stop of each image presentation, seconds.
    slot_image : array (n,), optional
        Image shown in each slot (-1: blank).
    traces : dict, optional
        Name -> (times (n_times,), values (n_times, n_cells), unit string).
    tolerance : float, optional
        Seconds a spike time may lie outside ``[t_start, t_stop]`` and still be taken (moved onto
        the bound); default 0: a file written by others is held to its stated window. Records made
        from our own runs pass a small fraction of the time step.
    """

    def __init__(
        self,
        spikes: Mapping[str, tuple[ArrayLike, ArrayLike]],
        populations: Mapping[str, Mapping[str, Any]],
        t_start: float,
        t_stop: float,
        slots: ArrayLike | None = None,
        slot_image: ArrayLike | None = None,
        traces: Mapping[str, tuple[ArrayLike, ArrayLike, str]] | None = None,
        tolerance: float = 0.0,
    ) -> None:
        self.t_start, self.t_stop = float(t_start), float(t_stop)
        tolerance = float(tolerance)
        if not tolerance >= 0:
            raise ValueError(f"spike record: tolerance must be a non-negative number of seconds, got {tolerance}")
        if not self.t_stop > self.t_start:
            raise ValueError(f"spike record: t_stop {self.t_stop} s must be after t_start {self.t_start} s")
        self.populations = {
            k: {"n": int(v["n"]), "layer": str(v["layer"]), "cell_type": str(v["cell_type"])}
            for k, v in populations.items()
        }
        self.spikes = {}
        for name, (i, t) in spikes.items():
            if name not in self.populations:
                raise ValueError(f"spike record: population {name!r} has spikes but no description")
            i, t = np.asarray(i, np.int32), np.asarray(t, np.float64)
            if i.shape != t.shape or i.ndim != 1:
                raise ValueError(f"spike record: {name}: indices {i.shape} and times {t.shape} differ")
            n = self.populations[name]["n"]
            if i.size and (i.min() < 0 or i.max() >= n):
                raise ValueError(f"spike record: {name}: index outside 0..{n - 1}")
            if t.size and (
                not np.all(np.isfinite(t)) or t.min() < self.t_start - tolerance or t.max() > self.t_stop + tolerance
            ):
                bad = t[~np.isfinite(t) | (t < self.t_start - tolerance) | (t > self.t_stop + tolerance)][0]
                raise ValueError(
                    f"spike record: {name}: spike time {bad!r} s outside [{self.t_start}, {self.t_stop}] s"
                )
            if tolerance:
                t = np.clip(t, self.t_start, self.t_stop)
            self.spikes[name] = (i, t)
        for name, p in self.populations.items():
            if p["cell_type"] not in ("E", "I"):
                raise ValueError(f"spike record: {name}: cell_type must be 'E' or 'I', not {p['cell_type']!r}")
            self.spikes.setdefault(name, (np.zeros(0, np.int32), np.zeros(0)))
        self.slots = np.zeros((0, 2)) if slots is None else np.asarray(slots, np.float64).reshape(-1, 2)
        self.slot_image = (
            np.full(len(self.slots), -1, np.int64) if slot_image is None else np.asarray(slot_image, np.int64)
        )
        if self.slot_image.shape != (len(self.slots),):
            raise ValueError(f"spike record: {len(self.slots)} slots but {self.slot_image.shape} image indices")
        self.traces = {
            k: (np.asarray(t, np.float64), np.asarray(v, np.float64), str(u)) for k, (t, v, u) in (traces or {}).items()
        }

    def counts(self) -> dict[str, int]:
        """Spikes per population."""
        return {k: int(len(i)) for k, (i, _) in self.spikes.items()}

    def window(self, t0: float | None = None, t1: float | None = None) -> SpikeRecord:
        """A new record restricted to [t0, t1] (seconds; None: the record's own bound)."""
        t0 = self.t_start if t0 is None else max(float(t0), self.t_start)
        t1 = self.t_stop if t1 is None else min(float(t1), self.t_stop)
        if not t1 > t0:
            raise ValueError(f"spike record: empty window [{t0}, {t1}] s (recorded {self.t_start}-{self.t_stop} s)")
        spikes = {k: (i[(t >= t0) & (t <= t1)], t[(t >= t0) & (t <= t1)]) for k, (i, t) in self.spikes.items()}
        keep = (self.slots[:, 1] > t0) & (self.slots[:, 0] < t1)
        traces = {k: (t[(t >= t0) & (t <= t1)], v[(t >= t0) & (t <= t1)], u) for k, (t, v, u) in self.traces.items()}
        return SpikeRecord(spikes, self.populations, t0, t1, self.slots[keep], self.slot_image[keep], traces)


def save_spikes(path: str | os.PathLike, record: SpikeRecord) -> None:
    """Write ``record`` to ``path`` atomically (a temporary file, then rename)."""
    path = os.fspath(path)
    meta = {
        "populations": record.populations,
        "t_start": record.t_start,
        "t_stop": record.t_stop,
        "traces": {k: u for k, (_, _, u) in record.traces.items()},
    }
    arrays = {"_meta": np.array(json.dumps(meta)), "_slots": record.slots, "_slot_image": record.slot_image}
    for name, (i, t) in record.spikes.items():
        arrays[f"{name}.i"], arrays[f"{name}.t"] = i, t
    for name, (t, v, _) in record.traces.items():
        arrays[f"_trace.{name}.t"], arrays[f"_trace.{name}.v"] = t, v
    tmp = path + ".part.npz"
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, path)


def load_spikes(path: str | os.PathLike) -> SpikeRecord:
    """Read a file written by :func:`save_spikes`; a missing or foreign file gives a one-line error."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no spike record at {path}")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        meta = json.loads(str(arrays["_meta"]))
    except (KeyError, ValueError, OSError) as err:
        raise ValueError(f"{path}: not a koo_spiking spike record ({err})") from None
    spikes = {name: (arrays[f"{name}.i"], arrays[f"{name}.t"]) for name in meta["populations"]}
    traces = {
        name: (arrays[f"_trace.{name}.t"], arrays[f"_trace.{name}.v"], unit)
        for name, unit in meta.get("traces", {}).items()
    }
    return SpikeRecord(
        spikes, meta["populations"], meta["t_start"], meta["t_stop"], arrays["_slots"], arrays["_slot_image"], traces
    )
