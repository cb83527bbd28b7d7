"""Reference numbers of two published Brian2 examples, for ``tests/test_examples_glia_reward.py``.

Runs, unmodified and outside this repository, the published example files whose paths are given
(Brian2's ``examples/frompapers/Izhikevich_2007.py`` and
``examples/frompapers/Stimberg_et_al_2018/example_2_gchi_astrocyte.py``, the latter next to its
``plot_utils.py`` and ``figures.mplstyle``), reads the numbers from the monitors they leave in
their globals and writes them to a JSON file. Nothing of the published code is contained here.

What is done around the runs (and nothing else):

* ``matplotlib.use("Agg")`` and ``plt.show`` replaced by a no-op, so the figures are not shown;
* ``brian2.start_scope()`` and ``device.reinit()``/``set_device("runtime")`` between the two
  files, so that each runs alone on its default device;
* the Stimberg file runs with its own folder as working directory and on ``sys.path`` (it imports
  ``plot_utils`` and reads ``figures.mplstyle``); it sets ``cpp_standalone`` and its seed itself.
* durations, seeds and targets are those of the files: 6 s (Izhikevich, runtime target chosen by
  Brian2's ``auto`` preference), 30 s (Stimberg, ``cpp_standalone``, ``seed(790824)``).

Usage::

    python tests/reference/izhikevich2007_stimberg2018_reference.py \\
        /tmp/refr/Izhikevich_2007.py /tmp/refr/Stimberg_et_al_2018/example_2_gchi_astrocyte.py \\
        --commit <brian2 git commit of the files> --out tests/reference/izhikevich2007_stimberg2018.json
"""

import argparse
import contextlib
import hashlib
import json
import os
import runpy
import sys

import numpy as np


def _sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


@contextlib.contextmanager
def _inside(folder):
    old_cwd, old_path = os.getcwd(), list(sys.path)
    os.chdir(folder)
    sys.path.insert(0, folder)
    try:
        yield
    finally:
        os.chdir(old_cwd)
        sys.path[:] = old_path


def _run(path):
    import brian2
    import matplotlib.pyplot as plt

    brian2.device.reinit()
    brian2.set_device("runtime")
    brian2.start_scope()
    plt.show = lambda *args, **kwargs: None
    with _inside(os.path.dirname(os.path.abspath(path))):
        g = runpy.run_path(path, run_name="__main__")
    plt.close("all")
    return g


def _sample_steps(t_steps, event_steps, every, before=5, after=20):
    """Indices of a coarse grid plus dense windows around events (one monitor sample per step)."""
    keep = set(range(0, len(t_steps), every))
    for e in event_steps:
        keep.update(range(max(0, e - before), min(len(t_steps), e + after + 1)))
    return sorted(keep)


def izhikevich(path):
    """Spike times, and the eligibility c, dopamine d and weight s of the plastic synapse."""
    from brian2 import ms, second

    g = _run(path)
    spikes, mon, dop = g["neurons_monitor"], g["synapse_stdp_monitor"], g["dopamine_monitor"]
    dt = float(g["defaultclock"].dt / second)
    steps = np.round(np.asarray(mon.t / second) / dt).astype(int)
    events = np.round(np.concatenate([np.asarray(spikes.t / second), np.asarray(dop.t / second)]) / dt)
    keep = _sample_steps(steps, events.astype(int) + 1, every=int(round(10 * ms / (dt * second))))
    codeobj = type(g["synapse_stdp"].state_updater.codeobj).__name__
    return {
        "dt_s": dt,
        "duration_s": float(g["simulation_duration"] / second),
        "code_object": codeobj,
        "spike_i": np.asarray(spikes.i).tolist(),
        "spike_t_s": np.asarray(spikes.t / second).tolist(),
        "spike_step": np.round(np.asarray(spikes.t / second) / dt).astype(int).tolist(),
        "reward_t_s": np.asarray(dop.t / second).tolist(),
        "monitor_when": mon.when,
        "sample_step": steps[keep].tolist(),
        "c": np.asarray(mon.c[0])[keep].tolist(),
        "d": np.asarray(mon.d[0])[keep].tolist(),
        "s": np.asarray(mon.s[0])[keep].tolist(),
        "s_final": float(g["synapse_stdp"].s[0]),
        "c_final": float(g["synapse_stdp"].c[0]),
        "gmax": float(g["gmax"]),
    }


def _crossings(x, t, level):
    up = np.nonzero((x[1:] >= level) & (x[:-1] < level))[0]
    return t[up + 1]


def stimberg(path):
    """Ca2+, IP3, receptor activation and h of the deterministic (0) and stochastic (1) cells."""
    import brian2
    from brian2 import second, umolar

    g = _run(path)
    mon = g["astro_mon"]
    t = np.asarray(mon.t / second)
    out = {
        "dt_s": float(g["sim_dt"] / second),
        "duration_s": float(g["duration"] / second),
        "seed": 790824,
        "device": type(brian2.get_device()).__name__,
    }
    every = int(round(0.1 / out["dt_s"]))
    for k, label in ((0, "deterministic"), (1, "stochastic")):
        c, i = np.asarray(mon.C[k] / umolar), np.asarray(mon.I[k] / umolar)
        gamma, h = np.asarray(mon.Gamma_A[k]), np.asarray(mon.h[k])
        level = 0.5 * (c.max() + c.min())
        out[label] = {
            "C_max_uM": float(c.max()),
            "t_C_max_s": float(t[np.argmax(c)]),
            "I_max_uM": float(i.max()),
            "Gamma_A_max": float(gamma.max()),
            "h_min": float(h.min()),
            "C_mid_level_uM": float(level),
            "C_crossings_s": _crossings(c, t, level).tolist(),
            "t_every_100ms_s": t[::every].tolist(),
            "C_every_100ms_uM": c[::every].tolist(),
            "I_every_100ms_uM": i[::every].tolist(),
        }
    brian2.device.reinit()
    brian2.set_device("runtime")
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("izhikevich", help="path of the published Izhikevich_2007.py")
    parser.add_argument("stimberg", help="path of the published example_2_gchi_astrocyte.py")
    parser.add_argument("--commit", default="", help="git commit of brian2's repository the files come from")
    parser.add_argument("--out", required=True, help="JSON file to write")
    args = parser.parse_args(argv)
    import matplotlib

    matplotlib.use("Agg")
    import brian2

    result = {
        "brian2_version": brian2.__version__,
        "numpy_version": np.__version__,
        "python_version": sys.version.split()[0],
        "brian2_commit": args.commit,
        "command": "python tests/reference/izhikevich2007_stimberg2018_reference.py "
        + " ".join(sys.argv[1:] if argv is None else argv),
        "files": {
            "izhikevich": {"path": "examples/frompapers/Izhikevich_2007.py", "sha256": _sha256(args.izhikevich)},
            "stimberg": {
                "path": "examples/frompapers/Stimberg_et_al_2018/example_2_gchi_astrocyte.py",
                "sha256": _sha256(args.stimberg),
            },
        },
        "izhikevich2007": izhikevich(args.izhikevich),
        "stimberg2018_example2": stimberg(args.stimberg),
    }
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    d = result["stimberg2018_example2"]["deterministic"]
    z = result["izhikevich2007"]
    print(
        f"izhikevich: {len(z['spike_t_s'])} spikes, s_final/gmax {z['s_final'] / z['gmax']:.6f}; "
        f"stimberg: C max {d['C_max_uM']:.4f} uM, I max {d['I_max_uM']:.4f} uM, "
        f"{len(d['C_crossings_s'])} crossings"
    )


if __name__ == "__main__":
    main()
