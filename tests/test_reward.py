"""Reward-modulated STDP (Izhikevich 2007): closed-form eligibility and the distal reward problem."""

import brian2
import numpy as np
import pytest
from brian2 import (
    Network,
    NeuronGroup,
    SpikeGeneratorGroup,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    defaultclock,
    ms,
    second,
)

from koo_spiking import backend
from koo_spiking.neuromodulator import (
    dopamine_parts,
    eligibility_parts,
    reward_schedule,
    reward_stdp_synapses,
    set_mode,
    settle,
)
from koo_spiking.neuron import if_group, lif_group


def _post_group(n):
    """Neurons that fire exactly when told (through ``fire``) and carry dopamine."""
    parts = dopamine_parts()
    group = NeuronGroup(
        n,
        "fire : 1\nge : 1\n" + parts["eqs"],
        threshold="fire > 0",
        reset="fire = 0",
        events=parts["events"],
        namespace=parts["namespace"],
        method="exact",
    )
    for event, code in parts["on_event"].items():
        group.run_on_event(event, code)
    return group


def _driver(group, indices, times):
    gen = SpikeGeneratorGroup(len(group), np.asarray(indices, int), np.asarray(times) * second)
    syn = Synapses(gen, group, on_pre="fire_post = 1")
    syn.connect(j="i")
    return gen, syn


def test_closed_form_matches_quadrature(target):
    post = _post_group(1)
    pre = SpikeGeneratorGroup(1, [0, 0], [0.1, 3.0] * second)  # pairing, then a probe spike
    drv = _driver(post, [0], [0.1095])  # post fires at 0.110 s
    gen, rsyn = reward_schedule(post, [0], [1.1] * second, 0.05)
    syn = reward_stdp_synapses(pre, post, effect=None)
    syn.connect()
    syn.w = 1.0
    spikes = SpikeMonitor(post)
    dop = StateMonitor(post, "D", record=0, dt=0.1 * ms)
    Network(post, pre, *drv, gen, rsyn, syn, spikes, dop).run(3.2 * second)
    t_post = float(spikes.t[0] / second)
    d = dop.D[0]
    t_d = float(dop.t[np.argmax(d > 0)] / second) - 1e-4  # dopamine jumps in this step
    # reference: w' = c(t) D(t)/tau_s, c = A+ exp(-(t_post - t_pre)/tau_+) exp(-(t - t_post)/tau_c)
    c0 = 1.0 * np.exp(-(t_post - 0.1) / 0.02)
    tt = np.linspace(t_d, 3.0, 200001)
    integrand = c0 * np.exp(-(tt - t_post) / 1.0) * 0.05 * np.exp(-(tt - t_d) / 0.2) / 1e-3
    expected = np.trapezoid(integrand, tt)
    np.testing.assert_allclose(float(syn.w[0]) - 1.0, expected, rtol=0.02)


def test_distal_reward_credits_the_paired_synapse(target, record_property):
    # 150 s of simulated time: a 1 ms step keeps the cython run short (spike times on a 1 ms grid)
    defaultclock.dt = 1 * ms
    rng = np.random.default_rng(7)
    n_pre, n_trials, period = 40, 30, 5.0
    duration = n_trials * period
    # background: every input and the output fire as Poisson processes at 0.25 Hz
    pre_i, pre_t = [], []
    for k in range(n_pre):
        times = np.sort(rng.uniform(0, duration, rng.poisson(0.25 * duration)))
        pre_i += [k] * len(times)
        pre_t += list(times)
    post_t = list(np.sort(rng.uniform(0, duration, rng.poisson(0.25 * duration))))
    # each trial: input 0 fires, the output follows 10 ms later, reward comes 1-3 s after
    trial_t = np.arange(n_trials) * period + 0.5
    pre_i += [0] * n_trials
    pre_t += list(trial_t)
    post_t += list(trial_t + 0.009)  # the output fires one step after its driver: 10 ms after input 0
    reward_t = trial_t + rng.uniform(1.0, 3.0, n_trials)
    pre_t = np.round(np.array(pre_t), 3)
    keep = np.unique(np.stack([pre_i, np.round(pre_t / 1e-3)]), axis=1)  # no duplicate spikes
    pre = SpikeGeneratorGroup(n_pre, keep[0].astype(int), keep[1] * 1e-3 * second)
    post = _post_group(2)  # neuron 0 is rewarded, neuron 1 sees the same spikes without reward
    post_t = np.unique(np.round(np.array(post_t), 3))
    drv = _driver(post, np.repeat([0, 1], len(post_t)), np.concatenate([post_t, post_t]))
    gen, rsyn = reward_schedule(post, np.zeros(n_trials, int), reward_t * second, 0.005)
    syn = reward_stdp_synapses(pre, post, effect=None)
    syn.connect()
    syn.w = 1.0
    Network(pre, post, *drv, gen, rsyn, syn).run(duration * second)
    w = np.asarray(syn.w[:]).reshape(n_pre, 2) - 1.0
    rewarded, unrewarded = w[:, 0], w[:, 1]
    others = np.abs(rewarded[1:])
    record_property("target_dw", float(rewarded[0]))
    record_property("max_other_dw", float(others.max()))
    print(
        f"paired synapse dw = {rewarded[0]:.3f}; other synapses |dw| max {others.max():.3f}, mean {others.mean():.3f}"
    )
    assert rewarded[0] > 1.0
    assert rewarded[0] > 2.0 * others.max()
    assert rewarded[0] > 5.0 * others.mean()
    assert np.all(unrewarded == 0.0)  # no dopamine, no weight change at all


