"""Resumable runs of the Koo Encoder: a schedule split into chunks, the full state saved between them.

Each chunk is one Brian2 run of the same model, started from the state the previous chunk ended
in: every state variable of every neuron group and synapse (weights, thresholds, membrane
potentials, traces, running means, astrocyte and dopamine state), with spike and update times
shifted onto the new run's clock. After each chunk, what it recorded goes to a file of its own
(``chunk_0001.npz``, ...; so a save costs one chunk's records, not the whole run's), then the state
and the next image index to ``checkpoint.npz``; each written atomically (a temporary file, then
``os.replace``), so a run killed at any moment leaves the last complete checkpoint. A chunk's random stream is seeded from the seed
and the chunk's index: a resumed run gives the same spikes as an uninterrupted run with the same
chunking. Ctrl-C (SIGINT) is held while a chunk runs (noted, not raised; the compiler and the
standalone binary run in process groups of their own, so a terminal's Ctrl-C does not reach them):
the chunk finishes and is saved, then :class:`Interrupted` is raised.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import threading
from typing import TYPE_CHECKING, Any

import numpy as np
from brian2 import NeuronGroup, Synapses, second
from brian2.core.variables import ArrayVariable

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from brian2.core.base import BrianObject
    from brian2.units.fundamentalunits import Quantity
    from numpy.typing import ArrayLike

    from .estimator import KooEncoder

__all__ = ["Interrupted", "capture_state", "restore_state", "run_chunks", "CHECKPOINT"]

#: file name of the checkpoint inside its directory
CHECKPOINT = "checkpoint.npz"
#: variables holding absolute times of the run's clock: shifted when a chunk starts
_TIMES = ("lastspike", "lastupdate")


class Interrupted(Exception):
    """The run was interrupted (Ctrl-C) after a chunk was saved."""


def _state_variables(obj):
    for name, var in obj.variables.items():
        if (
            isinstance(var, ArrayVariable)
            and var.owner is not None
            and var.owner.name == obj.name
            and not name.startswith("_")
            and name != "t_start"
            and (not var.read_only or name == "lastupdate")
        ):
            yield name, var


def capture_state(objects: Iterable[BrianObject], t_end: Quantity) -> dict[str, np.ndarray]:
    """Every state variable of the neuron groups and synapses in ``objects``, SI values.

    Times in ``_TIMES`` are stored relative to ``t_end`` (the end of the run), so they can be
    restored into a run that starts at 0.
    """
    state = {}
    for obj in objects:
        if isinstance(obj, (NeuronGroup, Synapses)):
            for name, var in _state_variables(obj):
                value = np.array(var.get_value())
                if name in _TIMES:
                    value = value - float(t_end / second)
                state[f"{obj.name}.{name}"] = value
    return state


def restore_state(objects: Iterable[BrianObject], state: Mapping[str, ArrayLike]) -> None:
    """Set every variable captured by :func:`capture_state`; a missing or misshapen one is an error."""
    seen = set()
    for obj in objects:
        if not isinstance(obj, (NeuronGroup, Synapses)):
            continue
        for name, var in _state_variables(obj):
            key = f"{obj.name}.{name}"
            if key not in state:
                raise ValueError(f"checkpoint: no value for {key}; it was written by a different model")
            value = np.asarray(state[key])
            size = 1 if var.scalar else len(obj)  # (a synapse variable's size is unknown before a standalone run)
            if value.size != size:
                raise ValueError(f"checkpoint: {key} has {value.size} values, the model has {size}")
            var.set_value(value)
            seen.add(key)
    extra = sorted(set(state) - seen)
    if extra:
        raise ValueError(f"checkpoint: values for {extra[0]} (and {len(extra) - 1} more) that this model lacks")


def _own_group(call):
    """``subprocess.call`` with the child in a process group of its own."""

    def wrapped(*args, **kwargs):
        kwargs.setdefault("process_group", 0)
        return call(*args, **kwargs)

    return wrapped


def _system(command):
    """``os.system`` in a process group of its own, without ignoring SIGINT in the caller meanwhile
    (a signal delivered then to a thread that does not block it would be discarded)."""
    return subprocess.call(command, shell=True, process_group=0)


@contextlib.contextmanager
def _holding_sigint(caught):
    """Hold SIGINT while a chunk runs: note it in ``caught`` instead of raising KeyboardInterrupt.

    Python's handler notes the signal; the main thread blocks it. The compiler and the standalone
    binary (Brian2 starts them with ``os.system`` and ``subprocess.call``) run in process groups of
    their own, so Ctrl-C in a terminal, which signals the foreground group, does not kill them, and
    ``os.system`` does not set SIGINT to ignored in this process while they run.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, lambda *_: caught.append(1))
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    system, call = os.system, subprocess.call
    os.system, subprocess.call = _system, _own_group(call)
    try:
        yield
    finally:
        os.system, subprocess.call = system, call
        if signal.SIGINT in signal.sigpending():
            caught.append(1)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # a pending one reaches the note
        signal.signal(signal.SIGINT, previous)


