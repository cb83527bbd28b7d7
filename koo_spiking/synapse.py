"""Synapse models: pair-based STDP and Tsodyks-Markram short-term plasticity.

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

Nothing here is integrated every time step: all per-synapse variables are
event-driven, updated in closed form when a spike arrives.

A rule is a :class:`Rule` (model, on_pre, on_post, namespace); :func:`synapses`
stacks rules on one ``Synapses`` object, so STDP and STP can share a synapse.
"""
from dataclasses import dataclass, field

from brian2 import Synapses, ms

from .parameters import Param, resolve

__all__ = [
    "Rule", "STDP_PARAMS", "TM_DEPRESSING", "TM_FACILITATING", "static_rule", "stdp_rule",
    "tm_rule", "synapses", "stdp_window", "tm_release",
]


@dataclass
class Rule:
    """Pieces of a synapse model that can be stacked with others."""

    model: str = ""
    on_pre: str = ""
    on_post: str = ""
    namespace: dict = field(default_factory=dict)
    release: str = "1"  # factor of w in the synaptic effect (STP's release fraction)


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
    "tau_f": Param(1.0 * ms, "+", "decay of utilisation (facilitation)"),
}

TM_FACILITATING = {
    "U_0": Param(0.15, "01", "utilisation increment per spike"),
    "tau_d": Param(100.0 * ms, "+", "recovery of resources"),
    "tau_f": Param(1000.0 * ms, "+", "decay of utilisation (facilitation)"),
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
    return Rule(model, on_pre, on_post, ns)


def tm_rule(regime="depressing", **overrides):
    """Tsodyks-Markram release: each spike releases r_S = u_S*x_S of the resources."""
    defaults = {"depressing": TM_DEPRESSING, "facilitating": TM_FACILITATING}.get(regime)
    if defaults is None:
        raise ValueError(f"tm: parameter 'regime' must be 'depressing' or 'facilitating', got {regime!r}")
    ns = resolve(f"tsodyks-markram ({regime})", defaults, overrides)
    model = """
    du_S/dt = -u_S/tau_f       : 1 (event-driven)
    dx_S/dt = (1 - x_S)/tau_d  : 1 (event-driven)
    r_S : 1
    """
    on_pre = """
    u_S += U_0*(1 - u_S)
    r_S = u_S*x_S
    x_S -= r_S
    """
    return Rule(model, on_pre, "", ns, release="r_S")


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


def synapses(source, target, rules, effect="ge_post += {w}", name=None, delay=None,
             namespace=None, **kwargs):
    """One ``Synapses`` object carrying several stacked rules.

    Parameters
    ----------
    rules : list of Rule
        E.g. ``[tm_rule(), stdp_rule()]``; the weight ``w`` is shared.
    effect : str or None
        On-pre effect on the target with ``{w}`` standing for the transmitted
        weight (``w`` times the release fraction of an STP rule). Excitatory
        synapses write ``ge_post``, inhibitory ones ``gi_post``: this is how
        Dale's principle is kept (weights themselves are never negative).
        None: no effect (for probes).
    """
    rules = list(rules)
    if not any("w : 1" in r.model for r in rules):
        rules.insert(0, static_rule())
    release = "*".join(r.release for r in rules if r.release != "1") or "1"
    on_pre = "\n".join(r.on_pre for r in rules if r.on_pre.strip())
    if effect:
        transmitted = "w" if release == "1" else f"w*{release}"
        on_pre = on_pre + "\n" + effect.format(w=transmitted)
    on_post = "\n".join(r.on_post for r in rules if r.on_post.strip())
    ns = {}
    for rule in rules:
        ns.update(rule.namespace)
    ns.update(namespace or {})
    return Synapses(source, target, model=_merge_models(rules), on_pre=on_pre,
                    on_post=on_post or None, namespace=ns, name=name or "synapses*", delay=delay, **kwargs)


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
