"""Astrocytes against Stimberg et al. (2019): single-cell oscillations and a front along a chain.

Reference values for the single cell are those of the chapter's published example 2
(Brian2's ``examples/frompapers/Stimberg_et_al_2018/example_2_gchi_astrocyte.py``, its
deterministic cell: synapse firing at 0.5 Hz, exogenous IP3 flow on, start at C = I = 0,
30 s, dt 1 ms), read from ``tests/reference/izhikevich2007_stimberg2018.json``, which
``tests/reference/izhikevich2007_stimberg2018_reference.py`` wrote by running it: Ca2+
peaks at 1.161 uM, IP3 at 2.259 uM, and Ca2+ rises three times through its mid-level.
"""

import json
import os

import numpy as np
import pytest
from brian2 import Network, NeuronGroup, SpikeGeneratorGroup, StateMonitor, ms, second, umolar
from brian2.utils.logger import catch_logs

from koo_spiking.astrocyte import astrocyte_group, couple, drive_from_neurons, topology_pairs

with open(os.path.join(os.path.dirname(__file__), "reference", "izhikevich2007_stimberg2018.json")) as _f:
    PUBLISHED = json.load(_f)["stimberg2018_example2"]["deterministic"]
REF_C_MAX, REF_I_MAX, REF_GAMMA_MAX = PUBLISHED["C_max_uM"], PUBLISHED["I_max_uM"], PUBLISHED["Gamma_A_max"]
REF_PEAKS = PUBLISHED["C_crossings_s"]


def _crossings(x, t, level):
    up = np.nonzero((x[1:] >= level) & (x[:-1] < level))[0]
    return t[up + 1]


def _published_protocol(astro_dt, neuron_dt, **kw):
    """The example's dummy source (0.5 Hz, reset to 0) driving one example-2 astrocyte for 30 s."""
    source = NeuronGroup(1, "dx/dt = 0.5*Hz : 1", threshold="x > 1", reset="x = 0", method="euler", dt=neuron_dt)
    astro = astrocyte_group(1, dt=astro_dt, preset="example2", **kw)
    drive = drive_from_neurons(source, astro)
    mon = StateMonitor(astro, ["C", "I", "Gamma_A"], record=0, dt=astro_dt)
    with catch_logs() as logs:
        Network(source, astro, drive, mon).run(30 * second)
    c, t = mon.C[0] / umolar, mon.t / second
    return c, t, mon, [name for _, name, _ in logs]


def test_single_astrocyte_matches_stimberg_example(target):
    # the published protocol: everything on a 1 ms clock, kinetic glutamate, forward Euler
    # (the published cell is integrated by Milstein without noise: forward Euler); the same numbers
    c, t, mon, _ = _published_protocol(1 * ms, 1 * ms, method="euler")
    assert c.max() == pytest.approx(REF_C_MAX, rel=1e-6)
    assert (mon.I[0] / umolar).max() == pytest.approx(REF_I_MAX, rel=1e-6)
    assert mon.Gamma_A[0].max() == pytest.approx(REF_GAMMA_MAX, rel=1e-6)
    peaks = _crossings(c, t, 0.5 * (c.max() + c.min()))
    assert len(peaks) == len(REF_PEAKS) == 3
    np.testing.assert_allclose(peaks, REF_PEAKS, atol=1e-6)
    np.testing.assert_allclose(c[::100], PUBLISHED["C_every_100ms_uM"], rtol=0, atol=1e-6)


def test_fast_astrocyte_on_its_coarse_clock(cython_only, record_property):
    # the library's fast form: closed-form glutamate pulses, rk4 on the documented 10 ms clock,
    # driven by neurons on the default 0.1 ms clock, without any synapses_dt_mismatch warning
    c, t, mon, logs = _published_protocol(10 * ms, 0.1 * ms, glutamate="pulse")
    assert not [name for name in logs if "dt_mismatch" in name]
    record_property("C_max_rel_err", float(c.max() / REF_C_MAX - 1))
    assert abs(c.max() - REF_C_MAX) < 0.015 * REF_C_MAX  # measured -0.95 %
    assert abs((mon.I[0] / umolar).max() - REF_I_MAX) < 0.03 * REF_I_MAX  # measured -2.2 %
    peaks = _crossings(c, t, 0.5 * (c.max() + c.min()))
    assert len(peaks) == 3
    np.testing.assert_allclose(peaks, REF_PEAKS, atol=0.3)


