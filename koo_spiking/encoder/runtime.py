"""Run parameters of the Koo Encoder: spec values that change without recompiling.

Brian2 (>= 2.6) can start a compiled ``cpp_standalone`` project again with other values of
its *variables* (``device.run(run_args={group.var: value})``); constants of a namespace are
frozen into the generated code. The parameters listed in ``RUN_PARAMETERS`` are therefore
always built as shared constant variables of every group and synapse whose code uses them
(:func:`declare`), initialised from the spec, so a sweep over them compiles once per model
structure (:func:`run_args`). Everything else in the spec (sizes, feature flags, clocks,
targets that set initial values, the schedule) is structural.

Each entry maps a spec key to the namespace names it sets, as a function of the resolved
spec (a time constant can set a derived one: ``tau_star = 1/(1/tau_c + 1/tau_dop)``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from brian2 import NeuronGroup, Synapses, get_dimensions

from ..astrocyte import COUPLING_PARAMS

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from brian2.core.base import BrianObject

__all__ = ["RUN_PARAMETERS", "active", "values", "check_same_structure", "declare", "run_args", "is_run_parameter"]


def _tau_star(spec):
    r = spec["reward"]
    return 1 / (1 / r["tau_c"] + 1 / r["tau_dop"])


def _reward_times(spec):
    r, star = spec["reward"], _tau_star(spec)
    out = {"tau_star": star, "tau_s": star, "tau_dop": r["tau_dop"], "tau_c": r["tau_c"]}
    out.update({f"{k}_r": v for k, v in list(out.items())})
    out.update({"tau_c_enc": r["tau_c"], "tau_c_dec": r["tau_c"]})  # the cells' own eligibility traces
    return out


def _pairing(spec):
    a = spec["stdp"]["amplitude"]
    return {"A_plus": a, "A_minus": a, "A_plus_r": a, "A_minus_r": a}


def _window(spec):
    t = spec["stdp"]["tau"]
    return {"tau_plus": t, "tau_minus": t, "tau_plus_r": t, "tau_minus_r": t}


def _when(feature, fn):
    """The parameter acts only with ``feature`` on (else it sets nothing, and sweeping it is refused)."""
    return lambda s: fn(s) if s["features"][feature] else {}


def _coupling(s):
    if s["astrocytes"]["coupling"] == "none":
        return {}
    return {"F": COUPLING_PARAMS["F"].value * s["astrocytes"]["coupling_strength"]}


#: spec key -> function(resolved spec) -> {namespace name: value}; empty when the parameter has no
#: effect in that model (its feature is off)
RUN_PARAMETERS = {
    "learning.eta": lambda s: {"eta_enc": s["learning"]["eta"]},
    "learning.eta_decoder": lambda s: {"eta_dec": s["learning"]["eta_decoder"]},
    "learning.eta_inhibition": _when("inhibition", lambda s: {"eta_inh": s["learning"]["eta_inhibition"]}),
    "learning.eta_bias": lambda s: {"eta_bias": s["learning"]["eta_bias"]},
    "learning.eta_homeostasis": lambda s: {"eta_homeostasis": s["learning"]["eta_homeostasis"]},
    "stdp.amplitude": _when("stdp", _pairing),
    "stdp.tau": _when("stdp", _window),
    "short_term.U": _when("short_term", lambda s: {"U_0": s["short_term"]["U"]}),
    "short_term.tau_d": _when("short_term", lambda s: {"tau_d": s["short_term"]["tau_d"]}),
    "forgetting.tau": _when("forgetting", lambda s: {"tau_forget": s["forgetting"]["tau"]}),
    "forgetting.consolidation": _when("forgetting", lambda s: {"consolidation": s["forgetting"]["consolidation"]}),
    "astrocytes.gate_floor": _when("astrocytes", lambda s: {"gate_floor": s["astrocytes"]["gate_floor"]}),
    "astrocytes.drive": _when("astrocytes", lambda s: {"gain": s["astrocytes"]["drive"]}),
    "astrocytes.C_gate": _when("astrocytes", lambda s: {"C_gate": s["astrocytes"]["C_gate"]}),
    "astrocytes.coupling_strength": _when("astrocytes", _coupling),
    "reward.tau_c": _when("reward", _reward_times),
    "reward.tau_dop": _when("reward", _reward_times),
    "reward.fast": _when("reward", lambda s: {"fast": s["reward"]["fast"]}),
    "reward.slow": _when("reward", lambda s: {"slow": s["reward"]["slow"]}),
    "reward.max_gain": _when("reward", lambda s: {"max_gain": s["reward"]["max_gain"]}),
    "phase.amplitude": _when("phase", lambda s: {"A_ramp": s["phase"]["amplitude"]}),
}


def active(spec: Mapping[str, Any]) -> list[str]:
    """The run parameters that act in the model of ``spec`` (their features are on)."""
    return [key for key, fn in RUN_PARAMETERS.items() if fn(spec)]


def is_run_parameter(key: str) -> bool:
    """True when the spec key ``'section.name'`` changes through ``run_args``."""
    return key in RUN_PARAMETERS


def values(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Every run parameter's namespace names and values for a resolved spec."""
    out = {}
    for fn in RUN_PARAMETERS.values():
        out.update(fn(spec))
    return out