def _chunk_seed(seed, k):
    return int(seed) if k == 0 else int(np.random.SeedSequence([int(seed), k]).generate_state(1)[0] % 2**31)


def _key(frames, schedule, spec, seed, every, weights_every=None):
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(frames, float).tobytes())
    for name in sorted(schedule):
        h.update(name.encode())
        h.update(np.ascontiguousarray(schedule[name], float).tobytes())
    h.update(
        json.dumps(
            {s: {k: str(v) for k, v in val.items()} if isinstance(val, dict) else str(val) for s, val in spec.items()},
            sort_keys=True,
        ).encode()
    )
    h.update(f"{seed}:{every}".encode())
    if weights_every:  # (records only, but a resumed run must record them as the first part did)
        h.update(f":weights {weights_every}".encode())
    return h.hexdigest()


def _merge(parts, t_offsets):
    """One ``simulate`` result from the results of consecutive chunks."""
    out = {
        "state": parts[-1].get("state"),
        "spec": parts[-1]["spec"],
        "full_state": parts[-1].get("full_state"),
        "wall_s": float(sum(p["wall_s"] for p in parts)),
    }
    for key in ("counts", "dopamine", "phase"):
        out[key] = {name: np.concatenate([p[key][name] for p in parts]) for name in parts[0][key]}
    if "weights" in parts[0]:
        out["weights"] = {
            name: _merge_weights([p["weights"][name] for p in parts], t_offsets) for name in parts[0]["weights"]
        }
    for key in ("raster", "window"):  # recorded in the last chunk only
        if key in parts[-1]:
            out[key] = parts[-1][key]
    if "astrocytes" in parts[0]:
        out["astrocytes"] = {
            name: tuple(
                np.concatenate([p["astrocytes"][name][0] + t0 for p, t0 in zip(parts, t_offsets)])
                if n == 0
                else np.concatenate([p["astrocytes"][name][n] for p in parts], axis=-1)
                for n in range(3)
            )
            for name in parts[0]["astrocytes"]
        }
    return out


def _merge_weights(parts, t_offsets):
    """One pathway's weight statistics over consecutive chunks, times on the whole run's clock."""
    out = {}
    for field, first in parts[0].items():
        if np.ndim(first) == 0:  # a constant (the number of possible synapses)
            out[field] = first
        else:
            out[field] = np.concatenate([p[field] + (t0 if field == "t" else 0) for p, t0 in zip(parts, t_offsets)])
    return out


_RECORDS = ("counts", "dopamine", "phase")


def _flatten(result, keys):
    flat = {}
    for key in keys:
        for name, value in result[key].items():
            flat[f"{key}/{name}"] = value
    if "counts" in keys:
        flat["wall_s"] = np.array(result["wall_s"])
        for name, arrays in result.get("astrocytes", {}).items():
            for n, value in enumerate(arrays):
                flat[f"astrocytes/{name}/{n}"] = value
        for name, fields in result.get("weights", {}).items():
            for field, value in fields.items():
                flat[f"weights/{name}/{field}"] = np.asarray(value)
    return flat


def _unflatten(flat, spec, keys):
    out = {key: {name.split("/", 1)[1]: flat[name] for name in flat if name.startswith(key + "/")} for key in keys}
    if "counts" in keys:
        out.update(spec=spec, wall_s=float(flat["wall_s"]), astrocytes={})
        for name in flat:
            if name.startswith("astrocytes/"):
                _, layer, n = name.split("/")
                out["astrocytes"].setdefault(layer, [None] * 3)[int(n)] = flat[name]
        out["astrocytes"] = {k: tuple(v) for k, v in out["astrocytes"].items()}
        if not out["astrocytes"]:
            del out["astrocytes"]
        weights = {}
        for name in flat:
            if name.startswith("weights/"):
                _, pathway, field = name.split("/")
                value = flat[name]
                weights.setdefault(pathway, {})[field] = value.item() if value.ndim == 0 else value
        if weights:
            out["weights"] = weights
    return out


