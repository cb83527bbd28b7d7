"""Neuron models.

Conductance-based leaky integrate-and-fire neuron
    Diehl PU, Cook M (2015). Unsupervised learning of digit recognition using
    spike-timing-dependent plasticity. Front Comput Neurosci 9:99.
    doi:10.3389/fncom.2015.00099. Excitatory cells carry an adaptive
    threshold ``theta``; conductances are in units of the leak conductance.

Integrate-and-fire neuron with subtractive reset (spike-coding neuron)
    Boerlin M, Machens CK, Deneve S (2013). Predictive coding of dynamical
    variables in balanced spiking networks. PLoS Comput Biol 9(11):e1003258.
    doi:10.1371/journal.pcbi.1003258. Current-based, a perfect integrator by
    default (``leak = 0``); the reset subtracts the threshold, so no input
    charge is lost and the spike count is the integrated input, rounded down.
    The refractory period only delays spikes: charge arriving during it is kept.

Izhikevich neuron
    Izhikevich EM (2003). Simple model of spiking neurons. IEEE Trans Neural
    Netw 14(6):1569-1572. doi:10.1109/TNN.2003.820440. Presets from Fig. 2
    and Izhikevich EM (2004), IEEE Trans Neural Netw 15(5):1063-1070.

Each model is offered three ways: its ``Equations``, its validated namespace
(``*_params``) and a ready ``NeuronGroup`` (``*_group``) for plain Brian2 scripts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from brian2 import Equations, NeuronGroup, ms, mV, nS, second, volt

from .parameters import Param, check_size, resolve

if TYPE_CHECKING:
    from collections.abc import Mapping

    import numpy as np
    from brian2.units.fundamentalunits import Quantity

__all__ = [
    "IF_PARAMS",
    "IF_EQUATIONS",
    "if_params",
    "if_group",
    "if_rate",
    "LIF_EXCITATORY",
    "LIF_INHIBITORY",
    "LIF_EQUATIONS",
    "lif_params",
    "lif_group",
    "lif_rate",
    "IZHIKEVICH_PRESETS",
    "IZHIKEVICH_EQUATIONS",
    "izhikevich_params",
    "izhikevich_group",
]

LIF_EQUATIONS = Equations("""
dv/dt = (v_rest - v + ge*(E_exc - v) + gi*(E_inh - v) + I_ext/g_L)/tau_m : volt (unless refractory)
dge/dt = -ge/tau_ge                                                     : 1
dgi/dt = -gi/tau_gi                                                     : 1
dtheta/dt = -theta/tau_theta                                            : volt
I_ext                                                                   : amp
""")

LIF_EXCITATORY = {
    "v_rest": Param(-65.0 * mV, "any", "resting potential"),
    "v_reset": Param(-65.0 * mV, "any", "reset potential"),
    "v_thresh": Param(-52.0 * mV, "any", "spike threshold (plus theta)"),
    "E_exc": Param(0.0 * mV, "any", "excitatory reversal potential"),
    "E_inh": Param(-100.0 * mV, "any", "inhibitory reversal potential"),
    "tau_m": Param(100.0 * ms, "+", "membrane time constant"),
    "tau_ge": Param(1.0 * ms, "+", "excitatory conductance decay"),
    "tau_gi": Param(2.0 * ms, "+", "inhibitory conductance decay"),
    "t_ref": Param(5.0 * ms, ">=0", "absolute refractory period"),
    "g_L": Param(10.0 * nS, "+", "leak conductance (scales I_ext)"),
    "theta_plus": Param(0.05 * mV, ">=0", "threshold increase per spike"),
    "tau_theta": Param(1e4 * second, "+", "threshold decay time constant"),
}

LIF_INHIBITORY = {
    **LIF_EXCITATORY,
    "v_rest": Param(-60.0 * mV, "any", "resting potential"),
    "v_reset": Param(-45.0 * mV, "any", "reset potential"),
    "v_thresh": Param(-40.0 * mV, "any", "spike threshold"),
    "E_inh": Param(-85.0 * mV, "any", "inhibitory reversal potential"),
    "tau_m": Param(10.0 * ms, "+", "membrane time constant"),
    "t_ref": Param(2.0 * ms, ">=0", "absolute refractory period"),
    "theta_plus": Param(0.0 * mV, ">=0", "no adaptive threshold"),
}

_LIF_KINDS = {"excitatory": LIF_EXCITATORY, "inhibitory": LIF_INHIBITORY}


def lif_params(kind: str = "excitatory", **overrides: Any) -> dict[str, Any]:
    """Validated namespace of the conductance LIF (``'excitatory'`` or ``'inhibitory'``)."""
    if kind not in _LIF_KINDS:
        raise ValueError(f"lif: parameter 'kind' must be 'excitatory' or 'inhibitory', got {kind!r}")
    return resolve(f"lif ({kind})", _LIF_KINDS[kind], overrides)


def _with_dopamine(dopamine, extra_eqs, events, on_event, extra_namespace):
    """Merge ``dopamine`` (None, True, a decay time or ``dopamine_parts()``) into a group's pieces."""
    if dopamine is None or dopamine is False:
        return extra_eqs, events, on_event, extra_namespace, None
    from .neuromodulator import dopamine_parts

    if dopamine is True:
        parts = dopamine_parts()
    elif isinstance(dopamine, dict):
        parts = dopamine
    else:
        parts = dopamine_parts(tau_dop=dopamine)
    clash = set(events or {}) & set(parts["events"]) or set(on_event or {}) & set(parts["on_event"])
    if clash:
        raise ValueError(f"dopamine: event {sorted(clash)[0]!r} is defined twice (by 'events' and by 'dopamine')")
    return (
        str(extra_eqs) + "\n" + parts["eqs"],
        {**(events or {}), **parts["events"]},
        {**(on_event or {}), **parts["on_event"]},
        {**(extra_namespace or {}), **parts["namespace"]},
        parts.get("when", "thresholds"),
    )