def _same(a, b):
    try:
        return get_dimensions(a) is get_dimensions(b) and np.isclose(float(a), float(b), rtol=1e-12, atol=0)
    except TypeError:
        return False


def declare(
    objects: Iterable[BrianObject], spec: Mapping[str, Any]
) -> dict[str, list[tuple[NeuronGroup | Synapses, str]]]:
    """Turn the run parameters in the objects' namespaces into shared constant variables.

    A name counts only where the namespace holds the spec's value (so an unrelated constant
    of the same name is left alone). Call after building, before running.

    Returns
    -------
    dict
        spec key -> list of (object, variable name) that the parameter sets; a key the
        model does not use (e.g. ``stdp.amplitude`` with STDP off) is absent.
    """
    wanted = values(spec)
    found = {}
    for obj in objects:
        if not isinstance(obj, (NeuronGroup, Synapses)):
            continue
        for name, value in wanted.items():
            if name in obj.namespace and _same(obj.namespace[name], value) and name not in obj.variables:
                # (a namespace dict may be shared between objects: each gets its own copy)
                obj.namespace = {k: v for k, v in obj.namespace.items() if k != name}
                obj.variables.add_array(
                    name,
                    size=1,
                    dimensions=get_dimensions(value),
                    dtype=float,
                    constant=True,
                    scalar=True,
                    read_only=False,
                    values=value,
                )
                found.setdefault(name, []).append(obj)
    registry = {}
    for key, fn in RUN_PARAMETERS.items():
        places = [(obj, name) for name in fn(spec) for obj in found.get(name, [])]
        if places:
            registry[key] = places
    return registry


def run_args(
    registry: Mapping[str, Sequence[tuple[NeuronGroup | Synapses, str]]], spec: Mapping[str, Any]
) -> list[str]:
    """``run_args`` for ``device.run``: every declared variable set from the spec's values.

    As Brian2's command-line form ``'object.variable=value'`` (SI units): a dict keyed by the
    variables would compare their values, which standalone mode cannot read before a run.
    """
    wanted = values(spec)
    return [f"{obj.name}.{name}={float(wanted[name])!r}" for places in registry.values() for obj, name in places]


def _plain(value):
    return str(value) if hasattr(value, "dim") else value


def check_same_structure(spec: Mapping[str, Any], other: Mapping[str, Any]) -> None:
    """Refuse ``other`` when it differs from ``spec`` in anything but run parameters (one line)."""
    if other is spec:
        return
    for section, entries in spec.items():
        if not isinstance(entries, dict):
            continue
        for key, value in entries.items():
            if not is_run_parameter(f"{section}.{key}") and _plain(other[section][key]) != _plain(value):
                raise ValueError(
                    f"run parameters: [{section}] {key} is structural ({_plain(value)} -> "
                    f"{_plain(other[section][key])}); it needs a build of its own"
                )