def test_start_state_and_exogenous_flow_are_explicit(cython_only):
    default, published = astrocyte_group(2), astrocyte_group(2, preset="example2")
    assert np.allclose(default.C / umolar, 0.05) and np.allclose(default.I / umolar, 0.05)
    assert np.all(default.ex_on == 0) and "Y_S" not in default.variables
    assert np.all(published.C == 0) and np.all(published.I == 0) and np.all(published.ex_on == 1)
    assert np.allclose(published.h, 0.9) and "Y_S" in published.variables  # kinetic glutamate
    custom = astrocyte_group(1, preset="example2", exogenous=False, start={"C": 0.1 * umolar}, glutamate="pulse")
    assert custom.ex_on[0] == 0 and float(custom.C[0] / umolar) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="start variable"):
        astrocyte_group(1, start={"Ca": 0 * umolar})


def test_one_neuron_drives_two_astrocytes(cython_only):
    # neuron 0 -> astrocytes 0 and 1, neuron 1 -> astrocyte 1; astrocyte 2 by a connect condition
    spikes = SpikeGeneratorGroup(2, [0, 1], [5.05, 5.05] * ms)
    astro = astrocyte_group(3, dt=10 * ms, preset="single", Omega_N=1e-9 / second)  # ~no inactivation
    pairs = drive_from_neurons(spikes, astro, i=[0, 0, 1], j=[0, 1, 1])
    by_condition = drive_from_neurons(spikes, astro, condition="i == 1 and j == 2")
    Network(spikes, astro, pairs, by_condition).run(20 * ms)
    ns = astro.namespace
    b = 1 - np.exp(-float(ns["O_N"] * ns["rho_c"] * ns["Y_T"] / ns["Omega_c"]))
    np.testing.assert_allclose(astro.Gamma_A[:], [b, 1 - (1 - b) ** 2, b], rtol=1e-6)
    with pytest.raises(ValueError, match="one-to-one"):
        drive_from_neurons(spikes, astro)
    with pytest.raises(ValueError, match="both"):
        drive_from_neurons(spikes, astro, i=[0])


def test_noise_is_the_chapters_stochastic_cell(cython_only):
    kw = dict(dt=1 * ms, preset="example2", exogenous=True, start={"I_bias": 2.0 * umolar})
    noisy = astrocyte_group(2, noise=[0.0, 1.0], method="milstein", name="noisy", **kw)  # cell 0: zero noise
    plain = astrocyte_group(1, method="euler", name="plain", **kw)
    mons = [StateMonitor(g, ["C", "h"], record=True, dt=10 * ms) for g in (noisy, plain)]
    Network(noisy, plain, *mons).run(20 * second)
    # zero noise is the deterministic cell (Milstein without noise is forward Euler) ...
    np.testing.assert_allclose(mons[0].C[0], mons[1].C[0], rtol=1e-9)
    # ... and the noisy cell's IP3R gating fluctuates around it
    assert np.abs(mons[0].h[1] - mons[0].h[0]).max() > 0.02
    assert mons[0].C[1].max() / umolar > 0.2


def test_constant_ip3_drive_oscillates(target):
    astro = astrocyte_group(2, dt=10 * ms, preset="single")
    astro.ex_on = "i"  # cell 1 driven, cell 0 not
    astro.I_bias = 1.5 * umolar
    mon = StateMonitor(astro, "C", record=True, dt=50 * ms)
    Network(astro, mon).run(150 * second)
    t = mon.t / second
    late = t > 30
    driven, rest = mon.C[1][late] / umolar, mon.C[0][late] / umolar
    peaks = _crossings(driven, t[late], 0.5 * (driven.max() + driven.min()))
    period = np.diff(peaks).mean()
    # sustained Ca2+ oscillations with seconds-long periods, within the example's Ca2+ range
    assert len(peaks) >= 10
    assert 3.0 < period < 15.0
    assert 0.2 < driven.max() - driven.min() and driven.max() < REF_C_MAX
    # the undriven cell stays at rest
    assert rest.max() - rest.min() < 0.01 and rest.max() < 0.1


def _arrival(c, t, level=0.25):
    return np.array([t[np.argmax(row > level)] if (row > level).any() else np.nan for row in c])


