"""Structural plasticity: pruning and regrowth of synapses, a rule stacked by ``synapse.synapses``.

Synapses whose weight stays low are removed and new ones grow at random in their place, the
count per neuron held within bounds, as in the rewiring rules of Deger M, Seeholzer A, Gerstner W
(2018). Multicontact co-operativity in spike-timing-dependent structural plasticity stabilizes
networks. Cereb Cortex 28:1396-1415, and Bellec G, Kappel D, Maass W, Legenstein R (2018). Deep
rewiring: training very sparse deep networks. ICLR. All potential synapses exist; an ``alive``
flag (0/1; Brian2 objects reserve ``active``) multiplies the transmitted weight, and the rule runs
once per period.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .parameters import Param, resolve
from .synapse import Rule

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["STRUCTURAL_PARAMS", "structural_rule"]

STRUCTURAL_PARAMS = {
    "prune_below": Param(0.1, ">=0", "prune when the averaged weight is below this fraction of w_ref"),
    "tau_w": Param(50.0, "+", "periods over which a synapse's weight is averaged"),
    "regrow": Param(0.05, "01", "probability that an inactive synapse grows at its turn"),
    "protect": Param(200.0, ">=0", "periods a new synapse cannot be pruned"),
    "w_ref": Param(0.5, ">=0", "weight of a new synapse (and the pruning scale)"),
    "n_min": Param(1.0, ">=0", "fewest active synapses a target neuron keeps"),
    "n_max": Param(1e9, "+", "most active synapses a target neuron has"),
}


def structural_rule(
    weights: Sequence[str] = ("w",), active: str = "1", turn: str = "1", growth: str = "1", **overrides: Any
) -> Rule:
    """Pruning and regrowth once per period, each target neuron's count of alive synapses in bounds.

    Give ``synapses`` a transmitted weight that includes the flag, e.g. ``weight='alive*w'``, and
    multiply the learning rates by ``alive``. Each synapse averages its weight (``w_avg``, over
    ``tau_w`` periods while alive) and counts its age. At its turn (``turn`` > 0; with one turn per
    target neuron and period the count moves by at most one, so the bounds hold exactly), an alive
    synapse older than ``protect`` whose ``w_avg`` is below ``prune_below*w_ref`` is pruned if its
    target keeps at least ``n_min``; an inactive one grows with probability ``regrow*growth`` if its
    target has fewer than ``n_max``: its weight restarts at ``w_ref`` (the first of ``weights``; the
    others at 0) and its age at 0. ``active`` gates the whole rule (a plasticity flag). The target's
    count is the summed variable ``n_syn_post`` (declare ``n_syn : 1`` in the target group).
    """
    ns = resolve("structural", STRUCTURAL_PARAMS, overrides)
    first, *rest = weights
    total = " + ".join(weights)
    reset = "\n".join([f"{first} = {first}*(1 - grow) + grow*w_ref"] + [f"{w} = {w}*(1 - grow)" for w in rest])
    regularly = f"""
    learn_s = int(({active}) > 0)
    w_avg += learn_s*alive*(({total}) - w_avg)/tau_w
    age += learn_s*alive
    prune = learn_s*int(({turn}) > 0)*alive*int(age >= protect)*int(w_avg < prune_below*w_ref)*int(n_syn_post > n_min)
    grow = learn_s*int(({turn}) > 0)*(1 - alive)*int(rand() < regrow*({growth}))*int(n_syn_post < n_max)
    alive += grow - prune
    age *= 1 - grow
    w_avg = w_avg*(1 - grow) + grow*w_ref
    {reset}
    """
    model = """
    alive : 1
    w_avg : 1
    age : 1
    n_syn_post = alive : 1 (summed)
    """
    return Rule(model, namespace=ns, regularly=regularly, init={"alive": 1.0})
