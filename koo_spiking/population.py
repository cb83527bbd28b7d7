"""Excitatory-inhibitory population pairs under Dale's principle.

E and I conductance LIF neurons (Diehl & Cook 2015 parameters) wired as a pair:
E -> I drive and I -> E lateral inhibition. Dale's principle is structural:
every synapse leaving an E neuron writes the excitatory conductance ``ge``,
every synapse leaving an I neuron writes ``gi``, and weights are magnitudes
clipped to [0, w_max] by every plasticity rule. The signed weight of a synapse
is therefore +w (from E) or -w (from I), whatever plasticity does.

Optional inhibitory plasticity on I -> E:
    Vogels TP, Sprekeler H, Zenke F, Clopath C, Gerstner W (2011). Inhibitory
    plasticity balances excitation and inhibition in sensory pathways and
    memory networks. Science 334(6062):1569-1573. doi:10.1126/science.1211095.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from brian2 import Hz, ms

from .neuron import lif_group
from .parameters import Param, check_size, resolve
from .synapse import Rule, static_rule, synapses

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from brian2 import NeuronGroup, Synapses

__all__ = [
    "EIPair",
    "ei_pair",
    "istdp_rule",
    "ISTDP_PARAMS",
    "signed_weights",
    "dale_violations",
    "EXCITATORY_EFFECT",
    "INHIBITORY_EFFECT",
]

EXCITATORY_EFFECT = "ge_post += {w}"
INHIBITORY_EFFECT = "gi_post += {w}"

ISTDP_PARAMS = {
    "tau_istdp": Param(20.0 * ms, "+", "trace time constant"),
    "eta_i": Param(0.01, ">=0", "learning rate"),
    "rho_0": Param(5.0 * Hz, "+", "target rate of the postsynaptic neuron"),
    "w_max_i": Param(10.0, "+", "upper bound of inhibitory weight magnitudes"),
}


def istdp_rule(rate: str = "1", **overrides: Any) -> Rule:
    """Symmetric inhibitory STDP (Vogels et al. 2011) on weight magnitudes."""
    ns = resolve("istdp", ISTDP_PARAMS, overrides)
    model = """
    w : 1
    dipre/dt = -ipre/tau_istdp   : 1 (event-driven)
    dipost/dt = -ipost/tau_istdp : 1 (event-driven)
    """
    on_pre = f"""
    ipre += 1
    w = clip(w + ({rate})*eta_i*(ipost - 2*rho_0*tau_istdp), 0, w_max_i)
    """
    on_post = f"""
    ipost += 1
    w = clip(w + ({rate})*eta_i*ipre, 0, w_max_i)
    """
    return Rule(model, on_pre, on_post, ns)


@dataclass
class EIPair:
    """The groups and synapses of one E/I population pair."""

    E: NeuronGroup
    I: NeuronGroup
    E_to_I: Synapses
    I_to_E: Synapses

    @property
    def objects(self) -> list[NeuronGroup | Synapses]:
        """The four Brian2 objects of the pair (E group, I group, E->I and I->E synapses), to add to a Network."""
        return [self.E, self.I, self.E_to_I, self.I_to_E]


def _random_pairs(rng, n_pre, n_post, p, exclude_self=False):
    mask = rng.random((n_pre, n_post)) < p
    if exclude_self:
        np.fill_diagonal(mask, False)
    i, j = np.nonzero(mask)
    return i.astype(np.int32), j.astype(np.int32)


def ei_pair(
    n_e: int,
    n_i: int,
    p_ei: float = 0.2,
    p_ie: float = 0.5,
    w_ei: float = 2.0,
    w_ie: float = 1.0,
    plastic_inhibition: bool = False,
    rng: np.random.Generator | None = None,
    name: str = "layer",
    e_kw: Mapping[str, Any] | None = None,
    i_kw: Mapping[str, Any] | None = None,
    e_eqs: str = "",
    istdp: Mapping[str, Any] | None = None,
) -> EIPair:
    """Build an E/I pair with E -> I excitation and I -> E lateral inhibition.

    Connectivity is drawn here with numpy (``rng``), so it is the same under every
    code-generation target and can be set before a standalone run.

    Parameters
    ----------
    n_e, n_i : int
        Population sizes.
    p_ei, p_ie : float
        Connection probabilities E -> I and I -> E.
    w_ei, w_ie : float
        Weight magnitudes (units of the target's leak conductance).
    plastic_inhibition : bool
        Vogels et al. 2011 iSTDP on I -> E (parameters in ``istdp``).
    """
    n_e = check_size("ei_pair", "n_e", n_e)
    n_i = check_size("ei_pair", "n_i", n_i)
    for pname, p in (("p_ei", p_ei), ("p_ie", p_ie)):
        if not 0 <= p <= 1:
            raise ValueError(f"ei_pair: parameter {pname!r} must lie in [0, 1], got {p!r}")
    for wname, w in (("w_ei", w_ei), ("w_ie", w_ie)):
        if not np.isfinite(w) or w < 0:
            raise ValueError(f"ei_pair: parameter {wname!r} is a weight magnitude and must be >= 0, got {w!r}")
    rng = rng if rng is not None else np.random.default_rng(0)
    E = lif_group(n_e, "excitatory", extra_eqs=e_eqs, name=f"{name}_E", **(e_kw or {}))
    I = lif_group(n_i, "inhibitory", name=f"{name}_I", **(i_kw or {}))
    e_to_i = synapses(E, I, [static_rule()], effect=EXCITATORY_EFFECT, name=f"{name}_EI")
    i, j = _random_pairs(rng, n_e, n_i, p_ei)
    e_to_i.connect(i=i, j=j)
    e_to_i.w = w_ei
    rules = [istdp_rule(**(istdp or {}))] if plastic_inhibition else [static_rule()]
    i_to_e = synapses(I, E, rules, effect=INHIBITORY_EFFECT, name=f"{name}_IE")
    i, j = _random_pairs(rng, n_i, n_e, p_ie)
    i_to_e.connect(i=i, j=j)
    i_to_e.w = w_ie
    return EIPair(E, I, e_to_i, i_to_e)


def _effect_sign(syn):
    code = " ".join(str(p.code) for p in syn._pathways if p.prepost == "pre")
    writes_ge, writes_gi = "ge_post" in code, "gi_post" in code
    if writes_ge == writes_gi:
        raise ValueError(f"dale: synapses {syn.name!r} must write exactly one of ge_post or gi_post")
    return 1.0 if writes_ge else -1.0


def signed_weights(syn: Synapses) -> np.ndarray:
    """Signed weights of a synapse group after a run: +w from E, -w from I."""
    return _effect_sign(syn) * np.asarray(syn.w[:], dtype=float)


def dale_violations(syn_groups: Iterable[Synapses]) -> int:
    """Count synapses that break Dale's principle.

    A violation is a weight of the wrong sign, or a presynaptic neuron whose
    outgoing synapses (across all given groups) have both signs.
    """
    bad = 0
    sign_of = {}
    for syn in syn_groups:
        sign = _effect_sign(syn)
        w = signed_weights(syn)
        bad += int(np.sum(w * sign < 0))
        for pre in np.unique(np.asarray(syn.i[:])):
            key = (syn.source.name, int(pre))
            if sign_of.setdefault(key, sign) != sign:
                bad += 1
    return bad
