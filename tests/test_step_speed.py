"""The step patches of the generated project (``koo_spiking.build``, issue 26): each applies to what Brian2
generates, each switch leaves Brian2's code as it is, and the patched binary computes bit for bit what
Brian2's does (also at -O3: ``tests/test_identical_spikes.py`` checks the encoder at -O1)."""

import os
import re

import numpy as np
import pytest

from koo_spiking import backend
from koo_spiking import build as patches

SWITCHES = (patches.NETWORK, patches.TANH_GATE, patches.RESET_SKIP, patches.PEEK)


def _model():
    """Astrocytes with the exogenous flow off (the tanh gate) and grid coupling, LIF cells whose reset has a
    scalar sin/cos (the idle reset), on two clocks (the scheduler)."""
    from brian2 import Hz, NeuronGroup, PoissonGroup, SpikeMonitor, StateMonitor, Synapses, ms

    from koo_spiking import astrocyte

    inputs = PoissonGroup(20, 60 * Hz)
    cells = NeuronGroup(
        10,
        "dv/dt = -v/(10*ms) : 1\ncph : 1\nsph : 1",
        threshold="v > 1",
        reset="v = 0\ncph += cos(2*pi*t/(7*ms))\nsph += sin(2*pi*t/(7*ms))",
        method="exact",
    )
    syn = Synapses(inputs, cells, on_pre="v_post += 0.3")
    syn.connect(p=0.5)
    astro = astrocyte.astrocyte_group(16, dt=2 * ms, preset="single")
    astro.I = "0.1*umolar*i"
    gap = astrocyte.couple(astro, "grid")
    return [inputs, cells, syn, astro, gap], SpikeMonitor(cells), StateMonitor(astro, "I", record=True)


def _run(directory, monkeypatch, off=(), level="3"):
    from brian2 import Network, ms

    for switch in SWITCHES:
        monkeypatch.delenv(switch, raising=False)
    for switch in off:
        monkeypatch.setenv(switch, "off")
    monkeypatch.setenv("KOO_OPTIMIZE", level)
    with backend.backend("cpp_standalone", directory=directory):
        backend.seed(3)
        objects, spikes, state = _model()
        net = Network(*objects, spikes, state)
        net.run(300 * ms)
        cells = next(o for o in objects if getattr(o, "name", "").startswith("neurongroup"))
        with open(os.path.join(directory, "koo.mk")) as fh:
            sources = re.search(r"^SRCS = (.*)$", fh.read(), re.M).group(1).split()
        return {
            "i": np.asarray(spikes.i[:]),
            "t": np.asarray(spikes.t_[:]),
            "I": np.asarray(state.I_[:]),
            "cph": np.asarray(cells.cph[:]),
            "sph": np.asarray(cells.sph[:]),
            "sources": sources,
        }


@pytest.mark.cpp_standalone
def test_patches_apply_and_change_no_bit(tmp_path, monkeypatch):
    monkeypatch.setenv("KOO_BUILD_CACHE", "off")
    on = _run(str(tmp_path / "on"), monkeypatch)
    off = _run(str(tmp_path / "off"), monkeypatch, off=SWITCHES)
    patched = [s for s in on["sources"] if os.path.basename(s).startswith("_koo_")]
    assert "koo_network.cpp" in on["sources"] and "network.cpp" not in on["sources"]

    # Brian2 numbers a code object's name (``..._codeobject_1``) while an older object of that name is alive
    # in the process (an earlier test's): match the kind with its optional number
    def kind(name):
        return any(re.search(rf"_{name}_codeobject(_\d+)?\.cpp$", s) for s in patched)

    assert kind("stateupdater"), patched  # the astrocytes' tanh
    assert kind("resetter"), patched  # the idle reset
    one = patches.one_thread(str(tmp_path / "on"))
    assert kind("pre"), (patched, one)  # the spike queue read without a copy
    assert not any(os.path.basename(s).startswith("_koo_") for s in off["sources"])
    assert len(on["i"]) > 20 and np.ptp(on["cph"]) > 0
    for key in ("i", "t", "I", "cph", "sph"):
        assert on[key].tobytes() == off[key].tobytes(), key  # bit for bit


