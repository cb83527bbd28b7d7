"""Synapse models: pair-based STDP, Tsodyks-Markram short-term plasticity, forgetting, local error rule.

Pair-based STDP with weight bounds
    Song S, Miller KD, Abbott LF (2000). Competitive Hebbian learning through spike-timing-dependent
    synaptic plasticity. Nat Neurosci 3(9):919-926. doi:10.1038/78829. All-to-all pairing through two
    event-driven traces: dw = +A_plus*exp(-dt/tau_plus) for post after pre (dt > 0), dw =
    -A_minus*exp(dt/tau_minus) for post before pre; A_plus, A_minus are absolute (units of w).

Tsodyks-Markram short-term plasticity
    Tsodyks M, Pawelzik K, Markram H (1998). Neural networks with dynamic synapses. Neural Comput
    10(4):821-835. doi:10.1162/089976698300017502. Event-driven form as in Stimberg et al. (2019),
    Brian 2 neuron-glia chapter; with ``tau_inact > 0`` the paper's three states (x, y, z).

Forgetting: fast and slow weights
    Changes are written into a fast weight that decays unless it is moved into a slow weight
    (consolidation), as in Benna MK, Fusi S (2016). Computational principles of synaptic memory
    consolidation. Nat Neurosci 19:1697-1706.

Local error rule (two-factor)
    dw = eta * f(pre) * g(post), applied once per period (an image), with f and g local
    quantities such as a spike count and a dendritic prediction error; the delta rule
    (Widrow & Hoff 1960) and the subspace rule of Oja (1989) are of this form.

Nothing is integrated every time step: per-synapse variables are event-driven (closed form at spikes)
or updated once per period. :func:`synapses` stacks rules (:class:`Rule`) on one ``Synapses`` object;
its ``connect`` gives new synapses their rules' initial values (full TM resources)."""

from __future__ import annotations

import re
import string
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from brian2 import Clock, Equations, Synapses, get_device, ms, second
from brian2.devices.device import RuntimeDevice

from .parameters import Param, resolve

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from brian2.groups.group import Group
    from brian2.units.fundamentalunits import Quantity

__all__ = [
    "Rule",
    "STDP_PARAMS",
    "TM_DEPRESSING",
    "TM_FACILITATING",
    "FORGETTING_PARAMS",
    "static_rule",
    "stdp_rule",
    "tm_rule",
    "forgetting_rule",
    "local_error_rule",
    "synapses",
    "settle_code",
    "apply_init",
    "stdp_window",
    "tm_release",
    "RuleSynapses",
]


@dataclass
class Rule:
    """Pieces of a synapse model that can be stacked with others.

    ``settle`` is run first in every pathway and in the periodic code (closed-form integrals between
    events); ``pathways`` maps extra pathway names to ``(side, event, code)``; ``regularly`` runs once
    per period; ``init`` gives initial values (set on the synapses ``connect`` creates); ``check`` is
    called with (source, target) before the synapses are built."""

    model: str = ""
    on_pre: str = ""
    on_post: str = ""
    namespace: dict = field(default_factory=dict)
    release: str = "1"  # factor of w in the synaptic effect (STP's release fraction)
    settle: str = ""
    pathways: dict = field(default_factory=dict)
    regularly: str = ""
    init: dict = field(default_factory=dict)
    catch_up: str = ""  # decay of this rule's event-driven variables, for periodic code
    check: object = None


STDP_PARAMS = {
    "tau_plus": Param(20.0 * ms, "+", "potentiation window (pre-trace decay)"),
    "tau_minus": Param(20.0 * ms, "+", "depression window (post-trace decay)"),
    "A_plus": Param(0.01, ">=0", "potentiation step per pairing, in units of w (absolute)"),
    "A_minus": Param(0.0105, ">=0", "depression step per pairing, in units of w (A_minus/A_plus = 1.05)"),
    "w_max": Param(1.0, "+", "upper weight bound (lower bound is 0: Dale)"),
}
_INIT = weakref.WeakKeyDictionary()  # Synapses -> the initial values of its rules
_TAU_INACT = Param(0.0 * ms, ">=0", "inactivation of released resources; 0: at once (2 states)")
TM_DEPRESSING = {
    "U_0": Param(0.5, "01", "utilisation increment per spike"),
    "tau_d": Param(800.0 * ms, "+", "recovery of resources"),
    "tau_f": Param(1.0 * ms, ">=0", "decay of utilisation (facilitation); 0: none"),
    "tau_inact": _TAU_INACT,
}
TM_FACILITATING = {
    "U_0": Param(0.15, "01", "utilisation increment per spike"),
    "tau_d": Param(100.0 * ms, "+", "recovery of resources"),
    "tau_f": Param(1000.0 * ms, ">=0", "decay of utilisation (facilitation); 0: none"),
    "tau_inact": _TAU_INACT,
}
FORGETTING_PARAMS = {
    "tau_forget": Param(5.0 * second, "+", "decay time of unconsolidated (fast) weight changes"),
    "period": Param(100.0 * ms, "+", "period of the decay and consolidation step"),
    "w_max": Param(1.0, "+", "upper bound of the total weight"),
}


