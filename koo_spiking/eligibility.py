"""Eligibility traces of three-factor rules: a neuron's own trace, and the whole dopamine pulse at once.

Izhikevich EM (2007). Solving the distal reward problem through linkage of STDP and dopamine
signaling. Cereb Cortex 17(10):2443-2452. Fremaux N, Gerstner W (2016). Front Neural Circuits 9:85.

With brief dopamine pulses (tau_dop much shorter than the intervals between eligible spikes) the
closed form of ``neuromodulator.reward_rule`` reaches, within the pulse, its limit for s -> infinity:
dw = rate*amount*c*tau_star/tau_s (no drift). ``integration='impulse'`` adds it at the reward event.
Without pairing terms, the trace c depends on one neuron's spikes only, so every synapse of that
neuron can read one trace the neuron keeps (``eligibility_parts``): no per-synapse work at spikes.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from brian2 import second

if TYPE_CHECKING:
    from brian2.groups.group import Group
    from brian2.units.fundamentalunits import Quantity

    from .synapse import Rule

__all__ = ["eligibility_parts", "impulse", "check_impulse_slot"]


def eligibility_parts(
    name: str = "c", tau_c: Quantity | None = None, active: str = "1", increment: float = 1.0
) -> dict[str, Any]:
    """A neuron's own eligibility trace, read by all its synapses (``reward_rule(trace=name + '_pre')``).

    It decays with ``tau_c`` (give the rule the same), gated by ``active``, and each spike adds
    ``increment``. Returns ``eqs`` for the group, ``on_spike`` code for its reset and ``namespace``.
    """
    tau = tau_c if tau_c is not None else 1.0 * second  # reward_rule's default tau_c
    return {
        "eqs": f"d{name}/dt = -({active})*{name}/tau_{name} : 1\n",
        "on_spike": f"{name} += ({active})*{float(increment)!r}",
        "namespace": {f"tau_{name}": tau},
    }


def impulse(
    rule: Rule,
    rate: str,
    weight: str,
    c: str,
    side: str,
    bounds: tuple[str, str],
    suffix: str,
    beta: str,
    act: str,
    pairings: bool,
    shared: bool = False,
) -> Rule:
    """Turn ``reward_rule``'s Rule into the pulse taken whole at the reward event (``rate`` ends in ``*``).

    Exact when no eligible event falls within the pulse (tau_dop much shorter than the intervals
    between them); the weight changes at reward events only, so it is never stale. The amount is
    ``reward_in`` as the synapses see it before the neuron adds it to ``D`` (the reward event detected
    before the 'synapses' slot, as with ``dopamine_parts``' default; checked when they are built).
    Pairing amplitudes both 0: no pairing traces are kept (each spike costs one exponential).
    ``shared``: ``c`` is a neuron's trace; the synapses keep only the weight.
    """
    tc, ts, tstar, tdop, drift = (f"{name}{suffix}" for name in ("tau_c", "tau_s", "tau_star", "tau_dop", "drift"))
    # the drift as a subexpression: Brian2 2.9's unit check of this code trips on a literal '0/second'
    full = f"{rate}reward_in_{side}/{ts}*(({c} + {drift}*{tc})*{tstar} - {drift}*{tc}*{tdop})"
    decay = f"({c} + {drift}*{tc})*exp(-{act}*elapsed/{tc}) - {drift}*{tc}"
    lines = [
        line
        for line in rule.model.strip().splitlines()
        if not line.strip().startswith(f"D_last{suffix}")
        and (pairings or "event-driven" not in line)
        and not line.strip().startswith(f"{weight}_now")
    ]
    if shared:
        own = f"c{suffix}"
        lines = [line for line in lines if not re.match(rf"\s*{own}(_now)?\s*[:=]", line)]
    rule.model = "\n".join(
        lines + [f"{drift} = {beta} : Hz"] + ([f"{weight}_now = {weight} : 1"] if not suffix else [])
    )
    if not pairings:  # only the spike increments of the trace remain
        rule.on_pre, rule.on_post, rule.catch_up = f"{c} += {act}*A_pre{suffix}", f"{c} += {act}*A_post{suffix}", ""
    if shared:  # the neuron keeps (and decays) its trace
        rule.on_pre = rule.on_post = ""
    name = f"reward{suffix}_{side}" if suffix or side == "pre" else "reward"
    rule.pathways = {name: (side, "reward", f"{weight} = clip({weight} + {full}, {bounds[0]}, {bounds[1]})")}
    rule.settle = rule.settle_now = "" if shared else f"{c} = {decay}"
    rule.check = lambda source, target: check_impulse_slot(source if side == "pre" else target)
    return rule


def check_impulse_slot(group: Group) -> None:
    """The impulse reads ``reward_in`` at the reward event: the event must be detected before the synapses run."""
    thresholder = getattr(getattr(group, "source", group), "thresholder", {}).get("reward")
    early = {p + slot for slot in ("start", "groups", "thresholds") for p in ("before_", "", "after_")}
    if thresholder is not None and thresholder.when not in early | {"before_synapses"}:
        raise ValueError(
            f"reward stdp: integration 'impulse' needs the reward event of {group.name!r} detected "
            f"before the synapses run (dopamine_parts(when='thresholds')), not in {thresholder.when!r}"
        )