def _add_events(group, on_event, when):
    for event, code in (on_event or {}).items():
        group.run_on_event(event, code)
    if when is not None and when != "thresholds":
        group.set_event_schedule("reward", when=when)


def lif_group(
    n: int,
    kind: str = "excitatory",
    extra_eqs: str | Equations = "",
    events: Mapping[str, str] | None = None,
    on_event: Mapping[str, str] | None = None,
    extra_namespace: Mapping[str, Any] | None = None,
    name: str | None = None,
    dt: Quantity | None = None,
    method: str = "exponential_euler",
    dopamine: bool | Quantity | dict[str, Any] | None = None,
    **overrides: Any,
) -> NeuronGroup:
    """A ``NeuronGroup`` of conductance LIF neurons.

    Parameters
    ----------
    n : int
        Number of neurons.
    kind : {'excitatory', 'inhibitory'}
    extra_eqs : str or Equations
        More equations for the same neurons (astrocyte links, ...).
    events, on_event : dict, optional
        Custom events (name -> condition) and the code run on each.
    extra_namespace : dict, optional
        Constants used by ``extra_eqs`` or ``on_event``.
    dopamine : bool, Quantity or dict, optional
        Give each neuron its own dopamine level ``D`` (for reward STDP):
        True (default decay), a decay time ``tau_dop``, or the result of
        :func:`~koo_spiking.neuromodulator.dopamine_parts`.
    **overrides
        Parameter values replacing the defaults (see ``LIF_EXCITATORY``).
    """
    n = check_size("lif", "n", n)
    extra_eqs, events, on_event, extra_namespace, when = _with_dopamine(
        dopamine, extra_eqs, events, on_event, extra_namespace
    )
    namespace = {**lif_params(kind, **overrides), **(extra_namespace or {})}
    eqs = LIF_EQUATIONS + Equations(str(extra_eqs)) if str(extra_eqs).strip() else LIF_EQUATIONS
    group = NeuronGroup(
        n,
        eqs,
        threshold="v > v_thresh + theta",
        reset="v = v_reset\ntheta += theta_plus",
        refractory="t_ref",
        method=method,
        namespace=namespace,
        events=events,
        name=name or "lif*",
        dt=dt,
    )
    _add_events(group, on_event, when)
    group.v = namespace["v_rest"]
    return group