def static_rule(**_: Any) -> Rule:
    """A fixed weight ``w`` (bounded below by 0 through its initial value)."""
    return Rule(model="w : 1")


def stdp_rule(rate: str = "1", **overrides: Any) -> Rule:
    """Pair-based additive STDP with bounds [0, w_max].

    Parameters
    ----------
    rate : str
        Expression multiplying every weight change, e.g. ``'eta'`` (a shared
        learning flag) or ``'eta*gate_post'`` (an astrocyte-controlled rate).
    **overrides
        ``STDP_PARAMS``; ``A_plus``, ``A_minus``: weight steps per pairing in units of w (not of w_max).
    """
    ns = resolve("stdp", STDP_PARAMS, overrides)
    model = """
    w : 1
    dapre/dt = -apre/tau_plus    : 1 (event-driven)
    dapost/dt = -apost/tau_minus : 1 (event-driven)
    """
    on_pre = f"""
    apre += A_plus
    w = clip(w - ({rate})*apost, 0, w_max)
    """
    on_post = f"""
    apost += A_minus
    w = clip(w + ({rate})*apre, 0, w_max)
    """
    return Rule(
        model, on_pre, on_post, ns, catch_up="apre = apre*exp(-elapsed/tau_plus)\napost = apost*exp(-elapsed/tau_minus)"
    )


# Three states (x recovered, y active, z inactive); between events, from x0, y0, z0:
#   y(s) = y0*exp(-s/tau_inact)
#   z(s) = z0*exp(-s/tau_d) + y0*tau_d/(tau_inact - tau_d)*(exp(-s/tau_inact) - exp(-s/tau_d))
#   x(s) = 1 - y(s) - z(s) = 1 - z0*exp(-s/tau_d) - y0*K(s),
#   K(s) = (tau_inact*exp(-s/tau_inact) - tau_d*exp(-s/tau_d))/(tau_inact - tau_d),
#   and its limit K(s) = (1 + s/tau_d)*exp(-s/tau_d) for tau_inact = tau_d.
_TM_3STATE = """
x_S : 1
y_S : 1
z_S = 1 - x_S - y_S : 1
r_S : 1
"""
_TM_3STATE_SETTLE = """
x_S = 1 - (1 - x_S - y_S)*exp(-elapsed/tau_d) - y_S*K_S
y_S = y_S*exp(-elapsed/tau_inact)
"""
_TM_K = {
    "general": "K_S = (tau_inact*exp(-elapsed/tau_inact) - tau_d*exp(-elapsed/tau_d))/(tau_inact - tau_d)",
    "equal": "K_S = (1 + elapsed/tau_d)*exp(-elapsed/tau_d)",
}


