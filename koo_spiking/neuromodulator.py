"""Dopamine-like reward per neuron and reward-modulated (three-factor) plasticity.

Izhikevich EM (2007). Solving the distal reward problem through linkage of STDP
and dopamine signaling. Cereb Cortex 17(10):2443-2452. doi:10.1093/cercor/bhl152.
Fremaux N, Gerstner W (2016). Neuromodulated spike-timing-dependent plasticity,
and theory of three-factor learning rules. Front Neural Circuits 9:85.

Each neuron carries its own dopamine level ``D`` (decay ``tau_dop``), raised by
writing an amount into ``reward_in``: the neuron's ``reward`` event then adds it
to ``D``. Every plastic synapse keeps an eligibility trace ``c``, fed by STDP
pairings and, optionally, by every spike of one of its two neurons; the weight
follows dw/dt = c*D/tau_s, with D the dopamine of the neuron on the chosen side.

Nothing is integrated per synapse per step. At each synaptic event (pre spike,
post spike, or the dopamine neuron's reward event) the weight change since the
synapse's last update is added in closed form: with D decaying exponentially and
c relaxing exponentially towards -beta*tau_c (beta = 0: towards 0),
    dw = D_last/tau_s*[(c_last + beta*tau_c)*tau_star*(1 - exp(-s/tau_star))
                       - beta*tau_c*tau_dop*(1 - exp(-s/tau_dop))],
    1/tau_star = 1/tau_c + 1/tau_dop, s = time since the last update.
The reward event updates every synapse of the neuron just before D jumps, so D
is smooth between a synapse's updates and the closed form is exact; a spike in the
same time step reads the level after the jump (``D + reward_in``), so no pulse is lost. ``beta``
(a baseline drift) lets the trace measure a neuron's activity relative to its
expected activity.
"""
from brian2 import Synapses, ms, second

from .parameters import Param, resolve
from .synapse import STDP_PARAMS, Rule, synapses

__all__ = ["DOPAMINE_PARAMS", "REWARD_STDP_PARAMS", "dopamine_parts", "reward_rule", "reward_stdp_synapses",
           "reward_schedule"]

DOPAMINE_PARAMS = {
    "tau_dop": Param(200.0 * ms, "+", "dopamine decay time constant"),
}

REWARD_STDP_PARAMS = {
    **STDP_PARAMS,
    "tau_c": Param(1.0 * second, "+", "eligibility trace decay"),
    "tau_s": Param(1.0 * ms, "+", "weight change time scale per unit c*D"),
    "A_plus": Param(1.0, ">=0", "eligibility increment for pre->post pairing"),
    "A_minus": Param(1.5, ">=0", "eligibility decrement for post->pre pairing"),
    "A_pre": Param(0.0, "any", "eligibility increment at every presynaptic spike"),
    "A_post": Param(0.0, "any", "eligibility increment at every postsynaptic spike"),
    "w_max": Param(4.0, "+", "upper weight bound (lower bound 0: Dale)"),
}


def dopamine_parts(active="1", **overrides):
    """What a neuron group needs to carry its own dopamine level.

    Parameters
    ----------
    active : str
        Expression gating the decay of ``D`` (e.g. a plasticity flag: with it at 0
        the level is frozen, so an evaluation pass leaves it untouched).

    Returns
    -------
    dict
        ``eqs`` (extra equations), ``events`` and ``on_event`` for the group's
        constructor, and ``namespace`` to merge into the group's namespace.
    """
    ns = resolve("dopamine", DOPAMINE_PARAMS, overrides)
    return {
        "eqs": f"dD/dt = -({active})*D/tau_dop : 1\nreward_in : 1\n",
        "events": {"reward": "reward_in != 0"},
        "on_event": {"reward": "D += reward_in\nreward_in = 0"},
        "namespace": ns,
    }


