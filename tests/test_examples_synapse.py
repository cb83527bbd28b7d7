"""The synapse examples reproduce Brian2's published examples.

The reference numbers in ``tests/reference/song2000_tpm1998.json`` were written by
``tests/reference/song2000_tpm1998_reference.py``, which runs Brian2's own
``examples/synapses/STDP.py`` and ``examples/frompapers/Tsodyks_Pawelzik_Markram_1998.py``
(the command, Brian2 version and examples' commit are recorded in the JSON).

The STDP protocol runs 100 s of simulated time, about two minutes with cython on the test
machine. The bit-for-bit test (same target and seed as the reference) runs 20 s, a duration the
reference script also ran (``--stdp-durations 100 20``) with the published parameters otherwise
unchanged; the statistics test runs the published 100 s under cpp_standalone (about 45 s with
compilation) and compares the fractions of weights near 0 and near w_max within 4 % of the
published example's.
"""

import importlib.util
import json
import pathlib

import numpy as np
import pytest
from brian2 import second

ROOT = pathlib.Path(__file__).resolve().parents[1]
REFERENCE = json.loads((ROOT / "tests" / "reference" / "song2000_tpm1998.json").read_text())
STDP_TEST_DURATION_S = 20.0


def _example(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def song():
    return _example("song_miller_abbott_2000")


@pytest.fixture(scope="module")
def tpm():
    return _example("tsodyks_pawelzik_markram_1998")


def _stdp_reference(duration_s):
    return next(run for run in REFERENCE["stdp"]["runs"] if run["duration_s"] == duration_s)


def test_song2000_brian2_compatible_weights_are_identical(song):
    # same seed, same target, v starting at 0 mV and the pre-update weight transmitted
    ref = _stdp_reference(STDP_TEST_DURATION_S)
    result = song.run(
        STDP_TEST_DURATION_S * second, seed=ref["seed"], brian2_compatible=True, target=REFERENCE["target"]
    )
    np.testing.assert_array_equal(result["w"], np.array(ref["w"]))


@pytest.mark.cpp_standalone
def test_song2000_weight_fractions_match(song):
    # the library's defaults (v from rest, post-update weight transmitted), the published 100 s:
    # the bimodal weight distribution agrees within 4 % (measured: 0.231 / 0.183 against 0.234 / 0.185)
    ref = _stdp_reference(100.0)
    assert song.NEAR == REFERENCE["near"]
    result = song.run(100.0 * second, seed=ref["seed"], target="cpp_standalone")
    for key in ("fraction_near_0", "fraction_near_w_max"):
        assert result[key] == pytest.approx(ref[key], rel=0.04), (key, result[key], ref[key])
    assert not np.array_equal(result["w"], np.array(ref["w"]))  # a different run, not a copy


@pytest.mark.parametrize("panel", ["A", "B", "C"])
def test_tpm1998_epsp_peaks_match(tpm, panel):
    ref = REFERENCE["tpm1998"]["panels"][panel]
    result = tpm.run_panel(panel)
    np.testing.assert_allclose(result["spike_times_ms"], ref["spike_times_ms"], rtol=1e-12)
    assert len(result["epsp_peaks_mV"]) == len(ref["epsp_peaks_mV"]) == 20
    np.testing.assert_allclose(result["epsp_peaks_mV"], ref["epsp_peaks_mV"], rtol=0.004)  # the target
    np.testing.assert_allclose(result["epsp_peaks_mV"], ref["epsp_peaks_mV"], rtol=5e-4)  # achieved: < 0.032 %
