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

Design for speed: astrocytes run on their own coarse clock (10 ms by default). Each spike's
glutamate pulse (rho_c*Y_T, cleared at rate Omega_c) binds the receptors in closed form,
Gamma_A += (1 - exp(-O_N*rho_c*Y_T/Omega_c))*(1 - Gamma_A) (``glutamate='kinetic'``: as in the
chapter). The neuron -> astrocyte synapses end on a relay group on the neurons' clock, linked to
the astrocytes' variables: a spike acts in its own step, with one dt (no ``synapses_dt_mismatch``).

Start state and exogenous IP3: by default C = I = 0.05 uM, h = 0.9, flow ``J_ex`` off
(``ex_on = 0``); the chapter's example 2 starts at C = I = 0 with the flow on (towards
I_bias = 0). Preset ``'example2'`` is that example (``PRESET_START``); ``start=`` and
``exogenous=`` override; ``noise=`` gives its stochastic cell (noisy IP3R gating).

The state other modules use to control a neuron's plasticity is ``gate``: a
Hill function of the astrocyte's Ca2+, low-pass filtered with ``tau_gate``,
in [0, 1]. Link it into the neuron with ``link_gate``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
from brian2 import NeuronGroup, Synapses, linked_var, mmolar, ms, second, umolar

from .parameters import Param, check_size, resolve
from .topology import topology_pairs

if TYPE_CHECKING:
    from collections.abc import Mapping

    from brian2 import Clock
    from brian2.units.fundamentalunits import Quantity
    from numpy.typing import ArrayLike

__all__ = [
    "ASTROCYTE_PARAMS",
    "PRESETS",
    "PRESET_START",
    "COUPLING_PARAMS",
    "ASTROCYTE_EQUATIONS",
    "ASTROCYTE_EQUATIONS_STOCHASTIC",
    "astrocyte_params",
    "astrocyte_group",
    "couple",
    "topology_pairs",
    "drive_from_neurons",
    "drive_from_events",
    "link_gate",
]


# Brian2 warns that the drive's `Gamma_A_post += ...` may depend on the order of pulses; it does not: each
# pulse maps 1 - Gamma_A to a multiple of itself, so pulses reaching one astrocyte in one step commute
logging.getLogger("brian2.codegen.generators.base").addFilter(
    lambda r: not ("may not be well-defined" in r.getMessage() and "Gamma_A_post +=" in r.getMessage())
)

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

# receptor activation by the neuron's glutamate: each spike adds a closed-form increment ...
_RECEPTORS = """
dGamma_A/dt = -Omega_N*(1 + zeta*C/(C + K_KC))*Gamma_A      : 1
"""

# ... or adds rho_c*Y_T to glutamate Y_S, bound while cleared; Y_S is exact at any time (Y_rel: level
# at the last release, t_rel: the end of its time step, when a synaptic effect shows in Brian2)
_RECEPTORS_KINETIC = """
dGamma_A/dt = O_N*Y_S*(1 - Gamma_A) - Omega_N*(1 + zeta*C/(C + K_KC))*Gamma_A : 1
Y_S = Y_rel*exp(-Omega_c*(t - t_rel))                        : mmolar
Y_rel                                                        : mmolar
t_rel                                                        : second
"""

_CELL_EQUATIONS = """
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
J_l = Omega_L*(C_T - (1 + rho_A)*C)                          : mmolar/second
J_p = O_P*C**2/(C**2 + K_P**2)                               : mmolar/second
m_inf = I/(I + d_1)*C/(C + d_5)                              : 1
h_inf = Q_2/(Q_2 + C)                                        : 1
tau_h = 1/(O_2*(Q_2 + C))                                    : second
Q_2 = d_2*(I + d_1)/(I + d_3)                                : mmolar
# plasticity gate exposed to the neuron
dgate/dt = (C**n_gate/(C**n_gate + C_gate**n_gate) - gate)/tau_gate : 1
"""

# deterministic IP3R gating
_GATING = """
dh/dt = (h_inf - h)/tau_h                                    : 1
J_r = Omega_C*m_inf**3*h**3*(C_T - (1 + rho_A)*C)            : mmolar/second
"""

# stochastic IP3R gating (Stimberg et al. 2019, example 2): multiplicative noise of per-cell amplitude
_GATING_STOCHASTIC = """
dh/dt = (h_inf - h_clipped)/tau_h*(1 + noise*xi*tau_h**0.5)  : 1
h_clipped = clip(h, 0, 1)                                    : 1
J_r = Omega_C*m_inf**3*h_clipped**3*(C_T - (1 + rho_A)*C)    : mmolar/second
noise                                                        : 1 (constant)
"""

