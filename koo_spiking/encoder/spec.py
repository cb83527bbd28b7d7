"""The Koo Encoder's model description (v2): feature flags and parameters, read from TOML.

A spec is plain data (Nengo style: description apart from building). Quantities are
written with units as strings (``"100 ms"``, ``"200 Hz"``); unknown keys, missing or
wrong units and out-of-range values raise a one-line ``ValueError``.
"""

from __future__ import annotations

import copy
import os
import sys
from typing import TYPE_CHECKING, Any

import brian2
import numpy as np
import tomllib

if TYPE_CHECKING:
    from collections.abc import Mapping

    from brian2.units.fundamentalunits import Quantity

__all__ = [
    "DEFAULT_SPEC",
    "FEATURES",
    "load_spec",
    "spec_path",
    "shipped_specs",
    "validate_spec",
    "with_values",
    "read_toml",
    "parse_quantity",
    "to_toml",
    "memory_estimate",
    "check_memory",
]

FEATURES = (
    "second_hidden",
    "inhibition",
    "stdp",
    "short_term",
    "forgetting",
    "astrocytes",
    "reward",
    "phase",
    "structural",
)

# value, unit ("1" plain number, "int", a Brian2 unit name, or a tuple of allowed strings), rule
# fmt: off  (one key per line, its comment aligned: the spec's reference table)
DEFAULT_SPEC = {
    "network": {
        "n_h1": (32, "int", "+"),  # hidden 1 excitatory neurons
        "n_h2": (16, "int", "+"),  # hidden 2 excitatory neurons = code size
        "ei_ratio": (4, "int", "+"),  # excitatory cells per inhibitory cell in each layer
        "dt": ("0.5 ms", "second", "+"),
        "present": ("100 ms", "second", "+"),  # time each image is shown
        "input_rate": ("80 Hz", "Hz", "+"),  # rate of a white input pixel
        "output_rate": ("120 Hz", "Hz", "+"),  # rate of a white reconstruction pixel (its resolution)
        "input_code": ("regular", ("regular", "poisson"), None),
        "t_ref": ("1 ms", "second", ">=0"),  # refractory period of every neuron
    },
    # second_hidden off: input -> code layer (hidden 2, n_h2 cells) -> reconstruction, no hidden 1;
    # stdp (pairings into the eligibility traces) and short_term are off by default: measured to make
    # the code worse (README, "Measured results"); structural (pruning and regrowth) is off by default
    "features": {name: (name not in ("stdp", "short_term", "structural"), None, None) for name in FEATURES},
    "learning": {
        "epochs": (6, "int", "+"),  # passes with every pathway plastic
        "decoder_epochs": (3, "int", ">=0"),  # further passes with only the read-out plastic
        "eta": (0.2, "1", ">=0"),  # predictive-coding step, normalised by the code's power
        "eta_decoder": (0.5, "1", ">=0"),  # read-out step, normalised by the code's power
        "eta_inhibition": (0.1, "1", ">=0"),  # I->E rate, relative to eta
        "eta_code": (0.05, "1", ">=0"),  # read-out learning from h2's own error, relative
        "eta_bias": (0.05, "1", ">=0"),  # read-out bias step per spike of error
        "eta_homeostasis": (0.2, "1", ">=0"),  # hidden bias step per spike off target
        "anneal_to": (0.1, "1", "01"),  # learning-rate multiplier at the end of each phase
        "target_h1": (6.0, "1", "+"),  # mean spikes per hidden-1 E cell and image
        "target_h2": (8.0, "1", "+"),  # mean spikes per hidden-2 E cell and image
        "target_i": (8.0, "1", "+"),  # mean spikes per I cell and image
        "offset": (2.4, "1", ">=0"),  # balanced excitation per synapse, x 1/sqrt(fan-in)
        "tau_avg": (200.0, "1", "+"),  # images over which running means are taken
        "warm_up": (20, "int", ">=0"),  # images before errors drive learning (means settle)
        "seed": (0, "int", ">=0"),
    },
    "stdp": {
        "amplitude": (0.2, "1", ">=0"),  # eligibility per spike pairing, in units of one eligible spike
        "tau": ("20 ms", "second", "+"),  # pairing window (both sides)
    },
    "short_term": {
        "U": (0.2, "1", "01"),
        "tau_d": ("20 ms", "second", "+"),
        "tau_f": ("0 ms", "second", ">=0"),  # 0: no facilitation
    },
    "forgetting": {
        "tau": ("2 s", "second", "+"),  # decay of unconsolidated (fast) weight changes
        "consolidation": (0.2, "1", "01"),  # fraction of the fast weight consolidated per image
    },
    "astrocytes": {
        "dt": ("10 ms", "second", "+"),
        "gate_floor": (0.3, "1", "01"),  # learning-rate factor of a closed gate
        "coupling": ("grid", ("grid", "ring", "knn", "none"), None),
        "coupling_strength": (1.0, "1", ">=0"),  # IP3 gap-junction permeability, x Goldberg et al.'s F
        "drive": (0.015, "1", ">=0"),  # receptor activation per image at the layer's mean |dopamine|
        "C_gate": ("0.3 umolar", "umolar", "+"),  # Ca2+ at half-open gate
    },
    "reward": {
        "tau_c": ("10 s", "second", "+"),  # eligibility trace decay (holds one image's trace)
        "tau_dop": ("2 ms", "second", "+"),  # dopamine decay (a pulse at the image boundary)
        "fast": (10.0, "1", "+"),  # images in the recent error average
        "slow": (300.0, "1", "+"),  # images in the long error average
        "max_gain": (3.0, "1", "+"),  # largest surprise gain of the dopamine
    },
    "phase": {
        "amplitude": (1.0, "1", ">=0"),  # threshold fall through a release window, x threshold
    },
    # pruning and regrowth of the tied E synapses, each lower neuron's partners examined one per image in turn
    "structural": {
        "prune_below": (0.1, "1", ">=0"),  # prune when the averaged weight is below this x the initial weight
        "tau": (50.0, "1", "+"),  # images over which a synapse's weight is averaged
        "regrow": (0.05, "1", "01"),  # probability that a pruned synapse regrows at its turn (x gate)
        "protect": (200, "int", ">=0"),  # images a new synapse cannot be pruned
        "min_fraction": (0.5, "1", "01"),  # fewest active partners a neuron keeps, x its possible partners
        "max_fraction": (1.0, "1", "01"),  # most active partners
    },
}
# fmt: on


