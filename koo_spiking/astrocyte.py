"""Astrocytes: G-ChI Ca2+/IP3 dynamics, one astrocyte per neuron, IP3 gap junctions.

G-ChI astrocyte (Li-Rinzel CICR with PLCbeta/PLCdelta IP3 production)
    De Pitta M, Goldberg M, Volman V, Berry H, Ben-Jacob E (2009). Glutamate
    regulation of calcium and IP3 oscillating and pulsating dynamics in
    astrocytes. J Biol Phys 35:383-411. doi:10.1007/s10867-009-9155-y.
Brian 2 formulation, parameters and IP3 gap-junction coupling
    Stimberg M, Goodman DFM, Brette R, De Pitta M (2019). Modeling neuron-glia
    interactions with the Brian 2 simulator. In: Computational Glioscience,
    Springer, pp. 471-505. doi:10.1007/978-3-030-00817-8_18.
Nonlinear IP3 diffusion between astrocytes
    Goldberg M, De Pitta M, Volman V, Berry H, Ben-Jacob E (2010). Nonlinear
    gap junctions enable long-distance propagation of pulsating calcium waves
    in astrocyte networks. PLoS Comput Biol 6(8):e1000909.

Design for speed: the astrocytes run on their own coarse clock (10 ms by
default). A neuron drives its astrocyte through one event-driven synapse: each
spike's glutamate pulse (amount rho_c*Y_T, cleared at rate Omega_c) binds the
astrocyte's receptors in closed form, Gamma_A += (1 - exp(-O_N*rho_c*Y_T/Omega_c))*(1 - Gamma_A).
No per-synapse quantity is integrated.

The state other modules use to control a neuron's plasticity is ``gate``: a
Hill function of the astrocyte's Ca2+, low-pass filtered with ``tau_gate``,
in [0, 1]. Link it into the neuron with ``link_gate``.
"""
import numpy as np
from brian2 import NeuronGroup, Synapses, linked_var, ms, mmolar, second, umolar

from .parameters import Param, check_size, resolve

__all__ = ["ASTROCYTE_PARAMS", "PRESETS", "COUPLING_PARAMS", "ASTROCYTE_EQUATIONS", "astrocyte_params",
           "astrocyte_group", "couple", "topology_pairs", "drive_from_neurons", "drive_from_events", "link_gate"]

ASTROCYTE_PARAMS = {
    # Ca2+ fluxes
    "O_P": Param(0.9 * umolar / second, "+", "maximal Ca2+ uptake rate by SERCAs"),
    "K_P": Param(0.05 * umolar, "+", "Ca2+ affinity of SERCAs"),
    "C_T": Param(2.0 * umolar, "+", "total cell free Ca2+ content"),
    "rho_A": Param(0.18, "+", "ER-to-cytoplasm volume ratio"),
    "Omega_C": Param(6.0 / second, "+", "maximal rate of Ca2+ release by IP3Rs"),
    "Omega_L": Param(0.1 / second, "+", "maximal rate of Ca2+ leak from the ER"),
    # IP3R kinetics
    "d_1": Param(0.13 * umolar, "+", "IP3 binding affinity"),
    "d_2": Param(1.05 * umolar, "+", "Ca2+ inactivation dissociation constant"),
    "O_2": Param(0.2 / umolar / second, "+", "IP3R binding rate for Ca2+ inhibition"),
    "d_3": Param(0.9434 * umolar, "+", "IP3 dissociation constant"),
    "d_5": Param(0.08 * umolar, "+", "Ca2+ activation dissociation constant"),
    # agonist-dependent IP3 production (PLCbeta)
    "O_beta": Param(0.5 * umolar / second, ">=0", "maximal rate of IP3 production by PLCbeta"),
    "O_N": Param(0.3 / umolar / second, "+", "agonist binding rate"),
    "Omega_N": Param(0.5 / second, "+", "maximal receptor inactivation rate"),
    "K_KC": Param(0.5 * umolar, "+", "Ca2+ affinity of PKC"),
    "zeta": Param(10.0, ">=0", "maximal reduction of receptor affinity by PKC"),
    # Ca2+-dependent IP3 production (PLCdelta)
    "O_delta": Param(1.2 * umolar / second, ">=0", "maximal rate of IP3 production by PLCdelta"),
    "kappa_delta": Param(1.5 * umolar, "+", "inhibition constant of PLCdelta by IP3"),
    "K_delta": Param(0.1 * umolar, "+", "Ca2+ affinity of PLCdelta"),
    # IP3 degradation
    "Omega_5P": Param(0.05 / second, "+", "maximal rate of IP3 degradation by IP-5P"),
    "K_D": Param(0.7 * umolar, "+", "Ca2+ affinity of IP3-3K"),
    "K_3K": Param(1.0 * umolar, "+", "IP3 affinity of IP3-3K"),
    "O_3K": Param(4.5 * umolar / second, "+", "maximal rate of IP3 degradation by IP3-3K"),
    # exogenous IP3 drive towards I_bias (same sigmoid form as the coupling)
    "F_ex": Param(0.09 * umolar / second, ">=0", "maximal exogenous IP3 flow"),
    "I_Theta": Param(0.3 * umolar, "+", "threshold gradient for IP3 flow"),
    "omega_I": Param(0.05 * umolar, "+", "scaling factor of IP3 flow"),
    # glutamate released by the astrocyte's own neuron
    "rho_c": Param(0.001, ">=0", "vesicle-to-extracellular volume ratio"),
    "Y_T": Param(500.0 * mmolar, ">=0", "vesicular glutamate concentration"),
    "Omega_c": Param(40.0 / second, "+", "glutamate clearance rate"),
    # plasticity gate read by the neuron
    "C_gate": Param(0.3 * umolar, "+", "Ca2+ at half-open gate"),
    "n_gate": Param(4.0, "+", "Hill coefficient of the gate"),
    "tau_gate": Param(1.0 * second, "+", "gate low-pass time constant"),
}