def _pairing_then_reward(t_end):
    """One synapse: pre 0.1 s, post 0.11 s, reward 0.05 at 1.1 s, then nothing until ``t_end``."""
    post = _post_group(1)
    pre = SpikeGeneratorGroup(1, [0], [0.1] * second)
    drv = _driver(post, [0], [0.1095])
    gen, rsyn = reward_schedule(post, [0], [1.1] * second, 0.05)
    syn = reward_stdp_synapses(pre, post, effect=None)
    syn.connect()
    syn.w = 1.0
    mon = StateMonitor(syn, ["w", "w_now", "c_now"], record=0, dt=10 * ms)
    spikes, dop = SpikeMonitor(post), StateMonitor(post, "D", record=0, dt=0.1 * ms)
    return Network(post, pre, *drv, gen, rsyn, syn, mon, spikes, dop), syn, mon, spikes, dop


def _exact_weight(t, t_post, t_d):
    """w(t) of the pairing: c = A+ exp(-(t_post - 0.1)/tau_+) exp(-(t - t_post)/tau_c), D = 0.05 exp(-(t - t_d)/tau_dop)."""
    tau_c, tau_dop, tau_s = 1.0, 0.2, 1e-3
    tau_star = 1 / (1 / tau_c + 1 / tau_dop)
    c_d = np.exp(-(t_post - 0.1) / 0.02) * np.exp(-(t_d - t_post) / tau_c)
    return 1.0 + np.where(t > t_d, c_d * 0.05 / tau_s * tau_star * (1 - np.exp(-(t - t_d) / tau_star)), 0.0)


def test_current_weight_between_events(target):
    # trap: the stored w is only updated at events, so after the last one it is stale;
    # w_now (and c_now) give the exact closed form at every time
    net, syn, mon, spikes, dop = _pairing_then_reward(2.0 * second)
    net.run(2.0 * second)
    t_post = float(spikes.t[0] / second)
    t_d = float(dop.t[np.argmax(dop.D[0] > 0)] / second) - 1e-4  # dopamine jumps in this step
    t = np.asarray(mon.t / second)
    np.testing.assert_allclose(mon.w_now[0], _exact_weight(t, t_post, t_d), rtol=1e-9)
    c_exact = np.where(t >= t_post + 1e-4, np.exp(-(t_post - 0.1) / 0.02) * np.exp(-(t - t_post) / 1.0), 0.0)
    np.testing.assert_allclose(mon.c_now[0], c_exact, rtol=1e-9, atol=1e-15)
    late = t > 1.5
    assert np.all(mon.w[0][late] == mon.w[0][late][0])  # the stored weight does not move ...
    assert mon.w_now[0][-1] - mon.w[0][-1] > 0.3 * (mon.w_now[0][-1] - 1.0)  # ... and is far behind
    if target != "cpp_standalone":  # Brian2 reads subexpressions of a standalone run only through monitors
        np.testing.assert_allclose(float(syn.w_now[0]), _exact_weight(2.0, t_post, t_d), rtol=1e-9)