_UNITS = {k: v for k, v in vars(brian2).items() if isinstance(v, brian2.Unit)}
_UNITS["s"] = brian2.second


def parse_quantity(text: str, unit_name: str, where: str, default: object = None) -> Quantity:
    """Parse ``"100 ms"`` into a Brian2 quantity with the dimensions of ``unit_name``.

    ``default`` (a string such as ``"2 s"``) is shown as the example when the unit is missing.
    """
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise ValueError(f"spec: {where} must be a quantity like '10 ms', got {text!r}")
    reference = getattr(brian2, unit_name)
    if isinstance(text, (int, float)):
        example = (
            f"like its default '{default}'" if isinstance(default, str) else f"e.g. '{text} {_example(unit_name)}'"
        )
        raise ValueError(
            f"spec: {where} = {text} is missing its unit (a quantity in {_example(unit_name)}-compatible "
            f"units, {example})"
        )
    parts = text.strip().split(None, 1)
    try:
        number = float(parts[0])
        unit = eval(parts[1], {"__builtins__": {}}, _UNITS) if len(parts) > 1 else None
    except Exception:
        raise ValueError(f"spec: {where} could not be read as a quantity: {text!r}") from None
    if unit is None:
        raise ValueError(f"spec: {where} is missing its unit: {text!r}")
    value = number * unit
    if not brian2.have_same_dimensions(value, reference):
        raise ValueError(f"spec: {where} has wrong unit: {text!r} is not in units of {_example(unit_name)}")
    return value


def _example(unit_name):
    return {"second": "ms", "Hz": "Hz", "volt": "mV", "umolar": "umolar"}.get(unit_name, unit_name)