def _chunk_file(directory, k):
    return os.path.join(directory, f"chunk_{k + 1:04d}.npz")


def _write(path, arrays):
    """Atomic write: the complete file or the previous one, never half of one."""
    tmp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.tmp.npz")
    np.savez(tmp, **arrays)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _save(directory, k, done, key, part, t0):
    """Chunk ``k``'s records in its own file, then the state: a chunk counts once the state says so."""
    _write(_chunk_file(directory, k), {"__t0": np.array(t0), **_flatten(part, _RECORDS)})
    _write(
        os.path.join(directory, CHECKPOINT),
        {
            "__done": np.array(done),
            "__chunks": np.array(k + 1),
            "__key": np.array(key),
            **_flatten(part, ("state", "full_state")),
        },
    )


def load_checkpoint(directory, key, spec):
    """(images done, merged result so far) of a checkpoint written for the same run, or (0, None)."""
    path = os.path.join(directory, CHECKPOINT)
    if not os.path.exists(path):
        return 0, None
    with np.load(path, allow_pickle=False) as data:
        flat = {name: data[name] for name in data.files}
    if str(flat.pop("__key")) != key:
        raise ValueError(
            f"checkpoint {path} was written by a different run (spec, data, seed or chunking "
            "differ); remove it or start in another directory"
        )
    done, n_chunks = int(flat.pop("__done")), int(flat.pop("__chunks"))
    parts, offsets = [], []
    for k in range(n_chunks):
        if not os.path.exists(_chunk_file(directory, k)):
            raise ValueError(
                f"checkpoint {path}: the records of chunk {k + 1} ({_chunk_file(directory, k)}) are missing"
            )
        with np.load(_chunk_file(directory, k), allow_pickle=False) as data:
            offsets.append(float(data["__t0"]))
            parts.append(_unflatten({name: data[name] for name in data.files if name != "__t0"}, spec, _RECORDS))
    state = _unflatten(flat, spec, ("state", "full_state"))
    merged = parts[0] if n_chunks == 1 else _merge(parts, offsets)
    merged.update(state=state["state"], full_state=state["full_state"])
    return done, merged


def run_chunks(
    encoder: KooEncoder,
    frames: np.ndarray,
    schedule: Mapping[str, np.ndarray],
    every: int,
    directory: str | os.PathLike,
    state: Mapping[str, np.ndarray] | None = None,
    raster: bool | int = False,
    astro: bool = False,
    say: Callable[[str], object] = print,
    weights_every: int | None = None,
) -> dict[str, Any]:
    """``encoder.simulate`` over ``frames`` in chunks of ``every`` images, resumable from ``directory``.

    ``state`` is the learned state the first chunk starts from (``{}``: untrained; None: the
    encoder's fitted state). Returns the merged result (as ``simulate``'s, plus ``full_state``). A checkpoint in
    ``directory`` written for the same frames, schedule, spec, seed and chunking is continued.
    Raises :class:`Interrupted` after saving when SIGINT arrived during a chunk.
    """
    every = int(every)
    if every <= 0:
        raise ValueError(f"checkpoint: images per chunk must be positive, got {every}")
    n = len(frames)
    spec = encoder.spec_
    key = _key(frames, schedule, spec, encoder.seed, every, weights_every)
    os.makedirs(directory, exist_ok=True)
    done, merged = load_checkpoint(directory, key, spec)
    if done:
        say(f"resuming from {os.path.join(directory, CHECKPOINT)}: {done}/{n} images done")
    T = spec["network"]["present"]
    bounds = list(range(0, n, every)) + [n]
    for k, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
        if b <= done:
            continue
        say(f"chunk {k + 1}/{len(bounds) - 1}: images {a + 1}-{b} of {n}")
        last = b == n
        shown = (True if raster is True else min(int(raster), b - a)) if raster and last else False
        caught = []
        with _holding_sigint(caught):  # the chunk and its save
            part = encoder.simulate(
                frames[a:b],
                {name: s[a:b] for name, s in schedule.items()},
                state=state,
                full_state=merged["full_state"] if merged else None,
                t_start=a * T,
                seed=_chunk_seed(encoder.seed, k),
                raster=shown,
                astro=astro or bool(raster),
                keep_full=True,
                weights_every=weights_every,
            )
            t0 = float(a * T / second)
            merged = part if merged is None else _merge([merged, part], [0.0, t0])
            _save(directory, k, b, key, part, t0)
        if caught and not last:
            raise Interrupted(
                f"interrupted after image {b} of {n}; the state is saved in {os.path.join(directory, CHECKPOINT)}"
            )
    return merged
