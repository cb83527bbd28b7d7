"""Shared fixtures: every model test runs under cython and cpp_standalone.

The suite runs on two pytest-xdist workers (``addopts`` in setup.cfg), a module per worker at a time
(``--dist loadscope``, so a module's fixtures are made once). The session fixtures that run a study are
made once for the whole run (:func:`_once`): the first worker to need one runs it, the others wait for
it and read the same folder.
"""

import contextlib
import fcntl
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


@pytest.fixture(
    params=[
        pytest.param("cython", marks=pytest.mark.cython),
        pytest.param("cpp_standalone", marks=pytest.mark.cpp_standalone),
    ]
)
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


def _once(tmp_path_factory, name, make):
    """``(exit code, folder)`` of ``make(folder)``, run once per test session across xdist workers.

    The folder lies under the session's shared temporary root; a lock file serialises the workers and a
    ``code`` file holds the exit code of the run that made it (a failed run is not repeated).
    """
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # shared by the workers of this run
    home = root / f"shared_{name}"
    with open(root / f"shared_{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = home / "code"
        if not done.exists():
            home.mkdir(exist_ok=True)
            done.write_text(str(make(home / "run")))
    return int(done.read_text()), home / "run"


@pytest.fixture(scope="session")
def small_run(tmp_path_factory):
    """The README's quick command (models/koo_small.toml) at 400 training images, seed 2, run once
    through the CLI and shared: the train-CLI test checks it, notebook 02 displays it, the inspection and
    export tests read its spikes (all 100 test images recorded)."""
    from pathlib import Path

    from koo_spiking.cli import main

    spec = Path(__file__).parents[1] / "models" / "koo_small.toml"
    return _once(
        tmp_path_factory,
        "small_run",
        lambda out: main(
            [
                "train",
                str(spec),
                "--train-samples",
                "400",
                "--test-samples",
                "100",
                "--seed",
                "2",
                "--record",
                "100",
                "--out",
                str(out),
            ]
        ),
    )


@pytest.fixture(scope="session")
def small_ablation(tmp_path_factory):
    """A tiny ablation (small spec, 2 seeds, the full model, no astrocytes and the minimal core, 60 training
    images), run once through the CLI and shared: the ablation test checks it, notebook 03 plots it."""
    from pathlib import Path

    from koo_spiking.cli import main

    spec = Path(__file__).parents[1] / "models" / "koo_small.toml"

    def make(out):
        with optimize("0"):  # short runs: compile fast (the workers inherit it)
            return main(
                [
                    "ablate",
                    str(spec),
                    "--seeds",
                    "2",
                    "--train-samples",
                    "60",
                    "--test-samples",
                    "20",
                    "--variants",
                    "no_astrocytes,minimal",
                    "--workers",
                    "2",
                    "--out",
                    str(out),
                ]
            )

    return _once(tmp_path_factory, "small_ablation", make)


@pytest.fixture(scope="session")
def small_protocol(tmp_path_factory):
    """The repeated protocol (10 switches of the digits' class halves) on the small spec, 120 training
    images, run once through the CLI and shared: the plasticity tests check it, notebook 04 plots it."""
    from pathlib import Path

    from koo_spiking.cli import main

    spec = Path(__file__).parents[1] / "models" / "koo_small.toml"

    def make(out):
        with optimize("0"):  # a short run: compile fast
            return main(
                [
                    "plasticity",
                    str(spec),
                    "--protocol",
                    "repeated",
                    "--rate",
                    "0.3",
                    "--train-samples",
                    "120",
                    "--test-samples",
                    "40",
                    "--eval-every",
                    "20",
                    "--eval-images",
                    "10",
                    "--out",
                    str(out),
                ]
            )

    return _once(tmp_path_factory, "small_protocol", make)