def _check(section, key, value, unit, rule, default=None):
    where = f"[{section}] {key}"
    if isinstance(unit, tuple):
        if value not in unit:
            raise ValueError(f"spec: {where} must be one of {', '.join(unit)}, got {value!r}")
        return value
    if unit is None:
        if not isinstance(value, bool):
            raise ValueError(f"spec: {where} must be true or false, got {value!r}")
        return value
    if unit == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"spec: {where} must be an integer, got {value!r}")
        number = value
    elif unit == "1":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"spec: {where} must be a number, got {value!r}")
        number = value = float(value)
    else:
        value = parse_quantity(value, unit, where, default)
        number = float(value)
    if not np.isfinite(number):
        raise ValueError(f"spec: {where} must be a finite number, got {value!r}")
    if (rule == "+" and number <= 0) or (rule == ">=0" and number < 0) or (rule == "01" and not 0 <= number <= 1):
        need = {"+": "positive", ">=0": "non-negative", "01": "in [0, 1]"}[rule]
        raise ValueError(f"spec: {where} must be {need}, got {value!r}")
    return value


def validate_spec(raw: dict[str, Any] | None = None) -> dict[str, Any]:
    """Merge a (partial) spec dict into the defaults and validate it; returns the resolved spec."""
    raw = raw or {}
    if not isinstance(raw, dict):
        raise ValueError("spec: must be a table of sections")
    resolved = {}
    for section, entries in DEFAULT_SPEC.items():
        given = raw.get(section, {})
        if not isinstance(given, dict):
            raise ValueError(f"spec: [{section}] must be a table")
        unknown = sorted(set(given) - set(entries))
        if unknown:
            raise ValueError(f"spec: unknown key {unknown[0]!r} in [{section}] (known: {', '.join(entries)})")
        resolved[section] = {
            key: _check(section, key, given.get(key, default), unit, rule, default)
            for key, (default, unit, rule) in entries.items()
        }
    unknown = sorted(set(raw) - set(DEFAULT_SPEC) - {"name", "description"})
    if unknown:
        raise ValueError(f"spec: unknown section [{unknown[0]}] (known: {', '.join(DEFAULT_SPEC)})")
    resolved["name"] = str(raw.get("name", "koo_encoder"))
    _check_together(resolved)
    return resolved


def _check_together(spec):
    """Constraints between parameters of different sections."""
    present, tau_dop = spec["network"]["present"], spec["reward"]["tau_dop"]
    st = spec["structural"]
    if st["min_fraction"] > st["max_fraction"]:
        raise ValueError(
            f"spec: [structural] min_fraction = {st['min_fraction']} must be at most max_fraction = "
            f"{st['max_fraction']}"
        )
    # reward on: each image's dopamine pulse must be over when the eligibility traces restart, an
    # eighth into the next image (the closed-form weight change integrates it up to then)
    if spec["features"]["reward"] and 5 * tau_dop > present / 8:
        raise ValueError(
            f"spec: [reward] tau_dop = {tau_dop} must be at most [network] present/40 = "
            f"{present / 40} (the dopamine pulse must end before the eligibility traces restart)"
        )


def with_values(spec: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a resolved spec with values changed, checked as in a TOML file.

    ``values`` maps ``'section.key'`` to a TOML value (a quantity as a string with its unit).
    """
    out = copy.deepcopy(spec)
    for dotted, value in values.items():
        section, _, key = dotted.partition(".")
        if section not in DEFAULT_SPEC or key not in DEFAULT_SPEC[section]:
            raise ValueError(f"spec: unknown parameter {dotted!r} (write it as 'section.key', e.g. 'learning.eta')")
        default, unit, rule = DEFAULT_SPEC[section][key]
        out[section][key] = _check(section, key, value, unit, rule, default)
    _check_together(out)
    return out


def memory_estimate(spec: Mapping[str, Any], n_pixels: int, n_slots: int) -> tuple[int, int, int]:
    """Bytes a run of this network needs, roughly: its synapses and its per-image recordings.

    About 100 bytes per synapse (weights, traces, indices, standalone copies) and 24 bytes per
    neuron and image slot (spike counts, phases and dopamine recorded once per image).
    """
    net = spec["network"]
    hidden = [net["n_h1"], net["n_h2"]] if spec["features"]["second_hidden"] else [net["n_h2"]]
    sizes = [n_pixels, *hidden, n_pixels]
    n_i = [int(np.ceil(n / net["ei_ratio"])) for n in sizes[1:]]
    synapses = sum(lo * up + lo * ni + ni * up for lo, up, ni in zip(sizes[:-1], sizes[1:], n_i))
    neurons = sum(sizes) + sum(n_i)
    return 100 * synapses + 24 * neurons * n_slots, synapses, neurons


def check_memory(spec: Mapping[str, Any], n_pixels: int, n_slots: int, available: float | None = None) -> None:
    """Refuse a network that would not fit in memory, before anything is allocated."""
    need, synapses, neurons = memory_estimate(spec, n_pixels, n_slots)
    if available is None:
        available = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    if need > 0.8 * available:
        net = spec["network"]
        raise ValueError(
            f"spec: this network (n_h1 {net['n_h1']}, n_h2 {net['n_h2']}, {n_pixels} pixels) needs "
            f"about {need / 2**30:.1f} GiB ({synapses:.3g} synapses, {neurons} neurons recorded over "
            f"{n_slots} image slots); this machine has {available / 2**30:.1f} GiB"
        )


def read_toml(path: str | os.PathLike, what: str = "spec") -> dict[str, Any]:
    """A TOML file as a dict; a missing file or a syntax error is a one-line error naming ``what``."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{what}: no such file: {path}")
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"{what}: {path} is not valid TOML: {err}") from None


