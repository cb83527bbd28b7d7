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
c relaxing exponentially towards -beta*tau_c (beta = 0: towards 0)::

    dw = D_last/tau_s*[(c_last + beta*tau_c)*tau_star*(1 - exp(-s/tau_star))
                       - beta*tau_c*tau_dop*(1 - exp(-s/tau_dop))],
    1/tau_star = 1/tau_c + 1/tau_dop, s = time since the last update.

The reward event updates every synapse of the neuron just before D jumps, so D
is smooth between a synapse's updates and the closed form is exact; a spike in the
same time step reads the level after the jump (``D + reward_in``), so no pulse is lost. ``beta``
(a baseline drift) lets the trace measure a neuron's activity relative to its
expected activity.

Reading the weight between events: the stored ``w`` and ``c`` are their values at
the synapse's last event, not now. Read the subexpressions ``w_now`` and ``c_now``
(record them with a ``StateMonitor`` for smooth traces; under ``cpp_standalone``
Brian2 gives subexpressions only through monitors), or call :func:`settle`, which
writes the up-to-date values into ``w`` and ``c`` of every synapse.

Classical or reward-gated: ``reward_rule(switchable=True)`` adds a shared variable
``classical``; at 0 (its start value) pairings feed the eligibility trace
(reward-gated), at 1 they change the weight at once (classical STDP) and dopamine
has no effect. Switch it with :func:`set_mode`, which settles the synapses first.
"""

from __future__ import annotations

import re
import weakref
from typing import TYPE_CHECKING, Any

from brian2 import Synapses, ms, second
from brian2.core.namespace import get_local_namespace
from brian2.utils.stringtools import word_substitute

from .eligibility import eligibility_parts, impulse
from .parameters import Param, resolve
from .synapse import STDP_PARAMS, Rule, synapses

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from brian2 import NeuronGroup, SpikeGeneratorGroup
    from brian2.groups.group import Group
    from brian2.units.fundamentalunits import Quantity
    from numpy.typing import ArrayLike

__all__ = [
    "DOPAMINE_PARAMS",
    "REWARD_STDP_PARAMS",
    "dopamine_parts",
    "eligibility_parts",
    "reward_rule",
    "reward_stdp_synapses",
    "reward_schedule",
    "settle",
    "set_mode",
]

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

_EVENT_SLOTS = ("thresholds", "after_synapses")
_ZERO = re.compile(r"^\s*0(\.0*)?\s*(\*\s*Hz|/\s*second|/\s*s)?\s*$")  # a baseline of zero
_RULES = weakref.WeakKeyDictionary()  # Synapses -> the rules it was built from (for settle)


def dopamine_parts(active: str = "1", when: str = "thresholds", **overrides: Any) -> dict[str, Any]:
    """What a neuron group needs to carry its own dopamine level.

    Give the result to ``lif_group``/``if_group`` as ``dopamine=``; for a plain
    ``NeuronGroup`` add ``eqs``, ``events``, ``on_event`` and ``namespace`` yourself
    and call ``group.set_event_schedule('reward', when=parts['when'])``.

    Parameters
    ----------
    active : str
        Expression gating the decay of ``D`` (e.g. a plasticity flag: with it at 0
        the level is frozen, so an evaluation pass leaves it untouched).
    when : {'thresholds', 'after_synapses'}
        Scheduling slot of the ``reward`` event. ``'thresholds'`` (default): an
        amount written into ``reward_in`` by a synapse in step n reaches ``D`` in
        step n + 1. ``'after_synapses'``: it reaches ``D`` in step n, as with a
        plain Brian2 synapse ``on_pre='D_post += amount'``.
    **overrides
        ``DOPAMINE_PARAMS`` (``tau_dop``).

    Returns
    -------
    dict
        ``eqs`` (extra equations), ``events`` and ``on_event`` for the group's
        constructor, ``namespace`` to merge into the group's namespace and
        ``when``, the slot of the reward event.
    """
    if when not in _EVENT_SLOTS:
        raise ValueError(f"dopamine: parameter 'when' must be one of {', '.join(_EVENT_SLOTS)}, got {when!r}")
    ns = resolve("dopamine", DOPAMINE_PARAMS, overrides)
    return {
        "eqs": f"dD/dt = -({active})*D/tau_dop : 1\nreward_in : 1\n",
        "events": {"reward": "reward_in != 0"},
        "on_event": {"reward": "D += reward_in\nreward_in = 0"},
        "namespace": ns,
        "when": when,
    }


def reward_rule(
    rate: str = "1",
    weight: str = "w",
    dopamine: str = "post",
    tau_dop: Quantity | None = None,
    baseline: str = "0/second",
    active: str = "1",
    lower: str = "0",
    upper: str = "w_max",
    suffix: str = "",
    reward_order: int = 2,
    mirror: bool = False,
    switchable: bool = False,
    integration: str = "closed_form",
    trace: str | None = None,
    **overrides: Any,
) -> Rule:
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
        Appended to ``c``, ``D_last`` and ``classical`` so that two reward rules can share a weight.
    mirror : bool
        Reverse the pairing window (Burbank 2015: a feedback synapse potentiates
        when its postsynaptic neuron fires first).
    switchable : bool
        Add a shared variable ``classical`` (0, the start value: reward-gated,
        pairings feed ``c``; 1: classical STDP, pairings change the weight at once
        with the same amplitudes and dopamine does not act). Use :func:`set_mode`.
    integration : {'closed_form', 'euler'}
        ``'closed_form'``: exact, updated only at events (fast). ``'euler'``: c and
        the weight advance by forward Euler every step of the synapses' clock, reading
        the dopamine neuron's ``D`` (as Brian2's published Izhikevich 2007 example;
        per synapse per step, so slower); ``reward_stdp_synapses`` schedules it.
        ``'impulse'``: for dopamine pulses brief against the trace (tau_dop << tau_c and the
        intervals between eligible spikes): each reward's whole effect, the closed form for
        s -> infinity, is added at its reward event; the weight only changes there.
    trace : str, optional
        With ``'impulse'`` and no pairings, the eligibility depends on one neuron's spikes only, so
        every synapse of that neuron can read one trace kept by the neuron (:func:`eligibility_parts`),
        e.g. ``'c_pre'``: no per-synapse variable and no per-synapse work at spikes.
    **overrides
        ``REWARD_STDP_PARAMS``: pairing amplitudes, presynaptic/postsynaptic
        eligibility increments ``A_pre``/``A_post``, ``tau_c``, ``tau_s``, ``w_max``.

    Notes
    -----
    The rule defines the subexpressions ``c_now`` (``c`` + suffix + ``_now``), the
    trace now, and, without a suffix, ``<weight>_now`` (``w_now``), the weight now:
    the stored values are those of the synapse's last event.
    """
    if dopamine not in ("pre", "post"):
        raise ValueError(f"reward stdp: parameter 'dopamine' must be 'pre' or 'post', got {dopamine!r}")
    if integration not in ("closed_form", "euler", "impulse"):
        raise ValueError(
            f"reward stdp: parameter 'integration' must be 'closed_form', 'euler' or 'impulse', got {integration!r}"
        )
    ns = resolve("reward stdp", REWARD_STDP_PARAMS, overrides)
    ns["tau_dop"] = tau_dop if tau_dop is not None else DOPAMINE_PARAMS["tau_dop"].value
    ns["tau_star"] = 1.0 / (1.0 / ns["tau_c"] + 1.0 / ns["tau_dop"])
    c, d_last, side = f"c{suffix}", f"D_last{suffix}", dopamine
    ns = {
        (k + suffix if k in ("A_plus", "A_minus", "A_pre", "A_post", "tau_c", "tau_s", "tau_star", "tau_dop") else k): v
        for k, v in ns.items()
    }
    tc, ts, tstar, tdop = (f"tau_c{suffix}", f"tau_s{suffix}", f"tau_star{suffix}", f"tau_dop{suffix}")
    beta = f"(({active})*({baseline}))"
    act = f"({active})"
    classical = f"classical{suffix}"
    gated = f"(1 - {classical})*" if switchable else ""  # factor of the reward-gated change

    drift = _ZERO.match(baseline) is None  # without a drift the closed form needs two exponentials, not four

    def dw(elapsed):  # closed-form weight change over ``elapsed`` (see the module docstring)
        if not drift:
            return f"({rate})*{gated}{d_last}/{ts}*{c}*{tstar}*(1 - exp(-{elapsed}/{tstar}))"
        return (
            f"({rate})*{gated}{d_last}/{ts}*(({c} + {beta}*{tc})*{tstar}*(1 - exp(-{elapsed}/{tstar}))"
            f" - {beta}*{tc}*{tdop}*(1 - exp(-{elapsed}/{tdop})))"
        )

    def c_at(elapsed):
        if not drift:
            return f"{c}*exp(-{act}*{elapsed}/{tc})"
        return f"({c} + {beta}*{tc})*exp(-{act}*{elapsed}/{tc}) - {beta}*{tc}"

    since = "(t - lastupdate)"
    model = f"""
    {weight} : 1
    {c} : 1
    {d_last} : 1
    dapre/dt = -apre/tau_plus    : 1 (event-driven)
    dapost/dt = -apost/tau_minus : 1 (event-driven)
    {c}_now = {c_at(since)} : 1
    """
    if not suffix:
        model += f"{weight}_now = clip({weight} + {dw(since)}, {lower}, {upper}) : 1\n"
    if switchable:
        model += f"{classical} : 1 (shared)\n"
    settle = f"""
    {weight} = clip({weight} + {dw("elapsed")}, {lower}, {upper})
    {c} = {c_at("elapsed")}
    {d_last} = D_{side} + reward_in_{side}
    """
    pre_pair, post_pair = (
        (f"-A_minus{suffix}*apost", f"A_plus{suffix}*apre")
        if not mirror
        else (f"A_plus{suffix}*apost", f"-A_minus{suffix}*apre")
    )
    pre_inc, post_inc = f"({pre_pair} + A_pre{suffix})", f"({post_pair} + A_post{suffix})"
    if switchable:
        # the same increments go to the trace (reward mode) or straight to the weight (classical)
        on_pre = f"""
        apre += 1
        {c} += {act}*{gated}{pre_inc}
        {weight} = clip({weight} + ({rate})*{act}*{classical}*{pre_inc}, {lower}, {upper})
        """
        on_post = f"""
        apost += 1
        {c} += {act}*{gated}{post_inc}
        {weight} = clip({weight} + ({rate})*{act}*{classical}*{post_inc}, {lower}, {upper})
        """
    else:
        on_pre = f"apre += 1\n{c} += {act}*{pre_inc}"
        on_post = f"apost += 1\n{c} += {act}*{post_inc}"
    pathway = {
        f"reward{suffix}_{side}" if suffix or side == "pre" else "reward": (
            side,
            "reward",
            f"{d_last} = D_{side} + reward_in_{side}",
        )
    }
    rule = Rule(
        model,
        on_pre,
        on_post,
        ns,
        settle=settle,
        pathways=pathway,
        catch_up="apre = apre*exp(-elapsed/tau_plus)\napost = apost*exp(-elapsed/tau_minus)",
    )
    if integration == "closed_form" and not switchable and ns[f"A_plus{suffix}"] == 0 and ns[f"A_minus{suffix}"] == 0:
        # no pairings: the STDP traces would only cost two exponentials per event
        rule.model = "\n".join(line for line in model.strip().splitlines() if "event-driven" not in line)
        rule.on_pre, rule.on_post, rule.catch_up = f"{c} += {act}*A_pre{suffix}", f"{c} += {act}*A_post{suffix}", ""
    rule.reward_order = reward_order
    if integration == "euler":
        # forward Euler, w and c from their values at the start of the step; the drift is a
        # subexpression because Brian2 2.9 cannot check a literal '0/second' in run_regularly code
        rule.model = (
            f"""
        {weight} : 1
        {c} : 1
        dapre/dt = -apre/tau_plus    : 1 (event-driven)
        dapost/dt = -apost/tau_minus : 1 (event-driven)
        {c}_now = {c} : 1
        drift{suffix} = {beta} : Hz
        """
            + (f"{weight}_now = {weight} : 1\n" if not suffix else "")
            + (f"{classical} : 1 (shared)\n" if switchable else "")
        )
        rule.regularly = f"""
        {weight} = clip({weight} + dt*({rate})*{gated}{c}*D_{side}/{ts}, {lower}, {upper})
        {c} = {c} - dt*{act}*({c} + drift{suffix}*{tc})/{tc}
        """
        rule.settle, rule.pathways, rule.settle_now = "", {}, ""
        return rule
    if integration == "impulse":
        pairings = ns[f"A_plus{suffix}"] != 0 or ns[f"A_minus{suffix}"] != 0
        if trace is not None and (
            pairings or switchable or not re.fullmatch(r"\w+_(pre|post)", trace) or _ZERO.match(baseline) is None
        ):  # (the neuron's trace has no drift)
            raise ValueError(
                f"reward stdp: a neuron's trace ({trace!r}) needs a name ending in _pre or _post, "
                f"A_plus = A_minus = 0, baseline 0 and switchable False"
            )
        return impulse(
            rule,
            f"({rate})*{gated}",
            weight,
            trace or c,
            side,
            (lower, upper),
            suffix,
            beta,
            act,
            pairings,
            shared=trace is not None,
        )
    if trace is not None:
        raise ValueError("reward stdp: a neuron's trace ('trace') needs integration 'impulse'")
    # outside events (settle()) the dopamine follows its own closed form: the neuron's D read
    # between two steps is one step behind the D that synaptic events read within a step
    rule.settle_now = f"""
    {weight} = clip({weight} + {dw("elapsed")}, {lower}, {upper})
    {c} = {c_at("elapsed")}
    {d_last} = {d_last}*exp(-elapsed/{tdop})
    """
    return rule


