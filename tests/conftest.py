"""Shared fixtures: every model test runs under cython and cpp_standalone."""
import contextlib
import os

import brian2
import pytest

from koo_spiking import backend

brian2.prefs.logging.console_log_level = "ERROR"
# standalone builds of the tests at -O1: the same spikes as -O3 on the README's small run, compiled
# faster (fixtures of short runs go down to -O0); a value set by the caller stays
os.environ.setdefault("KOO_OPTIMIZE", "1")


@contextlib.contextmanager
def optimize(level):
    """``KOO_OPTIMIZE=level`` inside the block (worker processes inherit it), the previous value after."""
    previous = os.environ.get("KOO_OPTIMIZE")
    os.environ["KOO_OPTIMIZE"] = level
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("KOO_OPTIMIZE", None)
        else:
            os.environ["KOO_OPTIMIZE"] = previous


@pytest.fixture(scope="module")
def unoptimized():
    """``KOO_OPTIMIZE=0`` for a module of short standalone runs (compiled fast), the previous level after."""
    with optimize("0"):
        yield


@pytest.fixture(params=[pytest.param("cython", marks=pytest.mark.cython),
                        pytest.param("cpp_standalone", marks=pytest.mark.cpp_standalone)])
def target(request, tmp_path):
    """Code-generation target for the test; standalone builds go to tmp_path."""
    with backend.backend(request.param, directory=str(tmp_path / "standalone")):
        brian2.start_scope()
        backend.seed(1234)
        yield request.param


def _runtime(target):
    with backend.backend(target):
        brian2.start_scope()
        backend.seed(1234)
        yield target


@pytest.fixture
def cython_only():
    """Runtime target for tests that need Python access between runs."""
    yield from _runtime("cython")


@pytest.fixture
def numpy_target():
    """Runtime numpy target: no compilation, for short protocols that need Python between runs."""
    yield from _runtime("numpy")


@pytest.fixture(scope="session")
def small_run(tmp_path_factory):
    """The README's quick command (models/koo_small.toml) at 400 training images, seed 2, run once
    through the CLI and shared: the train-CLI test checks it, notebook 02 displays it, the inspection and
    export tests read its spikes (all 100 test images recorded)."""
    from pathlib import Path

    from koo_spiking.cli import main

    out = tmp_path_factory.mktemp("small_run") / "run"
    spec = Path(__file__).parents[1] / "models" / "koo_small.toml"
    code = main(["train", str(spec), "--train-samples", "400", "--test-samples", "100", "--seed", "2",
                 "--record", "100", "--out", str(out)])
    return code, out


@pytest.fixture(scope="session")
def small_ablation(tmp_path_factory):
    """A tiny ablation (small spec, 2 seeds, the full model, no astrocytes and the minimal core, 60 training
    images), run once through the CLI and shared: the ablation test checks it, notebook 03 plots it."""
    from pathlib import Path

    from koo_spiking.cli import main

    out = tmp_path_factory.mktemp("ablation") / "run"
    spec = Path(__file__).parents[1] / "models" / "koo_small.toml"
    with optimize("0"):  # short runs: compile fast (the workers inherit it)
        code = main(["ablate", str(spec), "--seeds", "2", "--train-samples", "60", "--test-samples", "20",
                     "--variants", "no_astrocytes,minimal", "--workers", "2", "--out", str(out)])
    return code, out


@pytest.fixture(scope="session")
def small_protocol(tmp_path_factory):
    """The repeated protocol (10 switches of the digits' class halves) on the small spec, 120 training
    images, run once through the CLI and shared: the plasticity tests check it, notebook 04 plots it."""
    from pathlib import Path

    from koo_spiking.cli import main

    out = tmp_path_factory.mktemp("plasticity") / "run"
    spec = Path(__file__).parents[1] / "models" / "koo_small.toml"
    with optimize("0"):  # a short run: compile fast
        code = main(["plasticity", str(spec), "--protocol", "repeated", "--rate", "0.3", "--train-samples", "120",
                     "--test-samples", "40", "--eval-every", "20", "--eval-images", "10", "--out", str(out)])
    return code, out
