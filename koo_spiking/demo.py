"""The demo: a small E/I network with one astrocyte per excitatory neuron, learning from digits.

64 Poisson inputs (one per pixel of scikit-learn's 8x8 digits, Diehl & Cook 2015 rate code)
drive 64 excitatory and 16 inhibitory conductance LIF neurons (``population.ei_pair``: every E
cell excites every I cell, every I cell inhibits every E cell, so the E cells compete). The
digits come in blocks of five of one class (0, 1, 4 in turn), each shown 150 ms with 50 ms blank.
The input -> E synapses (``synapse.synapses``) combine Tsodyks-Markram depression with pair STDP
(potentiation-dominated, A_minus/A_plus = 0.8) whose rate is the postsynaptic neuron's astrocyte
gate: each E cell has its own astrocyte (``astrocyte``, preset ``'single'``: De Pitta's
synaptically driven G-ChI cell, quiescent at rest, graded with its drive), driven by that neuron's
spikes, on an 8x8 sheet with IP3 gap junctions. A neuron that fires raises its astrocyte's Ca2+,
which opens the gate and lets STDP imprint the digits the neuron fires to into its weights. One
compiled run, no Python-side weight update; the stimulus is one ``TimedArray``.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import sys
import time
from typing import TYPE_CHECKING, Any

import brian2
import numpy as np
from brian2 import Hz, Network, PoissonGroup, SpikeMonitor, StateMonitor, TimedArray, ms, second, umolar

from . import backend
from .astrocyte import astrocyte_group, couple, drive_from_neurons, link_gate
from .demo_report import figures, finite, measure
from .io.datasets import load_digits01
from .parameters import check_size
from .population import EXCITATORY_EFFECT, ei_pair
from .synapse import stdp_rule, synapses, tm_rule

if TYPE_CHECKING:
    from brian2.units.fundamentalunits import Quantity

__all__ = ["DemoNetwork", "DEMO_PARAMS", "QUICK_BUILD_MAX_S", "simulate", "measure", "figures", "run_demo"]

#: Runs of at most this much simulated time (s) compile with -O0 in cpp_standalone (see ``simulate``).
QUICK_BUILD_MAX_S = 60.0

#: Tunable constants of the demo (``DemoNetwork(**overrides)``).
DEMO_PARAMS = {
    "w_init": (4.0, 5.0),  # input -> E start weights, uniform in this range (units of g_L)
    "w_max": 12.0,  # STDP upper bound
    "A_plus": 0.6,  # STDP potentiation step per pairing (absolute, units of w)
    "A_ratio": 0.8,  # A_minus / A_plus: potentiation-dominated, so what a neuron fires to is imprinted
    "U_0": 0.2,  # Tsodyks-Markram utilisation of the input synapses
    "tau_d": 100 * ms,  # and their recovery
    "w_ei": (0.0, 1.5),  # E -> I: every pair, weights uniform in this range (fixed counts: a new seed
    "w_ie": 4.0,  # recompiles no code object); I -> E: every pair, strong, so the E cells compete
    "theta_plus": 0.2 * brian2.mV,  # adaptive threshold step of the E cells (homeostasis)
    "rho_c": 1e-5,  # glutamate per spike reaching the astrocyte (1 % of the chapter's: graded drive)
    "C_gate": 0.15 * umolar,  # Ca2+ at half-open plasticity gate
    "tau_gate": 1.0 * second,
    "astro_dt": 10 * ms,
    "coupling": "grid",  # astrocyte sheet (4 neighbours), 'ring' or 'none'
    "classes": (0, 1, 4),  # digit classes shown in turn; None: random digits
    "block": 5,  # images per block of one class
}


class DemoNetwork:
    """Description and build of the demo network (build inside a backend)."""

    def __init__(
        self,
        n_images: int = 30,
        present: Quantity = 150 * ms,
        rest: Quantity = 50 * ms,
        max_rate: Quantity = 63.75 * Hz,
        n_e: int = 64,
        n_i: int = 16,
        seed: int = 0,
        **overrides: Any,
    ) -> None:
        self.n_images = check_size("demo", "n_images", n_images)
        self.n_e = check_size("demo", "n_e", n_e)
        self.n_i = check_size("demo", "n_i", n_i)
        for name, value in (("present", present), ("rest", rest)):
            if not brian2.have_same_dimensions(value, second) or value <= 0 * ms:
                raise ValueError(f"demo: parameter {name!r} must be a positive time, got {value!r}")
        unknown = sorted(set(overrides) - set(DEMO_PARAMS))
        if unknown:
            raise ValueError(f"demo: unknown parameter {unknown[0]!r}")
        self.p = {**DEMO_PARAMS, **overrides}
        self.present, self.rest, self.max_rate, self.seed = present, rest, max_rate, int(seed)
        self.period = present + rest
        self.duration = self.n_images * self.period

    def build(self) -> Network:
        """Create all Brian2 objects; returns the ``Network``."""
        p = self.p
        backend.seed(self.seed)
        rng = np.random.default_rng(self.seed)
        X, y = load_digits01()
        if p["classes"] is None:
            pick = rng.choice(len(X), self.n_images, replace=False)
        else:
            cls = [p["classes"][(k // p["block"]) % len(p["classes"])] for k in range(self.n_images)]
            pools = {c: [] for c in sorted(set(cls))}
            pick = []
            for c in cls:  # images of class c in a random order, without repeats while there are any left
                if not pools[c]:
                    pools[c] = list(rng.permutation(np.nonzero(y == c)[0]))
                pick.append(pools[c].pop())
            pick = np.array(pick)
        self.images, self.labels = X[pick], y[pick]
        slot = 50 * ms
        per_image = int(round(float(self.present / slot)))
        blank = int(round(float(self.rest / slot)))
        frames = np.concatenate(
            [np.vstack([np.repeat(img[None], per_image, 0), np.zeros((blank, 64))]) for img in self.images]
        )
        stimulus = TimedArray(frames, dt=slot, name="stimulus")
        self.inputs = PoissonGroup(
            64,
            rates="stimulus(t, i)*max_rate",
            namespace={"stimulus": stimulus, "max_rate": self.max_rate},
            name="inputs",
        )
        self.pair = ei_pair(
            self.n_e,
            self.n_i,
            p_ei=1.0,
            p_ie=1.0,
            w_ei=float(np.mean(p["w_ei"])),
            w_ie=p["w_ie"],
            rng=rng,
            name="demo",
            e_eqs="gate : 1 (linked)",
            e_kw={"theta_plus": p["theta_plus"]},
        )
        self.pair.E_to_I.w = rng.uniform(*p["w_ei"], self.n_e * self.n_i)  # each I cell pools the E cells its own way
        E = self.pair.E
        # astrocytes first: the gate must be linked before synapses refer to it
        rows = int(np.sqrt(self.n_e))
        shape = (rows, self.n_e // rows) if rows * (self.n_e // rows) == self.n_e else None
        self.astro = astrocyte_group(
            self.n_e,
            dt=p["astro_dt"],
            preset="single",
            rho_c=p["rho_c"],
            C_gate=p["C_gate"],
            tau_gate=p["tau_gate"],
            name="astrocytes",
        )
        topology = p["coupling"] if shape or p["coupling"] == "none" else "ring"
        self.gap = couple(self.astro, topology, shape=shape, name="gap_junctions")
        self.drive = drive_from_neurons(E, self.astro, name="neuron_to_astrocyte")
        link_gate(E, self.astro)
        self.ff = synapses(
            self.inputs,
            E,
            [
                tm_rule("depressing", U_0=p["U_0"], tau_d=p["tau_d"]),
                stdp_rule(rate="gate_post", w_max=p["w_max"], A_plus=p["A_plus"], A_minus=p["A_plus"] * p["A_ratio"]),
            ],
            effect=EXCITATORY_EFFECT,
            name="input_to_E",
        )
        self.ff.connect()  # resources start full (x_S = 1)
        self.w_initial = rng.uniform(*p["w_init"], 64 * self.n_e)
        self.ff.w = self.w_initial
        self.mon_in = SpikeMonitor(self.inputs, name="spikes_input")
        self.mon_e = SpikeMonitor(E, name="spikes_E")
        self.mon_i = SpikeMonitor(self.pair.I, name="spikes_I")
        self.mon_astro = StateMonitor(self.astro, ["C", "gate"], record=True, dt=100 * ms, name="astro_state")
        return Network(
            self.inputs,
            *self.pair.objects,
            self.ff,
            self.astro,
            self.gap,
            self.drive,
            self.mon_in,
            self.mon_e,
            self.mon_i,
            self.mon_astro,
        )

    def results(self) -> dict[str, Any]:
        """The run's recordings as numpy arrays (read them inside the backend block)."""
        # synapse (i, j) order: read the indices, so the weights map onto (input, E) whatever the order
        i, j = np.asarray(self.ff.i[:]), np.asarray(self.ff.j[:])
        w_after = np.zeros((64, self.n_e))
        w_after[i, j] = np.asarray(self.ff.w[:])
        w_before = np.zeros((64, self.n_e))
        w_before[i, j] = self.w_initial  # set in connect's order
        end = float(self.duration / second) - 1e-9  # (a standalone run has one step more, for its progress bar)

        def spikes(mon):
            i, t = np.asarray(mon.i[:]), np.asarray(mon.t[:] / second)
            return i[t < end], t[t < end]

        t_astro = np.asarray(self.mon_astro.t / second)
        keep = t_astro < end
        return {
            "spikes": {name: spikes(m) for name, m in (("input", self.mon_in), ("E", self.mon_e), ("I", self.mon_i))},
            "sizes": {"input": 64, "E": self.n_e, "I": self.n_i},
            "astro_t": t_astro[keep],
            "calcium": np.asarray(self.mon_astro.C / umolar)[:, keep],
            "gate": np.asarray(self.mon_astro.gate)[:, keep],
            "w_before": w_before,
            "w_after": w_after,
            "w_max": float(self.p["w_max"]),
            "images": self.images,
            "labels": self.labels,
            "period": float(self.period / second),
            "present": float(self.present / second),
            "duration": float(self.duration / second),
        }


