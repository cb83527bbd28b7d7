"""Synapse models: pair-based STDP, Tsodyks-Markram short-term plasticity, forgetting, local error rule.

Pair-based STDP with weight bounds
    Song S, Miller KD, Abbott LF (2000). Competitive Hebbian learning through
    spike-timing-dependent synaptic plasticity. Nat Neurosci 3(9):919-926.
    doi:10.1038/78829. All-to-all pairing through two event-driven traces:
    dw = +A_plus*exp(-dt/tau_plus) for post after pre (dt > 0) and
    dw = -A_minus*exp(dt/tau_minus) for post before pre.

Tsodyks-Markram short-term plasticity
    Tsodyks M, Pawelzik K, Markram H (1998). Neural networks with dynamic
    synapses. Neural Comput 10(4):821-835. doi:10.1162/089976698300017502.
    Event-driven form as in Stimberg et al. (2019), Brian 2 neuron-glia chapter.

Forgetting: fast and slow weights
    Changes are written into a fast weight that decays unless it is moved into
    a slow weight (consolidation), as in Benna MK, Fusi S (2016). Computational
    principles of synaptic memory consolidation. Nat Neurosci 19:1697-1706.

Local error rule (two-factor)
    dw = eta * f(pre) * g(post), applied once per period (an image), with f and g
    local quantities such as a spike count and a dendritic prediction error;
    the delta rule (Widrow & Hoff 1960) and the subspace rule of Oja (1989) are
    of this form.

Nothing here is integrated every time step: per-synapse variables are
event-driven (updated in closed form at spikes) or updated once per period.

A rule is a :class:`Rule`; :func:`synapses` stacks rules on one ``Synapses``
object, so STDP, STP and forgetting can share a synapse.
"""
import weakref
from dataclasses import dataclass, field

from brian2 import Synapses, ms, second

from .parameters import Param, resolve

__all__ = [
    "Rule", "STDP_PARAMS", "TM_DEPRESSING", "TM_FACILITATING", "FORGETTING_PARAMS", "static_rule",
    "stdp_rule", "tm_rule", "forgetting_rule", "local_error_rule", "synapses", "settle_code", "apply_init",
    "stdp_window", "tm_release",
]


@dataclass
class Rule:
    """Pieces of a synapse model that can be stacked with others.

    ``settle`` is run first in every pathway and in the periodic code (closed-form
    integrals between events); ``pathways`` maps extra pathway names to
    ``(side, event, code)``; ``regularly`` runs once per period; ``init`` gives
    initial values, set by :func:`apply_init` after ``connect``.
    """

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


STDP_PARAMS = {
    "tau_plus": Param(20.0 * ms, "+", "potentiation window (pre-trace decay)"),
    "tau_minus": Param(20.0 * ms, "+", "depression window (post-trace decay)"),
    "A_plus": Param(0.01, ">=0", "potentiation amplitude, in units of w_max"),
    "A_minus": Param(0.0105, ">=0", "depression amplitude (A_minus/A_plus = 1.05)"),
    "w_max": Param(1.0, "+", "upper weight bound (lower bound is 0: Dale)"),
}

TM_DEPRESSING = {
    "U_0": Param(0.5, "01", "utilisation increment per spike"),
    "tau_d": Param(800.0 * ms, "+", "recovery of resources"),
    "tau_f": Param(1.0 * ms, ">=0", "decay of utilisation (facilitation); 0: none"),
}

TM_FACILITATING = {
    "U_0": Param(0.15, "01", "utilisation increment per spike"),
    "tau_d": Param(100.0 * ms, "+", "recovery of resources"),
    "tau_f": Param(1000.0 * ms, ">=0", "decay of utilisation (facilitation); 0: none"),
}

FORGETTING_PARAMS = {
    "tau_forget": Param(5.0 * second, "+", "decay time of unconsolidated (fast) weight changes"),
    "period": Param(100.0 * ms, "+", "period of the decay and consolidation step"),
    "w_max": Param(1.0, "+", "upper bound of the total weight"),
}


def static_rule(**_):
    """A fixed weight ``w`` (bounded below by 0 through its initial value)."""
    return Rule(model="w : 1")


def stdp_rule(rate="1", **overrides):
    """Pair-based additive STDP with bounds [0, w_max].

    Parameters
    ----------
    rate : str
        Expression multiplying every weight change, e.g. ``'eta'`` (a shared
        learning flag) or ``'eta*gate_post'`` (an astrocyte-controlled rate).
    """
    ns = resolve("stdp", STDP_PARAMS, overrides)
    model = """
    w : 1
    dapre/dt = -apre/tau_plus    : 1 (event-driven)
    dapost/dt = -apost/tau_minus : 1 (event-driven)
    """
    on_pre = f"""
    apre += A_plus
    w = clip(w - ({rate})*apost*w_max, 0, w_max)
    """
    on_post = f"""
    apost += A_minus
    w = clip(w + ({rate})*apre*w_max, 0, w_max)
    """
    return Rule(model, on_pre, on_post, ns,
                catch_up="apre = apre*exp(-elapsed/tau_plus)\napost = apost*exp(-elapsed/tau_minus)")


