"""Brian2 build of the Koo Encoder: input -> hidden 1 (E+I) -> hidden 2 (E+I) -> reconstruction.

All learning is Brian2 code (synaptic ``on_pre``/``on_post`` and ``run_regularly`` at image
boundaries) using only what the synapse or its neurons hold: pre/post spike traces and counts,
the post neuron's local error, its astrocyte's gate and its own dopamine. Images are shown one per
slot of length ``present`` through ``TimedArray``s; the same schedule carries the plasticity and
teacher flags, so training and evaluation happen in one compiled run.

Rules (hierarchical predictive coding with local errors; Oja's subspace rule in local form):
- each layer below keeps a dendritic prediction of its own activity from the layer above, made by
  feedback synapses; its local error is e = x - prediction (x: the neuron's normalised spike count);
- feed-forward and feedback synapses of a pathway both change by dq = eta*(x*y - prediction*y)
  = eta*e*y, the x*y term measured by event-driven STDP traces (Song et al. 2000) that are
  mirrored on the feedback side (Burbank 2015), so both weights stay equal;
  Tsodyks-Markram release on transmission;
- lateral inhibition: each E neuron drives its own I partner; I -> E weights grow with co-activity
  (Foldiak 1990, anti-Hebbian), dW = eta*(y_i*y_j - p^2), W >= 0;
- homeostatic thresholds: dtheta = eta*(y - p);
- decoder H2 -> reconstruction: delta rule on the reconstruction neuron's dendritic prediction
  against the one-to-one sensory teacher, scaled by that neuron's dopamine (decrease of its error);
- forgetting: changes go to a fast weight that decays unless the astrocyte-gated consolidation
  moves it into the slow weight.
"""
import numpy as np
from brian2 import Network, NeuronGroup, StateMonitor, Synapses, TimedArray, mV, ms

from .astrocyte import astrocyte_group, couple, drive_from_neurons, link_gate

__all__ = ["EncoderNetwork"]

V_REST, V_TH = -70 * mV, -54 * mV


def _all_pairs(n_pre, n_post, exclude_self=False):
    i = np.repeat(np.arange(n_pre), n_post)
    j = np.tile(np.arange(n_post), n_pre)
    if exclude_self:
        keep = i != j
        i, j = i[keep], j[keep]
    return i.astype(np.int32), j.astype(np.int32)


