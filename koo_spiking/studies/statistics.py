"""Spike statistics of a run, per population, through Elephant, for the run summary.

For each population of a :class:`~koo_spiking.io.spikes.SpikeRecord`:

- ``rate_hz``: mean firing rate per cell over the recorded window (all cells, silent ones too);
- ``cv_isi``: coefficient of variation (std / mean, ddof 0) of the inter-spike intervals, the
  mean over cells with at least 3 spikes (1 for a Poisson train, 0 for a regular one);
- ``fano``: Fano factor (variance / mean, ddof 0) of each cell's spike counts across counting
  windows, the image presentations when the record has them and fixed bins otherwise; mean over
  cells that fire in some window (1 for a Poisson train);
- ``correlation``: mean Pearson correlation coefficient of binned spike counts (``bin_size``
  bins from ``t_start``; a last, partial bin is left out) over all pairs of cells that fire.

CV, Fano and correlation use at most ``max_cells`` cells per population, drawn with a fixed seed
so that large layers stay fast and the numbers are reproducible. An undefined statistic (too few
spikes or cells) is ``None``. The result holds only ints, floats, strings and ``None``, ready
for ``json.dump``.

Elephant: Denker M, Yegenoglu A, Grün S (2018), Collaborative HPC-enabled workflows on the HBP
Collaboratory using the Elephant framework, Neuroinformatics 2018, P19; https://python-elephant.org.
"""

import json
import logging
import os
import warnings

import numpy as np

from ..io.export import _cell_trains
from ..io.spikes import load_spikes

__all__ = ["spike_statistics", "run_statistics"]


def _sample(cells, max_cells, seed):
    """At most ``max_cells`` of ``cells``, drawn without replacement with a fixed seed, sorted."""
    cells = np.asarray(cells)
    if len(cells) <= max_cells:
        return cells
    return np.sort(np.random.default_rng(seed).choice(cells, max_cells, replace=False))


def _mean(values):
    """Mean of the finite values as a float; None when there are none."""
    values = np.asarray(values, np.float64)
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else None


def _windows(record, count_window):
    """Counting windows for the Fano factor: the image slots, or bins of ``count_window`` s."""
    if len(record.slots) >= 2:
        return record.slots, "slots"
    n = int(np.floor((record.t_stop - record.t_start) / count_window + 1e-9))
    edges = record.t_start + count_window * np.arange(n + 1)
    return np.column_stack([edges[:-1], edges[1:]]), "bins"


def _population(trains, record, windows, bin_size, max_cells, seed):
    """Statistics of one population's per-cell trains (sorted float64 arrays, seconds)."""
    import elephant.utils
    import neo
    import quantities as pq
    from elephant.conversion import BinnedSpikeTrain
    from elephant.spike_train_correlation import correlation_coefficient
    from elephant.statistics import cv, fanofactor, isi, mean_firing_rate

    t0, t1 = record.t_start, record.t_stop
    counts = np.array([len(t) for t in trains])
    # Elephant refuses an empty train; a silent cell's rate is 0
    rates = [float(mean_firing_rate(t, t_start=t0, t_stop=t1)) if len(t) else 0.0 for t in trains]
    out = {"n_cells": len(trains), "n_spikes": int(counts.sum()), "rate_hz": _mean(rates)}

    cells = _sample(np.flatnonzero(counts >= 3), max_cells, seed)
    out["cv_isi"] = _mean([cv(isi(trains[k])) for k in cells])
    out["n_cv_cells"] = len(cells)

    cells = _sample(np.flatnonzero(counts >= 1), max_cells, seed)
    fano = []
    for k in cells:
        t = trains[k]
        # the cell's spikes in each counting window [start, stop)
        lo, hi = np.searchsorted(t, windows[:, 0]), np.searchsorted(t, windows[:, 1])
        pieces = [t[a:b] for a, b in zip(lo, hi)]
        if any(len(p) for p in pieces):
            fano.append(fanofactor(pieces))
    out["fano"] = _mean(fano)
    out["n_fano_cells"] = len(fano)

    out["correlation"], out["n_corr_cells"] = None, len(cells)
    if len(cells) >= 2:
        sts = [neo.SpikeTrain(trains[k] * pq.s, t_start=t0 * pq.s, t_stop=t1 * pq.s) for k in cells]
        # elephant.utils logs each spike on a bin edge it moves by a rounding error (one line per train)
        rounding = logging.getLogger(elephant.utils.__file__)
        level = rounding.level
        rounding.setLevel(logging.ERROR)
        try:
            with warnings.catch_warnings():
                # silenced: spikes in a last, partial bin are left out; a cell whose binned counts
                # are constant has no correlation (NaN, left out of the mean)
                warnings.simplefilter("ignore")
                binned = BinnedSpikeTrain(sts, bin_size=bin_size * pq.s, t_start=t0 * pq.s, t_stop=t1 * pq.s)
                cc = correlation_coefficient(binned)
        finally:
            rounding.setLevel(level)
        out["correlation"] = _mean(cc[np.triu_indices(len(cells), 1)])
    return out


