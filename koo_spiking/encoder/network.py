"""Brian2 build of the Koo Encoder v2: input -> hidden 1 -> hidden 2 -> reconstruction.

With ``[features] second_hidden = false`` hidden 1 is not built: input -> hidden 2 (the code
layer) -> reconstruction, the ablation of the second hidden layer at an unchanged code size.

Balanced predictive coding with local rules only. Every layer has excitatory (E) and
inhibitory (I) integrate-and-fire neurons with subtractive reset (``neuron.if_group``),
so spike counts are the integrated input, rounded: a code whose error falls as 1/spikes.

A pathway joins a lower layer L to an upper layer U (input->h1, h1->h2, h2->recon):

- tied reciprocal E synapses (one weight each, Burbank 2015): an L spike drives U
  (feed-forward, with Tsodyks-Markram release), a U spike adds the same weight to L's
  dendritic prediction (feedback);
- U's I cells pool L with equal weights (broad feed-forward inhibition, Dale's principle:
  the excitatory weights carry a balanced offset, inhibition removes it, so the effective
  weights can be negative). Their E->I weights scale together to hold the pool's mean rate at a target;
  their I->E weights are plastic. A U spike also reaches the I cells' dendrites, which
  feed the inhibitory part of the prediction back to L;
- each predicted neuron computes once per image its local prediction error
  e = (count - mean) - (prediction - mean), turns it into its own dopamine (reward on:
  ``neuromodulator.reward_rule`` acts on eligibility traces fed by the predicting neuron's
  spikes) or applies it directly (reward off). With tied weights this is Oja's subspace rule
  (Oja 1989), so each layer learns the principal subspace of the layer below.

The read-out (h2->recon) learns by LMS against the pixel (the sensory teacher drives it
during training); with ``eta_code`` > 0 also from h2's error against its prediction.

Per-image code (errors, dopamine, homeostasis, astrocytes, monitors) is in ``boundary.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from brian2 import Clock, Network, NeuronGroup, Synapses, TimedArray, linked_var, second

from ..neuron import if_group
from . import runtime
from .boundary import LEARNED_STATE, ImageBoundary
from .hold import HOLD_KEYS, holder
from .hubs import hub, power_hub, sum_to_hub
from .pathways import V_TH, Pathways

if TYPE_CHECKING:
    from collections.abc import Mapping

    from brian2.units.fundamentalunits import Quantity
    from numpy.typing import ArrayLike

__all__ = ["EncoderNetwork", "LEARNED_STATE"]


class EncoderNetwork(Pathways, ImageBoundary):
    """One compiled run over a schedule of image slots.

    Parameters
    ----------
    spec : dict
        A resolved spec (``encoder.spec.validate_spec``).
    frames : array (n_slots, n_pixels)
        Image shown in each slot, values in [0, 1].
    schedule : dict of arrays (n_slots,)
        ``enc``: plasticity of the hidden pathways; ``dec``: plasticity of the read-out;
        ``teach``: sensory teacher on (1) or off (0). With ``hold_save`` and ``hold_restore``
        (``encoder.hold.hold_flags``) the astrocytes and the running means of the activity power
        are saved when an evaluation window starts and restored when it ends.
    power : float
        Mean power of the centred input counts, sum over pixels of var(count); it
        normalises the learning rates (Oja's rule is stable for eta*power < 2).
    mean_image : array (n_pixels,)
        Starting value of the running means of the input counts.
    state : dict, optional
        Learned state to start from (``learned_state`` of an earlier run).
    t_start : Quantity, optional
        Where this run starts in a schedule split into chunks (``encoder.checkpoint``).
    """

    def __init__(
        self,
        spec: Mapping[str, Any],
        frames: ArrayLike,
        schedule: Mapping[str, ArrayLike],
        power: float,
        mean_image: ArrayLike,
        state: Mapping[str, np.ndarray] | None = None,
        t_start: Quantity | None = None,
    ) -> None:
        self.spec, self.f = spec, spec["features"]
        self.frames = np.asarray(frames, float)
        self.n_slots, self.n_px = self.frames.shape
        self.schedule = {k: np.asarray(v, float) for k, v in schedule.items()}
        held = [k for k in HOLD_KEYS if k in self.schedule]
        if held and len(held) != len(HOLD_KEYS):
            raise ValueError(f"schedule: {held[0]} needs {' and '.join(HOLD_KEYS)} together")
        self.hold = bool(held)
        self.power = float(power)
        self.mean_image = np.asarray(mean_image, float)
        self.state = state or {}
        self.t_start = t_start if t_start is not None else 0 * second
        net = spec["network"]
        self.T = net["present"]
        self.n0 = float(net["input_rate"] * net["present"])  # spikes per white input pixel
        self.n_out = float(net["output_rate"] * net["present"])  # spikes per white reconstruction pixel
        self.hidden = ("h1", "h2") if self.f["second_hidden"] else ("h2",)
        self.sizes = {"h1": net["n_h1"], "h2": net["n_h2"], "recon": self.n_px}

    # ------------------------------------------------------------------ namespace
    def _namespace(self):
        s = self.spec
        pad = np.zeros((1, self.n_px))
        ns = {
            "stimulus": TimedArray(np.vstack([self.frames, pad]), dt=self.T, name="stimulus"),
            "v_th": V_TH,
            "present": self.T,
            "n_white": self.n0,
            "out_gain": self.n_out / self.n0,
            "tau_avg": s["learning"]["tau_avg"],
            "eta_bias": s["learning"]["eta_bias"],
            "warm_up": float(s["learning"]["warm_up"]),
            "eta_homeostasis": s["learning"]["eta_homeostasis"],
            "target_i": s["learning"]["target_i"],
            "eta_scale": 0.05,
            "fast": s["reward"]["fast"],
            "slow": s["reward"]["slow"],
            "max_gain": s["reward"]["max_gain"],
            "n_stages": 4.0,
            "A_ramp": s["phase"]["amplitude"] if self.f["phase"] else 0.0,
            "gate_floor": s["astrocytes"]["gate_floor"],
            "consolidation": s["forgetting"]["consolidation"],
            # learning rates (run parameters: shared constants, see ``runtime``)
            "eta_enc": s["learning"]["eta"],
            "eta_dec": s["learning"]["eta_decoder"],
            "eta_inh": s["learning"]["eta_inhibition"],
        }
        for key in ("enc", "dec", "teach") + (HOLD_KEYS if self.hold else ()):
            ns[key] = TimedArray(np.append(self.schedule[key], 0.0), dt=self.T, name=f"sched_{key}")
        return ns

    def _input_layer(self, ns):
        code = self.spec["network"]["input_code"]
        parts, eqs = self._with_dopamine("enc", self._predicted_eqs() + "pinh : 1 (linked)\n")
        # the image is delivered in the first stage of each slot
        first = "int(t/present - floor(t/present) < 1/n_stages)"
        if code == "regular":
            eqs += f"dphi/dt = stimulus(t, i)*n_white*n_stages/present*{first} : 1\n"
            threshold, reset = "phi > 1", "phi -= 1\ncount += 1"
        else:
            threshold = f"rand() < stimulus(t, i)*n_white*n_stages/present*dt*{first}"
            reset = "count += 1"
        group = NeuronGroup(
            self.n_px,
            eqs,
            threshold=threshold,
            reset=reset,
            method="euler",
            events=parts["events"],
            namespace={**ns, **parts["namespace"]},
            name="input",
        )
        for event, c in parts["on_event"].items():
            group.run_on_event(event, c)
        group.m_count = self.n0 * self.mean_image
        if code == "regular":
            group.phi = "rand()"
        return group

    def _excitatory(self, name, n, flag_err, ns):
        """Hidden or reconstruction E cells: IF neurons with a bias, a dendritic prediction and dopamine."""
        extra = (
            self._predicted_eqs()
            + ("pinh : 1 (linked)\n" if name != "recon" else "")
            + """
        cph : 1
        sph : 1
        ph_c : 1
        ph_s : 1
        """
            + self._gate_eqs()
        )
        parts, extra = self._with_dopamine(flag_err, extra)
        traces, on_traces = self._eligibility(name, parts)
        extra += traces
        t_ref = self.spec["network"]["t_ref"]
        # the read-out's bias drives it only when the teacher is off
        drive = "-teach(t)*I_b" if name == "recon" else "0*volt/second"
        stage = {"h1": 1, "h2": 2, "recon": 3}[name]
        # the cell integrates from the start of the slot and releases its charge in its own stage;
        # the threshold falls through the release window, so spike phase encodes the charge
        cycle = "(t/present - floor(t/present))*n_stages"
        release = f"int(floor({cycle}) == {stage})"
        ramp = f"(1 + A_ramp*clip(1 - 1.25*({cycle} - {stage}), 0, 1))"
        phase = f"2*pi*({cycle} - {stage})"
        group = if_group(
            n,
            extra_eqs=extra,
            drive=drive,
            threshold=f"v > v_th*{ramp} and {release} > 0",
            on_spike=f"count += 1\ncph += cos({phase})\nsph += sin({phase})" + on_traces,
            events=parts["events"],
            on_event=parts["on_event"],
            extra_namespace={**ns, **parts["namespace"]},
            name=name,
            t_ref=t_ref,
        )
        group.v = "rand()*v_th"
        group.m_count = self._init(
            name,
            "m_count",
            self.n_out * self.mean_image
            if name == "recon"
            else np.full(n, self.spec["learning"].get(f"target_{name}", 0.0)),
        )
        return group

    def _inhibitory(self, name, n, n_lower, mean_lower, ns):
        """I cells pooling the layer below with equal weights, at stratified phases."""
        extra = """
        count : 1
        n_last : 1
        q : 1
        a_in : 1
        esum_low : 1 (linked)
        csum : 1 (linked)
        nrm : 1 (linked)
        step : 1
        m_count : 1
        dop : 1
        ef : 1
        es : 1
        """ + self._gate_eqs()
        parts, extra = self._with_dopamine("enc" if name != "recon_I" else "dec", extra)
        group = if_group(
            n,
            extra_eqs=extra,
            on_spike="count += 1",
            events=parts["events"],
            on_event=parts["on_event"],
            extra_namespace={**ns, **parts["namespace"], "n_low": float(n_lower)},
            name=name,
            t_ref=self.spec["network"]["t_ref"],
        )
        target = self.spec["learning"]["target_i"]
        group.a_in = target / max(mean_lower * n_lower, 1e-3)  # I cells sum the whole layer below
        group.m_count = target
        group.v = f"(i + 0.5)/{n}*v_th"
        return group

    def _init(self, name, var, default):
        key = f"{name}.{var}"
        if key in self.state:
            value = np.asarray(self.state[key], float)
            if value.shape != np.shape(default):
                raise ValueError(f"encoder: stored state {key} has shape {value.shape}, expected {np.shape(default)}")
            return value
        return default

    # ------------------------------------------------------------------ build
    def build(self) -> Network:
        """All Brian2 objects of the run, as a ``Network``; the state lives on ``self``."""
        net, learn = self.spec["network"], self.spec["learning"]
        # three shared clocks (issue 26): the neurons' step (Brian2's default clock), one image (all the
        # per-image code, hubs and monitors) and the astrocytes' step; objects on one clock run in the
        # same order as with one clock each, and the standalone scheduler walks 3 clocks, not 80
        self.image_clock = Clock(self.T, name="image_clock")
        self.astro_clock = Clock(self.spec["astrocytes"]["dt"], name="astro_clock") if self.f["astrocytes"] else None
        ns = self._namespace()
        objs, self.astros, self.groups, self.synapses = [], {}, {}, {}
        self.power_hubs = {}
        self._w_max = 10.0
        self._sym = self.spec["learning"]["eta_code"]
        self._shared_traces = self.f["reward"] and not self.f["stdp"]
        g = self.groups
        layers = ("input", *self.hidden, "recon")
        g["input"] = self._input_layer(ns)
        if "h1" in self.hidden:
            g["h1"] = self._excitatory("h1", net["n_h1"], "enc", ns)
        g["h2"] = self._excitatory("h2", net["n_h2"], "dec", ns)
        g["recon"] = self._excitatory("recon", self.n_px, "dec", ns)
        objs += [g[k] for k in layers]
        for name in layers[1:]:
            self._astrocytes(g[name], name, objs)
        # (linked variables must exist before the synapses that read them are created)
        # each layer's activity power, once per image; a predicted neuron's (and an I cell's) step is
        # divided by the power of the layer whose spikes form its synapses' eligibility
        for name in layers[1:]:
            self.power_hubs[name] = power = power_hub(f"{name}_hub_power", self.image_clock, ns, self.t_start)
            objs += [power, sum_to_hub(g[name], power, "P", "(n_last_pre - m_count_pre)**2", f"{name}_power_to_hub")]
        # each layer is predicted by the one above it; the read-out's error also by the code layer
        predictor = {**dict(zip(layers[:-1], layers[1:])), "recon": "h2"}
        for name, source in predictor.items():
            g[name].nrm = linked_var(self.power_hubs[source], "norm", index=np.zeros(len(g[name]), dtype=int))
        means = {"input": self.n0 * float(self.mean_image.mean()), "h1": learn["target_h1"], "h2": learn["target_h2"]}
        # feed-forward pathways ff1 (input -> first hidden layer), ff2; the read-out dec
        pathways = [
            (lower, upper, "enc", f"ff{k + 1}") for k, (lower, upper) in enumerate(zip(layers[:-2], layers[1:-1]))
        ] + [("h2", "recon", "dec", "dec")]
        for lower, upper, flag, pname in pathways:
            L, U = g[lower], g[upper]
            decoder = upper == "recon"
            fan = len(L)
            offset = learn["offset"] / np.sqrt(fan) if self.f["inhibition"] else 0.0
            w0 = offset + (0.0 if self.f["inhibition"] else 0.5 / np.sqrt(fan))
            if decoder:
                w0 = offset  # the read-out starts silent: excitation and inhibition balance
            rng = np.random.default_rng(learn["seed"] + len(pathways) + fan)
            jitter = rng.uniform(-0.5, 0.5, fan * len(U)) * (learn["offset"] / np.sqrt(fan)) * (0.0 if decoder else 1.0)
            eta = "eta_dec" if decoder else "eta_enc"  # names of run parameters
            tied = self._tied(L, U, pname, flag, eta, ns, w0 + jitter * (w0 > 0), w0, decoder=decoder)
            self.synapses[pname] = tied
            objs.append(tied)
            hub_q = hub(f"{lower}_hub_pinh", "pinh", self.image_clock, order=-29)
            hub_e = hub(f"{lower}_hub_err", "esum", self.image_clock, order=10)
            objs += [hub_q, hub_e, sum_to_hub(L, hub_e, "esum", "err_pre", f"{lower}_err_to_hub")]
            L.pinh = linked_var(hub_q, "pinh", index=np.zeros(len(L), dtype=int))
            if self.f["inhibition"]:
                n_i = max(1, int(np.ceil(len(U) / net["ei_ratio"])))
                inhib = self._inhibitory(f"{upper}_I", n_i, fan, means[lower], ns)
                inhib.nrm = linked_var(self.power_hubs[upper], "norm", index=np.zeros(n_i, dtype=int))
                self._astrocytes(inhib, f"{upper}_I", objs)
                # the pool scales as one (its cells keep their stratified phases)
                hub_c = hub(f"{upper}_I_hub_count", "csum", self.image_clock, order=-29)
                inhib.csum = linked_var(hub_c, "csum", index=np.zeros(n_i, dtype=int))
                objs += [hub_c, sum_to_hub(inhib, hub_c, "csum", "count_pre", f"{upper}_I_to_count")]
                g[f"{upper}_I"] = inhib
                pool = self._pool(L, inhib, f"{pname}_pool")
                # balance: the I cells' inhibition cancels the mean excitatory offset
                v0 = offset * means[lower] * fan / (learn["target_i"] * n_i)
                inh = self._inhibit(U, inhib, f"{pname}_inh", flag, eta, ns, v0, decoder=decoder)
                self.synapses[f"{pname}_inh"] = inh
                inhib.esum_low = linked_var(hub_e, "esum", index=np.zeros(n_i, dtype=int))
                objs += [inhib, pool, inh, sum_to_hub(inhib, hub_q, "pinh", "a_in_pre*q_pre", f"{upper}_I_to_hub")]
                self._boundary_inhibitory(inhib, flag, pname)
        for name in layers:
            self._boundary_predicted(g[name], name, "dec" if name in ("h2", "recon") else "enc")
        for name in self.hidden:
            self._homeostasis(g[name], learn[f"target_{name}"])
        teacher = Synapses(
            g["input"], g["recon"], on_pre="v_post += teach(t)*out_gain*v_th", namespace=ns, name="teacher"
        )
        teacher.connect(j="i")
        objs.append(teacher)
        if self.hold:  # evaluation windows leave the slow state as they found it
            hold_ns = {k: ns[k] for k in HOLD_KEYS}
            for name, astro in self.astros.items():
                objs.append(
                    holder(astro, sorted(astro.equations.diff_eq_names), self.image_clock, hold_ns, f"{name}_hold")
                )
            for name, power in self.power_hubs.items():  # around the hub's update (order 1)
                objs.append(
                    holder(
                        power,
                        ["P_avg"],
                        self.image_clock,
                        hold_ns,
                        f"{name}_hub_hold",
                        save=("groups", 0),
                        restore=("groups", 2),
                    )
                )
        self.monitors = self._monitors()
        objs += list(self.monitors.values())
        self._restore_groups()
        self.objects = objs
        # run parameters become shared constants, changed by run_args without recompiling
        self.run_parameters = runtime.declare(objs, self.spec)
        self.duration = (self.n_slots + 1) * self.T
        return Network(*objs)