def reward_rule(rate="1", weight="w", dopamine="post", tau_dop=None, baseline="0/second", active="1",
                lower="0", upper="w_max", suffix="", reward_order=2, mirror=False, **overrides):
    """Reward-modulated STDP as a stackable :class:`~koo_spiking.synapse.Rule`.

    Parameters
    ----------
    rate : str
        Expression multiplying the weight change (learning flag, astrocyte gate).
    weight : str
        The variable that learns (``'w'``, or ``'w_fast'`` with forgetting).
    dopamine : {'post', 'pre'}
        Whose dopamine gates the change; that neuron's ``reward`` event settles it.
    tau_dop : Quantity, optional
        That neuron's dopamine decay (default ``DOPAMINE_PARAMS``).
    baseline : str
        Drift rate ``beta`` (1/second) of the trace: it relaxes towards
        ``-beta*tau_c``, so a neuron firing at its expected rate leaves c near 0.
    active : str
        Gates eligibility increments, decay and drift (0: the trace is frozen).
    lower, upper : str
        Bounds of the learning variable.
    suffix : str
        Appended to ``c`` and ``D_last`` so that two reward rules can share a weight.
    mirror : bool
        Reverse the pairing window (Burbank 2015: a feedback synapse potentiates
        when its postsynaptic neuron fires first).
    **overrides
        ``REWARD_STDP_PARAMS``: pairing amplitudes, presynaptic/postsynaptic
        eligibility increments ``A_pre``/``A_post``, ``tau_c``, ``tau_s``, ``w_max``.
    """
    if dopamine not in ("pre", "post"):
        raise ValueError(f"reward stdp: parameter 'dopamine' must be 'pre' or 'post', got {dopamine!r}")
    ns = resolve("reward stdp", REWARD_STDP_PARAMS, overrides)
    ns["tau_dop"] = tau_dop if tau_dop is not None else DOPAMINE_PARAMS["tau_dop"].value
    ns["tau_star"] = 1.0 / (1.0 / ns["tau_c"] + 1.0 / ns["tau_dop"])
    c, d_last, side = f"c{suffix}", f"D_last{suffix}", dopamine
    ns = {(k + suffix if k in ("A_plus", "A_minus", "A_pre", "A_post", "tau_c", "tau_s", "tau_star",
                                "tau_dop") else k): v for k, v in ns.items()}
    tc, ts, tstar, tdop = (f"tau_c{suffix}", f"tau_s{suffix}", f"tau_star{suffix}", f"tau_dop{suffix}")
    beta = f"(({active})*({baseline}))"
    model = f"""
    {weight} : 1
    {c} : 1
    {d_last} : 1
    dapre/dt = -apre/tau_plus    : 1 (event-driven)
    dapost/dt = -apost/tau_minus : 1 (event-driven)
    """
    settle = f"""
    {weight} = clip({weight} + ({rate})*{d_last}/{ts}*(({c} + {beta}*{tc})*{tstar}*(1 - exp(-elapsed/{tstar})) - {beta}*{tc}*{tdop}*(1 - exp(-elapsed/{tdop}))), {lower}, {upper})
    {c} = ({c} + {beta}*{tc})*exp(-({active})*elapsed/{tc}) - {beta}*{tc}
    {d_last} = D_{side} + reward_in_{side}
    """
    act = f"({active})"
    pre_pair, post_pair = (f"-A_minus{suffix}*apost", f"A_plus{suffix}*apre") if not mirror else \
        (f"A_plus{suffix}*apost", f"-A_minus{suffix}*apre")
    on_pre = f"apre += 1\n{c} += {act}*({pre_pair} + A_pre{suffix})"
    on_post = f"apost += 1\n{c} += {act}*({post_pair} + A_post{suffix})"
    pathway = {f"reward{suffix}_{side}" if suffix or side == "pre" else "reward":
               (side, "reward", f"{d_last} = D_{side} + reward_in_{side}")}
    rule = Rule(model, on_pre, on_post, ns, settle=settle, pathways=pathway,
                catch_up="apre = apre*exp(-elapsed/tau_plus)\napost = apost*exp(-elapsed/tau_minus)")
    rule.reward_order = reward_order
    return rule


def _check_dopamine(group, who):
    if "D" not in group.variables or "reward_in" not in group.variables:
        raise ValueError(f"reward stdp: {who} {group.name!r} has no dopamine; build it with dopamine_parts()")


def reward_stdp_synapses(source, target, effect="ge_post += w", rate="1", name=None, **overrides):
    """Reward-modulated STDP synapses onto a target that has ``dopamine_parts``.

    Parameters
    ----------
    effect : str
        On-pre effect on the target (``ge_post += w`` for excitatory synapses,
        ``gi_post += w`` for inhibitory ones; None for none).
    rate : str
        Expression multiplying the weight change (learning flag, astrocyte gate).
    """
    _check_dopamine(target, "target")
    tau_dop = target.namespace.get("tau_dop", DOPAMINE_PARAMS["tau_dop"].value)
    rule = reward_rule(rate=rate, tau_dop=tau_dop, **overrides)
    eff = effect.replace("{w}", "w").replace("w", "{w}", 1) if effect and "{w}" not in effect else effect
    syn = synapses(source, target, [rule], effect=eff, name=name or "reward_stdp*")
    syn.reward.order = rule.reward_order  # after the spike pathways of the same step
    return syn


def reward_schedule(target, indices, times, amounts=1.0, name=None):
    """Deliver rewards to chosen neurons at chosen times.

    A ``SpikeGeneratorGroup`` of one source per reward event writes the amount
    into the neuron's ``reward_in``; returns (generator, synapses).
    """
    import numpy as np
    from brian2 import SpikeGeneratorGroup

    indices = np.asarray(indices, dtype=int)
    times = np.asarray(times / second, dtype=float) * second
    amounts = np.broadcast_to(np.asarray(amounts, dtype=float), indices.shape)
    if indices.ndim != 1 or len(times) != len(indices):
        raise ValueError("reward schedule: 'indices' and 'times' must be 1-D and of equal length")
    if np.any(~np.isfinite(amounts)):
        raise ValueError("reward schedule: 'amounts' must be finite")
    n = len(indices)
    gen = SpikeGeneratorGroup(max(n, 1), np.arange(n), times,
                              name=f"{name}_gen" if name else "reward_gen*")
    syn = Synapses(gen, target, "amount : 1", on_pre="reward_in_post += amount",
                   name=f"{name}_syn" if name else "reward_syn*")
    if n:
        syn.connect(i=np.arange(n), j=indices)
        syn.amount = amounts
    return gen, syn