COUPLING_PARAMS = {
    "F": Param(0.09 * umolar / second, ">=0", "gap-junction IP3 permeability"),
    "I_Theta": Param(0.3 * umolar, "+", "threshold gradient for IP3 diffusion"),
    "omega_I": Param(0.05 * umolar, "+", "scaling factor of diffusion"),
}

ASTROCYTE_EQUATIONS = """
# receptor activation by the neuron's glutamate (increments come from spikes)
dGamma_A/dt = -Omega_N*(1 + zeta*C/(C + K_KC))*Gamma_A      : 1
# IP3
dI/dt = J_beta + J_delta - J_3K - J_5P + J_ex + J_coupling   : mmolar
J_beta = O_beta*Gamma_A                                      : mmolar/second
J_delta = O_delta/(1 + I/kappa_delta)*C**2/(C**2 + K_delta**2) : mmolar/second
J_3K = O_3K*C**4/(C**4 + K_D**4)*I/(I + K_3K)                : mmolar/second
J_5P = Omega_5P*I                                            : mmolar/second
delta_I_bias = I - I_bias                                    : mmolar
J_ex = -F_ex/2*(1 + tanh((abs(delta_I_bias) - I_Theta)/omega_I))*sign(delta_I_bias)*ex_on : mmolar/second
I_bias                                                       : mmolar
ex_on                                                        : 1
J_coupling                                                   : mmolar/second
# Ca2+-induced Ca2+ release
dC/dt = J_r + J_l - J_p                                      : mmolar
dh/dt = (h_inf - h)/tau_h                                    : 1
J_r = Omega_C*m_inf**3*h**3*(C_T - (1 + rho_A)*C)            : mmolar/second
J_l = Omega_L*(C_T - (1 + rho_A)*C)                          : mmolar/second
J_p = O_P*C**2/(C**2 + K_P**2)                               : mmolar/second
m_inf = I/(I + d_1)*C/(C + d_5)                              : 1
h_inf = Q_2/(Q_2 + C)                                        : 1
tau_h = 1/(O_2*(Q_2 + C))                                    : second
Q_2 = d_2*(I + d_1)/(I + d_3)                                : mmolar
# plasticity gate exposed to the neuron
dgate/dt = (C**n_gate/(C**n_gate + C_gate**n_gate) - gate)/tau_gate : 1
"""