def _progress(elapsed, complete, t_start, duration):
    """Brian2 report callback: a progress bar (one line per report when not on a terminal)."""
    bar = "#" * int(30 * complete)
    line = (
        f"  [{bar:<30}] {complete:6.1%}  simulated {float(t_start + complete * duration):5.2f}/"
        f"{float(duration):.2f} s  wall {float(elapsed):6.1f} s"
    )
    if sys.stdout.isatty():
        print("\r" + line, end="" if complete < 1 else "\n", flush=True)
    else:
        print(line, flush=True)


def simulate(
    model: DemoNetwork, target: str = "cpp_standalone", verbose: bool = True
) -> tuple[dict[str, Any], dict[str, float]]:
    """Build and run ``model`` under ``target``; returns its results (``DemoNetwork.results``) and timings.

    ``cpp_standalone``: one C++ project per network size, kept in the build cache
    (``backend.build_directory``), so a second run only recompiles the files that changed; the
    standard headers are precompiled once (``backend.precompiled_header``). The compilation is
    announced and counted (``progress.compile_progress``), then the binary prints its own
    progress bar (``progress.progress_group``, one code object on the image clock).
    """
    say = print if verbose else (lambda *a, **k: None)
    standalone = target == "cpp_standalone"
    flags = list(brian2.prefs.codegen.cpp.extra_compile_args_gcc)
    # a short run spends far more time compiling than simulating: -O0 builds the project about 2.5 times
    # faster than -O3 and simulates the default 6 s in about half a second (the same spikes, measured)
    quick = standalone and float(model.duration / second) <= QUICK_BUILD_MAX_S
    build_flags = [f for f in flags if not f.startswith("-O")] + ["-O0"] if quick else flags
    key = repr(("demo", model.n_e, model.n_i, build_flags, brian2.__version__))
    place = backend.build_directory(key, prefix="koo_demo_") if standalone else contextlib.nullcontext(None)
    timings = {"start": time.time()}
    brian2.prefs.codegen.cpp.extra_compile_args_gcc = build_flags
    try:
        res = _run(model, target, place, timings, say, verbose)
    finally:
        brian2.prefs.codegen.cpp.extra_compile_args_gcc = flags
    return res, timings


