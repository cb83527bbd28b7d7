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
import numpy as np
from brian2 import Network, NeuronGroup, Synapses, TimedArray, linked_var, mV, second

from ..neuromodulator import reward_rule
from ..neuron import if_group
from .boundary import LEARNED_STATE, ImageBoundary
from . import runtime
from .hubs import hub, power_hub, sum_to_hub
from ..synapse import Rule, apply_init, forgetting_rule, local_error_rule, structural_rule, synapses, tm_rule

__all__ = ["EncoderNetwork", "LEARNED_STATE"]

V_TH = 1 * mV


def _all_pairs(n_pre, n_post):
    i = np.repeat(np.arange(n_pre), n_post)
    j = np.tile(np.arange(n_post), n_pre)
    return i.astype(np.int32), j.astype(np.int32)


class EncoderNetwork(ImageBoundary):
    """One compiled run over a schedule of image slots.

    Parameters
    ----------
    spec : dict
        A resolved spec (``encoder.spec.validate_spec``).
    frames : array (n_slots, n_pixels)
        Image shown in each slot, values in [0, 1].
    schedule : dict of arrays (n_slots,)
        ``enc``: plasticity of the hidden pathways; ``dec``: plasticity of the read-out;
        ``teach``: sensory teacher on (1) or off (0).
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

    def __init__(self, spec, frames, schedule, power, mean_image, state=None, t_start=None):
        self.spec, self.f = spec, spec["features"]
        self.frames = np.asarray(frames, float)
        self.n_slots, self.n_px = self.frames.shape
        self.schedule = {k: np.asarray(v, float) for k, v in schedule.items()}
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
            "v_th": V_TH, "present": self.T, "n_white": self.n0, "out_gain": self.n_out / self.n0,
            "tau_avg": s["learning"]["tau_avg"], "eta_bias": s["learning"]["eta_bias"],
            "warm_up": float(s["learning"]["warm_up"]), "eta_homeostasis": s["learning"]["eta_homeostasis"],
            "target_i": s["learning"]["target_i"], "eta_scale": 0.05,
            "fast": s["reward"]["fast"], "slow": s["reward"]["slow"], "max_gain": s["reward"]["max_gain"],
            "n_stages": 4.0, "A_ramp": s["phase"]["amplitude"] if self.f["phase"] else 0.0,
            "gate_floor": s["astrocytes"]["gate_floor"],
            "consolidation": s["forgetting"]["consolidation"],
            # learning rates (run parameters: shared constants, see ``runtime``)
            "eta_enc": s["learning"]["eta"], "eta_dec": s["learning"]["eta_decoder"],
            "eta_inh": s["learning"]["eta_inhibition"],
        }
        for key in ("enc", "dec", "teach"):
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
        group = NeuronGroup(self.n_px, eqs, threshold=threshold, reset=reset, method="euler",
                            events=parts["events"], namespace={**ns, **parts["namespace"]}, name="input")
        for event, c in parts["on_event"].items():
            group.run_on_event(event, c)
        group.m_count = self.n0 * self.mean_image
        if code == "regular":
            group.phi = "rand()"
        return group

    def _excitatory(self, name, n, flag_err, ns):
        """Hidden or reconstruction E cells: IF neurons with a bias, a dendritic prediction and dopamine."""
        extra = self._predicted_eqs() + ("pinh : 1 (linked)\n" if name != "recon" else "") + """
        cph : 1
        sph : 1
        ph_c : 1
        ph_s : 1
        """ + self._gate_eqs()
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
        group = if_group(n, extra_eqs=extra, drive=drive, threshold=f"v > v_th*{ramp} and {release} > 0",
                         on_spike=f"count += 1\ncph += cos({phase})\nsph += sin({phase})" + on_traces,
                         events=parts["events"], on_event=parts["on_event"],
                         extra_namespace={**ns, **parts["namespace"]}, name=name, t_ref=t_ref)
        group.v = "rand()*v_th"
        group.m_count = self._init(name, "m_count", self.n_out * self.mean_image if name == "recon"
                                   else np.full(n, self.spec["learning"].get(f"target_{name}", 0.0)))
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
        group = if_group(n, extra_eqs=extra, on_spike="count += 1", events=parts["events"],
                         on_event=parts["on_event"],
                         extra_namespace={**ns, **parts["namespace"], "n_low": float(n_lower)},
                         name=name, t_ref=self.spec["network"]["t_ref"])
        target = self.spec["learning"]["target_i"]
        group.a_in = target / max(mean_lower * n_lower, 1e-3)  # I cells sum the whole layer below
        group.m_count = target
        group.v = f"(i + 0.5)/{n}*v_th"
        return group

    # ------------------------------------------------------------------ pathways
    def _rate_factor(self, who):
        return f"(gate_floor + (1 - gate_floor)*gate_{who})" if self.f["astrocytes"] else "1"

    def _plastic_rules(self, flag, eta, who_gate, dop_side, elig_side, elig_mean, suffix="", sign=1.0, gated=False):
        """Rules of one learning term: eligibility from one side, local error (dopamine) from the other.

        Reward on: the library's reward STDP. The eligibility trace restarts from minus the eligible
        neuron's mean count early in each slot (its ``trace_reset`` event), each of its spikes adds 1,
        so at the image boundary it holds the centred count; the dopamine pulse (the other neuron's
        local error) turns it into a weight change. STDP off: the trace is the cell's own and the pulse
        acts whole at the reward event (``integration='impulse'``); on: every synapse keeps its trace,
        fed by pairings too (closed form). Reward off: the same product applied directly.
        ``gated``: a pruned synapse (structural plasticity, ``alive`` = 0) does not learn.
        """
        s = self.spec
        # the image that just ended sets the rate (its error acts at, or just after, its boundary)
        rate = f"{sign!r}*{eta}*{self._previous(flag)}*{self._rate_factor(who_gate)}*step_{dop_side}" + \
            ("*alive" if gated else "")
        weight = "w_fast" if self.f["forgetting"] else "w"
        lower, upper = ("-w_slow", "w_max - w_slow") if self.f["forgetting"] else ("0", "w_max")
        if not self.f["reward"]:
            # two-factor: the local error times the eligibility side's centred spike count
            pre = f"(n_last_{elig_side} - m_count_{elig_side})"
            rule = local_error_rule(pre, f"dop_{dop_side}", eta=rate, weight=weight, lower=lower, upper=upper)
            return [rule]
        tau_c, tau_dop = s["reward"]["tau_c"], s["reward"]["tau_dop"]
        tau_star = 1 / (1 / tau_c + 1 / tau_dop)
        stdp = s["stdp"]
        pairing = stdp["amplitude"] if self.f["stdp"] else 0.0  # spike-timing pairings add to the trace
        elig = {"A_pre": 1.0, "A_post": 0.0} if elig_side == "pre" else {"A_pre": 0.0, "A_post": 1.0}
        shared = {"integration": "impulse", "trace": f"c_{flag}_{elig_side}"} if self._shared_traces else {}
        rule = reward_rule(rate=rate, weight=weight, dopamine=dop_side, tau_dop=tau_dop, active=f"int({flag}(t) > 0)",
                           lower=lower, upper=upper, suffix=suffix, reward_order=-1, mirror=True,
                           tau_c=tau_c, tau_s=tau_star, A_plus=pairing, A_minus=pairing,
                           tau_plus=stdp["tau"], tau_minus=stdp["tau"],
                           w_max=self._w_max, **elig, **shared)
        if shared:  # the whole pulse acts at the reward event; the cell resets its own trace
            return [rule]
        # the eligible neuron's ``trace_reset`` event restarts the trace (settled first)
        reset = f"c{suffix} += int({flag}(t) > 0)*(-{elig_mean} - c{suffix})"
        rule.pathways[f"reset{suffix}_{elig_side}"] = (elig_side, "trace_reset", reset)
        return [rule]

    def _tied(self, lower, upper, name, flag, eta, ns, w0, w_ref, decoder=False):
        """Reciprocal E synapses upper -> lower (feedback orientation): one weight, both directions.

        With structural plasticity each lower neuron's tied partners are pruned and regrown
        (``synapse.structural_rule``); ``w_ref`` is the weight a new synapse starts from."""
        f = self.f
        ff = "(1 - teach(t))*" if decoder else ""
        weight = "w_slow + w_fast" if f["forgetting"] else "w"
        weight = f"alive*({weight})" if f["structural"] else weight
        gated = f["structural"]
        rules = []
        if f["short_term"]:
            st = self.spec["short_term"]
            rules.append(tm_rule("depressing", side="post", U_0=st["U"], tau_d=st["tau_d"], tau_f=st["tau_f"]))
        # feedback: the upper neuron's spike adds the weight to the lower neuron's prediction
        on_pre = f"pred_post += {weight}"
        if decoder:
            # read-out: recon's error (LMS) x eligibility from h2 spikes, and h2's error x recon spikes
            rules += self._plastic_rules("dec", eta, "pre", "pre", "post", "m_count_post", suffix="_r", gated=gated)
            if self._sym > 0:
                rules += self._plastic_rules("dec", f"{eta}*{self._sym!r}", "pre", "post", "pre", "m_count_pre",
                                             gated=gated)
        else:
            rules += self._plastic_rules(flag, eta, "pre", "post", "pre", "m_count_pre", gated=gated)
        rel = "/U_0" if f["short_term"] else ""
        effect = f"v_pre += {ff}{{w}}{rel}*v_th" + (f"\npred_pre += {{w}}{rel}" if decoder else "")
        rules.append(Rule(on_pre=on_pre))
        if f["structural"]:
            rules.append(self._structural(lower, upper, w_ref, flag))
        return self._learning_synapses(upper, lower, rules, effect, name, flag, ns, w0, w_ref if gated else None)

    def _structural(self, lower, upper, w_ref, flag):
        """Pruning and regrowth of a lower neuron's tied partners; its astrocyte (the input layer has
        none) sets the regrowth rate."""
        st, n_pre = self.spec["structural"], len(upper)
        glia = self.f["astrocytes"] and lower.name in self.astros
        growth = "(gate_floor + (1 - gate_floor)*gate_post)" if glia else "1"
        return structural_rule(weights=("w_slow", "w_fast") if self.f["forgetting"] else ("w",),
                               active=self._previous(flag), growth=growth,
                               # one partner per lower neuron and image, in turn: counts move by one at most
                               turn="int(i == int(t/present + 0.5) % N_pre)",
                               prune_below=st["prune_below"], tau_w=st["tau"], regrow=st["regrow"],
                               protect=float(st["protect"]), w_ref=float(w_ref),
                               n_min=float(np.ceil(st["min_fraction"] * n_pre)),
                               n_max=float(np.floor(st["max_fraction"] * n_pre)))

    def _learning_synapses(self, source, target, rules, effect, name, flag, ns, w0, w_ref=None):
        """All-to-all plastic synapses in feedback orientation, with forgetting when it is on
        (``w_ref``: structural plasticity is on, new synapses start at this weight)."""
        weight = "w_slow + w_fast" if self.f["forgetting"] else "w"
        if w_ref is not None:
            weight = f"alive*({weight})"
        if self.f["forgetting"]:
            rules.append(forgetting_rule(consolidation=self._consolidation("pre"), active=self._previous(flag),
                                         tau_forget=self.spec["forgetting"]["tau"], period=self.T,
                                         w_max=self._w_max))
        syn = synapses(source, target, rules, effect=effect, transmit="post", weight=weight, name=name,
                       namespace={**ns, "w_max": self._w_max}, period=self.T, when="groups", order=30)
        i, j = _all_pairs(len(source), len(target))
        syn.connect(i=i, j=j)
        apply_init(syn)
        self._set_weights(syn, name, w0)
        if w_ref is not None:
            n = len(syn)
            syn.alive = self._init(name, "alive", np.ones(n))
            syn.w_avg = self._init(name, "w_avg", np.full(n, 0.0) + w0)
            syn.age = self._init(name, "age", np.zeros(n))  # every synapse protected at first
        return syn

    def _consolidation(self, who):
        if self.f["astrocytes"]:
            return f"consolidation*(1 - 0.5*gate_{who})"
        return "consolidation"

    def _set_weights(self, syn, name, w0):
        n = len(syn)
        if self.f["forgetting"]:
            syn.w_slow = self._init(name, "w_slow", np.full(n, 0.0) + w0)
            syn.w_fast = self._init(name, "w_fast", np.zeros(n))
        else:
            syn.w = self._init(name, "w", np.full(n, 0.0) + w0)

    def _init(self, name, var, default):
        key = f"{name}.{var}"
        if key in self.state:
            value = np.asarray(self.state[key], float)
            if value.shape != np.shape(default):
                raise ValueError(f"encoder: stored state {key} has shape {value.shape}, expected {np.shape(default)}")
            return value
        return default

    def _pool(self, lower, inhib, name):
        """Lower E -> I cells: equal weights, scaled together for the whole pool (synaptic scaling).

        Scaling each cell to its own target would cancel the stratified start phases and make the
        pool fire in lockstep, so its inhibition would come in steps of one spike per cell.
        """
        rules = []
        if self.f["short_term"]:
            st = self.spec["short_term"]
            rules.append(tm_rule("depressing", U_0=st["U"], tau_d=st["tau_d"], tau_f=st["tau_f"]))
        rel = "/U_0" if self.f["short_term"] else ""
        syn = synapses(lower, inhib, rules, effect=f"v_post += a_in_post*v_th*{{w}}{rel}", name=name,
                       namespace={"v_th": V_TH})
        i, j = _all_pairs(len(lower), len(inhib))
        syn.connect(i=i, j=j)
        syn.w = 1.0
        apply_init(syn)
        return syn

    def _inhibit(self, upper, inhib, name, flag, eta, ns, v0, decoder=False):
        """I -> upper E synapses (feedback orientation: the E spike reaches the I cell's dendrite)."""
        f = self.f
        ff = "(1 - teach(t))*" if decoder else ""
        weight = "w_slow + w_fast" if f["forgetting"] else "w"
        # hidden pathways: I->E weights learn from the I cells' dopamine (the layer below's mean error);
        # the read-out's inhibitory pool is fixed (its E weights learn the signed read-out)
        rules = [] if decoder else self._plastic_rules(flag, f"{eta}*eta_inh", "pre", "post", "pre", "m_count_pre")
        effect = f"v_pre -= {ff}{{w}}*v_th" + ("\npred_pre -= {w}" if decoder else "")
        rules.append(Rule(on_pre=f"q_post += {weight}"))
        return self._learning_synapses(upper, inhib, rules, effect, name, flag, ns, v0)  # (I synapses: no pruning)

    # ------------------------------------------------------------------ astrocytes
    # ------------------------------------------------------------------ build
    def build(self):
        """All Brian2 objects of the run, as a ``Network``; the state lives on ``self``."""
        net, learn = self.spec["network"], self.spec["learning"]
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
            self.power_hubs[name] = power = power_hub(f"{name}_hub_power", self.T, ns, self.t_start)
            objs += [power, sum_to_hub(g[name], power, "P", "(n_last_pre - m_count_pre)**2", f"{name}_power_to_hub")]
        # each layer is predicted by the one above it; the read-out's error also by the code layer
        predictor = {**dict(zip(layers[:-1], layers[1:])), "recon": "h2"}
        for name, source in predictor.items():
            g[name].nrm = linked_var(self.power_hubs[source], "norm", index=np.zeros(len(g[name]), dtype=int))
        means = {"input": self.n0 * float(self.mean_image.mean()), "h1": learn["target_h1"],
                 "h2": learn["target_h2"]}
        # feed-forward pathways ff1 (input -> first hidden layer), ff2; the read-out dec
        pathways = [(lower, upper, "enc", f"ff{k + 1}") for k, (lower, upper) in
                    enumerate(zip(layers[:-2], layers[1:-1]))] + [("h2", "recon", "dec", "dec")]
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
            hub_q = hub(f"{lower}_hub_pinh", "pinh", self.T, order=-29)
            hub_e = hub(f"{lower}_hub_err", "esum", self.T, order=10)
            objs += [hub_q, hub_e, sum_to_hub(L, hub_e, "esum", "err_pre", f"{lower}_err_to_hub")]
            L.pinh = linked_var(hub_q, "pinh", index=np.zeros(len(L), dtype=int))
            if self.f["inhibition"]:
                n_i = max(1, int(np.ceil(len(U) / net["ei_ratio"])))
                inhib = self._inhibitory(f"{upper}_I", n_i, fan, means[lower], ns)
                inhib.nrm = linked_var(self.power_hubs[upper], "norm", index=np.zeros(n_i, dtype=int))
                self._astrocytes(inhib, f"{upper}_I", objs)
                # the pool scales as one (its cells keep their stratified phases)
                hub_c = hub(f"{upper}_I_hub_count", "csum", self.T, order=-29)
                inhib.csum = linked_var(hub_c, "csum", index=np.zeros(n_i, dtype=int))
                objs += [hub_c, sum_to_hub(inhib, hub_c, "csum", "count_pre", f"{upper}_I_to_count")]
                g[f"{upper}_I"] = inhib
                pool = self._pool(L, inhib, f"{pname}_pool")
                # balance: the I cells' inhibition cancels the mean excitatory offset
                v0 = offset * means[lower] * fan / (learn["target_i"] * n_i)
                inh = self._inhibit(U, inhib, f"{pname}_inh", flag, eta, ns, v0, decoder=decoder)
                self.synapses[f"{pname}_inh"] = inh
                inhib.esum_low = linked_var(hub_e, "esum", index=np.zeros(n_i, dtype=int))
                objs += [inhib, pool, inh, sum_to_hub(inhib, hub_q, "pinh", "a_in_pre*q_pre",
                                                            f"{upper}_I_to_hub")]
                self._boundary_inhibitory(inhib, flag, pname)
        for name in layers:
            self._boundary_predicted(g[name], name, "dec" if name in ("h2", "recon") else "enc")
        for name in self.hidden:
            self._homeostasis(g[name], learn[f"target_{name}"])
        teacher = Synapses(g["input"], g["recon"], on_pre="v_post += teach(t)*out_gain*v_th", namespace=ns, name="teacher")
        teacher.connect(j="i")
        objs.append(teacher)
        self.monitors = self._monitors()
        objs += list(self.monitors.values())
        self._restore_groups()
        self.objects = objs
        # run parameters become shared constants, changed by run_args without recompiling
        self.run_parameters = runtime.declare(objs, self.spec)
        self.duration = (self.n_slots + 1) * self.T
        return Network(*objs)
