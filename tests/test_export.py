"""Neo and NWB export read back exactly; Elephant statistics against analytic values."""

import json
import os

import numpy as np
import pytest

from koo_spiking.io.export import export_run, to_neo, write_neo, write_nwb
from koo_spiking.io.spikes import SpikeRecord, save_spikes
from koo_spiking.studies.statistics import run_statistics, spike_statistics

POPS = {
    "input": {"n": 6, "layer": "input", "cell_type": "E"},
    "h1_e": {"n": 5, "layer": "h1", "cell_type": "E"},
    "h1_i": {"n": 3, "layer": "h1", "cell_type": "I"},
    "h2_i": {"n": 2, "layer": "h2", "cell_type": "I"},
}


@pytest.fixture
def record():
    """Three populations with spikes (cell 2 of h1_i silent), one without, four slots, a trace."""
    rng = np.random.default_rng(7)
    spikes = {}
    for name in ("input", "h1_e", "h1_i"):
        n = POPS[name]["n"]
        i = rng.integers(0, n, 40).astype(np.int32)
        if name == "h1_i":
            i[i == 2] = 0
        t = np.sort(rng.uniform(0.1, 0.5, 40))  # not round numbers: exactness is bitwise
        spikes[name] = (i, t)
    slots = [[0.1, 0.2], [0.2, 0.3], [0.3, 0.4], [0.4, 0.5]]
    t = 0.1 + 0.001 * np.arange(400)
    trace = {"astro_ca": (t, rng.random((400, 3)), "uM")}
    return SpikeRecord(spikes, POPS, 0.1, 0.5, slots, [3, 1, -1, 7], trace)


def cell_times(record, name, k):
    i, t = record.spikes[name]
    return t[i == k]


def test_neo_round_trip(record, tmp_path):
    from neo.io import NeoMatlabIO

    path = write_neo(record, str(tmp_path / "run.neo.mat"))
    assert os.listdir(tmp_path) == ["run.neo.mat"]
    block = NeoMatlabIO(path).read_block()
    seg = block.segments[0]
    assert len(seg.spiketrains) == sum(p["n"] for p in POPS.values())
    assert [g.name for g in block.groups] == list(POPS)
    for group in block.groups:
        p = POPS[group.name]
        assert len(group.spiketrains) == p["n"]
        for k, train in enumerate(group.spiketrains):
            ann = train.annotations
            assert (ann["population"], ann["layer"], ann["cell_type"], int(ann["index"])) == (
                group.name,
                p["layer"],
                p["cell_type"],
                k,
            )
            assert str(train.units.dimensionality) == "s"
            assert np.array_equal(train.magnitude, cell_times(record, group.name, k))
            assert float(train.t_start) == 0.1 and float(train.t_stop) == 0.5
    assert sum(len(g.spiketrains[2]) for g in block.groups if g.name == "h1_i") == 0
    epoch = seg.epochs[0]
    assert np.array_equal(epoch.times.magnitude, record.slots[:, 0])
    assert np.array_equal(
        epoch.times.magnitude + epoch.durations.magnitude,
        record.slots[:, 0] + (record.slots[:, 1] - record.slots[:, 0]),
    )
    assert [int(s) for s in epoch.labels] == [3, 1, -1, 7]
    assert np.array_equal(np.atleast_1d(epoch.annotations["image"]), [3, 1, -1, 7])
    signal = seg.irregularlysampledsignals[0]
    assert signal.name == "astro_ca" and str(signal.units.dimensionality) == "uM"
    assert np.array_equal(signal.times.magnitude, record.traces["astro_ca"][0])
    assert np.array_equal(signal.magnitude, record.traces["astro_ca"][1])


def test_neo_block_feeds_elephant(record):
    from elephant.statistics import mean_firing_rate

    block = to_neo(record)
    train = block.groups[0].spiketrains[1]
    assert train is block.segments[0].spiketrains[1]
    assert float(mean_firing_rate(train)) == pytest.approx(len(cell_times(record, "input", 1)) / 0.4)


def test_nwb_round_trip(record, tmp_path):
    from pynwb import NWBHDF5IO

    path = write_nwb(record, str(tmp_path / "run.nwb"))
    assert os.listdir(tmp_path) == ["run.nwb"]
    with NWBHDF5IO(path, "r") as io:
        nwb = io.read()
        units = nwb.units
        assert len(units) == sum(p["n"] for p in POPS.values())
        row = 0
        for name, p in POPS.items():
            for k in range(p["n"]):
                assert (
                    units["population"][row],
                    units["layer"][row],
                    units["cell_type"][row],
                    int(units["index"][row]),
                ) == (name, p["layer"], p["cell_type"], k)
                assert np.array_equal(units["spike_times"][row], cell_times(record, name, k))
                assert np.array_equal(units["obs_intervals"][row], [[0.1, 0.5]])
                row += 1
        table = nwb.intervals["image_presentations"]
        assert np.array_equal(table["start_time"][:], record.slots[:, 0])
        assert np.array_equal(table["stop_time"][:], record.slots[:, 1])
        assert list(table["image"][:]) == [3, 1, -1, 7]
        series = nwb.processing["traces"]["astro_ca"]
        assert series.unit == "uM"
        assert np.array_equal(series.timestamps[:], record.traces["astro_ca"][0])
        assert np.array_equal(series.data[:], record.traces["astro_ca"][1])
        first = nwb.identifier
    write_nwb(record, str(tmp_path / "again.nwb"))
    with NWBHDF5IO(str(tmp_path / "again.nwb"), "r") as io:
        assert io.read().identifier == first  # same record, same identifier


