"""The recorded window of an encoder run as a :class:`~koo_spiking.io.spikes.SpikeRecord`.

Times stay integer time steps until they are written out: a spike's step and a slot's first step
are integers, and every time in seconds is ``step * dt`` of one float ``dt``. Multiplication by a
positive float is monotone, so a spike on a window's first step gets exactly the window's start
time, never 1e-13 s before it (a float window start such as ``(n - k) * 0.1 s`` against the
simulator's ``step * 0.5 ms`` differed by such amounts for some slot counts).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import brian2
import numpy as np

from ..io.spikes import SpikeRecord

if TYPE_CHECKING:
    from collections.abc import Mapping

    from numpy.typing import ArrayLike

__all__ = ["spike_record", "window_steps", "relative_steps", "slot_index", "steps_per_slot", "LAYER_ORDER"]

LAYER_ORDER = ("input", "h1", "h2", "recon")


def steps_per_slot(spec: Mapping[str, Any]) -> int:
    """Time steps of one image slot (``present / dt``), refused unless a whole number."""
    net = spec["network"]
    ratio = float(net["present"] / net["dt"])
    steps = int(round(ratio))
    if steps < 1 or abs(ratio - steps) > 1e-6 * steps:
        raise ValueError(f"network: present {net['present']} is not a whole number of time steps dt {net['dt']}")
    return steps


def relative_steps(t: ArrayLike, dt: float, start_step: int) -> np.ndarray:
    """Integer steps of the simulator's times ``t`` (s, each ``step * dt``) from ``start_step`` on."""
    steps = np.rint(np.asarray(t, np.float64) / float(dt)).astype(np.int64) - int(start_step)
    if steps.size and steps.min() < 0:
        raise ValueError(f"spike record: a time {steps.min()} steps before the recorded window")
    return steps


def slot_index(t: ArrayLike, spec: Mapping[str, Any]) -> np.ndarray:
    """Image slot of each of the simulator's times ``t`` (s): whole steps of ``dt``, then whole slots,
    so a time on a slot's first step belongs to that slot (``t / present`` truncated put some of
    them in the slot before)."""
    dt = float(spec["network"]["dt"] / brian2.second)
    return np.rint(np.asarray(t, np.float64) / dt).astype(np.int64) // steps_per_slot(spec)


def window_steps(slot_offset: int, n_slots: int, spp: int) -> tuple[int, np.ndarray, int]:
    """First step of the window, of each of its slots (n, 2: start, stop) and of its end.

    The window holds ``n_slots`` image slots and one blank slot after them, starting at slot
    ``slot_offset`` of the whole run, each of ``spp`` steps.
    """
    first = int(slot_offset) * int(spp)
    k = np.arange(int(n_slots), dtype=np.int64)
    slots = first + int(spp) * np.c_[k, k + 1]
    return first, slots, first + (int(n_slots) + 1) * int(spp)


def spike_record(
    result: Mapping[str, Any], slot_image: ArrayLike | None = None, t_offset: float = 0.0, slot_offset: int = 0
) -> SpikeRecord:
    """Spikes, image slots and astrocyte Ca2+ of the slots a ``simulate`` or ``encode`` call recorded.

    Parameters
    ----------
    result : dict
        Result of ``KooEncoder.simulate(..., raster=...)`` or ``KooEncoder.encode(X, raster=True)``
        (it holds ``raster``, ``window``, ``counts`` and ``spec``).
    slot_image : array (n_recorded,), optional
        Index of the image shown in each recorded slot (default: 0, 1, ...).
    t_offset : float
        Seconds added to every time (default 0).
    slot_offset : int
        Image slots before the window in the whole run (default 0): times become
        ``(slot_offset * steps per slot + step) * dt``, exact at every slot boundary. Prefer it
        to ``t_offset`` for a window inside a longer run.

    Returns
    -------
    SpikeRecord
        Populations ``input``, ``h1``, ``h1_I``, ... (layer: the name without ``_I``); the window
        runs from the first recorded slot to the end of the run (one blank slot after the last
        image); traces ``<population>_astro`` in uM.
    """
    if "raster" not in result or "window" not in result:
        raise ValueError("spike record: the run recorded no spikes (simulate with raster=...)")
    if isinstance(slot_offset, bool) or not isinstance(slot_offset, (int, np.integer)) or slot_offset < 0:
        raise ValueError(f"spike record: slot_offset must be a non-negative integer, got {slot_offset!r}")
    window = result["window"]
    n = int(window["slots"])
    spp = steps_per_slot(result["spec"])
    dt = float(result["spec"]["network"]["dt"] / brian2.second)
    slot_image = np.arange(n) if slot_image is None else np.asarray(slot_image)
    populations = {
        name: {
            "n": result["counts"][name].shape[1],
            "layer": name.removesuffix("_I"),
            "cell_type": "I" if name.endswith("_I") else "E",
        }
        for name in result["raster"]
    }
    first, slot_steps, last = window_steps(slot_offset, n, spp)
    t_offset = float(t_offset)

    def seconds(steps):  # whole-run steps -> s: one rounding, the same for spikes, slots and bounds
        return t_offset + np.asarray(steps, np.int64) * dt

    if "steps" in window:  # integer steps from the window's start (encoder.compiled)
        spikes = {name: (result["raster"][name][0], seconds(first + s)) for name, s in window["steps"].items()}
        traces = {
            f"{name}_astro": (seconds(first + s), calcium, "uM") for name, (s, calcium) in window["astro_steps"].items()
        }
    else:  # a result from an older version: times in s from the window's start
        spikes = {name: (i, seconds(first) + t) for name, (i, t) in result["raster"].items()}
        traces = {
            f"{name}_astro": (seconds(first) + t, calcium, "uM") for name, (t, calcium) in window["astro"].items()
        }
    return SpikeRecord(
        spikes, populations, seconds(first), seconds(last), seconds(slot_steps), slot_image, traces, tolerance=dt / 1000
    )