def _check_dopamine(group, who):
    if "D" not in group.variables or "reward_in" not in group.variables:
        raise ValueError(f"reward stdp: {who} {group.name!r} has no dopamine; build it with dopamine_parts()")


def reward_stdp_synapses(
    source: Group,
    target: NeuronGroup,
    effect: str | None = "ge_post += w",
    rate: str = "1",
    name: str | None = None,
    **overrides: Any,
) -> Synapses:
    """Reward-modulated STDP synapses onto a target that has ``dopamine_parts``.

    Parameters
    ----------
    effect : str
        On-pre effect on the target (``ge_post += w`` for excitatory synapses,
        ``gi_post += w`` for inhibitory ones; None for none).
    rate : str
        Expression multiplying the weight change (learning flag, astrocyte gate).
    **overrides
        Arguments of :func:`reward_rule` (``switchable``, ``lower``, ...) and
        ``REWARD_STDP_PARAMS``.
    """
    _check_dopamine(target, "target")
    tau_dop = target.namespace.get("tau_dop", DOPAMINE_PARAMS["tau_dop"].value)
    rule = reward_rule(rate=rate, tau_dop=tau_dop, **overrides)
    # the weight is the word ``w`` (``ge_post += w``): it becomes the ``{w}`` placeholder, other names stay
    eff = re.sub(r"\bw\b", "{w}", effect) if effect and "{w}" not in effect else effect
    # Euler steps run before the neurons' state updates, so they read D at the start of the step
    period = {"period": target.clock, "when": "groups", "order": -1} if rule.regularly else {}  # (its clock)
    rule.check = None  # the reward pathway is scheduled with the event below, whatever its slot
    syn = synapses(source, target, [rule], effect=eff, name=name or "reward_stdp*", **period)
    for pname, (side, event, _) in rule.pathways.items():
        pathway = getattr(syn, pname)
        pathway.order = rule.reward_order  # after the spike pathways of the same step
        group = source if side == "pre" else target
        check = getattr(getattr(group, "source", group), "thresholder", {}).get(event)
        if check is not None and check.when != "thresholds":
            pathway.when = check.when  # the reward event is checked later in the step
            pathway.order = max(rule.reward_order, check.order + 1)
    _RULES[syn] = [rule]
    return syn