@pytest.mark.parametrize("switch", SWITCHES)
def test_each_switch_turns_its_patch_off(tmp_path, monkeypatch, switch):
    (tmp_path / "code_objects").mkdir()
    (tmp_path / "network.cpp").write_text(NETWORK)
    (tmp_path / "code_objects" / "a_stateupdater_codeobject.cpp").write_text(TANH)
    (tmp_path / "code_objects" / "g_spike_resetter_codeobject.cpp").write_text(RESET)
    (tmp_path / "code_objects" / "s_pre_codeobject.cpp").write_text(PEEK)
    (tmp_path / "synapses_classes.h").write_text(PATHWAY)
    sources = [
        "network.cpp",
        "code_objects/a_stateupdater_codeobject.cpp",
        "code_objects/g_spike_resetter_codeobject.cpp",
        "code_objects/s_pre_codeobject.cpp",
    ]
    for s in SWITCHES:
        monkeypatch.delenv(s, raising=False)
    assert patches.patch_network(str(tmp_path)) == "koo_network.cpp"
    assert set(patches.patch_code_objects(str(tmp_path), sources)) == set(sources[1:])
    monkeypatch.setenv(switch, "off")
    network = patches.patch_network(str(tmp_path))
    patched = patches.patch_code_objects(str(tmp_path), sources)
    assert (network is None) == (switch == patches.NETWORK)
    assert ("code_objects/a_stateupdater_codeobject.cpp" not in patched) == (switch == patches.TANH_GATE)
    assert ("code_objects/g_spike_resetter_codeobject.cpp" not in patched) == (switch == patches.RESET_SKIP)
    assert ("code_objects/s_pre_codeobject.cpp" not in patched) == (switch == patches.PEEK)


def test_spike_queue_is_read_without_a_copy_only_with_one_thread(tmp_path):
    text = patches.peek_text(PEEK)
    assert "std::vector<int> *_spiking_synapses = s_pre.queue[0]->peek();" in text
    (tmp_path / "synapses_classes.h").write_text(PATHWAY)
    assert patches.one_thread(str(tmp_path))
    (tmp_path / "synapses_classes.h").write_text(PATHWAY.replace("_thread < 1;", "_thread < 2;"))  # OpenMP
    assert not patches.one_thread(str(tmp_path))
    assert patches.patch_code_objects(str(tmp_path), []) == {}


def test_tanh_gate_is_a_call_on_the_factor():
    text = patches.tanh_text(TANH)
    assert "(ex_on * (1.0 + _koo_gated_tanh(ex_on, _lio_8 * (_lio_9 + _brian_abs(I)))))" in text
    assert "__attribute__((noinline))" in text  # inlined, -ffast-math sums the terms around it in another order
    assert patches.tanh_text(TANH.replace("ex_on * (1.0 + tanh(", "_lio_1 * ((1.0 + tanh(")) is None


def test_reset_returns_early_only_without_side_effects():
    text = patches.reset_text(RESET)
    assert "const int32_t _num_events = _ptr_array_g__spikespace[N];\n    if (_num_events == 0) return;" in text
    drawn = RESET.replace("const double _lio_1 = cos(t);", "const double _lio_1 = _rand(_vectorisation_idx);")
    assert patches.reset_text(drawn) is None  # a random number drawn in the scalar code: the step needs it
    written = RESET.replace("const double _lio_1 = cos(t);", "const double _lio_1 = cos(t);\n _ptr_array_g_x[0] = 1;")
    assert patches.reset_text(written) is None


def test_network_patch_keeps_brian2s_loop_for_reports_and_time_limits():
    text = patches.network_text(NETWORK)
    assert text.count("while(clock && clock->running()") == 2  # the fast loop, and Brian2's after `else`
    assert "if (!report_func && !clocks.empty() && clocks.size() <= 64)" in text
    fast = text[text.index("if (!report_func") : text.index("    else\n")]
    assert fast.count("std::clock()") == 1 and "curclocks.find(obj_clock)" not in fast
    assert (
        patches.network_text(
            NETWORK.replace(
                "    }\n    Network::_globally_running",
                "        did_break_early = true;\n    }\n    Network::_globally_running",
            )
        )
        is None
    )


