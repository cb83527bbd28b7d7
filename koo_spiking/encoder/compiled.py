"""A built Koo Encoder network held open, run once or again with other run parameters.

``cpp_standalone``: the network is generated and compiled once (``device.build(run=False)``);
each :meth:`CompiledNetwork.run` starts the binary with its run parameters as ``run_args``
(``encoder.runtime``) in a results directory of its own, so a sweep over them never
recompiles. Runtime targets (``cython``, ``numpy``) build and run the network anew per run.
"""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import time
from typing import TYPE_CHECKING, Any

import brian2
import numpy as np

from .. import backend
from ..progress import compile_progress, progress_group
from . import checkpoint, runtime
from .hold import HOLD_KEYS
from .network import EncoderNetwork
from .record import relative_steps, steps_per_slot

if TYPE_CHECKING:
    from collections.abc import Mapping

    from brian2.units.fundamentalunits import Quantity
    from numpy.typing import ArrayLike

    from .estimator import KooEncoder

__all__ = ["CompiledNetwork", "structure_key", "build_line", "profile_report", "PERF"]

PERF = "perf"  # the sampling profiler of `koo-spiking train --profile` (Debian: linux-perf)


def build_line(report: Mapping[str, Any]) -> str:
    """One line of a build report (``backend.last_build_report``): files compiled, seconds per phase."""
    sec = report["seconds"]
    parts = [f"compile {sec.get('compile', 0):.0f} s", f"link {sec.get('link', 0):.1f} s"]
    if report.get("objects_s") is not None:
        parts.append(f"objects.cpp {report['objects_s']:.0f} s")
    merged = f", {report['files_merged']} identical copies not compiled" if report.get("files_merged") else ""
    return (
        f"  built: {report['files_compiled']} of {report['files_total']} C++ files compiled{merged} in "
        f"{sec.get('total', sec.get('make', 0)):.0f} s ({', '.join(parts)}; compiler CPU "
        f"{report.get('cpu_seconds', 0):.0f} s)"
    )


@contextlib.contextmanager
def _sampled(path):
    """Run the standalone binary under ``perf record`` writing to ``path`` (None: as it is)."""
    if not path:
        yield
        return
    prefs = brian2.prefs.devices.cpp_standalone
    previous = prefs.run_cmd_unix
    prefs.run_cmd_unix = [PERF, "record", "--quiet", "-F", "499", "-o", os.path.abspath(path), "--", "./main"]
    try:
        yield
    finally:
        prefs.run_cmd_unix = previous


