"""The recorded window of an encoder run as a :class:`~koo_spiking.io.spikes.SpikeRecord`."""
import brian2
import numpy as np

from ..io.spikes import SpikeRecord

__all__ = ["spike_record", "LAYER_ORDER"]

LAYER_ORDER = ("input", "h1", "h2", "recon")


def spike_record(result, slot_image=None, t_offset=0.0):
    """Spikes, image slots and astrocyte Ca2+ of the slots a ``simulate`` or ``encode`` call recorded.

    Parameters
    ----------
    result : dict
        Result of ``KooEncoder.simulate(..., raster=...)`` or ``KooEncoder.encode(X, raster=True)``
        (it holds ``raster``, ``window``, ``counts`` and ``spec``).
    slot_image : array (n_recorded,), optional
        Index of the image shown in each recorded slot (default: 0, 1, ...).
    t_offset : float
        Seconds added to every time, e.g. the window's start in the whole run.

    Returns
    -------
    SpikeRecord
        Populations ``input``, ``h1``, ``h1_I``, ... (layer: the name without ``_I``); the window
        runs from the first recorded slot to the end of the run (one blank slot after the last
        image); traces ``<population>_astro`` in uM.
    """
    if "raster" not in result or "window" not in result:
        raise ValueError("spike record: the run recorded no spikes (simulate with raster=...)")
    T = float(result["spec"]["network"]["present"] / brian2.second)
    n = int(result["window"]["slots"])
    slot_image = np.arange(n) if slot_image is None else np.asarray(slot_image)
    populations = {name: {"n": result["counts"][name].shape[1], "layer": name.removesuffix("_I"),
                          "cell_type": "I" if name.endswith("_I") else "E"} for name in result["raster"]}
    spikes = {name: (i, t + t_offset) for name, (i, t) in result["raster"].items()}
    slots = t_offset + T * np.c_[np.arange(n), np.arange(1, n + 1)]
    traces = {f"{name}_astro": (t + t_offset, calcium, "uM")
              for name, (t, calcium) in result["window"]["astro"].items()}
    return SpikeRecord(spikes, populations, t_offset, t_offset + (n + 1) * T, slots, slot_image, traces)
