"""The demo: a small E/I network with one astrocyte per excitatory neuron, learning from digits.

64 Poisson inputs (one per pixel of scikit-learn's 8x8 digits, Diehl & Cook 2015 rate
code) drive 64 excitatory and 16 inhibitory conductance LIF neurons through
plastic synapses (Tsodyks-Markram short-term depression + pair STDP). Each
excitatory neuron has its own astrocyte on an 8x8 sheet, coupled to its four
neighbours by IP3 gap junctions; the astrocyte's gate sets its neuron's STDP
learning rate. Images are fed through one ``TimedArray`` in a single run.
"""
import json
import os
import time

import brian2
import numpy as np
from brian2 import Hz, Network, PoissonGroup, SpikeMonitor, StateMonitor, TimedArray, ms, second, umolar

from . import backend
from .astrocyte import astrocyte_group, couple, drive_from_neurons, link_gate
from .io.datasets import load_digits01
from .parameters import check_size
from .population import EXCITATORY_EFFECT, ei_pair
from .synapse import stdp_rule, synapses, tm_rule

__all__ = ["DemoNetwork", "run_demo"]


class DemoNetwork:
    """Description and build of the demo network (build inside a backend)."""

    def __init__(self, n_images=20, present=150 * ms, rest=50 * ms, max_rate=63.75 * Hz,
                 n_e=64, n_i=16, seed=0):
        self.n_images = check_size("demo", "n_images", n_images)
        self.n_e = check_size("demo", "n_e", n_e)
        self.n_i = check_size("demo", "n_i", n_i)
        for name, value in (("present", present), ("rest", rest)):
            if not brian2.have_same_dimensions(value, second) or value <= 0 * ms:
                raise ValueError(f"demo: parameter {name!r} must be a positive time, got {value!r}")
        self.present, self.rest, self.max_rate, self.seed = present, rest, max_rate, int(seed)
        self.duration = self.n_images * (present + rest)

    def build(self):
        """Create all Brian2 objects; returns the ``Network``."""
        backend.seed(self.seed)
        rng = np.random.default_rng(self.seed)
        X, _ = load_digits01()
        images = X[rng.choice(len(X), self.n_images, replace=False)]
        slot = 50 * ms
        per_image = int(round(float(self.present / slot)))
        blank = int(round(float(self.rest / slot)))
        frames = np.concatenate([np.vstack([np.repeat(img[None], per_image, 0), np.zeros((blank, 64))])
                                 for img in images])
        stimulus = TimedArray(frames, dt=slot, name="stimulus")
        self.inputs = PoissonGroup(64, rates="stimulus(t, i)*max_rate",
                                   namespace={"stimulus": stimulus, "max_rate": self.max_rate},
                                   name="inputs")
        self.pair = ei_pair(self.n_e, self.n_i, p_ei=0.25, p_ie=0.5, w_ei=3.0, w_ie=0.5, rng=rng,
                            name="demo", e_eqs="gate : 1 (linked)")
        E = self.pair.E
        # astrocytes first: the gate must be linked before synapses refer to it
        rows = int(np.sqrt(self.n_e))
        shape = (rows, self.n_e // rows) if rows * (self.n_e // rows) == self.n_e else None
        self.astro = astrocyte_group(self.n_e, dt=10 * ms, name="astrocytes")
        self.gap = couple(self.astro, "grid" if shape else "ring", shape=shape, name="gap_junctions")
        self.drive = drive_from_neurons(E, self.astro, name="neuron_to_astrocyte")
        link_gate(E, self.astro)
        # STDP steps are absolute: 0.04 and 0.042 are 1% and 1.05% of w_max = 4
        self.ff = synapses(self.inputs, E, [tm_rule("depressing", U_0=0.2, tau_d=200 * ms),
                                            stdp_rule(rate="gate_post", w_max=4.0, A_plus=0.04, A_minus=0.042)],
                           effect=EXCITATORY_EFFECT, name="input_to_E")
        self.ff.connect()  # resources start full (x_S = 1)
        self.w_initial = rng.uniform(2.0, 4.0, 64 * self.n_e)
        self.ff.w = self.w_initial
        self.mon_in = SpikeMonitor(self.inputs, name="spikes_input")
        self.mon_e = SpikeMonitor(E, name="spikes_E")
        self.mon_i = SpikeMonitor(self.pair.I, name="spikes_I")
        self.mon_astro = StateMonitor(self.astro, ["C", "gate"], record=True, dt=100 * ms, name="astro_state")
        return Network(self.inputs, *self.pair.objects, self.ff, self.astro, self.gap, self.drive,
                       self.mon_in, self.mon_e, self.mon_i, self.mon_astro)

    def summary(self, wall_s):
        dur = float(self.duration / second)
        w_after = np.asarray(self.ff.w[:])
        return {
            "backend": backend.current(), "seed": self.seed, "images": self.n_images,
            "simulated_s": dur, "wall_s": round(wall_s, 3),
            "populations": {"input": 64, "E": self.n_e, "I": self.n_i, "astrocytes": self.n_e},
            "spikes": {"input": int(self.mon_in.num_spikes), "E": int(self.mon_e.num_spikes),
                       "I": int(self.mon_i.num_spikes)},
            "rates_hz": {"input": self.mon_in.num_spikes / (64 * dur),
                         "E": self.mon_e.num_spikes / (self.n_e * dur),
                         "I": self.mon_i.num_spikes / (self.n_i * dur)},
            "weights_input_to_E": {"mean_before": float(self.w_initial.mean()),
                                   "mean_after": float(w_after.mean()),
                                   "mean_abs_change": float(np.abs(w_after - self.w_initial).mean())},
            "astrocytes": {"mean_calcium_uM": float(np.mean(self.mon_astro.C / umolar)),
                           "max_calcium_uM": float(np.max(self.mon_astro.C / umolar)),
                           "mean_gate": float(np.mean(self.mon_astro.gate))},
        }


def _progress(elapsed, complete, t_start, duration):
    """Brian2 report callback: a progress bar (one line per report when not on a terminal)."""
    import sys

    bar = "#" * int(30 * complete)
    line = (f"  [{bar:<30}] {complete:6.1%}  simulated {float(t_start + complete * duration):5.2f}/"
            f"{float(duration):.2f} s  wall {float(elapsed):6.1f} s")
    if sys.stdout.isatty():
        print("\r" + line, end="" if complete < 1 else "\n", flush=True)
    else:
        print(line, flush=True)


def run_demo(out, n_images=20, seed=0, target="cython"):
    """Build, run and plot the demo; write raster.png, astrocytes.png, summary.json into ``out``."""
    from .plotting import COLORS, astrocyte_calcium, raster, save
    import matplotlib.pyplot as plt

    model = DemoNetwork(n_images=n_images, seed=seed)
    t0 = time.time()
    with backend.backend(target):
        brian2.start_scope()
        net = model.build()
        print(f"koo-spiking demo: {model.n_images} digits, {float(model.duration / second):.1f} s "
              f"simulated, backend {target}")
        report = "text" if target == "cpp_standalone" else _progress
        net.run(model.duration, report=report, report_period=2 * second)
        wall = time.time() - t0
        summary = model.summary(wall)
        fig, ax = plt.subplots(figsize=(10, 5))
        raster(ax, [("input", model.mon_in.i[:], model.mon_in.t[:] / second, 64, COLORS["input"]),
                    ("E", model.mon_e.i[:], model.mon_e.t[:] / second, model.n_e, COLORS["E"]),
                    ("I", model.mon_i.i[:], model.mon_i.t[:] / second, model.n_i, COLORS["I"])])
        ax.set_title("Demo network: inputs (grey), excitatory (red), inhibitory (blue)")
        figures = {"raster.png": fig}
        fig = plt.figure(figsize=(10, 7))
        astrocyte_calcium(fig, model.mon_astro.t / second, model.mon_astro.C / umolar,
                          gate=model.mon_astro.gate)
        fig.suptitle("One astrocyte per excitatory neuron (8x8 sheet, IP3 gap junctions)")
        figures["astrocytes.png"] = fig
        os.makedirs(out, exist_ok=True)
        for name, f in figures.items():
            save(f, os.path.join(out, name))
        with open(os.path.join(out, "summary.json"), "w") as fh:
            json.dump(summary, fh, indent=2)
    for name in ("raster.png", "astrocytes.png", "summary.json"):
        print(f"  wrote {os.path.join(out, name)}")
    return summary