def spec_folders() -> list[str]:
    """Where the shipped specs live: ``models/`` of a source checkout (also an editable install), then
    ``<prefix>/share/koo_spiking/models`` of a wheel install."""
    here = os.path.dirname(os.path.abspath(__file__))
    return [
        os.path.join(os.path.dirname(os.path.dirname(here)), "models"),
        os.path.join(sys.prefix, "share", "koo_spiking", "models"),
    ]


def shipped_specs() -> dict[str, str]:
    """Name -> path of every shipped model spec (``koo_encoder``, ``koo_small``, ...)."""
    found = {}
    for folder in spec_folders():
        if os.path.isdir(folder):
            for name in sorted(os.listdir(folder)):
                if name.endswith(".toml") and name != "sweep_example.toml":
                    found.setdefault(name[:-5], os.path.join(folder, name))
    return found


def spec_path(spec: str | os.PathLike) -> str:
    """The file of a spec given as a path, or as the name of a shipped spec (``"koo_small"`` or
    ``"koo_small.toml"``, from any folder); a missing one is a one-line error listing the names."""
    spec = os.fspath(spec)
    if os.path.isfile(spec):
        return spec
    name = spec[:-5] if spec.endswith(".toml") else spec
    shipped = shipped_specs()
    if os.sep not in spec and name in shipped:
        return shipped[name]
    raise FileNotFoundError(
        f"spec: no such file: {spec} (or give a shipped spec by name: {', '.join(shipped) or 'none found'})"
    )


def load_spec(path: str | os.PathLike) -> dict[str, Any]:
    """Read and validate a TOML model spec: a path, or a shipped spec's name (:func:`spec_path`)."""
    return validate_spec(copy.deepcopy(read_toml(spec_path(path))))


def to_toml(spec: Mapping[str, Any] | None = None, header: str = "") -> str:
    """TOML text of a spec (defaults when None), one key per line, quantities with units."""
    spec = spec or {sec: {k: v[0] for k, v in entries.items()} for sec, entries in DEFAULT_SPEC.items()}
    lines = [f"# {line}" if line else "#" for line in header.strip().splitlines()] if header else []
    lines.append(f'name = "{spec.get("name", "koo_encoder")}"')
    for section, entries in DEFAULT_SPEC.items():
        lines.append(f"\n[{section}]")
        for key in entries:
            value = spec[section][key]
            if isinstance(value, bool):
                text = "true" if value else "false"
            elif isinstance(value, str):
                text = f'"{value}"'
            elif hasattr(value, "dim"):
                text = f'"{_format_quantity(value, entries[key][1])}"'
            else:
                text = repr(value)
            lines.append(f"{key} = {text}")
    return "\n".join(lines) + "\n"


def _format_quantity(value, unit_name):
    unit = {"second": brian2.ms, "Hz": brian2.Hz, "volt": brian2.mV, "umolar": brian2.umolar}[unit_name]
    name = {"second": "ms", "Hz": "Hz", "volt": "mV", "umolar": "umolar"}[unit_name]
    return f"{float(value / unit):g} {name}"