def tm_rule(regime: str = "depressing", side: str = "pre", **overrides: Any) -> Rule:
    """Tsodyks-Markram release: each spike releases r_S = u_S*x_S of the resources.

    Parameters
    ----------
    regime : {'depressing', 'facilitating'}
        Default parameter set; ``tau_f = 0`` gives a fixed utilisation ``U_0``.
    side : {'pre', 'post'}
        Whose spikes release (``'post'`` for a reciprocal synapse that transmits
        on its postsynaptic neuron's spikes).
    **overrides
        ``U_0``, ``tau_d``, ``tau_f``, ``tau_inact``. ``tau_inact = 0``: released resources
        are inactive at once and recover with ``tau_d`` (two states). ``tau_inact > 0``: they
        are first active (y_S; the paper's current is ``A_SE*y_S``), inactivate with
        ``tau_inact`` into z_S and recover from there with ``tau_d`` (closed form at events).

    Resources start full (x_S = 1) on every synapse ``connect`` creates. The release ``r_S``
    multiplies the weight in the effect (with ``tau_inact > 0``, let it decay with ``tau_inact``).
    """
    defaults = {"depressing": TM_DEPRESSING, "facilitating": TM_FACILITATING}.get(regime)
    if defaults is None:
        raise ValueError(f"tm: parameter 'regime' must be 'depressing' or 'facilitating', got {regime!r}")
    if side not in ("pre", "post"):
        raise ValueError(f"tm: parameter 'side' must be 'pre' or 'post', got {side!r}")
    ns = resolve(f"tsodyks-markram ({regime})", defaults, overrides)
    three = float(ns["tau_inact"]) > 0
    model = _TM_3STATE if three else "dx_S/dt = (1 - x_S)/tau_d : 1 (event-driven)\nr_S : 1\n"
    release, catch_up, settle = "r_S = U_0*x_S", [], ""
    if float(ns["tau_f"]) > 0:
        model = "du_S/dt = -u_S/tau_f : 1 (event-driven)\n" + model
        release = "u_S += U_0*(1 - u_S)\nr_S = u_S*x_S"
        catch_up.append("u_S = u_S*exp(-elapsed/tau_f)")
    else:
        del ns["tau_f"]
    if three:
        equal = float(ns["tau_inact"]) == float(ns["tau_d"])
        settle = _join(_TM_K["equal" if equal else "general"], _TM_3STATE_SETTLE)
        code = release + "\nx_S -= r_S\ny_S += r_S"
    else:
        del ns["tau_inact"]
        code = release + "\nx_S -= r_S"
        catch_up.append("x_S = 1 - (1 - x_S)*exp(-elapsed/tau_d)")
    return Rule(
        model,
        code if side == "pre" else "",
        code if side == "post" else "",
        ns,
        release="r_S",
        settle=settle,
        init={"x_S": 1.0},
        catch_up="\n".join(catch_up),
    )


def forgetting_rule(consolidation: str = "0.1", active: str = "1", **overrides: Any) -> Rule:
    """Fast and slow weights: the transmitted weight is ``w_slow + w_fast``.

    Plastic rules write into ``w_fast`` (give them ``weight='w_fast'``). Once per ``period`` the
    fast weight decays by ``exp(-period/tau_forget)`` and the fraction ``consolidation`` of what is
    left moves into ``w_slow``, bounded in [0, w_max]. ``active`` (an expression, e.g. a plasticity
    flag) gates both steps: with ``active = 0`` nothing changes.
    """
    ns = resolve("forgetting", FORGETTING_PARAMS, overrides)
    regularly = f"""
    w_fast = w_fast*exp(-({active})*period/tau_forget)
    w_move = ({active})*({consolidation})*w_fast
    w_slow = clip(w_slow + w_move, 0, w_max)
    w_fast = w_fast - w_move
    """
    return Rule("w_slow : 1\nw_fast : 1", namespace=ns, regularly=regularly)


def local_error_rule(
    pre_factor: str, post_factor: str, eta: str = "eta", weight: str = "w", lower: str = "0", upper: str = "w_max"
) -> Rule:
    """Two-factor local rule applied once per period: dw = eta*pre_factor*post_factor.

    ``pre_factor`` and ``post_factor`` are expressions of the pre- and postsynaptic neurons' variables
    (e.g. ``'z_pre'``, ``'err_post'``); ``eta`` may hold a learning flag and an astrocyte gate.
    The weight stays in [lower, upper].
    """
    code = f"{weight} = clip({weight} + ({eta})*({pre_factor})*({post_factor}), {lower}, {upper})"
    return Rule(regularly=code)


def _merge_models(rules):
    lines = {}  # the first declaration of each name wins
    for line in (text.strip() for rule in rules for text in rule.model.strip().splitlines()):
        if line:
            lines.setdefault(line.split(":")[0].strip(), line)
    return "\n".join(lines.values())


def _join(*parts):
    return "\n".join(p.strip("\n") for p in parts if p and p.strip())


class RuleSynapses(Synapses):
    """``Synapses`` whose ``connect`` gives the synapses it creates their rules' initial values.

    Brian2 starts variables at 0 (a TM synapse depleted); this sets x_S = 1 on the new synapses
    (cpp_standalone: on those still at 0)."""

    def connect(self, *args: Any, level: int = 0, **kwargs: Any) -> None:
        """Brian2's ``Synapses.connect``; the new synapses then get the rule's initial values."""
        before = len(self) if isinstance(get_device(), RuntimeDevice) else None
        result = super().connect(*args, level=level + 1, **kwargs)
        for var, value in _INIT.get(self, {}).items():
            getattr(self, var)[f"{var} == 0" if before is None else slice(before, None)] = value
        return result


