"""Tsodyks-Markram synapses: releases against the analytic recurrence (two and three states),
resources full from the start, and the effect that must carry the release fraction."""

import numpy as np
import pytest
from brian2 import Network, NeuronGroup, SpikeGeneratorGroup, StateMonitor, ms

from koo_spiking.synapse import synapses, tm_release, tm_rule


def _releases(regime, interval, n_spikes, **params):
    """Releases r_n of one synapse driven by a regular train; nothing is set by hand after connect."""
    times = (np.arange(n_spikes) * interval) + 10 * ms
    pre = SpikeGeneratorGroup(1, np.zeros(n_spikes, int), times)
    post = NeuronGroup(1, "g : 1")  # accumulates w*r_S, nothing decays
    syn = synapses(pre, post, [tm_rule(regime, **params)], effect="g_post += {w}")
    syn.connect()
    syn.w = 1.0
    mon = StateMonitor(post, "g", record=0, dt=interval)
    Network(pre, post, syn, mon).run(times[-1] + interval)
    g = mon.g[0]
    # the sample taken just after each spike time (mon.t = 0, T, 2T, ...) includes it
    sampled = np.array([g[int(np.ceil(float((t + 0.5 * ms) / interval)))] for t in times])
    return np.diff(np.concatenate([[0.0], sampled]))


def test_depressing_ppr_and_steady_state(target):
    U, tau_d, tau_f, T = 0.5, 800 * ms, 1 * ms, 50 * ms
    r = _releases("depressing", T, 30, U_0=U, tau_d=tau_d, tau_f=tau_f)
    # analytic: r1 = U (full resources without any user action); r2 = U*(1 - U*exp(-T/tau_d))
    e_d, e_f = np.exp(-T / tau_d), np.exp(-T / tau_f)
    u2 = U * e_f + U * (1 - U * e_f)
    r2 = u2 * (1 - U * e_d)
    np.testing.assert_allclose(r[0], U, rtol=1e-9)
    np.testing.assert_allclose(r[1] / r[0], r2 / U, rtol=0.02)
    u_ss = U / (1 - (1 - U) * e_f)
    r_ss = u_ss * (1 - e_d) / (1 - (1 - u_ss) * e_d)
    np.testing.assert_allclose(r[-1], r_ss, rtol=0.02)
    assert r[1] / r[0] < 1
    expected, steady = tm_release(30, T, U, tau_d, tau_f)
    np.testing.assert_allclose(r, expected, rtol=1e-9)
    np.testing.assert_allclose(steady, r_ss, rtol=1e-9)


def test_facilitating_ppr_above_one(target):
    r = _releases("facilitating", 20 * ms, 5)
    assert r[1] / r[0] > 1.2
    expected, _ = tm_release(5, 20 * ms, 0.15, 100 * ms, 1000 * ms)
    np.testing.assert_allclose(r, expected, rtol=1e-9)


def test_no_facilitation_fixed_utilisation(cython_only):
    # tau_f = 0: every spike uses U_0, r_n = U_0*x_n, x recovering with tau_d
    U, tau_d, T = 0.4, 300 * ms, 25 * ms
    r = _releases("depressing", T, 12, U_0=U, tau_d=tau_d, tau_f=0 * ms)
    x, expected = 1.0, []
    for _ in range(12):
        expected.append(U * x)
        x = 1 - (1 - x * (1 - U)) * np.exp(-T / tau_d)
    np.testing.assert_allclose(r, expected, rtol=1e-9)
    np.testing.assert_allclose(tm_release(12, T, U, tau_d, 0 * ms)[0], expected, rtol=1e-12)


@pytest.mark.parametrize("tau_f", [0 * ms, 530 * ms])
def test_three_states_match_recurrence(cython_only, tau_f):
    # Tsodyks, Pawelzik & Markram (1998): released resources are active (y), then inactive (z)
    T, tau_i, tau_d = 14 * ms, 3 * ms, 130 * ms
    r = _releases("facilitating", T, 25, U_0=0.3, tau_d=tau_d, tau_f=tau_f, tau_inact=tau_i)
    expected, steady = tm_release(25, T, 0.3, tau_d, tau_f, tau_i)
    np.testing.assert_allclose(r, expected, rtol=1e-9)
    two_states, _ = tm_release(25, T, 0.3, tau_d, tau_f)
    # resources pass through the active state before recovering: less is recovered by the next spike
    assert np.all(expected[1:] < two_states[1:])
    long, _ = tm_release(400, T, 0.3, tau_d, tau_f, tau_i)
    np.testing.assert_allclose(long[-1], steady, rtol=1e-9)


def test_three_states_equal_time_constants_use_the_limit(cython_only):
    # tau_inact = tau_d has a removable singularity: the limit form gives the neighbouring values
    T, tau = 40 * ms, 100 * ms
    r = _releases("depressing", T, 10, U_0=0.5, tau_d=tau, tau_f=0 * ms, tau_inact=tau)
    assert np.all(np.isfinite(r))
    near, _ = tm_release(10, T, 0.5, tau, 0 * ms, tau * (1 + 1e-6))
    np.testing.assert_allclose(r, near, rtol=1e-5)
    np.testing.assert_allclose(tm_release(10, T, 0.5, tau, 0 * ms, tau)[0], near, rtol=1e-5)


def test_every_connect_starts_full(target):
    # Brian2 starts variables at 0; connect (runtime and standalone alike) sets x_S = 1 on its synapses
    pre = SpikeGeneratorGroup(2, [0], [1] * ms)
    post = NeuronGroup(2, "g : 1")
    syn = synapses(pre, post, [tm_rule(U_0=0.5, tau_f=0 * ms)], effect="g_post += {w}")
    syn.connect(i=0, j=0)
    syn.connect(i=1, j=1)
    syn.w = 1.0
    Network(pre, post, syn).run(2 * ms)
    np.testing.assert_allclose(post.g[:], [0.5, 0.0], rtol=1e-12)
    np.testing.assert_allclose(syn.x_S[:], [0.5, 1.0], rtol=1e-12)


def test_new_synapses_start_full_and_old_ones_keep_their_state(cython_only):
    pre = SpikeGeneratorGroup(2, [0], [1] * ms)
    post = NeuronGroup(2, "g : 1")
    syn = synapses(pre, post, [tm_rule(tau_inact=3 * ms)], effect="g_post += {w}")
    syn.connect(i=0, j=0)
    assert list(syn.x_S[:]) == [1.0] and list(syn.y_S[:]) == [0.0]
    net = Network(pre, post, syn)
    net.run(2 * ms)
    depleted = float(syn.x_S[0])
    assert depleted < 1.0
    syn.connect(i=1, j=1)  # a later connect sets only the synapses it creates
    np.testing.assert_array_equal(syn.x_S[:], [depleted, 1.0])


def test_effect_without_w_next_to_tm_is_an_error():
    pre, post = SpikeGeneratorGroup(1, [], [] * ms), NeuronGroup(1, "g : 1")
    with pytest.raises(ValueError) as err:
        synapses(pre, post, [tm_rule()], effect="g_post += w")
    message = str(err.value)
    assert "{w}" in message and "release fraction r_S" in message and "\n" not in message
