"""A synaptically driven G-ChI astrocyte, deterministic and stochastic.

Stimberg M, Goodman DFM, Brette R, De Pitta M (2019). Modeling neuron-glia
interactions with the Brian 2 simulator. In: De Pitta M, Berry H (eds),
Computational Glioscience, Springer, pp. 471-505. doi:10.1007/978-3-030-00817-8_18
(bioRxiv 198366, 2017), Fig. 2 / example 2, after De Pitta M et al. (2009), J Biol
Phys 35:383-411; rebuilt in Brian2's example
``frompapers/Stimberg_et_al_2018/example_2_gchi_astrocyte.py``.

Protocol
--------
One source neuron fires regularly at 0.5 Hz (first spike at 2 s). Each spike
releases glutamate (rho_c*Y_T = 0.5 mM into the extracellular space, cleared at
Omega_c = 40/s) onto two astrocytes with the chapter's example-2 parameters
(``preset='example2'``: K_P 0.1 uM, O_beta 5 uM/s, O_delta 0.2 uM/s, K_delta
0.3 uM, Omega_5P 0.1/s, K_D 0.5 uM, exogenous IP3 flow F_ex 0.09 uM/s towards
I_bias = 0, start C = I = Gamma_A = 0, h = 0.9). Cell 0 is deterministic, cell 1
has multiplicative noise on its IP3R gating (noise amplitude 1). Step 1 ms,
Milstein integration (forward Euler for the deterministic cell), 30 s.

Agreement with the published example: the source is this library's
integrate-and-fire neuron (``if_group``) reset to zero like the chapter's dummy
neuron, so it fires in the same steps (2.000, 4.001, ... s); the glutamate Y_S
lives in the astrocyte (``glutamate='kinetic'``, exact between releases as in the
published synapse, released at the end of the spike's step as a Brian2 synapse
acts). With Brian2 2.9 drawing the same random numbers for the same seed at
runtime as in the published cpp_standalone run, both cells, the stochastic one
included, follow the published traces to within 1e-13 uM over the 30 s.
"""
import argparse

import numpy as np
from brian2 import Network, SpikeMonitor, StateMonitor, defaultclock, ms, mV, second, seed, umolar

from koo_spiking.astrocyte import astrocyte_group, drive_from_neurons
from koo_spiking.neuron import if_group

RATE = 0.5           # source firing rate (Hz)
DT = 1 * ms          # integration and sampling step


def crossings(x, t, level):
    """Times at which ``x`` rises through ``level``."""
    up = np.nonzero((x[1:] >= level) & (x[:-1] < level))[0]
    return t[up + 1]


def run(duration=30 * second, noise_seed=790824):
    """Run the protocol.

    Returns
    -------
    dict
        ``t_s``, and per cell (rows: deterministic, stochastic) ``C_uM``, ``I_uM``,
        ``Gamma_A`` and ``h`` sampled every step; ``spike_t_s`` of the source;
        for the deterministic cell ``C_max_uM``, ``t_C_max_s``, ``I_max_uM``,
        ``Gamma_A_max``, ``h_min`` and ``C_crossings_s`` (rises through the
        mid-level between its Ca2+ minimum and maximum).
    """
    defaultclock.dt = DT
    seed(noise_seed)
    source = if_group(1, on_spike="v = 0*mV", name="source")   # reset to zero, as the chapter's dummy neuron
    source.I_b = RATE * 1 * mV / second     # v_th = 1 mV per period of 2 s
    astro = astrocyte_group(
        2, dt=DT, preset="example2",
        noise=[0.0, 1.0],                   # cell 0 deterministic, cell 1 stochastic
        method="milstein",                  # multiplicative noise; Euler when noise = 0
        name="astrocytes",
    )
    drive = drive_from_neurons(source, astro, i=[0, 0], j=[0, 1], name="glutamate")  # one neuron, two cells
    spikes = SpikeMonitor(source, name="source_spikes")
    mon = StateMonitor(astro, ["C", "I", "Gamma_A", "h"], record=True, name="astro_state")
    Network(source, astro, drive, spikes, mon).run(duration)
    t = np.asarray(mon.t / second)
    out = {"t_s": t, "C_uM": np.asarray(mon.C / umolar), "I_uM": np.asarray(mon.I / umolar),
           "Gamma_A": np.asarray(mon.Gamma_A), "h": np.asarray(mon.h),
           "spike_t_s": np.asarray(spikes.t / second)}
    c = out["C_uM"][0]
    out.update(C_max_uM=float(c.max()), t_C_max_s=float(t[np.argmax(c)]),
               I_max_uM=float(out["I_uM"][0].max()), Gamma_A_max=float(out["Gamma_A"][0].max()),
               h_min=float(out["h"][0].min()),
               C_crossings_s=crossings(c, t, 0.5 * (c.max() + c.min())).tolist())
    return out


def figure(result, path):
    """Receptor activation, IP3, Ca2+ and h of both cells over time."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = result["t_s"]
    fig, ax = plt.subplots(4, 1, figsize=(7, 5), sharex=True)
    for a, key, label in zip(ax, ("Gamma_A", "I_uM", "C_uM", "h"),
                             ("$\\Gamma_A$", "$I$ ($\\mu$M)", "$C$ ($\\mu$M)", "$h$")):
        a.plot(t, result[key][0], label="deterministic")
        a.plot(t, result[key][1], label="stochastic", alpha=0.8)
        a.set_ylabel(label)
    ax[1].legend(loc="upper left", fontsize=8)
    ax[-1].set_xlabel("time (s)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Stimberg et al. (2019), example 2: G-ChI astrocyte")
    parser.add_argument("--out", default="stimberg_2018_astrocyte.png", help="figure file")
    args = parser.parse_args()
    res = run()
    print(f"deterministic cell: Ca2+ peak {res['C_max_uM']:.4f} uM at {res['t_C_max_s']:.3f} s, "
          f"IP3 peak {res['I_max_uM']:.4f} uM, Gamma_A peak {res['Gamma_A_max']:.4f}, h min {res['h_min']:.4f}, "
          f"Ca2+ rises at {', '.join(f'{x:.3f}' for x in res['C_crossings_s'])} s")
    print(f"stochastic cell: Ca2+ peak {res['C_uM'][1].max():.4f} uM")
    figure(res, args.out)
    print(f"figure: {args.out}")
