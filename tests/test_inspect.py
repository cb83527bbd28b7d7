"""``koo-spiking inspect`` and the spikes.npz that ``koo-spiking train`` writes."""

import json
import time

import numpy as np
import pytest

from koo_spiking.cli import main
from koo_spiking.io.spikes import SpikeRecord, load_spikes, save_spikes
from koo_spiking.studies.inspection import parse_time, raster_figure, raster_panel


@pytest.fixture(scope="module")
def run_dir(small_run):
    """The shared small run (conftest): 400 training images, every one of its 100 test images recorded."""
    code, out = small_run
    assert code == 0
    return out


def test_spikes_match_the_run_counts(run_dir):
    """Every recorded test image's spikes, slot by slot, add up to the counts the run reports."""
    record = load_spikes(str(run_dir / "spikes.npz"))
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert list(record.slot_image) == list(range(100))  # all 100 test images, in order
    by_layer = metrics["models"]["koo"]["spikes_per_image_by_layer"]
    assert set(record.populations) == set(by_layer)
    for name, (i, t) in record.spikes.items():
        per_slot = [np.sum((t >= a) & (t < b)) for a, b in record.slots]
        assert np.mean(per_slot) == pytest.approx(by_layer[name], abs=1e-9), name
    assert {"h1_astro", "h1_I_astro"} <= set(record.traces)
    t, v, unit = record.traces["h1_astro"]
    assert unit == "uM" and v.shape == (len(t), record.populations["h1"]["n"]) and len(t) > 6


