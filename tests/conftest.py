"""Shared fixtures: every model test runs under cython and cpp_standalone."""
import brian2
import pytest

from koo_spiking import backend

brian2.prefs.logging.console_log_level = "ERROR"


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