def lif_rate(I_ext: Quantity, **params: Any) -> np.ndarray:
    """Analytic firing rate (Hz) of the LIF under constant current, no synaptic input.

    r = 1 / (t_ref + tau_m * ln((v_inf - v_reset) / (v_inf - v_thresh))),
    with v_inf = v_rest + I_ext/g_L; zero when v_inf does not reach threshold.
    """
    import numpy as np

    p = lif_params(params.pop("kind", "excitatory"), **params)
    v_inf = (p["v_rest"] + I_ext / p["g_L"]) / volt
    v_th, v_reset = p["v_thresh"] / volt, p["v_reset"] / volt
    tau, t_ref = p["tau_m"] / second, p["t_ref"] / second
    v_inf = np.atleast_1d(np.asarray(v_inf, dtype=float))
    rate = np.zeros_like(v_inf)
    above = v_inf > v_th
    rate[above] = 1.0 / (t_ref + tau * np.log((v_inf[above] - v_reset) / (v_inf[above] - v_th)))
    return rate


IF_EQUATIONS = """
dv/dt = -leak*v + I_b + I_in : volt
I_b                         : volt/second
"""

IF_PARAMS = {
    "v_th": Param(1.0 * mV, "+", "threshold above reset; the reset subtracts it"),
    "leak": Param(0.0 / second, ">=0", "leak rate (0: perfect integrator)"),
    "t_ref": Param(0.0 * ms, ">=0", "absolute refractory period"),
}


def if_params(**overrides: Any) -> dict[str, Any]:
    """Validated namespace of the integrate-and-fire neuron with subtractive reset."""
    return resolve("if", IF_PARAMS, overrides)


def if_group(
    n: int,
    extra_eqs: str | Equations = "",
    drive: str = "0*volt/second",
    on_spike: str = "",
    threshold: str = "v > v_th",
    events: Mapping[str, str] | None = None,
    on_event: Mapping[str, str] | None = None,
    extra_namespace: Mapping[str, Any] | None = None,
    name: str | None = None,
    dt: Quantity | None = None,
    dopamine: bool | Quantity | dict[str, Any] | None = None,
    **overrides: Any,
) -> NeuronGroup:
    """A ``NeuronGroup`` of integrate-and-fire neurons with subtractive reset.

    Parameters
    ----------
    n : int
        Number of neurons.
    extra_eqs : str
        More equations (counters, dendritic predictions, ...).
    drive : str
        Expression (volt/second) added to ``dv/dt`` besides the bias ``I_b``,
        e.g. an oscillation. Synapses act on ``v`` directly (delta synapses).
    on_spike : str
        Code run at each spike after the reset (e.g. ``'count += 1'``).
    threshold : str
        Spike condition (default ``'v > v_th'``); e.g. a threshold that holds the
        neuron silent outside a release window. The reset always subtracts ``v_th``.
    events, on_event : dict, optional
        Custom events (name -> condition) and the code run on each.
    extra_namespace : dict, optional
        Constants used by ``extra_eqs``, ``drive`` or ``on_event``.
    dopamine : bool, Quantity or dict, optional
        Own dopamine level per neuron, as for :func:`lif_group`.
    **overrides
        Parameter values replacing the defaults (see ``IF_PARAMS``).
    """
    n = check_size("if", "n", n)
    extra_eqs, events, on_event, extra_namespace, when = _with_dopamine(
        dopamine, extra_eqs, events, on_event, extra_namespace
    )
    namespace = {**if_params(**overrides), **(extra_namespace or {})}
    eqs = Equations(IF_EQUATIONS + f"I_in = {drive} : volt/second\n" + str(extra_eqs))
    group = NeuronGroup(
        n,
        eqs,
        threshold=threshold,
        reset="v -= v_th\n" + on_spike,
        refractory="t_ref",
        method="euler",
        namespace=namespace,
        events=events,
        name=name or "if*",
        dt=dt,
    )
    _add_events(group, on_event, when)
    return group


