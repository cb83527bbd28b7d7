"""Distal reward: one synapse under classical STDP, then under dopamine-gated STDP.

Izhikevich EM (2007). Solving the distal reward problem through linkage of STDP
and dopamine signaling. Cereb Cortex 17(10):2443-2452. doi:10.1093/cercor/bhl152
(Fig. 1c), as rebuilt in Brian2's example ``frompapers/Izhikevich_2007.py``.

Protocol
--------
Two conductance LIF neurons (tau_m 10 ms, rest -74 mV, threshold -54 mV, reset
-60 mV, tau_e 5 ms, no refractory period) are made to fire by 100 mV input kicks:
neuron 0 at 0.50, 1.00, 1.51 s and neuron 1 at 0.55, 1.01, 1.50 s (pre before post
twice, then post before pre), and the same pattern again from 3.5 s on. One
plastic synapse 0 -> 1 (A+ = 1e-4, A- = 1.05e-4
in units of w, tau+ = tau- = 20 ms, w in [-w_max, w_max], w_max = 0.01) starts at
w = c = 1e-10. For 3 s it learns by classical STDP (pairings change w at once);
then it is switched to reward-gated STDP (pairings feed the eligibility trace c,
tau_c = 1 s, and dw/dt = c*D/tau_s, tau_s = 1 ms), and neuron 1 receives dopamine
pulses of 0.005 (tau_dop = 200 ms) at 3.52, 4.02 and 4.52 s. Step 0.1 ms, 6 s.

What must match for identical traces
------------------------------------
Spike times: the same neuron equations, forward Euler, clock (0.1 ms) and start
values (v = -60 mV). Dopamine: it must reach ``D`` in the step of the reward
(``dopamine_parts(when='after_synapses')``), as the published ``d_post += ...``
does, and decay by forward Euler (the neurons' method). Eligibility trace and
weight: the published example integrates c and w by forward Euler every step,
both from their values at the start of the step and before d decays; so does
``reward_stdp_synapses(integration='euler')``, scheduled before the neurons'
state update. With these, spikes, D, c and w equal the published ones to
rounding (1e-15). With the library's default ``integration='closed_form'`` (exact,
updated only at events, read between events through ``c_now``/``w_now``), c
differs by the Euler error of its decay (at most 1.5e-4 relatively) and the
weight, whose published Euler sum lags the exact integral by one step while the
dopamine is high, by at most 5e-4 of its range (final weights: 1e-4). The
published example also clips c to [-w_max, w_max]; c is not clipped here (the
bound is never reached in this protocol).
"""
import argparse

import numpy as np
from brian2 import Network, SpikeGeneratorGroup, SpikeMonitor, StateMonitor, defaultclock, ms, mV, second

from koo_spiking.neuromodulator import dopamine_parts, reward_schedule, reward_stdp_synapses, set_mode
from koo_spiking.neuron import lif_group
from koo_spiking.synapse import static_rule, synapses

# input kicks: (neuron, time in ms)
KICKS = [(0, 500), (1, 550), (0, 1000), (1, 1010), (1, 1500), (0, 1510),
         (0, 3500), (1, 3550), (0, 4000), (1, 4010), (1, 4500), (0, 4510)]
REWARD_TIMES = [3520, 4020, 4520] * ms   # dopamine pulses onto neuron 1
W_MAX = 0.01                             # weight bound (the published gmax)