def _check_effect(effect, release):
    """One-line errors for an effect whose placeholders are not exactly ``{w}``."""
    try:
        fields = [
            f + ("!" + c if c else "") + (":" + s if s else "")
            for _, f, s, c in string.Formatter().parse(effect)
            if f is not None
        ]
    except ValueError as err:  # unbalanced braces
        raise ValueError(f"synapses: effect {effect!r} is not a valid template ({err}); use {{w}}") from None
    for bad in set(fields) - {"w"}:
        raise ValueError(
            f"synapses: effect {effect!r} has the placeholder {{{bad}}}; the only one is {{w}}, the transmitted weight"
        )
    if not fields:
        dropped = f"; without it the release fraction {release} of the STP rule would be dropped"
        raise ValueError(
            f"synapses: effect {effect!r} must contain the placeholder {{w}}" + (dropped if release != "1" else "")
        )
    return effect


def _check_neighbours(texts, source, target, own):
    """Every ``X_pre``/``X_post`` that is not a name of the synapse must be a variable of source/target."""
    for match in re.finditer(r"\b([A-Za-z_]\w*)_(pre|post)\b", "\n".join(texts)):
        name, base, side = match.group(0), match.group(1), match.group(2)
        group, role = (source, "source") if side == "pre" else (target, "target")
        if name not in own and base not in group.variables:
            hint = "; call koo_spiking.astrocyte.link_gate(neurons, astrocytes) first" if base == "gate" else ""
            raise ValueError(
                f"synapses: {name!r} refers to variable {base!r} of the {role} "
                f"{group.name!r}, which has no such variable{hint}"
            )


def synapses(
    source: Group,
    target: Group,
    rules: Iterable[Rule],
    effect: str | None = "ge_post += {w}",
    transmit: str = "pre",
    weight: str = "w",
    name: str | None = None,
    delay: Quantity | dict[str, Quantity] | None = None,
    namespace: Mapping[str, Any] | None = None,
    period: Quantity | Clock | None = None,
    when: str = "start",
    order: int = 0,
    effect_order: str = "after",
    **kwargs: Any,
) -> RuleSynapses:
    """One ``Synapses`` object carrying several stacked rules.

    Parameters
    ----------
    rules : list of Rule
        E.g. ``[tm_rule(), stdp_rule()]``; the weight ``w`` is shared.
    effect : str or None
        Effect on the target, ``{w}`` standing for the transmitted weight (``weight`` times
        the release fraction of an STP rule). Excitatory synapses write ``ge_post``,
        inhibitory ones ``gi_post`` (Dale: weights are never negative). None: no effect.
    transmit : {'pre', 'post'}
        The pathway that carries the effect (``'post'`` for reciprocal synapses).
    weight : str
        Expression of the transmitted weight (``'w_slow + w_fast'`` with forgetting).
    period : Quantity, optional
        Period of the rules' ``regularly`` code (required if any has one), placed by ``when``, ``order``.
    effect_order : {'after', 'before'}
        ``'after'``: the effect follows all rules' code, so the weight after this spike's
        plasticity update is transmitted; ``'before'``: it precedes the weight updates
        (STP release fractions are computed first either way).

    An ``X_pre``/``X_post`` in the code that the source/target lacks is a ValueError here.
    """
    rules = list(rules)
    for rule in (r for r in rules if r.check is not None):
        rule.check(source, target)
    if transmit not in ("pre", "post"):
        raise ValueError(f"synapses: parameter 'transmit' must be 'pre' or 'post', got {transmit!r}")
    if effect_order not in ("after", "before"):
        raise ValueError(f"synapses: parameter 'effect_order' must be 'after' or 'before', got {effect_order!r}")
    model = _merge_models(rules)
    if not any(line.split(":")[0].strip() in ("w", "w_slow") for line in model.splitlines()):
        rules.insert(0, static_rule())
        model = _merge_models(rules)
    release = "*".join(r.release for r in rules if r.release != "1") or "1"
    transmitted = f"({weight})" if release == "1" else f"({weight})*{release}"
    settle = _join(*(r.settle for r in rules))
    head = _join("elapsed = t - lastupdate", settle) if settle else ""
    tail = "lastupdate = t" if settle and "event-driven" not in model else ""
    model += "\nlastupdate : second" if tail else ""  # Brian2 adds both only with event-driven variables
    effect = _check_effect(effect, release).format(w=transmitted) if effect else None
    body = {}
    for side in ("pre", "post"):
        parts = [(r.release != "1", r.on_pre if side == "pre" else r.on_post) for r in rules]
        if effect and side == transmit:
            # 'before': STP code (release fractions), then the effect, then the weight updates
            parts = (
                [p for p in parts if p[0]] + [(True, effect)] + [p for p in parts if not p[0]]
                if effect_order == "before"
                else parts + [(True, effect)]
            )
        body[side] = _join(*(code for _, code in parts))
    on_pre, on_post, on_event = {"pre": _join(head, body["pre"], tail)}, {}, {"pre": "spike"}
    if body["post"]:
        on_post["post"], on_event["post"] = _join(head, body["post"], tail), "spike"
    for rule in rules:
        for pname, (side, event, pcode) in rule.pathways.items():
            (on_pre if side == "pre" else on_post)[pname] = _join(head, pcode, tail)
            on_event[pname] = event
    ns = {**{k: v for rule in rules for k, v in rule.namespace.items()}, **(namespace or {})}
    regular = _join(*(r.regularly for r in rules))
    _check_neighbours(
        [model, *on_pre.values(), *on_post.values(), regular], source, target, set(Equations(model).names) | set(ns)
    )
    syn = RuleSynapses(
        source,
        target,
        model=model,
        on_pre=on_pre,
        on_post=on_post or None,
        on_event=on_event,
        namespace=ns,
        name=name or "synapses*",
        delay=delay,
        **kwargs,
    )
    if regular:
        if period is None:
            raise ValueError("synapses: a rule has periodic code; give 'period'")
        regular = _join(settle_code(rules), regular)
        timing = {"clock": period} if isinstance(period, Clock) else {"dt": period}  # a shared clock or a step
        syn.run_regularly(regular, when=when, order=order, name=f"{syn.name}_regularly", **timing)
    _INIT[syn] = {k: v for r in rules for k, v in r.init.items()}
    return syn