def profile_report(path: str | os.PathLike, out_text: str | os.PathLike, limit: float = 0.5) -> list[list[Any]]:
    """``perf report`` of the samples in ``path``, written to ``out_text``; returns the top symbols
    as ``[[percent, symbol], ...]`` (self time, at least ``limit`` %)."""
    import subprocess

    run = subprocess.run(
        [PERF, "report", "--stdio", "--no-children", "--sort", "dso,symbol", "-i", path, "--percent-limit", str(limit)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if run.returncode != 0:
        raise RuntimeError(f"perf report failed: {' '.join(run.stderr.split())[:300]}")
    with open(out_text, "w") as fh:
        fh.write(run.stdout)
    top = []
    for line in run.stdout.splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[0].endswith("%") and fields[2] in ("[.]", "[k]"):
            try:  # percent, shared object, [.] user or [k] kernel, symbol
                top.append([float(fields[0][:-1]), f"{fields[3]} ({fields[1]})"])
            except ValueError:
                continue
    return top[:30]


def structure_key(spec: Mapping[str, Any], n_pixels: int, raster: bool | int, astro: bool) -> str:
    """What a compiled project depends on beyond run parameters and initial values."""
    net = spec["network"]
    return repr(
        (
            sorted(spec["features"].items()),
            net["n_h1"],
            net["n_h2"],
            net["ei_ratio"],
            n_pixels,
            bool(raster),
            astro,
            brian2.__version__,
        )
    )


class CompiledNetwork:
    """The encoder's network over one schedule, built for repeated runs.

    Parameters are those of ``KooEncoder.simulate``; ``encoder`` supplies the backend, seed and
    verbosity, ``build_key`` (optional) is added to the build cache's key, e.g. a worker's name,
    so parallel processes keep their own projects; ``cache=False`` builds in a fresh temporary
    directory (a full compilation); ``weights_every`` (slots) records every pathway's weight
    statistics at that period; ``profile`` (a path, standalone only): the binary runs under
    ``perf record`` (a sampling profiler), which writes its samples there (see :func:`profile_report`).
    Use as a context manager or call :meth:`close`.
    """

    def __init__(
        self,
        encoder: KooEncoder,
        frames: ArrayLike,
        schedule: Mapping[str, ArrayLike],
        spec: Mapping[str, Any],
        stats: tuple[float, np.ndarray],
        state: Mapping[str, np.ndarray] | None,
        raster: bool | int = False,
        astro: bool = False,
        full_state: Mapping[str, np.ndarray] | None = None,
        t_start: Quantity | None = None,
        seed: int | None = None,
        keep_full: bool = False,
        build_key: str = "",
        cache: bool = True,
        weights_every: int | None = None,
        profile: str | os.PathLike | None = None,
    ) -> None:
        self.enc, self.frames, self.schedule, self.spec = encoder, frames, schedule, spec
        self.stats, self.state, self.raster, self.astro = stats, state, raster, astro
        self.full_state, self.t_start, self.keep_full = full_state, t_start, keep_full
        self.seed = encoder.seed if seed is None else seed
        self.standalone = encoder.backend == "cpp_standalone"
        self.shown = 0 if raster is True or not raster or int(raster) >= len(frames) else int(raster)
        self.build_key, self.cache = build_key, cache
        self.weights_every = weights_every
        self.profile = profile
        self.build_report = None
        self.runs = 0
        self.build_s = 0.0
        self._stack = contextlib.ExitStack()
        self._built = False

    # ------------------------------------------------------------------ building
    def _build(self, spec):
        """Build (and in standalone mode compile) the network with ``spec``'s run parameters."""
        t0 = time.time()
        key = (
            structure_key(spec, len(self.frames[0]), self.raster, self.astro)
            + self.build_key
            + (f"|weights {self.weights_every}" if self.weights_every else "")
            + ("|hold" if HOLD_KEYS[0] in self.schedule else "")
        )
        directory = None
        if self.standalone:
            place = (
                backend.build_directory(key, prefix="koo_encoder_")
                if self.cache
                else backend.temporary_directory("koo_encoder_")
            )
            directory = self._stack.enter_context(place)
        # two run calls (spikes of the last slots only) need an explicit build in standalone mode
        self._stack.enter_context(
            backend.backend(self.enc.backend, directory=directory, build_on_run=not self.standalone)
        )
        self.directory = directory
        # free the objects of an earlier run in this process: Brian2 would otherwise number the new
        # objects' names (h1_1, ...), so the generated files would differ and all be recompiled
        gc.collect()
        brian2.start_scope()
        brian2.defaultclock.dt = spec["network"]["dt"]
        backend.seed(self.seed)
        power, mean_image = self.stats
        model = EncoderNetwork(
            spec, self.frames, self.schedule, power, mean_image, state=self.state, t_start=self.t_start
        )
        net = model.build()
        if self.full_state is not None:
            checkpoint.restore_state(net.objects, self.full_state)
        self.spike_mons, self.astro_mons = {}, {}
        if self.raster:
            self.spike_mons = {name: brian2.SpikeMonitor(g, name=f"raster_{name}") for name, g in model.groups.items()}
            # Ca2+ at the astrocytes' own time step over the recorded slots (observation only)
            self.astro_mons = {
                name: brian2.StateMonitor(a, "C", record=True, name=f"window_{name}_astro")
                for name, a in model.astros.items()
            }
            net.add(*self.spike_mons.values(), *self.astro_mons.values())
        self.weight_mons = {}
        if self.weights_every:  # after the boundary code: sample k holds what slots 0..k*every-1 learned
            for name, syn in model.synapses.items():
                variables = (["w_slow", "w_fast"] if "w_slow" in syn.variables else ["w"]) + (
                    ["alive"] if "alive" in syn.variables else []
                )
                self.weight_mons[name] = brian2.StateMonitor(
                    syn, variables, record=True, when="end", dt=self.weights_every * model.T, name=f"weights_{name}"
                )
            net.add(*self.weight_mons.values())
        report = dict(report=self.enc._report(len(self.frames), spec), report_period=5 * brian2.second, namespace={})
        verbose = self.standalone and self.enc.verbose
        if verbose:  # (Brian2's report would read the clock before every code object)
            net.add(progress_group(len(self.frames), model.T, name="progress"))
        self.start = (len(self.frames) - self.shown) * model.T if self.shown else 0 * brian2.second
        with compile_progress(directory if verbose else None):
            if self.shown:  # spikes of the last slots only: the monitors join for the end of the run
                for mon in [*self.spike_mons.values(), *self.astro_mons.values()]:
                    mon.active = False
                net.run(self.start, **report)
                for mon in [*self.spike_mons.values(), *self.astro_mons.values()]:
                    mon.active = True
                report["report"] = None  # the short tail: no second progress bar
            net.run(model.duration - self.start, **report)
            if self.standalone:
                brian2.device.build(directory=directory, run=False)
        self.build_report = backend.last_build_report() if self.standalone else None
        if verbose and self.build_report:
            print(build_line(self.build_report), flush=True)
        self.model, self.net = model, net
        self._built = True
        self.build_s = time.time() - t0

    # ------------------------------------------------------------------ running
    def run(self, spec: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Run with ``spec`` (default: the network's own), which may differ from it in run parameters only."""
        spec = spec or self.spec
        runtime.check_same_structure(self.spec, spec)
        t0 = time.time()
        if not self.standalone and self._built:  # runtime targets: a fresh network per run
            self._stack.close()
            self._stack = contextlib.ExitStack()
            self._built = False
        if not self._built:
            self._build(spec)
        t_run = time.time()
        if self.standalone:
            results = f"results_{os.getpid()}_{self.runs}"  # (an orphaned binary may still write its own)
            with _sampled(self.profile):
                brian2.device.run(
                    self.directory,
                    results_directory=results,
                    run_args=runtime.run_args(self.model.run_parameters, spec),
                )
        out = self._collect(spec)
        out["build"] = self.build_report if self.runs == 0 else None
        if self.standalone:
            shutil.rmtree(brian2.device.results_dir, ignore_errors=True)
        out["run_s"] = time.time() - t_run
        out["wall_s"] = time.time() - t0
        out["compiled"] = self.runs == 0
        self.runs += 1
        return out

    def _collect(self, spec):
        model, mons = self.model, self.model.monitors
        out = {
            "counts": {k: np.asarray(mons[k].n_last).T[1:].copy() for k in model.groups},
            "dopamine": {
                k: np.asarray(mons[k].dop).T[1:].copy() for k in model.groups if "dop" in mons[k].record_variables
            },
            "phase": {k: np.asarray(mons[k].ph_c).T[1:] + 1j * np.asarray(mons[k].ph_s).T[1:] for k in model.hidden},
            "state": model.learned_state(),
            "spec": spec,
        }
        if self.keep_full:
            out["full_state"] = checkpoint.capture_state(
                [o for o in self.net.objects if o.name != "progress"], model.duration
            )
        if self.raster:  # times as integer steps from the window's first step (encoder.record)
            dt = float(spec["network"]["dt"] / brian2.second)
            first = (len(self.frames) - self.shown) * steps_per_slot(spec) if self.shown else 0
            steps = {k: relative_steps(m.t_[:], dt, first) for k, m in self.spike_mons.items()}
            astro = {
                k: (relative_steps(m.t_[:], dt, first), np.asarray(m.C / brian2.umolar).T)
                for k, m in self.astro_mons.items()
            }
            out["raster"] = {k: (np.asarray(m.i[:]), steps[k] * dt) for k, m in self.spike_mons.items()}
            out["window"] = {
                "slots": self.shown or len(self.frames),
                "steps": steps,
                "astro_steps": astro,
                "astro": {k: (s * dt, c) for k, (s, c) in astro.items()},
            }
        if self.weight_mons:
            out["weights"] = {}
            for name, m in self.weight_mons.items():
                w = np.asarray(m.w_slow + m.w_fast) if "w_slow" in m.record_variables else np.asarray(m.w)
                out["weights"][name] = {
                    "t": np.asarray(m.t / brian2.second),
                    "mean": w.mean(0),
                    "std": w.std(0),
                    "mean_abs": np.abs(w).mean(0),
                }
                if "alive" in m.record_variables:  # structural plasticity: active synapses per target neuron
                    syn = model.synapses[name]
                    j, a = np.asarray(syn.j[:]), np.asarray(m.alive)
                    counts = (
                        np.stack(
                            [np.bincount(j, weights=a[:, k], minlength=len(syn.target)) for k in range(a.shape[1])],
                            axis=1,
                        )
                        if a.size
                        else np.zeros((0, 0))
                    )
                    out["weights"][name].update(
                        active=a.mean(0),
                        count_min=counts.min(0),
                        count_max=counts.max(0),
                        n_possible=float(len(syn.source)),
                    )
        if self.astro or self.raster:
            out["astrocytes"] = {
                k[:-6]: (np.asarray(m.t / brian2.second), np.asarray(m.C / brian2.umolar), np.asarray(m.gate))
                for k, m in mons.items()
                if k.endswith("_astro")
            }
        return out

    def close(self) -> None:
        """Release the built network and its standalone project (the build cache keeps the project)."""
        self._stack.close()
        self._built = False

    def __enter__(self) -> CompiledNetwork:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
