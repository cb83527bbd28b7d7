"""The demo command writes its figures and a consistent summary; bad input fails cleanly."""
import json
import os
import subprocess
import sys

import pytest

from koo_spiking.cli import main


def test_demo_writes_outputs(tmp_path):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--images", "6", "--seed", "3"]) == 0
    for name in ("raster.png", "astrocytes.png", "summary.json"):
        assert (out / name).stat().st_size > 1000 or name == "summary.json"
    s = json.loads((out / "summary.json").read_text())
    dur = s["simulated_s"]
    assert dur == pytest.approx(6 * 0.2)
    for pop in ("input", "E", "I"):
        n = s["populations"][pop]
        assert s["rates_hz"][pop] == pytest.approx(s["spikes"][pop] / (n * dur))
    assert s["spikes"]["E"] > 0 and s["spikes"]["I"] > 0
    assert 0 <= s["astrocytes"]["mean_gate"] <= 1
    assert s["weights_input_to_E"]["mean_before"] > 0


def test_demo_is_deterministic(tmp_path):
    a = main(["demo", "--out", str(tmp_path / "a"), "--images", "3", "--seed", "5"])
    b = main(["demo", "--out", str(tmp_path / "b"), "--images", "3", "--seed", "5"])
    assert a == b == 0
    sa = json.loads((tmp_path / "a" / "summary.json").read_text())
    sb = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert sa["spikes"] == sb["spikes"] and sa["weights_input_to_E"] == sb["weights_input_to_E"]


def test_bad_arguments_exit_nonzero_and_write_nothing(tmp_path):
    out = tmp_path / "bad"
    proc = subprocess.run([sys.executable, "-m", "koo_spiking.cli", "demo", "--out", str(out),
                           "--images", "0"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "--images must be a positive integer" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not os.path.exists(out)
    proc = subprocess.run([sys.executable, "-m", "koo_spiking.cli", "demo", "--backend", "cuda"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "cuda" in proc.stderr