#: Parameter changes of the chapter's examples relative to ``ASTROCYTE_PARAMS`` (its example 6,
#: the recurrent neuron-glia network): ``single`` is example 2 (a synaptically driven cell,
#: De Pitta et al. 2009), ``wave`` is example 5 (ring of spontaneously oscillating cells),
#: ``excitable`` a quiescent cell that relays IP3 fronts along a chain.
PRESETS = {
    "network": {},
    "single": {
        "K_P": 0.1 * umolar, "O_beta": 5.0 * umolar / second, "O_delta": 0.2 * umolar / second,
        "K_delta": 0.3 * umolar, "Omega_5P": 0.1 / second, "K_D": 0.5 * umolar,
    },
    "wave": {"O_delta": 0.6 * umolar / second},
}
# example 2's cell with stronger PLCdelta: quiescent at rest but excitable, so IP3
# arriving through gap junctions regenerates and a Ca2+ front travels (Goldberg 2010)
PRESETS["excitable"] = {**PRESETS["single"], "O_delta": 0.36 * umolar / second}


def astrocyte_params(preset="network", **overrides):
    """Validated astrocyte namespace: a preset of ``PRESETS`` with overrides."""
    if preset not in PRESETS:
        raise ValueError(f"astrocyte: parameter 'preset' must be one of {', '.join(PRESETS)}, got {preset!r}")
    return resolve(f"astrocyte ({preset})", ASTROCYTE_PARAMS, {**PRESETS[preset], **overrides})


def astrocyte_group(n, dt=10 * ms, name=None, method="rk4", preset="network", **overrides):
    """``n`` G-ChI astrocytes on their own clock.

    The exogenous drive ``J_ex`` is off until ``ex_on`` is set to 1 for a cell;
    it then pulls IP3 towards ``I_bias``.
    """
    n = check_size("astrocyte", "n", n)
    if dt <= 0 * ms:
        raise ValueError(f"astrocyte: parameter 'dt' must be positive, got {dt!r}")
    ns = astrocyte_params(preset, **overrides)
    group = NeuronGroup(n, ASTROCYTE_EQUATIONS, method=method, namespace=ns, dt=dt, name=name or "astrocytes*")
    group.h = 0.9          # IP3Rs mostly available for CICR
    group.C = 0.05 * umolar
    group.I = 0.05 * umolar
    return group


def topology_pairs(n, topology="ring", shape=None, k=4, positions=None):
    """Directed (i, j) pairs of a symmetric astrocyte network.

    Parameters
    ----------
    topology : {'ring', 'chain', 'grid', 'knn', 'none'}
        ``grid`` is the layer's 2-D sheet (4 neighbours, ``shape`` = (rows, cols));
        ``knn`` joins each cell to its ``k`` nearest neighbours in ``positions``
        (n x 2; the grid by default), made symmetric.
    """
    if topology == "none":
        return np.zeros(0, np.int32), np.zeros(0, np.int32)
    if topology in ("ring", "chain"):
        src = np.arange(n - 1) if topology == "chain" else np.arange(n)
        dst = (src + 1) % n
        edges = {(int(a), int(b)) for a, b in zip(src, dst) if a != b}
    elif topology in ("grid", "knn"):
        rows, cols = shape or _square(n)
        if rows * cols != n:
            raise ValueError(f"astrocyte coupling: parameter 'shape' {shape} does not hold {n} cells")
        if topology == "grid":
            edges = set()
            for r in range(rows):
                for c in range(cols):
                    if c + 1 < cols:
                        edges.add((r * cols + c, r * cols + c + 1))
                    if r + 1 < rows:
                        edges.add((r * cols + c, (r + 1) * cols + c))
        else:
            pos = positions if positions is not None else np.array(
                [(r, c) for r in range(rows) for c in range(cols)], float)
            if not 0 < k < n:
                raise ValueError(f"astrocyte coupling: parameter 'k' must lie in 1..{n - 1}, got {k!r}")
            dist = np.linalg.norm(pos[:, None, :] - pos[None, :, :], axis=-1)
            np.fill_diagonal(dist, np.inf)
            nearest = np.argsort(dist, axis=1, kind="stable")[:, :k]
            edges = {(min(a, b), max(a, b)) for a in range(n) for b in nearest[a]}
    else:
        raise ValueError(f"astrocyte coupling: unknown topology {topology!r} "
                         "(choose ring, chain, grid, knn or none)")
    edges = sorted(edges)
    i = np.array([a for a, b in edges] + [b for a, b in edges], np.int32)
    j = np.array([b for a, b in edges] + [a for a, b in edges], np.int32)
    return i, j


