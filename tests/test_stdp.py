"""Pair-based STDP reproduces the exponential window of Song, Miller & Abbott (2000); the synapse
builder's effect order and its checks of effects and neighbour variables."""

import numpy as np
import pytest
from brian2 import Network, NeuronGroup, SpikeGeneratorGroup, linked_var, ms, second

from koo_spiking.synapse import STDP_PARAMS, stdp_rule, stdp_window, synapses, tm_rule


def _pairings(d, **params):
    """Weight change of one pairing per synapse, t_post - t_pre = d (ms), from w = 0.5."""
    n = len(d)
    pre_t = (100 + np.where(d < 0, -d, 0)) * ms
    post_t = (100 + np.where(d > 0, d, 0)) * ms
    pre = SpikeGeneratorGroup(n, np.arange(n), pre_t)
    post = SpikeGeneratorGroup(n, np.arange(n), post_t)
    syn = synapses(pre, post, [stdp_rule(**params)], effect=None)
    syn.connect(j="i")
    syn.w = 0.5
    Network(pre, post, syn).run(0.3 * second)
    return np.asarray(syn.w[:]) - 0.5


def test_stdp_window_matches_exponentials(target):
    d = np.array([t for t in range(-50, 51, 5) if t != 0], dtype=float)  # t_post - t_pre, ms
    dw = _pairings(d)
    # reference: A+ exp(-dt/tau+) for dt > 0, -A- exp(dt/tau-) for dt < 0
    a_plus, a_minus = STDP_PARAMS["A_plus"].value, STDP_PARAMS["A_minus"].value
    tau = 20.0
    expected = np.where(d > 0, a_plus * np.exp(-d / tau), -a_minus * np.exp(d / tau))
    np.testing.assert_allclose(dw, expected, rtol=1e-9)
    np.testing.assert_allclose(stdp_window(d * ms), expected, rtol=1e-12)
    assert np.all(np.sign(dw) == np.sign(d))


def test_amplitudes_are_absolute_weight_steps(cython_only):
    # one convention with the reward STDP of neuromodulator: the step is A_plus, whatever w_max
    d = np.array([-10.0, 10.0])
    dw = _pairings(d, A_plus=0.02, A_minus=0.03, w_max=4.0)
    expected = np.array([-0.03 * np.exp(-0.5), 0.02 * np.exp(-0.5)])
    np.testing.assert_allclose(dw, expected, rtol=1e-9)
    np.testing.assert_allclose(stdp_window(d * ms, A_plus=0.02, A_minus=0.03, w_max=4.0), expected, rtol=1e-12)


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


@pytest.mark.parametrize("order", ["after", "before"])
def test_effect_order(cython_only, order):
    # post spike at 10 ms, pre spike at 15 ms: the pre spike depresses w by A_minus*exp(-5/20) and
    # transmits w*r_S (r_S = U_0 = 0.5); 'before' transmits the weight before that update
    pre = SpikeGeneratorGroup(1, [0], [15] * ms)
    post = NeuronGroup(1, "g : 1", threshold="abs(t - 10*ms) < 0.05*ms", reset="")
    syn = synapses(pre, post, [tm_rule(U_0=0.5, tau_f=0 * ms), stdp_rule()], effect="g_post += {w}", effect_order=order)
    syn.connect()
    syn.w = 0.5
    Network(pre, post, syn).run(20 * ms)
    w_after = 0.5 - STDP_PARAMS["A_minus"].value * np.exp(-5 / 20)
    np.testing.assert_allclose(float(syn.w[0]), w_after, rtol=1e-12)
    np.testing.assert_allclose(float(post.g[0]), 0.5 * (0.5 if order == "before" else w_after), rtol=1e-12)


def _one_line_error(call, *words):
    with pytest.raises(ValueError) as err:
        call()
    message = str(err.value)
    assert "\n" not in message and all(w in message for w in words), message


def test_effect_placeholders_are_checked():
    pre, post = SpikeGeneratorGroup(1, [], [] * ms), NeuronGroup(1, "g : 1")
    for effect, bad in [("g_post += {weight}", "{weight}"), ("g_post += {w}*{scale}", "{scale}")]:
        _one_line_error(lambda: synapses(pre, post, [stdp_rule()], effect=effect), effect, bad, "{w}")
    _one_line_error(lambda: synapses(pre, post, [stdp_rule()], effect="g_post += {w"), "{w}")
    _one_line_error(
        lambda: synapses(pre, post, [stdp_rule()], effect="g_post += {w}", effect_order="during"), "effect_order"
    )


def test_missing_neighbour_variables_are_named():
    pre = SpikeGeneratorGroup(2, [], [] * ms)
    post = NeuronGroup(2, "ge : 1", threshold="ge > 1", reset="")
    _one_line_error(
        lambda: synapses(pre, post, [stdp_rule(rate="gate_post")]),
        "'gate'",
        "koo_spiking.astrocyte.link_gate(neurons, astrocytes)",
    )
    _one_line_error(lambda: synapses(pre, post, [stdp_rule()], effect="gx_post += {w}"), "'gx'", "target")
    _one_line_error(lambda: synapses(pre, post, [stdp_rule(rate="count_pre")]), "'count'", "source")
    # names of the synapse and its namespace are not neighbour variables; a linked gate exists
    gated = NeuronGroup(2, "ge : 1\ngate : 1 (linked)", threshold="ge > 1", reset="")
    astro = NeuronGroup(2, "gate : 1")
    gated.gate = linked_var(astro, "gate")
    syn = synapses(pre, gated, [stdp_rule(rate="gate_post*k_post")], effect="ge_post += {w}", namespace={"k_post": 2.0})
    assert "gate_post" in syn.variables
