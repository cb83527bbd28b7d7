"""Hubs: one-cell groups that sum a quantity over a population once per image.

A layer's neurons read the sum back through a linked variable (pool counts, predicted
inhibition, summed errors, activity power), so a population-wide quantity costs one
summed-variable update per image instead of all-to-all synapses.
"""
from brian2 import NeuronGroup, Synapses

__all__ = ["hub", "mean_hub", "power_hub", "sum_to_hub"]


def hub(name, variable, period, order):
    """A one-cell group holding ``variable``, updated once per ``period``; ``order`` places its sum
    (Brian2 runs the summed update at ``order - 1``) relative to the image-boundary code."""
    group = NeuronGroup(1, f"{variable} : 1", dt=period, name=name)
    group.order = order
    return group


def sum_to_hub(source, target, variable, expression, name):
    """Synapses that set ``target.variable`` to the sum of ``expression`` over ``source``."""
    syn = Synapses(source, target, f"{variable}_post = {expression} : 1 (summed)", name=name)
    syn.connect(j="0")
    return syn


def power_hub(name, period, namespace, t_start):
    """A layer's activity power ``P`` per image, its running mean ``P_avg`` and ``norm = 1/(P + P_avg + 1)``.

    The running mean averages over the images seen so far, at most ``tau_avg`` of them;
    ``t_start`` is where the run starts in a schedule split into chunks (``encoder.checkpoint``).
    """
    power = NeuronGroup(1, "P : 1\nP_avg : 1\nnorm : 1\nt_start : second (shared, constant)", dt=period,
                        namespace=namespace, name=name)
    power.order = 0
    power.run_regularly("P_avg += (P - P_avg)/clip((t + t_start)/present, 1, tau_avg)\n"
                        "norm = 1/(P + P_avg + 1)", dt=period, when="groups", order=1,
                        name=name.replace("_power", "_norm"))
    power.norm = 1.0
    power.t_start = t_start
    return power


def mean_hub(name, period, namespace, order):
    """A layer's summed ``S`` per image and ``S_avg``, the running mean of ``S/n_cells`` over the
    images where ``S > 0`` (at most ``tau_avg`` of them; ``k`` counts them)."""
    group = NeuronGroup(1, "S : 1\nS_avg : 1\nk : 1", dt=period, namespace=namespace, name=name)
    group.order = order
    group.run_regularly("k += int(S > 0)\nS_avg += int(S > 0)*(S/n_cells - S_avg)/clip(k, 1, tau_avg)",
                        dt=period, when="groups", order=order + 1, name=f"{name}_mean")
    return group