def _run(model, target, place, timings, say, verbose):
    standalone = target == "cpp_standalone"
    with place as directory:
        if standalone:
            cached = os.path.exists(os.path.join(directory, "main"))
            say(
                "  compiling… (C++ "
                + (
                    "project cached: only the files that changed"
                    if cached
                    else "project, first run: about 25 s on 2 cores; cached for the next runs"
                )
                + ")",
                flush=True,
            )
        else:
            say(
                "  compiling… ("
                + (
                    "cython: each code object on first use, cached in ~/.cython"
                    if target == "cython"
                    else "numpy: nothing to compile"
                )
                + ")",
                flush=True,
            )
        with backend.backend(target, directory=directory, build_on_run=False):
            gc.collect()  # an earlier model's objects would make Brian2 number the names (recompiling)
            brian2.start_scope()
            net = model.build()
            t1 = time.time()
            if standalone:
                from .progress import compile_progress, progress_group

                net.add(progress_group(model.n_images, model.period, name="progress"))
                # one time step more, so that the progress group's clock reaches the end (its last line)
                net.run(model.duration + brian2.defaultclock.dt)
                with compile_progress(directory if verbose else None):
                    brian2.device.build(directory=directory, run=False)
                timings["compile_s"] = time.time() - timings["start"]
                say(
                    f"  compiled in {timings['compile_s']:.1f} s; simulating {model.n_images} images "
                    f"({float(model.duration / second):.1f} s)",
                    flush=True,
                )
                t1 = time.time()
                brian2.device.run(directory=directory, with_output=verbose)
                timings["simulate_s"] = time.time() - t1
            else:  # runtime: the code objects compile as the run starts
                net.run(model.duration, report=_progress if verbose else None, report_period=2 * second)
                timings["compile_and_simulate_s"] = time.time() - t1
            return model.results()