NETWORK = """#include "network.h"
#include<stdlib.h>
#include<iostream>
#include <ctime>
#include<utility>

void Network::run(const double duration, void (*report_func)(const double, const double, const double, const double), const double report_period)
{
    std::clock_t start, current;
    Clock* clock = next_clocks();
    double elapsed_realtime;
    Network::_globally_running = true;
    while(clock && clock->running() && !Network::_globally_stopped)
    {
        t = clock->t[0];
        for(size_t i=0; i<objects.size(); i++)
        {
            Clock *obj_clock = objects[i].first;
            if (curclocks.find(obj_clock) != curclocks.end())
            {
                codeobj_func func = objects[i].second;
                if (func)
                    func();
            }
        }
        clock = next_clocks();
        current = std::clock();
        elapsed_realtime = (double)(current - start)/(1 * CLOCKS_PER_SEC);
    }
    Network::_globally_running = false;
}
"""

TANH = """////// SUPPORT CODE ///////
namespace {
}
void _run_a_stateupdater_codeobject()
{
    const double __k_1_I = dt * (J - ((_lio_7 * ((ex_on * (1.0 + tanh(_lio_8 * (_lio_9 + _brian_abs(I))))) * _sign(I))) + I));
}
"""

PEEK = """void _run_s_pre_codeobject()
{
    std::vector<int> *_spiking_synapses = s_pre.peek();
    const int _num_spiking_synapses = _spiking_synapses->size();
}
"""

PATHWAY = """class SynapticPathway
{
public:
    std::vector<int> all_peek;
    std::vector< CSpikeQueue * > queue;
    vector<int32_t>* peek()
    {
        for(int _thread=0; _thread < 1; _thread++)
        {
            if (_thread == 0)
                all_peek.clear();
            all_peek.insert(all_peek.end(), queue[_thread]->peek()->begin(), queue[_thread]->peek()->end());
        }
        return &all_peek;
    }
};
"""

RESET = """////// SUPPORT CODE ///////
namespace {
}
void _run_g_spike_resetter_codeobject()
{
	const int32_t *_events = _ptr_array_g__spikespace;
	const int32_t _num_events = _ptr_array_g__spikespace[N];

	//// MAIN CODE ////////////
	// scalar code
	const size_t _vectorisation_idx = -1;

 const double t = _ptr_array_defaultclock_t[0];
 const double _lio_1 = cos(t);


	for(int32_t _index_events=0; _index_events<_num_events; _index_events++)
	{
        const size_t _idx = _events[_index_events];
        _ptr_array_g_c[_idx] += _lio_1;
	}
}
"""


def _halved(directory, monkeypatch, ftz):
    from brian2 import NeuronGroup, ms, run

    if ftz:
        monkeypatch.delenv("KOO_FTZ", raising=False)
    else:
        monkeypatch.setenv("KOO_FTZ", "off")
    monkeypatch.setenv("KOO_OPTIMIZE", "1")
    with backend.backend("cpp_standalone", directory=directory):
        group = NeuronGroup(1, "x : 1")
        group.x = 1e-305
        group.run_regularly("x = x * 0.5", dt=0.1 * ms)
        run(3 * ms)  # 30 halvings: 9.3e-315 without flush-to-zero, a denormal number
        return float(group.x[0])


@pytest.mark.cpp_standalone
def test_flush_to_zero_is_set_when_the_binary_runs(tmp_path, monkeypatch):
    """The binary linked with -ffast-math (crtfastmath.o) runs with FTZ/DAZ: a number halved below 2.2e-308 is 0;
    with ``KOO_FTZ=off`` it is the denormal number."""
    monkeypatch.setenv("KOO_BUILD_CACHE", "off")
    assert _halved(str(tmp_path / "ftz"), monkeypatch, ftz=True) == 0.0
    kept = _halved(str(tmp_path / "denormal"), monkeypatch, ftz=False)
    assert 0.0 < kept < 2.2e-308  # (halving a denormal number rounds: not 1e-305*0.5**30 exactly)
