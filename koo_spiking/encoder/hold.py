"""Evaluation windows that leave the learner as they found it.

Plasticity off keeps every weight, but a learner also carries slow state that runs on whatever
it is shown: the astrocytes' Ca2+, IP3 and gates (no error reaches them, so they close), and each
layer's running mean of its activity power (which scales every learning step). An evaluation
window inside a training stream (``studies.plasticity``) would leave that state changed, so the
training images after it would learn at another rate than without the window.

A schedule that holds its windows carries two extra flags per slot (:func:`hold_flags`): at the
boundary that ends a window's first image the slow state is saved (the last training image's
drive has reached the astrocytes by then; the window's first image is not yet in the running
means), and at the boundary that ends the window's last image it is put back (after the power
hub has averaged that image in, so it is taken out again). What remains of the window is one
image's worth of astrocyte dynamics, 1/(window length) of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from brian2 import Clock, NeuronGroup, linked_var
from brian2.units.fundamentalunits import DIMENSIONLESS, get_unit

if TYPE_CHECKING:
    from collections.abc import Sequence

    from brian2.units.fundamentalunits import Quantity
    from numpy.typing import ArrayLike

__all__ = ["HOLD_KEYS", "hold_flags", "holder"]

#: schedule keys of a held schedule: save and restore at the boundary of each slot's start
HOLD_KEYS = ("hold_save", "hold_restore")


def hold_flags(window: ArrayLike) -> dict[str, np.ndarray]:
    """``hold_save`` and ``hold_restore`` per slot from the window flags (1: an evaluation slot).

    Index k is the boundary at slot k's start, where the code handles the image of slot k - 1:
    save where slot k - 1 opens a window, restore where slot k - 1 closes one.
    """
    w = np.asarray(window, float) > 0
    before = np.r_[False, w[:-1]]  # slot k - 1 is a window slot
    two_before = np.r_[False, False, w[:-2]] if len(w) > 1 else np.zeros_like(w)
    return {"hold_save": (before & ~two_before).astype(float), "hold_restore": (before & ~w).astype(float)}


def holder(
    group: NeuronGroup,
    variables: Sequence[str],
    period: Clock | Quantity,
    namespace: dict[str, Any],
    name: str,
    save: tuple[str, int] = ("start", 0),
    restore: tuple[str, int] = ("start", 1),
) -> NeuronGroup:
    """A group that saves ``group``'s ``variables`` at ``hold_save`` and restores them at ``hold_restore``.

    ``save`` and ``restore`` are the (``when``, ``order``) of the two steps at a slot boundary, so
    they can bracket the group's own per-image update.
    """
    eqs, save_code, restore_code = [], [], []
    for var in variables:
        dim = group.variables[var].dim
        unit = "1" if dim is DIMENSIONLESS else repr(get_unit(dim))
        eqs += [f"{var} : {unit} (linked)", f"{var}_held : {unit}"]
        save_code.append(f"{var}_held = hold_save(t)*{var} + (1 - hold_save(t))*{var}_held")
        restore_code.append(f"{var} = hold_restore(t)*{var}_held + (1 - hold_restore(t))*{var}")
    timing = {"clock": period} if isinstance(period, Clock) else {"dt": period}  # a shared clock or a step
    keeper = NeuronGroup(len(group), "\n".join(eqs), namespace=namespace, name=name, **timing)
    for var in variables:
        setattr(keeper, var, linked_var(group, var))
    keeper.run_regularly("\n".join(save_code), **timing, when=save[0], order=save[1], name=f"{name}_save")
    keeper.run_regularly("\n".join(restore_code), **timing, when=restore[0], order=restore[1], name=f"{name}_restore")
    return keeper
