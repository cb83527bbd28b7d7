"""Competitive Hebbian learning through STDP: the bimodal weight distribution.

Song S, Miller KD, Abbott LF (2000). Competitive Hebbian learning through
spike-timing-dependent synaptic plasticity. Nat Neurosci 3(9):919-926.
doi:10.1038/78829. (Song S, Abbott LF (2001). Neuron 32(2):339-350.)

Protocol
    1000 excitatory inputs, independent Poisson trains at 15 Hz, drive one
    conductance-based leaky integrate-and-fire neuron. Every input synapse is
    plastic under additive pair-based STDP with hard bounds [0, w_max]; the
    depression side is 5 % stronger (A_minus*tau_minus = 1.05*A_plus*tau_plus).
    Weights start uniform in [0, w_max]. After 100 s of simulated time the
    inputs compete: most weights sit near 0 or near w_max (a bimodal
    distribution) and the output rate is regulated.

Model (koo_spiking)
    ``neuron.lif_group`` (conductance LIF, Euler steps of dt = 0.1 ms) and
    ``synapse.stdp_rule`` on ``synapse.synapses``. The numbers are those of
    Brian2's example ``examples/synapses/STDP.py`` (tau_m = 10 ms, rest -74 mV,
    threshold -54 mV, reset -60 mV, w_max = 0.01 leak conductances, tau_e = 5 ms,
    A_plus = 1 % of w_max), so that its results can be compared with ours.

Two choices of that example differ from the library's defaults; ``brian2_compatible=True``
takes them over: the membrane potential starts at 0 mV (the example leaves it at Brian2's
initial value 0, so the neuron fires in the first step) instead of at rest, and each
input spike transmits the weight before its own STDP update (``effect_order='before'``)
instead of after it. With that switch, the same seed and the cython target, the final
weights are identical to the example's: the membrane update sums its terms in another
order (ours carries the unused inhibitory and external-current terms, which add exact
zeros), so v differs by a few units in the last place within an inter-spike interval, but
the reset erases it at every spike and no spike moves to another time step.

Results (seed 1, cython, Brian2 2.9.0; ``tests/reference/song2000_tpm1998.json``), fractions
of weights near 0 (w < 0.1 w_max) and near w_max (w > 0.9 w_max) after 100 s:
Brian2's example 0.234 and 0.185; ours with the library's defaults 0.231 and 0.183; ours
with ``brian2_compatible=True`` the example's weights, bit for bit (also after 20 s).

Run ``python examples/song_miller_abbott_2000.py --out song2000.png``.
"""
import argparse

import numpy as np
from brian2 import Hz, Network, PoissonGroup, SpikeMonitor, StateMonitor, ms, mV, second, start_scope

from koo_spiking import backend
from koo_spiking.neuron import lif_group
from koo_spiking.synapse import stdp_rule, synapses

N_INPUTS = 1000           # Poisson inputs
RATE = 15 * Hz            # rate of every input
NEURON = dict(
    v_rest=-74 * mV,      # leak reversal potential
    v_reset=-60 * mV,     # reset potential
    v_thresh=-54 * mV,    # spike threshold
    E_exc=0 * mV,         # excitatory reversal potential
    tau_m=10 * ms,        # membrane time constant
    tau_ge=5 * ms,        # decay of the excitatory conductance
    t_ref=0 * ms,         # no refractory period
    theta_plus=0 * mV,    # no adaptive threshold
)
W_MAX = 0.01                                    # upper weight bound, in leak conductances
TAU_PLUS = 20 * ms                              # potentiation window
TAU_MINUS = 20 * ms                             # depression window
A_PLUS = 0.01 * W_MAX                           # weight step of a pre-post pairing
A_MINUS = float(1.05 * A_PLUS * TAU_PLUS / TAU_MINUS)  # post-pre step: A-tau-/(A+tau+) = 1.05
NEAR = 0.1                                      # "near 0": w < 0.1 w_max; "near w_max": w > 0.9 w_max


