"""Hubs: one-cell groups that sum a quantity over a population once per image.

A layer's neurons read the sum back through a linked variable (pool counts, predicted
inhibition, summed errors, activity power), so a population-wide quantity costs one
summed-variable update per image instead of all-to-all synapses.
"""
from brian2 import NeuronGroup, Synapses

__all__ = ["hub", "sum_to_hub"]


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