def test_export_run(record, tmp_path):
    save_spikes(tmp_path / "spikes.npz", record)  # a path object works too
    assert export_run(tmp_path, "nwb") == str(tmp_path / "spikes.nwb")
    out = export_run(tmp_path, "neo", out=str(tmp_path / "other.mat"))
    assert os.path.isfile(out) and os.path.isfile(tmp_path / "spikes.nwb")
    stats = run_statistics(tmp_path, path=str(tmp_path / "stats.json"))
    with open(tmp_path / "stats.json") as f:
        assert json.load(f) == json.loads(json.dumps(stats))


def test_bad_input(record, tmp_path):
    with pytest.raises(FileNotFoundError, match="koo-spiking train"):
        export_run(tmp_path, "nwb")
    with pytest.raises(ValueError, match="unknown export format 'csv'"):
        export_run(tmp_path, "csv")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        write_nwb(record, str(tmp_path / "no" / "run.nwb"))
    (tmp_path / "dir.nwb").mkdir()
    with pytest.raises(IsADirectoryError, match="is a folder"):
        write_nwb(record, str(tmp_path / "dir.nwb"))
    with pytest.raises(ValueError, match=r"ending in \.mat"):
        write_neo(record, str(tmp_path / "run.nix"))
    with pytest.raises(ValueError, match="bin_size"):
        spike_statistics(record, bin_size=1.0)
    assert sorted(os.listdir(tmp_path)) == ["dir.nwb"]


def poisson(rng, rate, duration):
    """Homogeneous Poisson spike times on [0, duration) from exponential intervals."""
    t = np.cumsum(rng.exponential(1 / rate, int(rate * duration * 1.5) + 50))
    assert t[-1] > duration
    return t[t < duration]


def make(trains, duration, slots=None, cell_type="E"):
    i = np.concatenate([np.full(len(t), k) for k, t in enumerate(trains)])
    t = np.concatenate(trains)
    pops = {"pop": {"n": len(trains), "layer": "h1", "cell_type": cell_type}}
    return SpikeRecord({"pop": (i, t)}, pops, 0.0, duration, slots, None if slots is None else [0] * len(slots))


def test_poisson_statistics():
    rng = np.random.default_rng(0)
    trains = [poisson(rng, 20.0, 50.0) for _ in range(30)]
    slots = np.column_stack([np.arange(100) * 0.5, np.arange(1, 101) * 0.5])
    s = spike_statistics(make(trains, 50.0, slots), bin_size=0.01)
    assert json.dumps(s, allow_nan=False)
    p = s["populations"]["pop"]
    assert p["rate_hz"] == pytest.approx(np.mean([len(t) / 50.0 for t in trains]), rel=1e-12)
    assert p["rate_hz"] == pytest.approx(20.0, rel=0.05)
    assert p["cv_isi"] == pytest.approx(1.0, abs=0.05)
    assert s["fano_windows"] == "slots" and s["n_windows"] == 100
    assert p["fano"] == pytest.approx(1.0, abs=0.1)
    assert abs(p["correlation"]) < 0.02  # independent trains
    assert (p["n_cv_cells"], p["n_fano_cells"], p["n_corr_cells"]) == (30, 30, 30)


def test_regular_and_identical_trains():
    regular = [0.005 + 0.02 * np.arange(100) + 0.001 * k for k in range(4)]
    p = spike_statistics(make(regular, 2.0))["populations"]["pop"]
    assert p["cv_isi"] == pytest.approx(0.0, abs=1e-9)
    assert p["rate_hz"] == pytest.approx(50.0, rel=1e-12)
    same = [poisson(np.random.default_rng(3), 30.0, 2.0)] * 3
    p = spike_statistics(make(same, 2.0))["populations"]["pop"]
    assert p["correlation"] == pytest.approx(1.0, abs=1e-12)
    s = spike_statistics(make(same, 2.0), count_window=0.25)
    assert s["fano_windows"] == "bins" and s["n_windows"] == 8


def test_undefined_and_capped():
    silent = make([np.zeros(0)] * 3, 1.0, cell_type="I")
    p = spike_statistics(silent)["populations"]["pop"]
    assert p["rate_hz"] == 0.0 and p["n_spikes"] == 0
    assert p["cv_isi"] is None and p["fano"] is None and p["correlation"] is None
    rng = np.random.default_rng(1)
    big = make([poisson(rng, 10.0, 1.0) for _ in range(120)], 1.0)
    s1, s2 = spike_statistics(big, max_cells=20), spike_statistics(big, max_cells=20)
    assert s1 == s2 and s1["populations"]["pop"]["n_corr_cells"] == 20