def test_settle_writes_the_current_weight(numpy_target):
    net, syn, mon, spikes, dop = _pairing_then_reward(2.0 * second)
    net.run(2.0 * second)
    t_post = float(spikes.t[0] / second)
    t_d = float(dop.t[np.argmax(dop.D[0] > 0)] / second) - 1e-4
    stale = float(syn.w[0])
    settle(syn)
    exact = float(_exact_weight(2.0, t_post, t_d))
    assert abs(stale - exact) > 0.1 * (exact - 1.0)
    np.testing.assert_allclose(float(syn.w[0]), exact, rtol=1e-9)
    np.testing.assert_allclose(float(syn.c[0]), np.exp(-(t_post - 0.1) / 0.02) * np.exp(-(2.0 - t_post)), rtol=1e-9)
    settle(syn)  # idempotent: nothing has elapsed
    np.testing.assert_allclose(float(syn.w[0]), exact, rtol=1e-12)


def test_settle_between_standalone_runs(tmp_path):
    # cpp_standalone: settle between the runs of a project built with build_on_run=False
    directory = str(tmp_path / "standalone")
    with backend.backend("cpp_standalone", directory=directory, build_on_run=False):
        brian2.start_scope()
        net, syn, mon, spikes, dop = _pairing_then_reward(2.0 * second)
        net.run(1.6 * second)
        settle(syn)
        net.run(0.4 * second)
        brian2.device.build(directory=directory)
        t_post = float(spikes.t[0] / second)
        t_d = float(dop.t[np.argmax(dop.D[0] > 0)] / second) - 1e-4
        np.testing.assert_allclose(float(syn.w[0]), _exact_weight(1.6, t_post, t_d), rtol=1e-9)
        np.testing.assert_allclose(mon.w_now[0][-1], _exact_weight(1.99, t_post, t_d), rtol=1e-9)


def _integral(c0, t_c, amount, t_k, a, b):
    """Integral over [a, b] of c0*exp(-(t - t_c)/tau_c)*amount*exp(-(t - t_k)/tau_dop)/tau_s (defaults)."""
    tau_c, tau_dop, tau_s = 1.0, 0.2, 1e-3
    tau_star = 1 / (1 / tau_c + 1 / tau_dop)
    scale = c0 * amount / tau_s * np.exp(t_c / tau_c + t_k / tau_dop) * tau_star
    return scale * (np.exp(-a / tau_star) - np.exp(-b / tau_star))


def test_one_synapse_switches_between_classical_and_reward_stdp(numpy_target):
    post = _post_group(1)
    pre = SpikeGeneratorGroup(1, [0, 0], [0.1, 1.1] * second)
    drv = _driver(post, [0, 0], [0.1095, 1.1095])  # post ~10 ms after each pre spike
    gen, rsyn = reward_schedule(post, [0, 0], [0.5, 1.5] * second, 0.005)
    syn = reward_stdp_synapses(pre, post, effect=None, switchable=True)
    syn.connect()
    syn.w = 1.0
    spikes = SpikeMonitor(post)
    net = Network(post, pre, *drv, gen, rsyn, syn, spikes)
    set_mode(syn, "classical")
    net.run(1.0 * second)
    settle(syn)
    first = np.exp(-(float(spikes.t[0] / second) - 0.1) / 0.02)  # A+ = 1, tau+ = 20 ms
    assert float(syn.w[0]) == pytest.approx(1.0 + first, rel=1e-12)  # changed at the pairing ...
    assert float(syn.c[0]) == 0.0  # ... no trace, the reward did nothing
    set_mode(syn, "reward")
    net.run(1.0 * second)
    settle(syn)
    # now the pairing fed the trace, and both dopamine pulses (the first one's tail) turned it into weight
    t_post = float(spikes.t[1] / second)
    second_pairing = np.exp(-(t_post - 1.1) / 0.02)
    np.testing.assert_allclose(float(syn.c[0]), second_pairing * np.exp(-(2.0 - t_post)), rtol=1e-9)
    dw = sum(_integral(second_pairing, t_post, 0.005, t_k, max(t_post, t_k), 2.0) for t_k in (0.5001, 1.5001))
    np.testing.assert_allclose(float(syn.w[0]), 1.0 + first + dw, rtol=1e-9)
    assert dw > 0.1
    with pytest.raises(ValueError, match="mode"):
        set_mode(syn, "hebbian")
    with pytest.raises(ValueError, match="integration"):
        reward_stdp_synapses(pre, post, integration="rk4")


