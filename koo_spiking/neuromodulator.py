"""Dopamine-like reward per postsynaptic neuron and reward-modulated STDP.

Izhikevich EM (2007). Solving the distal reward problem through linkage of STDP
and dopamine signaling. Cereb Cortex 17(10):2443-2452. doi:10.1093/cercor/bhl152.

Each neuron carries its own dopamine level ``D`` (decay ``tau_dop``), raised by
writing an amount into ``reward_in``: the neuron's ``reward`` event then adds it
to ``D``. Every synapse onto the neuron keeps an eligibility trace ``c`` fed by
STDP; the weight follows dw/dt = c*D/tau_s.

Nothing is integrated per synapse per step. At each synaptic event (pre spike,
post spike, or the post neuron's reward event) the weight change since the
synapse's last update is added in closed form: with c and D both decaying
exponentially between events,
    dw = c_last*D_last*tau_star/tau_s*(1 - exp(-elapsed/tau_star)),
    1/tau_star = 1/tau_c + 1/tau_dop.
The reward event updates every synapse of the neuron just before D jumps, so D
is smooth between a synapse's updates and the closed form is exact.
"""
from brian2 import Synapses, ms, second

from .parameters import Param, resolve
from .synapse import STDP_PARAMS

__all__ = ["DOPAMINE_PARAMS", "REWARD_STDP_PARAMS", "dopamine_parts", "reward_stdp_synapses",
           "reward_schedule"]

DOPAMINE_PARAMS = {
    "tau_dop": Param(200.0 * ms, "+", "dopamine decay time constant"),
}

REWARD_STDP_PARAMS = {
    **STDP_PARAMS,
    "tau_c": Param(1.0 * second, "+", "eligibility trace decay"),
    "tau_s": Param(1.0 * ms, "+", "weight change time scale per unit c*D"),
    "A_plus": Param(1.0, ">=0", "eligibility increment for pre->post pairing"),
    "A_minus": Param(1.5, ">=0", "eligibility decrement for post->pre pairing"),
    "w_max": Param(4.0, "+", "upper weight bound (lower bound 0: Dale)"),
}

DOPAMINE_EQS = """
dD/dt = -D/tau_dop : 1
reward_in          : 1
"""


def dopamine_parts(**overrides):
    """What a neuron group needs to carry its own dopamine level.

    Returns
    -------
    dict
        ``eqs`` (extra equations), ``events`` and ``on_event`` for the group's
        constructor, and ``namespace`` to merge into the group's namespace.
    """
    ns = resolve("dopamine", DOPAMINE_PARAMS, overrides)
    return {
        "eqs": DOPAMINE_EQS,
        "events": {"reward": "reward_in != 0"},
        "on_event": {"reward": "D += reward_in\nreward_in = 0"},
        "namespace": ns,
    }


def reward_stdp_synapses(source, target, effect="ge_post += w", rate="1", name=None, **overrides):
    """Reward-modulated STDP synapses onto a target that has ``dopamine_parts``.

    Parameters
    ----------
    effect : str
        On-pre effect on the target (``ge_post += w`` for excitatory synapses,
        ``gi_post += w`` for inhibitory ones; None for none).
    rate : str
        Expression multiplying the weight change (learning flag, astrocyte gate).
    """
    if "D" not in target.variables or "reward_in" not in target.variables:
        raise ValueError(f"reward stdp: target {target.name!r} has no dopamine; "
                         "build it with dopamine_parts()")
    ns = resolve("reward stdp", REWARD_STDP_PARAMS, overrides)
    ns["tau_dop"] = target.namespace.get("tau_dop", DOPAMINE_PARAMS["tau_dop"].value)
    ns["tau_star"] = 1.0 / (1.0 / ns["tau_c"] + 1.0 / ns["tau_dop"])
    model = """
    w      : 1
    c      : 1
    D_last : 1
    dapre/dt = -apre/tau_plus    : 1 (event-driven)
    dapost/dt = -apost/tau_minus : 1 (event-driven)
    """
    settle = f"""
    elapsed = t - lastupdate
    w = clip(w + ({rate})*c*D_last*tau_star/tau_s*(1 - exp(-elapsed/tau_star)), 0, w_max)
    c = c*exp(-elapsed/tau_c)
    """
    on_pre = settle + "D_last = D_post\napre += A_plus\nc -= apost\n" + (effect or "")
    on_post = {
        "post": settle + "D_last = D_post\napost += A_minus\nc += apre",
        "reward": settle + "D_last = D_post + reward_in_post",
    }
    syn = Synapses(source, target, model=model, on_pre=on_pre, on_post=on_post,
                   on_event={"pre": "spike", "post": "spike", "reward": "reward"},
                   namespace=ns, name=name or "reward_stdp*")
    syn.reward.order = 2  # after the spike pathways of the same step
    return syn


def reward_schedule(target, indices, times, amounts=1.0, name=None):
    """Deliver rewards to chosen neurons at chosen times.

    A ``SpikeGeneratorGroup`` of one source per reward event writes the amount
    into the neuron's ``reward_in``; returns (generator, synapses).
    """
    import numpy as np
    from brian2 import SpikeGeneratorGroup

    indices = np.asarray(indices, dtype=int)
    times = np.asarray(times / second, dtype=float) * second
    amounts = np.broadcast_to(np.asarray(amounts, dtype=float), indices.shape)
    if indices.ndim != 1 or len(times) != len(indices):
        raise ValueError("reward schedule: 'indices' and 'times' must be 1-D and of equal length")
    if np.any(~np.isfinite(amounts)):
        raise ValueError("reward schedule: 'amounts' must be finite")
    n = len(indices)
    gen = SpikeGeneratorGroup(max(n, 1), np.arange(n), times,
                              name=f"{name}_gen" if name else "reward_gen*")
    syn = Synapses(gen, target, "amount : 1", on_pre="reward_in_post += amount",
                   name=f"{name}_syn" if name else "reward_syn*")
    if n:
        syn.connect(i=np.arange(n), j=indices)
        syn.amount = amounts
    return gen, syn