#: Deterministic G-ChI cell.
ASTROCYTE_EQUATIONS = _RECEPTORS + _CELL_EQUATIONS + _GATING
#: G-ChI cell with noisy IP3R gating (``astrocyte_group(noise=...)``).
ASTROCYTE_EQUATIONS_STOCHASTIC = _RECEPTORS + _CELL_EQUATIONS + _GATING_STOCHASTIC


#: Parameter changes of the chapter's examples relative to ``ASTROCYTE_PARAMS`` (its example 6,
#: the recurrent neuron-glia network): ``single`` has example 2's parameters (a synaptically
#: driven cell, De Pitta et al. 2009) with this library's start state and no exogenous flow,
#: ``example2`` is the published example 2 exactly (see ``PRESET_START``), ``wave`` is example 5
#: (ring of spontaneously oscillating cells), ``excitable`` a quiescent cell that relays IP3
#: fronts along a chain.
PRESETS = {
    "network": {},
    "single": {
        "K_P": 0.1 * umolar,
        "O_beta": 5.0 * umolar / second,
        "O_delta": 0.2 * umolar / second,
        "K_delta": 0.3 * umolar,
        "Omega_5P": 0.1 / second,
        "K_D": 0.5 * umolar,
    },
    "wave": {"O_delta": 0.6 * umolar / second},
}
PRESETS["example2"] = dict(PRESETS["single"])
# example 2's cell with stronger PLCdelta: quiescent at rest but excitable, so IP3
# arriving through gap junctions regenerates and a Ca2+ front travels (Goldberg 2010)
PRESETS["excitable"] = {**PRESETS["single"], "O_delta": 0.36 * umolar / second}

#: Start state of a new group (``ex_on``: exogenous IP3 flow J_ex on (1) or off (0)).
DEFAULT_START = {
    "C": 0.05 * umolar,  # cytosolic Ca2+
    "I": 0.05 * umolar,  # IP3
    "h": 0.9,  # IP3Rs mostly available for CICR
    "Gamma_A": 0.0,  # activated receptors
    "ex_on": 0.0,  # exogenous IP3 flow off
    "I_bias": 0.0 * umolar,  # IP3 level the exogenous flow pulls towards
}
#: Start state of each preset, where it differs from ``DEFAULT_START``.
PRESET_START = {  # the published example 2: all at 0 but h, exogenous flow on towards I_bias = 0
    "example2": {"C": 0.0 * umolar, "I": 0.0 * umolar, "ex_on": 1.0},
}


def astrocyte_params(preset: str = "network", **overrides: Any) -> dict[str, Any]:
    """Validated astrocyte namespace: a preset of ``PRESETS`` with overrides."""
    if preset not in PRESETS:
        raise ValueError(f"astrocyte: parameter 'preset' must be one of {', '.join(PRESETS)}, got {preset!r}")
    return resolve(f"astrocyte ({preset})", ASTROCYTE_PARAMS, {**PRESETS[preset], **overrides})


