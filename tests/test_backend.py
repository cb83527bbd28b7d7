"""Standalone build directories: reused per model structure, never shared by two runs at once."""

import os

import pytest

from koo_spiking import backend


def test_same_structure_reuses_its_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("KOO_BUILD_CACHE", str(tmp_path / "cache"))
    with backend.build_directory("net A") as first:
        pass
    with backend.build_directory("net A") as again, backend.build_directory("net B") as other:
        assert again == first
        assert other != first
    assert first.startswith(str(tmp_path / "cache"))


def test_a_directory_in_use_is_not_handed_out_twice(tmp_path, monkeypatch):
    monkeypatch.setenv("KOO_BUILD_CACHE", str(tmp_path / "cache"))
    with backend.build_directory("net A") as held, backend.build_directory("net A") as second:
        assert second != held and not second.startswith(str(tmp_path / "cache"))
    assert not os.path.exists(second)  # the fallback build is removed after use
    with backend.build_directory("net A") as after:
        assert after == held  # released again


def test_cache_can_be_switched_off_and_fresh_directories_are_removed(monkeypatch):
    import os

    monkeypatch.setenv("KOO_BUILD_CACHE", "off")
    with backend.build_directory("net A") as a, backend.build_directory("net A") as b:
        assert a != b and os.path.isdir(a) and os.path.isdir(b)
    assert not os.path.exists(a) and not os.path.exists(b)  # temporary builds do not pile up
    with backend.backend("cpp_standalone") as made:
        assert os.path.isdir(made)
    assert not os.path.exists(made)


def _spikes(directory):
    import numpy as np
    from brian2 import Hz, NeuronGroup, PoissonGroup, SpikeMonitor, Synapses, ms, run, start_scope

    with backend.backend("cpp_standalone", directory=directory):
        start_scope()
        backend.seed(5)
        inputs = PoissonGroup(20, 40 * Hz)
        cells = NeuronGroup(10, "dv/dt = -v/(10*ms) : 1", threshold="v > 1", reset="v = 0", method="exact")
        syn = Synapses(inputs, cells, on_pre="v_post += 0.3")
        syn.connect(p=0.5)
        mon = SpikeMonitor(cells)
        run(500 * ms)
        return np.asarray(mon.i[:]), np.asarray(mon.t[:] / ms)


@pytest.mark.skipif(backend._gcc() is None, reason="precompiled headers are used with GCC only")
def test_precompiled_header_is_passed_and_changes_no_spike(tmp_path, monkeypatch):
    import os

    import brian2
    import numpy as np
    from brian2.codegen.cpp_prefs import get_compiler_and_args

    monkeypatch.setenv("KOO_BUILD_CACHE", str(tmp_path / "cache" / "standalone"))
    monkeypatch.delenv("KOO_OPTIMIZE", raising=False)  # Brian2's flags as they are, plus the header
    monkeypatch.setattr(backend, "_pch", {})
    before = list(brian2.prefs.codegen.cpp.extra_compile_args_gcc)
    with backend.backend("cpp_standalone", directory=str(tmp_path / "a")):
        flags = list(brian2.prefs.codegen.cpp.extra_compile_args_gcc)
        used = get_compiler_and_args()[1]  # the flags Brian2 will write into the makefile
    assert flags[:-1] == before and used == flags
    assert flags[-1].startswith("-include" + str(tmp_path / "cache" / "pch"))
    assert os.path.exists(flags[-1][len("-include") :] + ".gch")
    assert list(brian2.prefs.codegen.cpp.extra_compile_args_gcc) == before  # restored
    with_pch = _spikes(str(tmp_path / "b"))
    monkeypatch.setenv("KOO_PCH", "off")
    without = _spikes(str(tmp_path / "c"))
    assert len(with_pch[0]) > 50
    np.testing.assert_array_equal(with_pch[0], without[0])
    np.testing.assert_array_equal(with_pch[1], without[1])


def test_cache_keeps_the_most_recently_used_projects(tmp_path, monkeypatch):
    monkeypatch.setenv("KOO_BUILD_CACHE", str(tmp_path))
    monkeypatch.setenv("KOO_BUILD_CACHE_KEEP", "3")
    used = {}

    def use(k):
        with backend.build_directory(f"structure {k}") as d:
            os.makedirs(d, exist_ok=True)
            used[k] = d

    def kept():
        return {k for k, d in used.items() if os.path.isdir(d)}

    for k in range(5):
        use(k)
    assert kept() == {2, 3, 4}
    use(2)  # used again: now the most recent
    use(5)
    assert kept() == {2, 4, 5}
    with backend.build_directory("structure 2"):  # a project in use is never removed
        monkeypatch.setenv("KOO_BUILD_CACHE_KEEP", "1")
        use(6)
        assert kept() == {2, 6}
    monkeypatch.setenv("KOO_BUILD_CACHE_KEEP", "none")
    with pytest.raises(ValueError, match="KOO_BUILD_CACHE_KEEP"):
        with backend.build_directory("structure 9"):
            pass