def if_rate(I_b: Quantity, **params: Any) -> np.ndarray:
    """Analytic firing rate (Hz) of the integrate-and-fire neuron under a constant drive ``I_b``.

    r = 1 / (t_ref + v_th/I_b) without leak, and
    r = 1 / (t_ref + ln(I_b/(I_b - leak*v_th))/leak) with leak; zero when the drive
    cannot reach threshold.
    """
    import numpy as np

    p = if_params(**params)
    drive = np.atleast_1d(np.asarray(I_b / (volt / second), dtype=float))
    v_th, leak, t_ref = float(p["v_th"] / volt), float(p["leak"] * second), float(p["t_ref"] / second)
    rate = np.zeros_like(drive)
    if leak == 0:
        up = drive > 0
        rate[up] = 1.0 / (t_ref + v_th / drive[up])
    else:
        up = drive > leak * v_th
        rate[up] = 1.0 / (t_ref + np.log(drive[up] / (drive[up] - leak * v_th)) / leak)
    return rate


IZHIKEVICH_EQUATIONS = Equations("""
dv/dt = 0.04/ms/mV*v**2 + 5/ms*v + 140*mV/ms - u + I : volt
du/dt = a*(b*v - u)                                  : volt/second
I                                                    : volt/second
""")

_IZH_BASE = {
    "a": Param(0.02 / ms, "+", "recovery time scale"),
    "b": Param(0.2 / ms, "any", "recovery sensitivity to v"),
    "c": Param(-65.0 * mV, "any", "after-spike reset of v"),
    "d": Param(8.0 * mV / ms, "any", "after-spike increment of u"),
    "v_peak": Param(30.0 * mV, "any", "spike cut-off"),
}

#: Izhikevich (2003) Fig. 2 presets: (a [1/ms], b [1/ms], c [mV], d [mV/ms]).
IZHIKEVICH_PRESETS = {
    "RS": (0.02, 0.2, -65.0, 8.0),  # regular spiking
    "IB": (0.02, 0.2, -55.0, 4.0),  # intrinsically bursting
    "CH": (0.02, 0.2, -50.0, 2.0),  # chattering
    "FS": (0.10, 0.2, -65.0, 2.0),  # fast spiking
    "LTS": (0.02, 0.25, -65.0, 2.0),  # low-threshold spiking
    "TC": (0.02, 0.25, -65.0, 0.05),  # thalamo-cortical
    "RZ": (0.10, 0.26, -65.0, 2.0),  # resonator
}


def izhikevich_params(preset: str = "RS", **overrides: Any) -> dict[str, Any]:
    """Validated namespace of an Izhikevich preset, with overrides."""
    if preset not in IZHIKEVICH_PRESETS:
        raise ValueError(
            f"izhikevich: parameter 'preset' must be one of {', '.join(IZHIKEVICH_PRESETS)}, got {preset!r}"
        )
    a, b, c, d = IZHIKEVICH_PRESETS[preset]
    values = {"a": a / ms, "b": b / ms, "c": c * mV, "d": d * mV / ms}
    defaults = {k: Param(values.get(k, p.value), p.rule, p.doc) for k, p in _IZH_BASE.items()}
    return resolve(f"izhikevich ({preset})", defaults, overrides)


def izhikevich_group(
    n: int,
    preset: str = "RS",
    name: str | None = None,
    dt: Quantity | None = None,
    method: str = "euler",
    **overrides: Any,
) -> NeuronGroup:
    """A ``NeuronGroup`` of Izhikevich neurons; drive them through ``I`` (mV/ms)."""
    n = check_size("izhikevich", "n", n)
    namespace = izhikevich_params(preset, **overrides)
    group = NeuronGroup(
        n,
        IZHIKEVICH_EQUATIONS,
        threshold="v >= v_peak",
        reset="v = c\nu += d",
        method=method,
        namespace=namespace,
        name=name or "izhikevich*",
        dt=dt,
    )
    group.v = -65.0 * mV
    group.u = namespace["b"] * (-65.0 * mV)
    return group
