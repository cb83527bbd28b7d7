"""Hubs: one-cell groups that sum a quantity over a population once per image.

A layer's neurons read the sum back through a linked variable (pool counts, predicted
inhibition, summed errors, activity power), so a population-wide quantity costs one
summed-variable update per image instead of all-to-all synapses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from brian2 import Clock, NeuronGroup, Synapses

if TYPE_CHECKING:
    from brian2.groups.group import Group
    from brian2.units.fundamentalunits import Quantity

__all__ = ["hub", "mean_hub", "power_hub", "sum_to_hub", "clocked"]


def clocked(period: Clock | Quantity) -> dict[str, Clock | Quantity]:
    """Keyword arguments that put a Brian2 object on ``period``: a shared ``Clock`` (the network's
    per-image clock: one clock for all the per-image code, scheduled as with one clock per object), or
    a time step (a clock of its own)."""
    return {"clock": period} if isinstance(period, Clock) else {"dt": period}


def hub(name: str, variable: str, period: Clock | Quantity, order: int) -> NeuronGroup:
    """A one-cell group holding ``variable``, updated once per ``period``; ``order`` places its sum
    (Brian2 runs the summed update at ``order - 1``) relative to the image-boundary code."""
    group = NeuronGroup(1, f"{variable} : 1", name=name, **clocked(period))
    group.order = order
    return group


def sum_to_hub(source: Group, target: NeuronGroup, variable: str, expression: str, name: str) -> Synapses:
    """Synapses that set ``target.variable`` to the sum of ``expression`` over ``source``."""
    syn = Synapses(source, target, f"{variable}_post = {expression} : 1 (summed)", name=name)
    syn.connect(j="0")
    return syn


def power_hub(name: str, period: Clock | Quantity, namespace: dict[str, Any], t_start: Quantity) -> NeuronGroup:
    """A layer's activity power ``P`` per image, its running mean ``P_avg`` and ``norm = 1/(P + P_avg + 1)``.

    The running mean averages over the images seen so far, at most ``tau_avg`` of them;
    ``t_start`` is where the run starts in a schedule split into chunks (``encoder.checkpoint``).
    """
    power = NeuronGroup(
        1,
        "P : 1\nP_avg : 1\nnorm : 1\nt_start : second (shared, constant)",
        namespace=namespace,
        name=name,
        **clocked(period),
    )
    power.order = 0
    power.run_regularly(
        "P_avg += (P - P_avg)/clip((t + t_start)/present, 1, tau_avg)\nnorm = 1/(P + P_avg + 1)",
        when="groups",
        order=1,
        **clocked(period),
        name=name.replace("_power", "_norm"),
    )
    power.norm = 1.0
    power.t_start = t_start
    return power


def mean_hub(name: str, period: Clock | Quantity, namespace: dict[str, Any], order: int) -> NeuronGroup:
    """A layer's summed ``S`` per image and ``S_avg``, the running mean of ``S/n_cells`` over the
    images where ``S > 0`` (at most ``tau_avg`` of them; ``k`` counts them)."""
    group = NeuronGroup(1, "S : 1\nS_avg : 1\nk : 1", namespace=namespace, name=name, **clocked(period))
    group.order = order
    group.run_regularly(
        "k += int(S > 0)\nS_avg += int(S > 0)*(S/n_cells - S_avg)/clip(k, 1, tau_avg)",
        when="groups",
        order=order + 1,
        name=f"{name}_mean",
        **clocked(period),
    )
    return group