def settle(syn: Synapses, rules: Sequence[Rule] | None = None, namespace: Mapping[str, Any] | None = None) -> None:
    """Write the up-to-date weights and traces into every synapse of ``syn`` now.

    Runs the rules' closed-form update (and the decay of the event-driven STDP
    traces) for the time since each synapse's last event, as an event would, so
    that ``syn.w`` and ``syn.c`` read afterwards are their values at the current
    time. Works on runtime targets at any time, and under ``cpp_standalone``
    between the runs of a project built with ``build_on_run=False`` (before
    ``device.build``). To only read the current values, use ``w_now``/``c_now``.

    Parameters
    ----------
    syn : Synapses
        Built by :func:`reward_stdp_synapses`, or by ``synapses`` with ``rules``.
    rules : list of Rule, optional
        The rules ``syn`` was built from (needed if not built here).
    namespace : dict, optional
        Values of names in the rules' expressions that ``syn`` does not hold
        (default: the caller's variables, as for ``run``).
    """
    namespace = namespace if namespace is not None else get_local_namespace(level=1)
    rules = rules if rules is not None else _RULES.get(syn)
    if rules is None:
        raise ValueError(f"settle: {syn.name!r} was not built by reward_stdp_synapses; pass its rules")
    code = "\n".join([getattr(r, "settle_now", r.settle) for r in rules] + [r.catch_up for r in rules])
    stamp = ["lastupdate = t"] if "lastupdate" in syn.variables else []  # (a weight-only rule has none)
    for line in [line.strip() for line in code.splitlines() if line.strip()] + stamp:
        var, expr = (part.strip() for part in line.split("=", 1))
        view = syn.variables[var].get_addressable_value_with_unit(var, syn)
        # units were checked when the synapses were built (and Brian2 2.9's check trips on '0/second')
        view.set_with_expression_conditional(
            "True", word_substitute(expr, {"elapsed": "(t - lastupdate)"}), run_namespace=namespace, check_units=False
        )