def astrocyte_group(
    n: int,
    dt: Quantity = 10 * ms,
    name: str | None = None,
    method: str | None = None,
    preset: str = "network",
    noise: float | ArrayLike | None = None,
    exogenous: bool | None = None,
    start: Mapping[str, Any] | None = None,
    glutamate: str | None = None,
    clock: Clock | None = None,
    **overrides: Any,
) -> NeuronGroup:
    """``n`` G-ChI astrocytes on their own clock.

    Parameters
    ----------
    n : int
        Number of astrocytes.
    dt : Quantity
        Their time step (10 ms by default).
    method : str, optional
        Integration method: ``'rk4'``, or ``'milstein'`` with noise.
    preset : str
        Parameter set and start state (``PRESETS``, ``PRESET_START``).
    noise : float or array, optional
        Amplitude of the chapter's multiplicative IP3R gating noise per cell
        (0: deterministic); None: the deterministic equations.
    exogenous : bool, optional
        Switch the exogenous IP3 flow ``J_ex`` (towards ``I_bias``) on or off for
        every cell; None: the preset's choice (off but for ``'example2'``). Set
        ``ex_on`` per cell for more control.
    start : dict, optional
        Start values replacing the preset's (``C``, ``I``, ``h``, ``Gamma_A``,
        ``ex_on``, ``I_bias``).
    glutamate : {'pulse', 'kinetic'}, optional
        ``'pulse'``: each spike binds receptors in closed form (fast, for a coarse
        clock). ``'kinetic'``: as in the chapter, spikes raise the glutamate ``Y_S``,
        cleared at ``Omega_c`` and bound at ``O_N*Y_S*(1 - Gamma_A)`` while the
        receptors inactivate; needs a clock well below 1/Omega_c (25 ms).
        None: ``'kinetic'`` for preset ``'example2'``, else ``'pulse'``.
    clock : Clock, optional
        A clock to share (its step replaces ``dt``): groups of astrocytes on one clock cost the
        scheduler one clock.
    **overrides
        Parameter values (``ASTROCYTE_PARAMS``).
    """
    n = check_size("astrocyte", "n", n)
    if clock is not None:
        dt = clock.dt
    if dt <= 0 * ms:
        raise ValueError(f"astrocyte: parameter 'dt' must be positive, got {dt!r}")
    ns = astrocyte_params(preset, **overrides)
    state = {**DEFAULT_START, **PRESET_START.get(preset, {}), **(start or {})}
    unknown = sorted(set(state) - set(DEFAULT_START))
    if unknown:
        raise ValueError(f"astrocyte: unknown start variable {unknown[0]!r} (known: {', '.join(DEFAULT_START)})")
    if exogenous is not None:
        state["ex_on"] = float(bool(exogenous))
    glutamate = glutamate or ("kinetic" if preset == "example2" else "pulse")
    if glutamate not in ("pulse", "kinetic"):
        raise ValueError(f"astrocyte: parameter 'glutamate' must be 'pulse' or 'kinetic', got {glutamate!r}")
    eqs = (
        (_RECEPTORS if glutamate == "pulse" else _RECEPTORS_KINETIC)
        + _CELL_EQUATIONS
        + (_GATING if noise is None else _GATING_STOCHASTIC)
    )
    method = method or ("rk4" if noise is None else "milstein")
    timing = {"clock": clock} if clock is not None else {"dt": dt}
    group = NeuronGroup(n, eqs, method=method, namespace=ns, name=name or "astrocytes*", **timing)
    for var in ("h", "C", "I", "Gamma_A", "ex_on", "I_bias"):
        if var in ("h", "C", "I") or np.any(np.asarray(state[var]) != 0):  # zeros are Brian2's start values
            setattr(group, var, state[var])
    if noise is not None:
        group.noise = noise
    return group


def couple(
    astrocytes: NeuronGroup,
    topology: str = "grid",
    shape: tuple[int, int] | None = None,
    k: int = 4,
    positions: np.ndarray | None = None,
    name: str | None = None,
    **overrides: Any,
) -> Synapses:
    """Gap-junction IP3 diffusion between astrocytes (Goldberg et al. 2010 flux).

    Each directed pair adds to the target's ``J_coupling`` a thresholded,
    sigmoidal flux down the IP3 gradient; the synapses run on the astrocytes' clock.
    """
    ns = resolve("astrocyte coupling", COUPLING_PARAMS, overrides)
    eqs = """
    delta_I = I_post - I_pre : mmolar
    J_coupling_post = -F/2*(1 + tanh((abs(delta_I) - I_Theta)/omega_I))*sign(delta_I) : mmolar/second (summed)
    """
    syn = Synapses(astrocytes, astrocytes, eqs, namespace=ns, clock=astrocytes.clock, name=name or "coupling*")
    i, j = topology_pairs(len(astrocytes), topology, shape, k, positions)
    if len(i):
        syn.connect(i=i, j=j)
    return syn


def _relay(neurons, astrocytes, variables, name):
    """A group on the neurons' clock whose ``variables`` are the astrocytes' (linked, one per astrocyte)."""
    units = {"Gamma_A": "1", "Y_rel": "mmolar", "t_rel": "second"}
    eqs = "\n".join(f"{var} : {units[var]} (linked)" for var in variables)
    relay = NeuronGroup(len(astrocytes), eqs, clock=neurons.clock, name=name)
    for var in variables:
        setattr(relay, var, linked_var(astrocytes, var))
    return relay