def test_dopamine_is_one_argument(numpy_target):
    lif = lif_group(2, dopamine=True, name="lif_dop")
    izf = if_group(2, dopamine=50 * ms, name="if_dop")
    now = lif_group(2, dopamine=dopamine_parts(tau_dop=100 * ms, when="after_synapses"), name="lif_now")
    for group, tau in ((lif, 200 * ms), (izf, 50 * ms), (now, 100 * ms)):
        assert {"D", "reward_in"} <= set(group.variables) and "reward" in group.events
        assert group.namespace["tau_dop"] == tau
    objs = [lif, izf, now]
    for group in objs[:3]:
        objs += reward_schedule(group, [1], [10.0] * ms, 0.5)
    mons = [StateMonitor(g, "D", record=1) for g in (lif, izf, now)]
    Network(*objs, *mons).run(30 * ms)
    step = [int(np.argmax(m.D[0] > 0)) for m in mons]
    # the reward spike is at step 100; its amount reaches D in the next step's thresholds (101),
    # or in the same step with when='after_synapses', and is seen from the next step on
    assert step == [102, 102, 101]
    decay = np.arange(50) * 1e-4
    for m, expected, k in zip(
        mons,
        (
            np.exp(-decay / 0.2),
            (1 - 1e-4 / 0.05) ** np.arange(50),  # if: Euler
            np.exp(-decay / 0.1),
        ),
        step,
    ):
        np.testing.assert_allclose(m.D[0][k : k + 50], 0.5 * expected, rtol=1e-9)
    # a reward STDP synapse onto the same neurons settles before the jump of the 'after_synapses' event
    syn = reward_stdp_synapses(lif, now, effect=None)
    assert syn.reward.when == "after_synapses"
    with pytest.raises(ValueError, match="defined twice"):
        lif_group(1, events={"reward": "v > 0*mV"}, dopamine=True)


def test_effect_names_the_weight_as_a_word(numpy_target):
    """``effect`` may use names containing a w: only the word ``w`` is the weight (it once replaced the first
    letter w of the string, so ``gw_post += w`` became ``g{w}_post += w``)."""
    parts = dopamine_parts()
    post = NeuronGroup(
        1,
        "gw : 1\nfire : 1\n" + parts["eqs"],
        threshold="fire > 0",
        reset="fire = 0",
        events=parts["events"],
        namespace=parts["namespace"],
        method="exact",
    )
    pre = SpikeGeneratorGroup(1, [0], [1.0] * ms)
    syn = reward_stdp_synapses(pre, post, effect="gw_post += 2*w")
    syn.connect()
    syn.w = 0.75
    Network(post, pre, syn).run(3 * ms)
    assert post.gw[0] == pytest.approx(1.5)


@pytest.mark.parametrize("when", ["thresholds", "after_synapses"])
def test_impulse_is_the_closed_form_of_a_brief_pulse(numpy_target, when):
    """integration='impulse' adds the whole pulse at the reward event: amount*c*tau_star/tau_s, the closed
    form for s -> infinity; the closed form with the same brief pulse reaches it; pairings 0: no traces."""
    defaultclock.dt = 0.1 * ms
    weights = {}
    for integration in ("impulse", "closed_form"):
        parts = dopamine_parts(when=when, tau_dop=0.5 * ms)
        post = NeuronGroup(
            1,
            "ge : 1\n" + parts["eqs"],
            threshold="False",
            reset="",
            events=parts["events"],
            namespace=parts["namespace"],
        )
        for event, code in parts["on_event"].items():
            post.run_on_event(event, code)
        post.set_event_schedule("reward", when=when)
        pre = SpikeGeneratorGroup(1, [0, 0, 0], [0.1, 0.2, 0.3] * second)
        gen, rsyn = reward_schedule(post, [0], [1.1] * second, 0.05)
        syn = reward_stdp_synapses(pre, post, effect=None, integration=integration, A_plus=0.0, A_minus=0.0, A_pre=1.0)
        syn.connect()
        syn.w = 1.0
        Network(post, pre, gen, rsyn, syn).run(1.2 * second)
        settle(syn)
        weights[integration] = float(syn.w[0])
        if integration == "impulse":
            assert "apre" not in syn.variables  # no pairing traces when both amplitudes are 0
    # the reward written at 1.1 s is detected in that step's 'after_synapses' slot, or at 'thresholds' a step later
    t_d = 1.1 + (1e-4 if when == "thresholds" else 0.0)
    c = sum(np.exp(-(t_d - t_k) / 1.0) for t_k in (0.1, 0.2, 0.3))
    tau_star = 1 / (1 / 1.0 + 1 / 0.5e-3)
    expected = 0.05 * c * tau_star / 1e-3
    np.testing.assert_allclose(weights["impulse"] - 1.0, expected, rtol=1e-9)
    # the closed form integrates the same pulse over the 100 ms after it (e^-200: all of it)
    np.testing.assert_allclose(weights["closed_form"] - 1.0, expected, rtol=1e-3)