def test_inspect_writes_figures(run_dir, capsys):
    out = run_dir / "views"
    assert main(["inspect", str(run_dir), "--from", "100 ms", "--to", "0.5", "--out", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    for layer in ("input", "h1", "h2", "recon"):
        assert f"raster_{layer}.png" in names
    assert "astrocytes_h1.png" in names and "receptive_fields.png" in names
    assert all((out / n).stat().st_size > 1000 for n in names)
    printed = capsys.readouterr().out
    assert printed.count("wrote ") == len(names)
    assert main(["inspect", str(run_dir), "--layer", "h2"]) == 0  # default --out
    assert (run_dir / "inspect" / "raster_h2.png").exists() and not (run_dir / "inspect" / "raster_h1.png").exists()


def test_inspect_layer_choices(run_dir):
    """``--layer recon`` draws the read-out fields as h1 and h2 do (none before), ``--layer input`` none;
    a population name such as ``h2_I`` draws that population alone (refused before)."""
    for layer, fields in (("recon", True), ("h1", True), ("input", False), ("h2_I", True)):
        out = run_dir / f"views_{layer}"
        assert main(["inspect", str(run_dir), "--layer", layer, "--out", str(out)]) == 0
        names = sorted(p.name for p in out.iterdir())
        assert f"raster_{layer}.png" in names, names
        assert ("receptive_fields.png" in names) == fields, (layer, names)


def test_export_and_statistics_of_the_run(run_dir, capsys):
    """The run's spikes exported by the CLI read back with their counts; its summary holds Elephant's statistics."""
    import pynwb

    record = load_spikes(str(run_dir / "spikes.npz"))
    assert main(["export", str(run_dir)]) == 0
    assert main(["export", str(run_dir), "--format", "neo"]) == 0
    assert (run_dir / "spikes.neo.mat").stat().st_size > 0
    with pynwb.NWBHDF5IO(str(run_dir / "spikes.nwb"), "r") as io:
        units = io.read().units.to_dataframe()
        for name, (i, _) in record.spikes.items():
            rows = units[units["population"] == name]
            assert sum(len(st) for st in rows["spike_times"]) == len(i), name
    stats = json.loads((run_dir / "metrics.json").read_text())["diagnostics"]["spike_statistics"]
    duration = record.t_stop - record.t_start
    for name, (i, _) in record.spikes.items():
        rate = len(i) / record.populations[name]["n"] / duration
        assert stats["populations"][name]["rate_hz"] == pytest.approx(rate, rel=1e-9), name
    assert main(["export", str(run_dir / "nowhere")]) == 2
    assert "spikes.npz" in capsys.readouterr().err


def test_export_refuses_to_overwrite(tmp_path, capsys):
    """``export`` keeps an existing file unless ``--overwrite``, as ``train --out`` does (it replaced it silently)."""
    save_spikes(str(tmp_path / "spikes.npz"), _record(100, n_cells=10, n_slots=5))
    target = tmp_path / "mine.mat"
    target.write_bytes(b"someone else's file")
    assert main(["export", str(tmp_path), "--format", "neo", "--out", str(target)]) == 2
    assert "--overwrite" in capsys.readouterr().err and target.read_bytes() == b"someone else's file"
    assert main(["export", str(tmp_path), "--format", "neo", "--out", str(target), "--overwrite"]) == 0
    assert target.stat().st_size > 100
    assert main(["export", str(tmp_path), "--format", "neo", "--out", str(tmp_path)]) == 2
    assert "directory" in capsys.readouterr().err


def _record(n_spikes, n_cells=1000, n_slots=100, T=0.1, seed=0):
    rng = np.random.default_rng(seed)
    pops = {
        "h1": {"n": n_cells, "layer": "h1", "cell_type": "E"},
        "h1_I": {"n": n_cells // 4, "layer": "h1", "cell_type": "I"},
    }
    n_i = n_spikes // 5
    spikes = {
        "h1": (rng.integers(0, n_cells, n_spikes - n_i), rng.uniform(0, n_slots * T, n_spikes - n_i)),
        "h1_I": (rng.integers(0, n_cells // 4, n_i), rng.uniform(0, n_slots * T, n_i)),
    }
    slots = T * np.c_[np.arange(n_slots), np.arange(1, n_slots + 1)]
    t = np.arange(0, n_slots * T, 0.01)
    traces = {"h1_astro": (t, rng.uniform(0, 1, (len(t), n_cells)), "uM")}
    return SpikeRecord(spikes, pops, 0, n_slots * T, slots, np.arange(n_slots), traces)


def test_two_million_spikes_render_fast(tmp_path):
    record = _record(2_000_000)
    start = time.perf_counter()
    raster_figure(str(tmp_path / "big.png"), record)
    elapsed = time.perf_counter() - start
    assert (tmp_path / "big.png").stat().st_size > 1000
    assert elapsed < 10, f"{elapsed:.1f} s for 2 million spikes"


def test_panel_is_an_image_above_the_cap():
    import matplotlib.pyplot as plt

    record = _record(5000)
    fig, (a, b) = plt.subplots(2)
    assert raster_panel(a, record, ["h1", "h1_I"], cap=4999) and len(a.images) == 1
    assert not raster_panel(b, record, ["h1", "h1_I"], cap=5000) and not b.images
    plt.close(fig)


def _refused(args, capsys, out):
    assert main(["inspect", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert not out.exists()
    return err


def test_bad_input_errors(tmp_path, capsys):
    out = tmp_path / "never"
    assert "no run directory" in _refused([str(tmp_path / "absent")], capsys, out)
    run = tmp_path / "run"
    run.mkdir()
    assert "--record" in _refused([str(run)], capsys, out)
    save_spikes(str(run / "spikes.npz"), _record(1000))
    err = _refused([str(run), "--layer", "h3"], capsys, out)
    assert "unknown layer 'h3'" in err and "h1" in err
    assert "from < to" in _refused([str(run), "--from", "2", "--to", "1"], capsys, out)
    assert "from < to" in _refused([str(run), "--from", "1 s", "--to", "1000 ms"], capsys, out)
    assert "<= 10 s" in _refused([str(run), "--to", "11"], capsys, out)
    assert "give seconds" in _refused([str(run), "--from", "1 min"], capsys, out)
    assert parse_time("200 ms") == pytest.approx(0.2) and parse_time("0.5 s") == 0.5 and parse_time("2") == 2.0