def set_mode(
    syn: Synapses, mode: str, rules: Sequence[Rule] | None = None, namespace: Mapping[str, Any] | None = None
) -> None:
    """Switch switchable reward STDP synapses to ``'classical'`` or ``'reward'`` mode.

    The synapses are settled first (:func:`settle`), so the change gated by the old
    mode is counted up to now and the new mode applies from now on.
    """
    value = {"classical": 1.0, "reward": 0.0}.get(mode)
    if value is None:
        raise ValueError(f"reward stdp: parameter 'mode' must be 'classical' or 'reward', got {mode!r}")
    if "classical" not in syn.variables:
        raise ValueError(f"reward stdp: {syn.name!r} is not switchable; build it with switchable=True")
    settle(syn, rules, namespace if namespace is not None else get_local_namespace(level=1))
    syn.classical = value


def reward_schedule(
    target: NeuronGroup, indices: ArrayLike, times: Quantity, amounts: float | ArrayLike = 1.0, name: str | None = None
) -> tuple[SpikeGeneratorGroup, Synapses]:
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
    gen = SpikeGeneratorGroup(max(n, 1), np.arange(n), times, name=f"{name}_gen" if name else "reward_gen*")
    syn = Synapses(
        gen, target, "amount : 1", on_pre="reward_in_post += amount", name=f"{name}_syn" if name else "reward_syn*"
    )
    if n:
        syn.connect(i=np.arange(n), j=indices)
        syn.amount = amounts
    return gen, syn