def _drive(neurons, astrocytes, variables, on_pre, on_event, namespace, i, j, condition, name):
    """Synapses neuron -> relay of astrocyte, connected one-to-one or as the user maps them."""
    one_to_one = i is None and j is None and condition is None
    if one_to_one and len(neurons) != len(astrocytes):
        raise ValueError(
            f"astrocyte drive: {len(neurons)} neurons but {len(astrocytes)} astrocytes; "
            "give the mapping with 'i' and 'j' or 'condition' (default: one-to-one)"
        )
    if not one_to_one and (condition is not None, i is not None, j is not None) not in (
        (True, False, False),
        (False, True, True),
    ):
        raise ValueError("astrocyte drive: give both 'i' (neurons) and 'j' (astrocytes), or 'condition'")
    relay = _relay(neurons, astrocytes, variables, name.rstrip("*") + ("_relay*" if name.endswith("*") else "_relay"))
    # the pathway ends on the relay: source, synapses and target share the neurons' clock
    syn = Synapses(
        neurons, relay, on_pre=on_pre, on_event={"pre": on_event}, namespace=namespace, clock=neurons.clock, name=name
    )
    syn.contained_objects.append(relay)
    if one_to_one:
        syn.connect(j="i")
    elif condition is not None:
        syn.connect(condition=condition)
    else:
        syn.connect(i=np.asarray(i, dtype=np.int32), j=np.asarray(j, dtype=np.int32))
    return syn


def drive_from_neurons(
    neurons: NeuronGroup,
    astrocytes: NeuronGroup,
    name: str | None = None,
    i: ArrayLike | None = None,
    j: ArrayLike | None = None,
    condition: str | None = None,
) -> Synapses:
    """Neurons' spikes release glutamate onto astrocytes: one synapse per (neuron, astrocyte) pair.

    The synapses run on the neurons' clock, so no spike is missed by the coarse astrocyte clock.

    Parameters
    ----------
    i, j : array of int, optional
        Neuron and astrocyte index of each pair (one neuron may drive several
        astrocytes, several neurons one astrocyte). Default: neuron k drives
        astrocyte k (equal numbers).
    condition : str, optional
        A ``connect`` condition instead of ``i``/``j`` (``j`` is the astrocyte).
    """
    ns, name = astrocytes.namespace, name or "astro_drive*"
    if "Y_rel" in astrocytes.variables:  # glutamate='kinetic'
        return _drive(
            neurons,
            astrocytes,
            ("Y_rel", "t_rel"),
            """
                      Y_rel_post = Y_rel_post*exp(-Omega_c*(t + dt - t_rel_post)) + released
                      t_rel_post = t + dt""",
            "spike",
            {"released": ns["rho_c"] * ns["Y_T"], "Omega_c": ns["Omega_c"]},
            i,
            j,
            condition,
            name,
        )
    bound = float(1 - np.exp(-ns["O_N"] * ns["rho_c"] * ns["Y_T"] / ns["Omega_c"]))
    return _drive(
        neurons,
        astrocytes,
        ("Gamma_A",),
        "Gamma_A_post += bound_fraction*(1 - Gamma_A_post)",
        "spike",
        {"bound_fraction": bound},
        i,
        j,
        condition,
        name,
    )


def drive_from_events(
    neurons: NeuronGroup,
    astrocytes: NeuronGroup,
    event: str = "reward",
    amount: str = "abs(reward_in_pre)",
    gain: float = 1.0,
    name: str | None = None,
    i: ArrayLike | None = None,
    j: ArrayLike | None = None,
    condition: str | None = None,
) -> Synapses:
    """A neuron event activates astrocyte receptors: one synapse per (neuron, astrocyte) pair.

    Each ``event`` of a neuron (e.g. its dopamine ``reward`` event) activates its
    astrocyte's receptors in proportion to ``amount`` (an expression of the
    neuron's variables): Gamma_A += (1 - exp(-gain*amount))*(1 - Gamma_A).
    Astrocytes express dopamine receptors coupled to Ca2+ release (Corkrum M et al.
    2020, Neuron 105:1036-1047), so a neuron's dopamine can drive its astrocyte.
    ``i``, ``j`` and ``condition`` map neurons to astrocytes as in :func:`drive_from_neurons`.
    """
    if event not in neurons.events:
        raise ValueError(
            f"astrocyte drive: neurons {neurons.name!r} have no event {event!r} "
            f"(events: {', '.join(sorted(neurons.events))})"
        )
    return _drive(
        neurons,
        astrocytes,
        ("Gamma_A",),
        f"Gamma_A_post += (1 - exp(-gain*({amount})))*(1 - Gamma_A_post)",
        event,
        {"gain": float(gain)},
        i,
        j,
        condition,
        name or "astro_events*",
    )


def link_gate(neurons: NeuronGroup, astrocytes: NeuronGroup, variable: str = "gate") -> None:
    """Point the neurons' ``variable : 1 (linked)`` at their astrocytes' gate.

    Call this before creating synapses whose code refers to ``gate_post``.
    """
    setattr(neurons, variable, linked_var(astrocytes, "gate"))
