"""Pair-based STDP reproduces the exponential window of Song, Miller & Abbott (2000)."""
import numpy as np
from brian2 import Network, SpikeGeneratorGroup, ms, second

from koo_spiking.synapse import STDP_PARAMS, stdp_rule, stdp_window, synapses


def test_stdp_window_matches_exponentials(target):
    d = np.array([t for t in range(-50, 51, 5) if t != 0], dtype=float)  # t_post - t_pre, ms
    dts = d * ms
    n = len(d)
    pre_t = (100 + np.where(d < 0, -d, 0)) * ms
    post_t = (100 + np.where(d > 0, d, 0)) * ms
    pre = SpikeGeneratorGroup(n, np.arange(n), pre_t)
    post = SpikeGeneratorGroup(n, np.arange(n), post_t)
    syn = synapses(pre, post, [stdp_rule()], effect=None)
    syn.connect(j="i")
    syn.w = 0.5
    Network(pre, post, syn).run(0.3 * second)
    dw = np.asarray(syn.w[:]) - 0.5
    # reference: A+ exp(-dt/tau+) for dt > 0, -A- exp(dt/tau-) for dt < 0 (w_max = 1)
    a_plus, a_minus = STDP_PARAMS["A_plus"].value, STDP_PARAMS["A_minus"].value
    tau = 20.0
    expected = np.where(d > 0, a_plus * np.exp(-d / tau), -a_minus * np.exp(d / tau))
    np.testing.assert_allclose(dw, expected, rtol=0.05)
    np.testing.assert_allclose(stdp_window(dts), expected, rtol=1e-12)
    assert np.all(np.sign(dw) == np.sign(d))


def test_stdp_weights_stay_in_bounds(target):
    # dense potentiation drives weights to w_max and not beyond
    times = np.arange(1, 200) * 5 * ms
    pre = SpikeGeneratorGroup(1, np.zeros(len(times), int), times)
    post = SpikeGeneratorGroup(1, np.zeros(len(times), int), times + 2 * ms)
    syn = synapses(pre, post, [stdp_rule(A_plus=0.05, A_minus=0.0)], effect=None)
    syn.connect()
    syn.w = 0.9
    Network(pre, post, syn).run(1.1 * second)
    assert float(syn.w[0]) == 1.0