class EncoderNetwork:
    """One compiled run over a schedule of image slots.

    Parameters
    ----------
    spec : dict
        A resolved spec (``encoder_spec.validate_spec``).
    frames : array (n_slots, n_pixels)
        Image shown in each slot, values in [0, 1].
    plastic, teach : array (n_slots,)
        Per slot: learning-rate multiplier (0 = plasticity off); sensory teacher on (1) or off (0).
    weights : dict, optional
        Learned state to start from (``results()['weights']`` of an earlier run).
    """

    def __init__(self, spec, frames, plastic, teach, weights=None):
        self.spec = spec
        self.frames = np.asarray(frames, float)
        self.n_slots, self.n_px = self.frames.shape
        self.plastic = np.asarray(plastic, float)
        self.teach = np.asarray(teach, float)
        self.weights = weights
        self.f = spec["features"]

    # ----------------------------------------------------------------- pieces
    def _namespace(self):
        s, net = self.spec, self.spec["network"]
        T = net["present"]
        pad = np.zeros((1, self.n_px))
        ns = {
            "stimulus": TimedArray(np.vstack([self.frames, pad]), dt=T),
            "plastic": TimedArray(np.append(self.plastic, 0.0), dt=T),
            "teach": TimedArray(np.append(self.teach, 0.0), dt=T),
            "present": T, "input_rate": net["input_rate"], "tau_m": net["tau_m"],
            "tau_syn": net["tau_syn"], "v_rest": V_REST, "v_th": V_TH, "v_reset": V_REST,
            "target": s["learning"]["target_spikes"],  # hidden-1 target (scales its activity)
            "theta_min": -10 * mV, "theta_max": 400 * mV, "eta_theta": s["learning"]["eta_theta"],
            "tau_stdp": s["learning"]["tau_stdp"], "stdp_ltd": s["learning"]["stdp_ltd"],
            "f_osc": s["phase"]["frequency"],
            "A_osc": s["phase"]["amplitude"] if self.f["phase"] else 0 * mV,
            "U_0": s["short_term"]["U"], "tau_d": s["short_term"]["tau_d"], "tau_f": s["short_term"]["tau_f"],
            "tau_forget": s["forgetting"]["tau"], "consolidation": s["forgetting"]["consolidation"],
            "gate_floor": s["astrocytes"]["gate_floor"], "kappa": s["reward"]["kappa"] if self.f["reward"] else 0.0,
            "tau_avg": s["reward"]["tau_avg"],
        }
        return ns

    def _learn_flag(self):
        # learning at the start of slot k applies to what happened in slot k-1
        return "plastic(t - present/2)*int(t > present/2)"

    def _excitatory(self, n, name, ns):
        eqs = """
        dv/dt = (v_rest - v + I_e - I_i + I_osc)/tau_m : volt (unless refractory)
        dI_e/dt = -I_e/tau_syn : volt
        dI_i/dt = -I_i/tau_syn : volt
        I_osc = A_osc*sin(2*pi*f_osc*t) : volt
        theta : volt
        count : 1
        cph : 1
        sph : 1
        pred : 1
        err : 1
        tgt : 1 (constant)
        """ + ("gate : 1 (linked)" if self.f["astrocytes"] else "gate : 1")
        group = NeuronGroup(n, eqs, threshold="v > v_th + theta", refractory=2 * ms, method="euler",
                            reset="v = v_reset\ncount += 1\ncph += cos(2*pi*f_osc*t)\nsph += sin(2*pi*f_osc*t)",
                            namespace=ns, name=name)
        group.v = V_REST
        group.tgt = self.spec["learning"]["target_spikes_h2" if name == "h2" else "target_spikes"]
        if not self.f["astrocytes"]:
            group.gate = 1.0
        group.run_regularly("err = count/tgt - pred", dt=ns["present"], when="start", order=-1,
                            name=f"{name}_error")
        group.run_regularly(f"""
        pred = 0
        theta = clip(theta + eta_theta*{self._learn_flag()}*clip(count - tgt, -tgt, 2*tgt), theta_min, theta_max)
        count = 0
        cph = 0
        sph = 0
        v = v_reset
        I_e = 0*mV
        I_i = 0*mV
        """, dt=ns["present"], when="start", order=1, name=f"{name}_boundary")
        return group

    def _astrocytes(self, neurons, name, objs):
        if not self.f["astrocytes"]:
            return
        a = self.spec["astrocytes"]
        n = len(neurons)
        rows = int(np.sqrt(n))
        while n % rows:
            rows -= 1
        astro = astrocyte_group(n, dt=a["dt"], name=f"{name}_astro")
        objs += [astro, couple(astro, a["coupling"], shape=(rows, n // rows), k=4, name=f"{name}_gap"),
                 drive_from_neurons(neurons, astro, name=f"{name}_to_astro")]
        link_gate(neurons, astro)
        self.astros[name] = astro

    def _pathway(self, lower, upper, name, gain, x_scale, w0, ns, rng):
        """Feed-forward synapses lower -> upper and mirrored feedback synapses upper -> lower.

        ``x_scale``: what turns the lower neuron's count into its normalised activity x.
        """
        f = self.f
        T = ns["present"]
        ns[f"eta_{name}"] = self.spec["learning"]["eta_ff"]
        ns[f"xs_{name}"] = x_scale
        gate = "(gate_floor + (1 - gate_floor)*gate_{})".format
        learn = self._learn_flag()
        # x*y from STDP traces: all-to-all pairs within the image, scaled to count units
        norm = f"(xs_{name}*tgt_post*(1 - stdp_ltd)*tau_stdp/present)"

        def weight_update(x, y, err_x, hebb, g):
            y_t = y.replace("count", "tgt")
            corr = f"{hebb}/{norm}" if f["stdp"] else f"({x}/xs_{name})*({y}/{y_t})"
            dw = f"{learn}*{g}*eta_{name}*({corr} - ({x}/xs_{name} - {err_x})*{y}/{y_t})"
            if f["forgetting"]:
                return f"""
                w_fast = w_fast*exp(-present/tau_forget) + {dw}
                w_move = consolidation*{g}*w_fast
                w_slow = clip(w_slow + w_move, 0, 10)
                w_fast = clip(w_fast - w_move, -w_slow, 10)
                hebb = 0"""
            return f"w_slow = clip(w_slow + {dw}, 0, 10)\nhebb = 0"

        model = """
        w_slow : 1
        w_fast : 1
        hebb : 1
        dapre/dt = -apre/tau_stdp : 1 (event-driven)
        dapost/dt = -apost/tau_stdp : 1 (event-driven)
        """
        ff_model, on_pre, release = model, "apre += 1\n", "1"
        if f["stdp"]:
            on_pre += "hebb -= stdp_ltd*apost\n"
        if f["short_term"]:
            ff_model += """
            du_S/dt = -u_S/tau_f : 1 (event-driven)
            dx_S/dt = (1 - x_S)/tau_d : 1 (event-driven)
            r_S : 1
            """
            on_pre += "u_S += U_0*(1 - u_S)\nr_S = u_S*x_S\nx_S -= r_S\n"
            release = "r_S/U_0"
        on_pre += f"I_e_post += {gain!r}*(w_slow + w_fast)*{release}"
        ff = Synapses(lower, upper, ff_model, on_pre=on_pre,
                      on_post="apost += 1\nhebb += apre" if f["stdp"] else "apost += 1",
                      namespace=ns, name=name)
        i, j = _all_pairs(len(lower), len(upper))
        ff.connect(i=i, j=j)
        w_init = rng.uniform(0, w0, len(i))
        ff.w_slow = self._init(name, "w_slow", w_init)
        ff.w_fast = self._init(name, "w_fast", np.zeros(len(i)))
        if f["short_term"]:
            ff.x_S = 1.0
        g_ff = gate("post") if f["astrocytes"] else "1"
        ff.run_regularly(weight_update("count_pre", "count_post", "err_pre", "hebb", g_ff),
                         dt=T, when="start", order=0, name=f"{name}_learn")
        # feedback: builds the lower layer's prediction; mirrored STDP gives the same x*y term
        fb = Synapses(upper, lower, model, namespace=ns, name=f"{name}_fb",
                      on_pre="apre += 1\n" + ("hebb += apost\n" if f["stdp"] else "")
                      + "pred_post += (w_slow + w_fast)/tgt_pre",
                      on_post="apost += 1" + ("\nhebb -= stdp_ltd*apre" if f["stdp"] else ""))
        fb.connect(i=j, j=i)
        fb.w_slow = self._init(f"{name}_fb", "w_slow", w_init)
        fb.w_fast = self._init(f"{name}_fb", "w_fast", np.zeros(len(i)))
        g_fb = gate("pre") if f["astrocytes"] else "1"
        ns[f"xs_{name}"] = x_scale
        fb_update = weight_update("count_post", "count_pre", "err_post", "hebb", g_fb).replace("tgt_post*", "tgt_pre*")
        fb.run_regularly(fb_update,
                         dt=T, when="start", order=0, name=f"{name}_fb_learn")
        return ff, fb

    def _init(self, name, var, default):
        if self.weights and f"{name}.{var}" in self.weights:
            value = np.asarray(self.weights[f"{name}.{var}"], float)
            if value.shape != np.shape(default):
                raise ValueError(f"encoder: stored weights {name}.{var} have shape {value.shape}, "
                                 f"expected {np.shape(default)}")
            return value
        return default

    def _inhibition(self, E, name, ns, objs):
        n = len(E)
        I = NeuronGroup(n, "dv/dt = -v/(2*ms) : 1\ncount : 1", threshold="v > 1", reset="v = 0\ncount += 1",
                        method="exact", name=f"{name}_I")
        I.run_regularly("count = 0\nv = 0", dt=ns["present"], when="start", order=1, name=f"{name}_I_boundary")
        ei = Synapses(E, I, on_pre="v_post += 2", name=f"{name}_EI")
        ei.connect(j="i")
        ie = Synapses(I, E, "W : 1", on_pre=f"I_i_post += {self.spec['network']['gain_inh']!r}*W",
                      namespace=ns, name=f"{name}_IE")
        i, j = _all_pairs(n, n, exclude_self=True)
        ie.connect(i=i, j=j)
        ie.W = self._init(f"{name}_IE", "W", np.full(len(i), 0.2))
        ns["eta_lat"] = self.spec["learning"]["eta_lat"]
        ie.run_regularly(f"W = clip(W + eta_lat*{self._learn_flag()}*(count_pre*count_post - tgt_post**2), 0, 5)",
                         dt=ns["present"], when="start", order=0, name=f"{name}_IE_learn")
        objs += [I, ei, ie]
        self.inhib[name] = (I, ie)

    def _reconstruction(self, h2, inputs, ns, objs, rng):
        """Reconstruction layer: one integrate-and-fire neuron per pixel.

        It integrates the decoder input from hidden 2: excitatory weights D from the E cells and,
        Dale-compliant, inhibitory weights D_neg from their I partners, so the decoder is signed
        (no separate bias: the code's near-constant total activity already provides one).
        During training the one-to-one sensory teacher drives the soma instead,
        while the decoder input builds the dendritic prediction ``pred``. Its error drives a
        normalised delta rule (step / (1 + input power), the power summed from arriving spikes).
        """
        n = self.n_px
        eqs = """
        v : 1
        pred : 1
        pwr : 1
        target_n : 1
        count : 1
        err_avg : 1
        dopa : 1
        """ + ("gate : 1 (linked)" if self.f["astrocytes"] else "gate : 1")
        R = NeuronGroup(n, eqs, threshold="v >= 1", reset="v -= 1\ncount += 1", method="euler",
                        namespace=ns, name="recon")
        self._astrocytes(R, "recon", objs)  # gate linked before synapses refer to it
        R.err_avg = self._init("recon", "err_avg", np.ones(n))
        if not self.f["astrocytes"]:
            R.gate = 1.0
        learn = self._learn_flag()
        R.run_regularly(f"""
        err_now = abs(target_n - pred)
        dopa = {learn}*clip((err_avg - err_now)/(err_avg + 1), 0, 1)
        err_avg = err_avg + {learn}*(err_now - err_avg)/tau_avg
        """, dt=ns["present"], when="start", order=-1, name="recon_reward")
        R.run_regularly("""
        count = 0
        pred = 0
        pwr = 0
        target_n = 0
        v = 0
        """, dt=ns["present"], when="start", order=1, name="recon_boundary")
        teacher = Synapses(inputs, R, on_pre="target_n_post += 1\nv_post += teach(t)", namespace=ns,
                           name="teacher")
        teacher.connect(j="i")
        gate = "(gate_floor + (1 - gate_floor)*gate_post)" if self.f["astrocytes"] else "1"
        ns["eta_dec"] = self.spec["learning"]["eta_dec"]
        step = f"eta_dec*{learn}*{gate}*(1 + kappa*dopa_post)*(target_n_post - pred_post)*count_pre/(1 + pwr_post)"
        sources = [(h2, "decoder", "D", "+", "+")]
        if self.f["inhibition"]:
            sources.append((self.inhib["h2"][0], "decoder_inh", "D_neg", "-", "-"))
        decoders = []
        for src, name, var, sign, direction in sources:
            # the E pathway waits for the I partners (one step behind) so R does not overshoot
            dec = Synapses(src, R, f"{var} : 1", namespace=ns, name=name,
                           delay=2 * self.spec["network"]["dt"] if sign == "+" else 0 * ms,
                           on_pre=f"pred_post {sign}= {var}\nv_post {sign}= (1 - teach(t))*{var}\n"
                                  "pwr_post += 2*count_pre + 1")
            i, j = _all_pairs(len(src), n)
            dec.connect(i=i, j=j)
            setattr(dec, var, self._init(name, var, rng.uniform(0, 0.05, len(i))))
            # a small decay keeps the E/I halves from drifting together along the null direction
            dec.run_regularly(f"{var} = clip({var}*(1 - 1e-4*{learn}) {direction} {step}, 0, 100)",
                              dt=ns["present"], when="start", order=0, name=f"{name}_learn")
            decoders.append(dec)
        objs += [R, teacher, *decoders]
        return R, decoders

    # ----------------------------------------------------------------- build
    def build(self):
        """All Brian2 objects of the run, as a ``Network``."""
        s, net = self.spec, self.spec["network"]
        rng = np.random.default_rng(s["learning"]["seed"])
        ns = self._namespace()
        self.astros, self.inhib = {}, {}
        objs = []
        # Poisson rate code of the image; each input neuron counts its spikes per image
        inputs = NeuronGroup(self.n_px, "count : 1\npred : 1\nerr : 1",
                             threshold="rand() < stimulus(t, i)*input_rate*dt",
                             reset="count += 1", namespace=ns, name="inputs")
        inputs.run_regularly("err = count/(input_rate*present) - pred", dt=ns["present"], when="start",
                             order=-1, name="inputs_error")
        inputs.run_regularly("count = 0\npred = 0", dt=ns["present"], when="start", order=1,
                             name="inputs_boundary")
        h1 = self._excitatory(net["n_h1"], "h1", ns)
        h2 = self._excitatory(net["n_h2"], "h2", ns)
        objs += [inputs, h1, h2]
        for layer, name in ((h1, "h1"), (h2, "h2")):
            self._astrocytes(layer, name, objs)
            layer.theta = self._init(name, "theta", np.zeros(len(layer))) * mV
        # gains are given per 64 inputs: the drive scales with the fan-in, the gain inversely
        ff1, fb1 = self._pathway(inputs, h1, "ff1", net["gain_in"] * 64 / self.n_px,
                                 ns["input_rate"] * ns["present"], s["learning"]["w_init"], ns, rng)
        ff2, fb2 = self._pathway(h1, h2, "ff2", net["gain_h"] * 64 / len(h1), ns["target"],
                                 s["learning"]["w_init"], ns, rng)
        objs += [ff1, fb1, ff2, fb2]
        if self.f["inhibition"]:
            self._inhibition(h1, "h1", ns, objs)
            self._inhibition(h2, "h2", ns, objs)
        R, decoders = self._reconstruction(h2, inputs, ns, objs, rng)
        self.groups = {"inputs": inputs, "h1": h1, "h2": h2, "recon": R}
        self.synapses = {"ff1": ff1, "ff1_fb": fb1, "ff2": ff2, "ff2_fb": fb2,
                         **{d.name: d for d in decoders}}
        T = ns["present"]
        self.monitors = {
            name: StateMonitor(g, ["count", "cph", "sph"] if name in ("h1", "h2") else "count",
                               record=True, dt=T, when="start", order=-2, name=f"{name}_counts")
            for name, g in (("h1", h1), ("h2", h2), ("recon", R), ("input", inputs))
        }
        objs += list(self.monitors.values())
        self.duration = (self.n_slots + 1) * T
        return Network(*objs)