def _square(n):
    rows = int(np.floor(np.sqrt(n)))
    while n % rows:
        rows -= 1
    return rows, n // rows


def couple(astrocytes, topology="grid", shape=None, k=4, positions=None, name=None, **overrides):
    """Gap-junction IP3 diffusion between astrocytes (Goldberg et al. 2010 flux).

    Each directed pair adds to the target's ``J_coupling`` a thresholded,
    sigmoidal flux down the IP3 gradient; the synapses run on the astrocytes' clock.
    """
    ns = resolve("astrocyte coupling", COUPLING_PARAMS, overrides)
    eqs = """
    delta_I = I_post - I_pre : mmolar
    J_coupling_post = -F/2*(1 + tanh((abs(delta_I) - I_Theta)/omega_I))*sign(delta_I) : mmolar/second (summed)
    """
    syn = Synapses(astrocytes, astrocytes, eqs, namespace=ns, dt=astrocytes.clock.dt, name=name or "coupling*")
    i, j = topology_pairs(len(astrocytes), topology, shape, k, positions)
    if len(i):
        syn.connect(i=i, j=j)
    return syn


def drive_from_neurons(neurons, astrocytes, name=None):
    """One synapse per neuron onto its own astrocyte: spikes activate its receptors.

    The glutamate pulse of each spike is integrated in closed form; the synapse
    runs on the neurons' clock, so no spike is missed by the coarse astrocyte clock.
    """
    if len(neurons) != len(astrocytes):
        raise ValueError(f"astrocyte drive: {len(neurons)} neurons but {len(astrocytes)} astrocytes "
                         "(one astrocyte per neuron)")
    ns = astrocytes.namespace
    bound = float(1 - np.exp(-ns["O_N"] * ns["rho_c"] * ns["Y_T"] / ns["Omega_c"]))
    syn = Synapses(neurons, astrocytes, on_pre="Gamma_A_post += bound_fraction*(1 - Gamma_A_post)",
                   namespace={"bound_fraction": bound}, name=name or "astro_drive*")
    syn.connect(j="i")
    return syn


def drive_from_events(neurons, astrocytes, event="reward", amount="abs(reward_in_pre)", gain=1.0, name=None):
    """One synapse per neuron onto its own astrocyte, activated by a neuron event.

    Each ``event`` of a neuron (e.g. its dopamine ``reward`` event) activates its
    astrocyte's receptors in proportion to ``amount`` (an expression of the
    neuron's variables): Gamma_A += (1 - exp(-gain*amount))*(1 - Gamma_A).
    Astrocytes express dopamine receptors coupled to Ca2+ release (Corkrum M et al.
    2020, Neuron 105:1036-1047), so a neuron's dopamine can drive its astrocyte.
    """
    if len(neurons) != len(astrocytes):
        raise ValueError(f"astrocyte drive: {len(neurons)} neurons but {len(astrocytes)} astrocytes "
                         "(one astrocyte per neuron)")
    if event not in neurons.events:
        raise ValueError(f"astrocyte drive: neurons {neurons.name!r} have no event {event!r} "
                         f"(events: {', '.join(sorted(neurons.events))})")
    syn = Synapses(neurons, astrocytes, on_pre=f"Gamma_A_post += (1 - exp(-gain*({amount})))*(1 - Gamma_A_post)",
                   on_event={"pre": event}, namespace={"gain": float(gain)}, name=name or "astro_events*")
    syn.connect(j="i")
    return syn


def link_gate(neurons, astrocytes, variable="gate"):
    """Point the neurons' ``variable : 1 (linked)`` at their astrocytes' gate.

    Call this before creating synapses whose code refers to ``gate_post``.
    """
    setattr(neurons, variable, linked_var(astrocytes, "gate"))