def settle_code(rules: Sequence[Rule]) -> str:
    """Code that brings closed-form integrals and event-driven traces up to date (periodic code)."""
    settle = _join(*(r.settle for r in rules))
    if not settle:
        return ""
    return _join("elapsed = t - lastupdate", settle, *(r.catch_up for r in rules), "lastupdate = t")


def apply_init(syn: Synapses) -> None:
    """Set the rules' initial values again on all synapses (``connect`` sets them on new ones)."""
    for var, value in _INIT.get(syn, {}).items():
        setattr(syn, var, value)


def stdp_window(delta_t: Quantity, **overrides: Any) -> np.ndarray:
    """Analytic STDP window: weight change per pairing (units of w, as ``A_plus``) at ``delta_t = t_post - t_pre``."""
    p = resolve("stdp", STDP_PARAMS, overrides)
    dt = np.asarray(delta_t / ms, dtype=float)
    return np.where(
        dt > 0,
        p["A_plus"] * np.exp(-dt / float(p["tau_plus"] / ms)),
        np.where(dt < 0, -p["A_minus"] * np.exp(dt / float(p["tau_minus"] / ms)), 0.0),
    )


def tm_release(
    n_spikes: int, interval: Quantity, U_0: float, tau_d: Quantity, tau_f: Quantity, tau_inact: Quantity = 0 * ms
) -> tuple[np.ndarray, float]:
    """Analytic Tsodyks-Markram releases for a regular train, plus the steady state.

    ``tau_f = 0``: fixed utilisation ``U_0``; ``tau_inact > 0``: three states (:func:`tm_rule`).

    Returns
    -------
    releases : ndarray
        r_n for spikes n = 1..n_spikes (starting from u=0, x=1, y=0).
    steady : float
        The limit of r_n for an infinite train.
    """
    ti, td, ed = float(tau_inact), float(tau_d), float(np.exp(-interval / tau_d))
    ef = float(np.exp(-interval / tau_f)) if float(tau_f) > 0 else 0.0
    ei = float(np.exp(-interval / tau_inact)) if ti > 0 else 0.0
    k = (1 - np.log(ed)) * ed if ti == td else (ti * ei - td * ed) / (ti - td)  # K(interval), tm_rule
    u, x, y, out = 0.0, 1.0, 0.0, []
    for _ in range(n_spikes):
        u = u + U_0 * (1 - u)
        r = u * x
        out.append(r)
        x, y = x - r, y + r
        x, y = 1 - (1 - x - y) * ed - y * k, y * ei
        u = u * ef
    u_ss = U_0 / (1 - (1 - U_0) * ef)
    # before a spike at steady state y = u*x*ei/(1 - ei), and x returns to itself after the interval
    x_ss = (1 - ed) / (1 - (1 - u_ss) * ed - u_ss * (ed - k) / (1 - ei))
    return np.array(out), u_ss * x_ss