def tm_rule(regime="depressing", side="pre", **overrides):
    """Tsodyks-Markram release: each spike releases r_S = u_S*x_S of the resources.

    Parameters
    ----------
    regime : {'depressing', 'facilitating'}
        Default parameter set; ``tau_f = 0`` gives a fixed utilisation ``U_0``.
    side : {'pre', 'post'}
        Whose spikes release (``'post'`` for a reciprocal synapse that transmits
        on its postsynaptic neuron's spikes). Resources start full (x_S = 1).
    """
    defaults = {"depressing": TM_DEPRESSING, "facilitating": TM_FACILITATING}.get(regime)
    if defaults is None:
        raise ValueError(f"tm: parameter 'regime' must be 'depressing' or 'facilitating', got {regime!r}")
    if side not in ("pre", "post"):
        raise ValueError(f"tm: parameter 'side' must be 'pre' or 'post', got {side!r}")
    ns = resolve(f"tsodyks-markram ({regime})", defaults, overrides)
    if float(ns["tau_f"]) > 0:
        model = """
        du_S/dt = -u_S/tau_f       : 1 (event-driven)
        dx_S/dt = (1 - x_S)/tau_d  : 1 (event-driven)
        r_S : 1
        """
        code = "u_S += U_0*(1 - u_S)\nr_S = u_S*x_S\nx_S -= r_S"
        catch_up = "u_S = u_S*exp(-elapsed/tau_f)\nx_S = 1 - (1 - x_S)*exp(-elapsed/tau_d)"
    else:
        model = """
        dx_S/dt = (1 - x_S)/tau_d  : 1 (event-driven)
        r_S : 1
        """
        code = "r_S = U_0*x_S\nx_S -= r_S"
        catch_up = "x_S = 1 - (1 - x_S)*exp(-elapsed/tau_d)"
        ns = {k: v for k, v in ns.items() if k != "tau_f"}
    return Rule(model, code if side == "pre" else "", code if side == "post" else "", ns,
                release="r_S", init={"x_S": 1.0}, catch_up=catch_up)


def forgetting_rule(consolidation="0.1", active="1", **overrides):
    """Fast and slow weights: the transmitted weight is ``w_slow + w_fast``.

    Plastic rules write into ``w_fast`` (give them ``weight='w_fast'``). Once per
    ``period`` the fast weight decays by ``exp(-period/tau_forget)`` and the
    fraction ``consolidation`` of what is left moves into ``w_slow``, bounded in
    [0, w_max]. ``active`` (an expression, e.g. a plasticity flag) gates both
    steps: with ``active = 0`` nothing changes.
    """
    ns = resolve("forgetting", FORGETTING_PARAMS, overrides)
    regularly = f"""
    w_fast = w_fast*exp(-({active})*period/tau_forget)
    w_move = ({active})*({consolidation})*w_fast
    w_slow = clip(w_slow + w_move, 0, w_max)
    w_fast = w_fast - w_move
    """
    return Rule("w_slow : 1\nw_fast : 1", namespace=ns, regularly=regularly)


def local_error_rule(pre_factor, post_factor, eta="eta", weight="w", lower="0", upper="w_max"):
    """Two-factor local rule applied once per period: dw = eta*pre_factor*post_factor.

    ``pre_factor`` and ``post_factor`` are expressions of the pre- and postsynaptic
    neurons' variables (e.g. ``'z_pre'`` and ``'err_post'``); ``eta`` may hold a
    learning flag and an astrocyte gate. The weight stays in [lower, upper].
    """
    code = f"{weight} = clip({weight} + ({eta})*({pre_factor})*({post_factor}), {lower}, {upper})"
    return Rule(regularly=code)


def _merge_models(rules):
    lines, seen = [], set()
    for rule in rules:
        for line in rule.model.strip().splitlines():
            line = line.strip()
            key = line.split(":")[0].strip()
            if line and key not in seen:
                seen.add(key)
                lines.append(line)
    return "\n".join(lines)


_INIT = weakref.WeakKeyDictionary()


def _join(*parts):
    return "\n".join(p.strip("\n") for p in parts if p and p.strip())