def test_chain_front_needs_gap_junctions(target, record_property):
    # two chains of 20 excitable astrocytes in one run, with and without gap junctions;
    # the first cell of each receives IP3 from t = 300 s, after the chains have settled
    chains, mons = [], []
    for F in (2.0, 0.0):
        astro = astrocyte_group(20, dt=50 * ms, preset="excitable")
        astro.I_bias = 2.0 * umolar
        astro.run_regularly("ex_on = int(t > 300*second)*int(i == 0)", dt=1 * second)
        chains += [astro, couple(astro, "chain", F=F * umolar / second)]
        mons.append(StateMonitor(astro, "C", record=True, dt=100 * ms))
    Network(*chains, *mons).run(1200 * second)
    t = mons[0].t / second
    c, c0 = mons[0].C / umolar, mons[1].C / umolar
    assert c[:, t < 300][:, -100:].max() < 0.1  # quiescent before the stimulus
    assert c[0].max() > 0.25 and c0[0].max() > 0.25  # the stimulated cell responds
    assert c[-1].max() > 0.25  # far end raised with coupling ...
    assert c0[1:].max() < 0.1  # ... and not without
    arrival = _arrival(c, t)
    assert np.all(np.diff(arrival[1:]) > 0)  # arrives in order along the chain
    speed = (len(arrival) - 2) / (arrival[-1] - arrival[1])  # cells per second
    record_property("wave_speed_cells_per_s", float(speed))
    print(f"Ca2+ front speed: {speed:.4f} cells/s ({speed * 50:.2f} um/s at 50 um spacing)")
    # a regenerative front at a steady speed: measured 0.03 cells/s with these parameters (README);
    # passive diffusion alone would slow down along the chain, a numerical artefact would be far faster
    assert 0.015 < speed < 0.06
    early, late = np.diff(arrival[1:10]).mean(), np.diff(arrival[10:]).mean()
    assert 0.5 < early / late < 2.0  # no slowing down: regenerative, not diffusive


@pytest.mark.parametrize(
    "topology,shape,k,degree",
    [("ring", None, 4, 2), ("grid", (4, 5), 4, None), ("knn", (4, 5), 3, None), ("chain", None, 4, None)],
)
def test_topologies_are_symmetric(topology, shape, k, degree):
    i, j = topology_pairs(20, topology, shape=shape, k=k)
    pairs = set(zip(i.tolist(), j.tolist()))
    assert pairs == {(b, a) for a, b in pairs} and all(a != b for a, b in pairs)
    counts = np.bincount(i, minlength=20)
    if degree:
        assert np.all(counts == degree)
    if topology == "grid":
        assert counts.min() == 2 and counts.max() == 4  # corners and interior of a 4 x 5 sheet
    if topology == "knn":
        assert counts.min() >= 3


def test_unknown_topology_is_an_error():
    with pytest.raises(ValueError, match="topology"):
        topology_pairs(10, "torus")


def test_driven_cell_is_graded_and_the_network_cell_is_not(numpy_target):
    """Steady Ca2+ against a held receptor activation Gamma_A (the encoder's choice of cell).

    De Pitta et al. 2009's synaptically driven cell (preset ``'single'``) is quiescent without
    stimulation and its Ca2+ rises with the stimulus; the chapter's network cell (default preset)
    produces its own IP3 through PLCdelta and sits near 0.5 uM whatever the stimulus, so its gate
    (C_gate 0.3 uM) would be about 0.9 for every neuron.
    """
    levels = np.array([0.0, 0.02, 0.05, 0.1, 0.2, 0.5])
    steady = {}
    for preset in ("single", "network"):
        cells = astrocyte_group(len(levels), preset=preset, Omega_N=1e-9 / second, zeta=0.0)
        cells.Gamma_A = levels  # (receptors held: no inactivation)
        mon = StateMonitor(cells, ["C", "gate"], record=True, dt=100 * ms)
        Network(cells, mon).run(60 * second)
        steady[preset] = (mon.C[:, -100:] / umolar).mean(1), mon.gate[:, -100:].mean(1)
    ca, gate = steady["single"]
    assert ca[0] < 0.08 and gate[0] < 0.01  # quiescent at rest
    assert np.all(np.diff(ca) > 0.01)  # graded with the drive
    assert gate[2] < 0.7 < gate[-1] and gate[1] > 0.05
    ca_net, gate_net = steady["network"]
    assert ca_net[0] > 0.45 and np.ptp(gate_net) < 0.06  # self-sustained: the drive barely moves the gate
