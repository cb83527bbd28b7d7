"""Parameter sets with units, and their validation.

Every model in koo_spiking declares its defaults as a dict of :class:`Param`.
:func:`resolve` merges a user's overrides into them and checks names, units,
finiteness and sign, raising a one-line ``ValueError`` that names the parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from brian2 import Quantity, get_dimensions, have_same_dimensions
from brian2.units.fundamentalunits import DIMENSIONLESS

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["Param", "resolve", "check_size", "describe"]


@dataclass(frozen=True)
class Param:
    """A default value with a sign rule and a short description.

    rule: ``'+'`` strictly positive, ``'>=0'`` non-negative, ``'01'`` within
    [0, 1], ``'any'`` anything finite.
    """

    value: object
    rule: str = "+"
    doc: str = ""


def _unit_name(value):
    dim = get_dimensions(value)
    return "dimensionless" if dim is DIMENSIONLESS else str(Quantity(1, dim=dim).dim)


def _check_one(model, name, value, spec):
    ref = spec.value
    if isinstance(value, str) or value is None:
        raise ValueError(f"{model}: parameter {name!r} must be a number, got {value!r}")
    if not have_same_dimensions(value, ref):
        raise ValueError(
            f"{model}: parameter {name!r} has wrong or missing unit: expected {_unit_name(ref)}, got {value!r}"
        )
    arr = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{model}: parameter {name!r} must be finite, got {value!r}")
    if spec.rule == "+" and np.any(arr <= 0):
        raise ValueError(f"{model}: parameter {name!r} must be positive, got {value!r}")
    if spec.rule == ">=0" and np.any(arr < 0):
        raise ValueError(f"{model}: parameter {name!r} must be non-negative, got {value!r}")
    if spec.rule == "01" and np.any((arr < 0) | (arr > 1)):
        raise ValueError(f"{model}: parameter {name!r} must lie in [0, 1], got {value!r}")


def resolve(model: str, defaults: Mapping[str, Param], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Return a validated namespace: ``defaults`` updated with ``overrides``.

    Parameters
    ----------
    model : str
        Model name used in error messages.
    defaults : dict of str -> Param
        The model's parameter set.
    overrides : dict
        User values; unknown names are an error.
    """
    unknown = sorted(set(overrides) - set(defaults))
    if unknown:
        raise ValueError(f"{model}: unknown parameter {unknown[0]!r} (known: {', '.join(sorted(defaults))})")
    namespace = {}
    for name, spec in defaults.items():
        value = overrides.get(name, spec.value)
        _check_one(model, name, value, spec)
        namespace[name] = value
    return namespace


def check_size(model: str, name: str, n: int) -> int:
    """Check that a population size is a positive integer."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
        raise ValueError(f"{model}: parameter {name!r} must be a positive integer, got {n!r}")
    return int(n)


def describe(defaults: Mapping[str, Param]) -> str:
    """Table of a parameter set as text: name, default, description."""
    width = max(len(k) for k in defaults)
    return "\n".join(f"{k:<{width}}  {v.value!s:<16}  {v.doc}" for k, v in defaults.items())