def spike_statistics(record, bin_size=0.01, count_window=0.1, max_cells=100, seed=0):
    """Rates, CV of ISIs, Fano factor and pairwise correlation per population.

    Parameters
    ----------
    record : SpikeRecord
    bin_size : float
        Bin (s) of the spike counts that are correlated.
    count_window : float
        Counting window (s) of the Fano factor when the record has fewer than 2 image slots.
    max_cells : int
        Cells per population used for CV, Fano and correlation (drawn with ``seed``).
    seed : int

    Returns
    -------
    dict
        ``{"t_start", "t_stop", "bin_size_s", "fano_windows": "slots" | "bins", "n_windows",
        "max_cells", "seed", "populations": {name: {"layer", "cell_type", "n_cells", "n_spikes",
        "rate_hz", "cv_isi", "n_cv_cells", "fano", "n_fano_cells", "correlation",
        "n_corr_cells"}}}``; an undefined statistic is ``None``.
    """
    duration = record.t_stop - record.t_start
    if not 0 < bin_size <= duration:
        raise ValueError(f"spike statistics: bin_size {bin_size} s must be in (0, {duration}] s")
    if not 0 < count_window <= duration:
        raise ValueError(f"spike statistics: count_window {count_window} s must be in (0, {duration}] s")
    if int(max_cells) < 2:
        raise ValueError(f"spike statistics: max_cells {max_cells} must be at least 2")
    windows, kind = _windows(record, count_window)
    out = {
        "t_start": record.t_start,
        "t_stop": record.t_stop,
        "bin_size_s": float(bin_size),
        "fano_windows": kind,
        "n_windows": len(windows),
        "max_cells": int(max_cells),
        "seed": int(seed),
        "populations": {},
    }
    for name, p in record.populations.items():
        i, t = record.spikes[name]
        trains = [np.sort(x) for x in _cell_trains(i, t, p["n"])]
        stats = {"layer": p["layer"], "cell_type": p["cell_type"]}
        stats.update(_population(trains, record, windows, bin_size, int(max_cells), seed))
        out["populations"][name] = stats
    return out


def run_statistics(run_dir, path=None, **kwargs):
    """:func:`spike_statistics` of ``RUN_DIR/spikes.npz``, also written to ``path`` as JSON if given.

    Parameters
    ----------
    run_dir : str or path-like
    path : str or path-like, optional
        JSON file to write (atomically).
    **kwargs
        Passed to :func:`spike_statistics`.
    """
    source = os.path.join(os.fspath(run_dir), "spikes.npz")
    if not os.path.isfile(source):
        raise FileNotFoundError(f"no spike record at {source}: `koo-spiking train` writes it")
    stats = spike_statistics(load_spikes(source), **kwargs)
    if path is not None:
        path = os.fspath(path)
        with open(path + ".part", "w") as f:
            json.dump(stats, f, indent=1)
        os.replace(path + ".part", path)
    return stats
