"""Reward-modulated STDP (Izhikevich 2007): closed-form eligibility and the distal reward problem."""
import numpy as np
from brian2 import Network, NeuronGroup, defaultclock, SpikeGeneratorGroup, SpikeMonitor, StateMonitor, Synapses, ms, second

from koo_spiking.neuromodulator import dopamine_parts, reward_schedule, reward_stdp_synapses


def _post_group(n):
    """Neurons that fire exactly when told (through ``fire``) and carry dopamine."""
    parts = dopamine_parts()
    group = NeuronGroup(n, "fire : 1\nge : 1\n" + parts["eqs"], threshold="fire > 0", reset="fire = 0",
                        events=parts["events"], namespace=parts["namespace"], method="exact")
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
    pre = SpikeGeneratorGroup(1, [0, 0], [0.1, 3.0] * second)       # pairing, then a probe spike
    drv = _driver(post, [0], [0.1095])                               # post fires at 0.110 s
    gen, rsyn = reward_schedule(post, [0], [1.1] * second, 0.05)
    syn = reward_stdp_synapses(pre, post, effect=None)
    syn.connect()
    syn.w = 1.0
    spikes = SpikeMonitor(post)
    dop = StateMonitor(post, "D", record=0, dt=0.1 * ms)
    Network(post, pre, *drv, gen, rsyn, syn, spikes, dop).run(3.2 * second)
    t_post = float(spikes.t[0] / second)
    d = dop.D[0]
    t_d = float(dop.t[np.argmax(d > 0)] / second) - 1e-4             # dopamine jumps in this step
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
    print(f"paired synapse dw = {rewarded[0]:.3f}; other synapses |dw| max {others.max():.3f}, "
          f"mean {others.mean():.3f}")
    assert rewarded[0] > 1.0
    assert rewarded[0] > 2.0 * others.max()
    assert rewarded[0] > 5.0 * others.mean()
    assert np.all(unrewarded == 0.0)       # no dopamine, no weight change at all