def weight_summary(w_rel):
    """Fractions of weights near 0 and near w_max, and a 20-bin histogram, of w/w_max."""
    w_rel = np.asarray(w_rel, dtype=float)
    counts, _ = np.histogram(w_rel, bins=20, range=(0.0, 1.0))
    return {"fraction_near_0": float(np.mean(w_rel < NEAR)),
            "fraction_near_w_max": float(np.mean(w_rel > 1 - NEAR)),
            "histogram_20_bins": counts.tolist()}


def run(duration=100 * second, seed=1, brian2_compatible=False, target="cython"):
    """Run the protocol and return the final weights and their summary.

    Parameters
    ----------
    duration : Quantity
        Simulated time (the paper's protocol: 100 s).
    seed : int
        Seed of Brian2's and numpy's generators, set before any random number is drawn.
    brian2_compatible : bool
        Start v at 0 mV and transmit the pre-update weight, as Brian2's example does.
    target : {'cython', 'numpy'}
        Runtime code-generation target.

    Returns
    -------
    dict
        ``w`` (final w/w_max per synapse), ``fraction_near_0``, ``fraction_near_w_max``,
        ``histogram_20_bins``, ``output_rate_hz``, ``t_trace_s`` and ``w_trace`` (w/w_max
        of synapses 0 and 1, every 100 ms).
    """
    with backend.backend(target):
        start_scope()
        backend.seed(seed)
        inputs = PoissonGroup(N_INPUTS, rates=RATE)
        neuron = lif_group(1, method="euler", **NEURON)
        if brian2_compatible:
            neuron.v = 0 * mV
        rule = stdp_rule(tau_plus=TAU_PLUS, tau_minus=TAU_MINUS, A_plus=A_PLUS, A_minus=A_MINUS, w_max=W_MAX)
        syn = synapses(inputs, neuron, [rule], effect="ge_post += {w}",
                       effect_order="before" if brian2_compatible else "after")
        syn.connect()
        syn.w = "rand()*w_max"
        spikes = SpikeMonitor(neuron)
        trace = StateMonitor(syn, "w", record=[0, 1], dt=100 * ms)
        Network(inputs, neuron, syn, spikes, trace).run(duration)
        w_rel = np.asarray(syn.w[:]) / W_MAX
        result = {"w": w_rel, **weight_summary(w_rel),
                  "output_rate_hz": spikes.num_spikes / float(duration / second),
                  "t_trace_s": np.asarray(trace.t / second), "w_trace": np.asarray(trace.w) / W_MAX}
    return result


def plot(result, path):
    """Histogram of the final weights, two weight traces, and the weights by synapse."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, 1, figsize=(7, 8))
    axes[0].hist(result["w"], bins=20, range=(0, 1), color="0.3")
    axes[0].set_xlabel("final weight / w_max")
    axes[0].set_ylabel("synapses")
    axes[1].plot(result["t_trace_s"], result["w_trace"].T)
    axes[1].set_xlabel("time (s)")
    axes[1].set_ylabel("weight / w_max")
    axes[2].plot(result["w"], ".k", ms=2)
    axes[2].set_xlabel("synapse")
    axes[2].set_ylabel("final weight / w_max")
    fig.suptitle("STDP (Song, Miller & Abbott 2000): competition makes the weights bimodal")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="song_miller_abbott_2000.png", help="figure file")
    parser.add_argument("--duration", type=float, default=100.0, help="simulated seconds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--brian2-compatible", action="store_true",
                        help="start v at 0 mV and transmit the pre-update weight (Brian2's example)")
    parser.add_argument("--target", default="cython", choices=["cython", "numpy"])
    args = parser.parse_args(argv)
    result = run(args.duration * second, args.seed, args.brian2_compatible, args.target)
    print(f"output rate {result['output_rate_hz']:.2f} Hz")
    print(f"fraction of weights near 0 (< {NEAR} w_max): {result['fraction_near_0']:.3f}")
    print(f"fraction of weights near w_max (> {1 - NEAR} w_max): {result['fraction_near_w_max']:.3f}")
    print("histogram of w/w_max (20 bins):", result["histogram_20_bins"])
    plot(result, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