def synapses(source, target, rules, effect="ge_post += {w}", transmit="pre", weight="w", name=None,
             delay=None, namespace=None, period=None, when="start", order=0, **kwargs):
    """One ``Synapses`` object carrying several stacked rules.

    Parameters
    ----------
    rules : list of Rule
        E.g. ``[tm_rule(), stdp_rule()]``; the weight ``w`` is shared.
    effect : str or None
        Effect on the target with ``{w}`` standing for the transmitted weight
        (``weight`` times the release fraction of an STP rule). Excitatory
        synapses write ``ge_post``, inhibitory ones ``gi_post``: this is how
        Dale's principle is kept (weights themselves are never negative).
        None: no effect (for probes).
    transmit : {'pre', 'post'}
        The pathway that carries the effect (``'post'`` for reciprocal synapses).
    weight : str
        Expression of the transmitted weight (``'w_slow + w_fast'`` with forgetting).
    period : Quantity, optional
        Period of the rules' ``regularly`` code (required if any rule has one);
        ``when`` and ``order`` place it in the time step.
    """
    rules = list(rules)
    if transmit not in ("pre", "post"):
        raise ValueError(f"synapses: parameter 'transmit' must be 'pre' or 'post', got {transmit!r}")
    model = _merge_models(rules)
    if not any(line.split(":")[0].strip() in ("w", "w_slow") for line in model.splitlines()):
        rules.insert(0, static_rule())
        model = _merge_models(rules)
    release = "*".join(r.release for r in rules if r.release != "1") or "1"
    transmitted = f"({weight})" if release == "1" else f"({weight})*{release}"
    settle = _join(*(r.settle for r in rules))
    head = _join("elapsed = t - lastupdate", settle) if settle else ""
    code = {"pre": _join(head, *(r.on_pre for r in rules)), "post": _join(head, *(r.on_post for r in rules))}
    if effect:
        if "{w}" not in effect:
            raise ValueError(f"synapses: effect {effect!r} must contain the placeholder {{w}}")
        code[transmit] = _join(code[transmit], effect.format(w=transmitted))
    on_pre, on_post, on_event = {"pre": code["pre"]}, {}, {"pre": "spike"}
    if code["post"].strip() and code["post"] != head:
        on_post["post"] = code["post"]
        on_event["post"] = "spike"
    for rule in rules:
        for pname, (side, event, pcode) in rule.pathways.items():
            (on_pre if side == "pre" else on_post)[pname] = _join(head, pcode)
            on_event[pname] = event
    ns = {}
    for rule in rules:
        ns.update(rule.namespace)
    ns.update(namespace or {})
    syn = Synapses(source, target, model=model, on_pre=on_pre, on_post=on_post or None, on_event=on_event,
                   namespace=ns, name=name or "synapses*", delay=delay, **kwargs)
    regular = _join(*(r.regularly for r in rules))
    if regular:
        if period is None:
            raise ValueError("synapses: a rule has periodic code; give 'period'")
        regular = _join(settle_code(rules), regular)
        syn.run_regularly(regular, dt=period, when=when, order=order, name=f"{syn.name}_regularly")
    _INIT[syn] = {k: v for r in rules for k, v in r.init.items()}
    return syn


def settle_code(rules):
    """Code that brings closed-form integrals and event-driven traces up to date (periodic code)."""
    settle = _join(*(r.settle for r in rules))
    if not settle:
        return ""
    return _join("elapsed = t - lastupdate", settle, *(r.catch_up for r in rules), "lastupdate = t")


def apply_init(syn):
    """Set the rules' initial values (e.g. full TM resources) after ``connect``."""
    for var, value in _INIT.get(syn, {}).items():
        setattr(syn, var, value)


def stdp_window(delta_t, **overrides):
    """Analytic STDP window (weight change per pairing, in units of w_max).

    ``delta_t = t_post - t_pre``; an array of Quantities in time units.
    """
    import numpy as np

    p = resolve("stdp", STDP_PARAMS, overrides)
    dt = np.asarray(delta_t / ms, dtype=float)
    return np.where(dt > 0, p["A_plus"] * np.exp(-dt / float(p["tau_plus"] / ms)),
                    np.where(dt < 0, -p["A_minus"] * np.exp(dt / float(p["tau_minus"] / ms)), 0.0))


def tm_release(n_spikes, interval, U_0, tau_d, tau_f):
    """Analytic Tsodyks-Markram releases for a regular train, plus the steady state.

    Returns
    -------
    releases : ndarray
        r_n for spikes n = 1..n_spikes (starting from u=0, x=1).
    steady : float
        The limit of r_n for an infinite train.
    """
    import numpy as np

    ef = float(np.exp(-interval / tau_f))
    ed = float(np.exp(-interval / tau_d))
    u, x, out = 0.0, 1.0, []
    for _ in range(n_spikes):
        u = u + U_0 * (1 - u)
        r = u * x
        out.append(r)
        x = 1 - (1 - (x - r)) * ed
        u = u * ef
    u_ss = U_0 / (1 - (1 - U_0) * ef)
    x_ss = (1 - ed) / (1 - (1 - u_ss) * ed)
    return np.array(out), u_ss * x_ss
