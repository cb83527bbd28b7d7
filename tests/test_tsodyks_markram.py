"""Tsodyks-Markram synapses: paired-pulse ratio and steady state against the analytic recurrence."""
import numpy as np
from brian2 import Network, NeuronGroup, SpikeGeneratorGroup, StateMonitor, ms

from koo_spiking.synapse import synapses, tm_rule, tm_release


def _releases(regime, interval, n_spikes, **params):
    times = (np.arange(n_spikes) * interval) + 10 * ms
    pre = SpikeGeneratorGroup(1, np.zeros(n_spikes, int), times)
    post = NeuronGroup(1, "g : 1")  # accumulates w*r_S, nothing decays
    syn = synapses(pre, post, [tm_rule(regime, **params)], effect="g_post += {w}")
    syn.connect()
    syn.w = 1.0
    syn.x_S = 1.0
    mon = StateMonitor(post, "g", record=0, dt=interval)
    Network(pre, post, syn, mon).run(times[-1] + interval)
    g = mon.g[0]
    # the sample taken just after each spike time (mon.t = 0, T, 2T, ...) includes it
    sampled = np.array([g[int(np.ceil(float((t + 0.5 * ms) / interval)))] for t in times])
    return np.diff(np.concatenate([[0.0], sampled]))


def test_depressing_ppr_and_steady_state(target):
    U, tau_d, tau_f, T = 0.5, 800 * ms, 1 * ms, 50 * ms
    r = _releases("depressing", T, 30, U_0=U, tau_d=tau_d, tau_f=tau_f)
    # analytic: r1 = U; r2 = U*(1 - U*exp(-T/tau_d)) (tau_f -> 0)
    e_d, e_f = np.exp(-T / tau_d), np.exp(-T / tau_f)
    u2 = U * e_f + U * (1 - U * e_f)
    r2 = u2 * (1 - U * e_d)
    np.testing.assert_allclose(r[0], U, rtol=0.02)
    np.testing.assert_allclose(r[1] / r[0], r2 / U, rtol=0.02)
    u_ss = U / (1 - (1 - U) * e_f)
    r_ss = u_ss * (1 - e_d) / (1 - (1 - u_ss) * e_d)
    np.testing.assert_allclose(r[-1], r_ss, rtol=0.02)
    assert r[1] / r[0] < 1
    expected, steady = tm_release(30, T, U, tau_d, tau_f)
    np.testing.assert_allclose(r, expected, rtol=0.02)
    np.testing.assert_allclose(steady, r_ss, rtol=1e-9)


def test_facilitating_ppr_above_one(target):
    r = _releases("facilitating", 20 * ms, 5)
    assert r[1] / r[0] > 1.2
    expected, _ = tm_release(5, 20 * ms, 0.15, 100 * ms, 1000 * ms)
    np.testing.assert_allclose(r, expected, rtol=0.02)
