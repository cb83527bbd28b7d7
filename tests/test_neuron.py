"""LIF f-I curve against the analytic rate; Izhikevich (2003) firing patterns."""

import numpy as np
import pytest
from brian2 import Network, SpikeMonitor, defaultclock, ms, mV, nA, second

from koo_spiking.neuron import izhikevich_group, lif_group, lif_rate


def test_lif_fi_curve_matches_analytic(target):
    currents = np.array([0.135, 0.14, 0.16, 0.2, 0.3, 0.5]) * nA  # rheobase 0.13 nA
    defaultclock.dt = 0.05 * ms
    group = lif_group(len(currents), "excitatory", theta_plus=0 * mV)
    group.I_ext = currents
    mon = SpikeMonitor(group)
    duration = 5 * second
    Network(group, mon).run(duration)
    # rate from the interspike intervals after the first spike
    measured = []
    for k in range(len(currents)):
        st = mon.spike_trains()[k] / second
        measured.append((len(st) - 1) / (st[-1] - st[0]))
    expected = lif_rate(currents, theta_plus=0 * mV)
    assert np.all(expected > 0)
    np.testing.assert_allclose(measured, expected, rtol=0.02)
    assert np.all(np.diff(measured) > 0)


def test_lif_below_rheobase_is_silent(target):
    group = lif_group(1, "excitatory")
    group.I_ext = 0.12 * nA
    mon = SpikeMonitor(group)
    Network(group, mon).run(1 * second)
    assert mon.num_spikes == 0
    assert lif_rate(0.12 * nA)[0] == 0


def _isis(preset, target, current=10.0, duration=1 * second):
    group = izhikevich_group(1, preset)
    group.I = current * mV / ms
    mon = SpikeMonitor(group)
    Network(group, mon).run(duration)
    return np.diff(mon.spike_trains()[0] / ms)


# Adaptation is compared at a matched steady-state rate of about 30 Hz (RS at
# I = 14 mV/ms, FS at I = 4.4 mV/ms), as in current-step protocols of cortical cells.
def test_izhikevich_regular_spiking_adapts(target):
    isi = _isis("RS", target, current=14.0)
    assert len(isi) >= 10
    assert 25 < 1000 / isi[-1] < 40
    # spike-frequency adaptation: last interval clearly longer than the first
    assert isi[-1] > 3.0 * isi[0]
    assert np.all(np.diff(isi) > -0.5)  # intervals lengthen (up to dt jitter)


def test_izhikevich_fast_spiking_does_not_adapt(target):
    isi = _isis("FS", target, current=4.4)
    assert 25 < 1000 / isi[-1] < 40
    assert isi[-1] < 1.1 * isi[0]
    assert np.std(isi[2:]) / np.mean(isi[2:]) < 0.02


def test_izhikevich_chattering_bursts(target):
    isi = _isis("CH", target)
    short, long_ = isi[isi < 10.0], isi[isi > 20.0]
    # bursts: clusters of fast spikes (ISI < 10 ms) separated by long pauses
    assert len(short) >= 2 * len(long_) >= 4
    assert np.median(long_) > 4 * np.median(short)


@pytest.mark.parametrize("preset", ["IB", "LTS", "TC", "RZ"])
def test_izhikevich_other_presets_fire(preset, cython_only):
    isi = _isis(preset, cython_only)
    assert len(isi) >= 2