def build(integration="euler"):
    """The network of the protocol; returns (network, objects by name).

    ``integration``: ``'euler'`` as published, or ``'closed_form'`` (exact).
    """
    defaultclock.dt = 0.1 * ms
    kicks = SpikeGeneratorGroup(2, [k for k, _ in KICKS], [t for _, t in KICKS] * ms, name="kicks")
    neurons = lif_group(
        2, "excitatory",
        v_rest=-74 * mV,          # leak reversal E_l
        v_reset=-60 * mV,         # reset potential
        v_thresh=-54 * mV,        # spike threshold
        E_exc=0 * mV,             # excitatory reversal potential
        tau_m=10 * ms,            # membrane time constant
        tau_ge=5 * ms,            # excitatory conductance decay
        t_ref=0 * ms,             # no refractory period
        theta_plus=0 * mV,        # no adaptive threshold
        method="euler",           # forward Euler, as published
        dopamine=dopamine_parts(when="after_synapses", tau_dop=200 * ms),
        name="neurons",
    )
    neurons.v = -60 * mV
    kick = synapses(kicks, neurons, [static_rule()], effect="v_post += {w}*mV", name="kick")
    kick.connect(j="i")
    kick.w = 100.0                # mV per input spike: the target fires in the next step
    plastic = reward_stdp_synapses(
        neurons, neurons, effect="ge_post += w", name="plastic", switchable=True, integration=integration,
        tau_plus=20 * ms,         # potentiation window
        tau_minus=20 * ms,        # depression window
        A_plus=1e-4,              # change for pre -> post pairings (0.01*w_max)
        A_minus=1.05e-4,          # change for post -> pre pairings
        tau_c=1000 * ms,          # eligibility trace decay
        tau_s=1 * ms,             # dw/dt = c*D/tau_s
        w_max=W_MAX,              # upper bound
        lower="-w_max",           # lower bound, as published
    )
    plastic.connect(i=0, j=1)
    plastic.w = 1e-10
    plastic.c = 1e-10
    gen, reward = reward_schedule(neurons, [1, 1, 1], REWARD_TIMES, 5e-3, name="dopamine")
    objs = {
        "kicks": kicks, "neurons": neurons, "kick": kick, "plastic": plastic, "gen": gen, "reward": reward,
        "spikes": SpikeMonitor(neurons, name="spikes"),
        "trace": StateMonitor(plastic, ["c_now", "w_now"], record=0, name="trace"),
        "dopamine_level": StateMonitor(neurons, "D", record=1, name="dopamine_level"),
    }
    return Network(*objs.values()), objs


def run(duration=6 * second, integration="euler"):
    """Run the protocol: classical STDP for the first half, reward-gated for the second.

    ``integration``: of the eligibility trace and the weight, ``'euler'`` (as
    published) or ``'closed_form'`` (exact, the library's default).

    Returns
    -------
    dict
        ``spike_i``, ``spike_t_s`` (spikes of both neurons), and sampled at the
        start of every step: ``t_s``, ``c``, ``w`` (eligibility and weight of the
        synapse 0 -> 1) and ``d`` (dopamine of neuron 1); ``w_final``, ``c_final``.
    """
    net, o = build(integration)
    set_mode(o["plastic"], "classical")
    net.run(duration / 2)
    set_mode(o["plastic"], "reward")
    net.run(duration / 2)
    tr, dop = o["trace"], o["dopamine_level"]
    return {
        "spike_i": np.asarray(o["spikes"].i).tolist(),
        "spike_t_s": np.asarray(o["spikes"].t / second).tolist(),
        "t_s": np.asarray(tr.t / second),
        "c": np.asarray(tr.c_now[0]),
        "w": np.asarray(tr.w_now[0]),
        "d": np.asarray(dop.D[0]),
        "w_final": float(o["plastic"].w_now[0]),
        "c_final": float(o["plastic"].c_now[0]),
    }


def figure(result, path):
    """Spikes, dopamine, eligibility trace and weight (in units of w_max) over time."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = result["t_s"]
    fig, ax = plt.subplots(4, 1, figsize=(10, 6), sharex=True)
    ax[0].plot(result["spike_t_s"], result["spike_i"], "ob")
    ax[0].plot(REWARD_TIMES / second, [2] * len(REWARD_TIMES), "or")
    ax[0].set(yticks=[0, 1, 2], yticklabels=["pre", "post", "reward"], ylim=(-0.5, 2.5))
    ax[0].axvline(3.0, color="k", lw=0.5)
    for a, key, color, label in ((ax[1], "d", "r", "dopamine D"), (ax[2], "c", "b", "eligibility c"),
                                 (ax[3], "w", "g", "weight w")):
        a.plot(t, result[key] / W_MAX, color)
        a.set_ylabel(f"{label}\n(/w_max)", fontsize=8)
    ax[3].set_xlabel("time (s)")
    ax[0].set_title("classical STDP (0-3 s), then dopamine-gated STDP (3-6 s)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Izhikevich (2007) distal reward, Fig. 1c protocol")
    parser.add_argument("--out", default="izhikevich_2007_distal_reward.png", help="figure file")
    args = parser.parse_args()
    res = run()
    print("spikes (neuron, time s):", [(i, round(t, 4)) for i, t in zip(res["spike_i"], res["spike_t_s"])])
    print(f"final weight {res['w_final']:.6e} ({res['w_final'] / W_MAX:.6f} w_max), "
          f"final eligibility {res['c_final']:.6e}")
    figure(res, args.out)
    print(f"figure: {args.out}")