def run_demo(
    out: str | os.PathLike, n_images: int = 30, seed: int = 0, target: str = "cpp_standalone"
) -> dict[str, Any]:
    """Build, run and plot the demo; write its figures, spikes.npz and summary.json into ``out``.

    Returns the summary (also in ``summary.json``).
    """
    from .studies.train import check_out

    check_out(out, overwrite=True)  # an output path that cannot take the files fails now, not after the run
    model = DemoNetwork(n_images=n_images, seed=seed)
    print(
        f"koo-spiking demo: {model.n_images} digits, {float(model.duration / second):.1f} s simulated, "
        f"64 inputs -> {model.n_e} E + {model.n_i} I neurons, {model.n_e} astrocytes; backend {target}",
        flush=True,
    )
    res, timings = simulate(model, target)
    summary = {
        "backend": target,
        "seed": model.seed,
        "images": model.n_images,
        "simulated_s": res["duration"],
        "populations": {"input": 64, "E": model.n_e, "I": model.n_i, "astrocytes": model.n_e},
        **measure(res),
    }
    os.makedirs(out, exist_ok=True)
    written = figures(res, summary, out)
    path = os.path.join(out, "spikes.npz")
    np.savez_compressed(
        path,
        **{f"{k}_i": v[0] for k, v in res["spikes"].items()},
        **{f"{k}_t_s": v[1] for k, v in res["spikes"].items()},
        astro_t_s=res["astro_t"],
        calcium_uM=res["calcium"],
        gate=res["gate"],
        w_before=res["w_before"],
        w_after=res["w_after"],
        labels=res["labels"],
    )
    written.append(path)
    timings["total_s"] = time.time() - timings.pop("start")
    summary["wall_s"] = round(timings["total_s"], 3)
    summary["timings_s"] = {k: round(v, 3) for k, v in timings.items()}
    path = os.path.join(out, "summary.json")
    with open(path, "w") as fh:
        json.dump(finite(summary), fh, indent=2)
    written.append(path)
    for path in written:
        print(f"  wrote {path}")
    return summary