def test_impulse_needs_the_reward_event_in_the_thresholds_slot(numpy_target):
    from koo_spiking.neuromodulator import reward_rule
    from koo_spiking.synapse import synapses

    parts = dopamine_parts(when="after_synapses")
    post = NeuronGroup(
        1, "ge : 1\n" + parts["eqs"], threshold="False", reset="", events=parts["events"], namespace=parts["namespace"]
    )
    post.set_event_schedule("reward", when="after_synapses")
    pre = NeuronGroup(1, "")
    with pytest.raises(ValueError, match="impulse.*before the synapses run"):
        synapses(pre, post, [reward_rule(integration="impulse")], effect=None)


def test_a_neurons_own_trace_equals_per_synapse_traces(numpy_target):
    """Without pairings the eligibility is the presynaptic neuron's spike train: one trace kept by the
    neuron (eligibility_parts, read as 'elig_pre') gives the weights of a trace kept by every synapse."""
    defaultclock.dt = 0.1 * ms
    weights = {}
    for trace in (None, "elig_pre"):
        parts = dopamine_parts(tau_dop=0.5 * ms)
        post = NeuronGroup(
            2,
            "ge : 1\n" + parts["eqs"],
            threshold="False",
            reset="",
            events=parts["events"],
            namespace=parts["namespace"],
        )
        for event, code in parts["on_event"].items():
            post.run_on_event(event, code)
        own = eligibility_parts("elig", tau_c=0.3 * second)
        pre = NeuronGroup(
            3,
            "fire : 1\n" + own["eqs"],
            threshold="fire > 0",
            reset="fire = 0\n" + own["on_spike"],
            namespace=own["namespace"],
            method="exact",
        )
        gen = SpikeGeneratorGroup(3, [0, 1, 0, 2, 1, 0], [0.05, 0.1, 0.2, 0.3, 0.45, 0.6] * second)
        relay = Synapses(gen, pre, on_pre="fire_post = 1")
        relay.connect(j="i")
        rgen, rsyn = reward_schedule(post, [0, 1, 0], [0.4, 0.5, 0.8] * second, [0.05, -0.02, 0.03])
        syn = reward_stdp_synapses(
            pre,
            post,
            effect=None,
            integration="impulse",
            A_plus=0.0,
            A_minus=0.0,
            A_pre=1.0,
            tau_c=0.3 * second,
            trace=trace,
        )
        syn.connect()
        syn.w = 1.0
        Network(post, pre, gen, relay, rgen, rsyn, syn).run(1.0 * second)
        settle(syn)
        weights[trace] = np.array(syn.w[:])
        assert ("c" in syn.variables) == (trace is None)  # the shared trace is the neuron's, not the synapse's
    assert np.abs(weights[None] - 1.0).min() > 1e-3  # every synapse learned
    np.testing.assert_allclose(weights["elig_pre"], weights[None], rtol=1e-9)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"trace": "c_pre"}, "needs integration 'impulse'"),
        ({"trace": "c", "integration": "impulse", "A_plus": 0.0, "A_minus": 0.0}, "ending in _pre or _post"),
        ({"trace": "c_pre", "integration": "impulse"}, "A_plus = A_minus = 0"),
        (
            {"trace": "c_pre", "integration": "impulse", "A_plus": 0.0, "A_minus": 0.0, "baseline": "2/second"},
            "baseline 0",
        ),
    ],
)
def test_a_neurons_own_trace_refuses_what_it_cannot_be(kwargs, match):
    from koo_spiking.neuromodulator import reward_rule

    with pytest.raises(ValueError, match=match):
        reward_rule(**kwargs)
