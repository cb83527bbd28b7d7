"""The build and step optimisations of issue 26 leave the model's spikes and learned weights bit-identical.

A short training run of the small spec (``models/koo_small.toml``, 12 digits, raster of the last 4
slots: the split run), once with the default features and once with every feature on, compiled with
``cpp_standalone`` at -O1. Its fingerprint (SHA-256 of every layer's spike counts, the raster's spikes
and every learned weight and state variable, bit for bit) is compared with the one committed in
``tests/reference/identical_spikes.json``, produced by the code before the optimisations (23d3e4c:
Brian2's own makefile, one clock per object, denormal numbers kept). The recorded dopamine, which the
flush-to-zero of denormal numbers may change below 2.2e-308, is fingerprinted apart and not compared.

Regenerate the reference (only when the model's meaning changed on purpose):
``python tests/test_identical_spikes.py --write``.
"""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REFERENCE = Path(__file__).parent / "reference" / "identical_spikes.json"
SPEC = Path(__file__).parents[1] / "models" / "koo_small.toml"
CASES = {"default": {}, "all_features": {"stdp": True, "short_term": True, "structural": True}}
N_IMAGES, RASTER, SEED, LEVEL = 12, 4, 5, "1"


def _digest(arrays):
    h = hashlib.sha256()
    for key in sorted(arrays):
        a = np.ascontiguousarray(arrays[key])
        h.update(key.encode())
        h.update(str(a.dtype).encode() + str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _compiler():
    try:
        return subprocess.run(
            [os.environ.get("CXX") or "g++", "--version"], capture_output=True, text=True, timeout=30
        ).stdout.splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return None


def fingerprint(case):
    """SHA-256 digests of one short training run (spikes, weights, dopamine apart) and spike totals."""
    from koo_spiking import KooEncoder
    from koo_spiking.encoder.estimator import training_schedule
    from koo_spiking.io.datasets import load_dataset

    data = load_dataset("digits", train_samples=N_IMAGES, test_samples=4, seed=0)
    X = data["X_train"]
    enc = KooEncoder(spec=str(SPEC), features=CASES[case], backend="cpp_standalone", seed=SEED)
    spec = enc._resolved_spec()
    enc.spec_ = spec
    enc.input_stats_ = enc._input_stats(X, spec)
    order, schedule = training_schedule(len(X), spec, np.random.default_rng(SEED))
    previous = os.environ.get("KOO_OPTIMIZE")
    os.environ["KOO_OPTIMIZE"] = LEVEL
    try:
        out = enc.simulate(X[order], schedule, state={}, raster=RASTER)
    finally:
        if previous is None:
            os.environ.pop("KOO_OPTIMIZE", None)
        else:
            os.environ["KOO_OPTIMIZE"] = previous
    counts = {f"counts.{k}": np.asarray(v, np.int64) for k, v in out["counts"].items()}
    raster = {}
    for k, (i, t) in out["raster"].items():
        raster[f"raster.{k}.i"] = np.asarray(i, np.int64)
        raster[f"raster.{k}.t"] = np.asarray(t, np.float64)
    state = {f"state.{k}": np.asarray(v) for k, v in out["state"].items()}
    dopamine = {f"dop.{k}": np.asarray(v, np.float64) for k, v in out["dopamine"].items()}
    return {
        "spikes": _digest({**counts, **raster}),
        "weights": _digest(state),
        "dopamine": _digest(dopamine),
        "total_spikes": {k: int(v.sum()) for k, v in out["counts"].items()},
        "n_state": len(state),
    }


def _reference():
    return json.loads(REFERENCE.read_text())


@pytest.mark.cpp_standalone
@pytest.mark.parametrize("case", sorted(CASES))
def test_spikes_and_weights_match_the_reference(case):
    ref = _reference()
    if ref["compiler"] != _compiler():  # another compiler may round differently: nothing to compare
        pytest.skip(f"reference made with {ref['compiler']!r}, this compiler is {_compiler()!r}")
    got = fingerprint(case)
    want = ref["cases"][case]
    assert got["total_spikes"] == want["total_spikes"]
    assert got["n_state"] == want["n_state"]
    assert got["spikes"] == want["spikes"], "spikes changed"
    assert got["weights"] == want["weights"], "learned weights changed"


def test_the_fingerprint_sees_one_bit():
    """The digest changes with a single bit of one weight (the comparison above can fail)."""
    a = {"state.w": np.array([0.25, 0.5])}
    b = {"state.w": np.array([0.25, np.nextafter(0.5, 1.0)])}
    assert _digest(a) != _digest(b)
    assert _digest(a) == _digest({"state.w": np.array([0.25, 0.5])})


if __name__ == "__main__":
    if "--write" not in sys.argv:
        print(json.dumps({case: fingerprint(case) for case in sorted(CASES)}, indent=1))
        sys.exit(0)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=Path(__file__).parent
    ).stdout.strip()
    REFERENCE.write_text(
        json.dumps(
            {
                "commit": commit,
                "compiler": _compiler(),
                "optimize": LEVEL,
                "cases": {case: fingerprint(case) for case in sorted(CASES)},
            },
            indent=1,
        )
        + "\n"
    )
    print(REFERENCE.read_text())
