"""Reference numbers from Brian2's published examples, for the examples of koo_spiking.

Runs, unmodified, Brian2's ``examples/synapses/STDP.py`` (Song, Miller & Abbott 2000) and
``examples/frompapers/Tsodyks_Pawelzik_Markram_1998.py`` from the paths given, and writes
the numbers that ``tests/test_examples_synapse.py`` compares with, as JSON:

* STDP: the final weights w/gmax of all synapses, the fractions near 0 and near gmax
  (``NEAR`` = 0.1) and a 20-bin histogram, for each requested duration. The example
  runs 100 s; a shorter duration replaces only the argument of its ``run`` call (its
  parameters are otherwise unchanged). ``brian2.seed(seed)`` is called before the
  example, whose only random numbers are the initial weights and the Poisson inputs.
* TPM 1998: per panel (A, B, C), the peak of the membrane potential after each input
  spike (maximum over the interval up to the next input spike, or to the end), read
  from the traces the example plots; the input spike times come from its own
  ``get_stimulus``.

The examples run with matplotlib's Agg backend (``show`` draws nothing) and the
code-generation target given (default cython). This file contains none of their code.

Usage (from any directory; the published files are taken from a Brian2 checkout)::

    python song2000_tpm1998_reference.py --stdp STDP.py --tpm Tsodyks_Pawelzik_Markram_1998.py \\
        --commit <git commit of the examples> --stdp-durations 100 10 --out song2000_tpm1998.json
"""

import argparse
import hashlib
import json
import os
import runpy
import sys

import matplotlib

matplotlib.use("Agg")

import brian2  # noqa: E402
import numpy as np  # noqa: E402

NEAR = 0.1


def _sha256(path):
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def _run_example(path, duration=None):
    """Execute a published example in a fresh scope; ``duration`` replaces its run duration."""
    import matplotlib.pyplot as plt

    original = brian2.run

    def run(run_duration, *args, level=0, **kwargs):
        return original(run_duration if duration is None else duration, *args, level=level + 1, **kwargs)

    brian2.run = run  # the examples take ``run`` from the brian2 namespace at import
    plt.close("all")
    brian2.start_scope()
    try:
        return runpy.run_path(path, run_name="__main__")
    finally:
        brian2.run = original


def stdp_reference(path, duration_s, seed):
    brian2.seed(seed)
    g = _run_example(path, duration_s * brian2.second)
    w_rel = np.asarray(g["S"].w[:]) / g["gmax"]
    counts, _ = np.histogram(w_rel, bins=20, range=(0.0, 1.0))
    return {
        "duration_s": duration_s,
        "seed": seed,
        "fraction_near_0": float(np.mean(w_rel < NEAR)),
        "fraction_near_w_max": float(np.mean(w_rel > 1 - NEAR)),
        "histogram_20_bins": counts.tolist(),
        "w": w_rel.tolist(),
    }


def tpm_reference(path):
    g = _run_example(path)
    panels = {}
    for ax, (panel, p) in zip(g["axes"], g["parameters"].items()):
        line = ax.get_lines()[0]
        t_ms, v_mv = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
        spikes_ms = np.asarray(g["get_stimulus"](**p["stimulus"]).spike_time / brian2.ms, float)
        edges = np.append(spikes_ms, np.inf)
        peaks = [float(v_mv[(t_ms >= a) & (t_ms < b)].max()) for a, b in zip(edges[:-1], edges[1:])]
        panels[panel] = {
            "spike_times_ms": spikes_ms.tolist(),
            "epsp_peaks_mV": peaks,
            "duration_ms": float(t_ms[-1] + (t_ms[1] - t_ms[0])),
        }
    return panels


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stdp", required=True, help="path of Brian2's examples/synapses/STDP.py")
    parser.add_argument("--tpm", required=True, help="path of examples/frompapers/Tsodyks_Pawelzik_Markram_1998.py")
    parser.add_argument("--commit", required=True, help="git commit of the Brian2 checkout the files come from")
    parser.add_argument("--stdp-durations", type=float, nargs="+", default=[100.0], help="seconds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--target", default="cython", choices=["cython", "numpy"])
    parser.add_argument("--out", required=True, help="JSON file to write")
    args = parser.parse_args(argv)
    brian2.prefs.codegen.target = args.target
    brian2.prefs.logging.console_log_level = "WARNING"
    result = {
        "brian2_version": brian2.__version__,
        "examples_commit": args.commit,
        "command": " ".join([os.path.basename(sys.argv[0])] + (sys.argv[1:] if argv is None else list(argv))),
        "target": args.target,
        "near": NEAR,
        "stdp": {
            "file": "examples/synapses/STDP.py",
            "sha256": _sha256(args.stdp),
            "runs": [stdp_reference(args.stdp, d, args.seed) for d in args.stdp_durations],
        },
        "tpm1998": {
            "file": "examples/frompapers/Tsodyks_Pawelzik_Markram_1998.py",
            "sha256": _sha256(args.tpm),
            "panels": tpm_reference(args.tpm),
        },
    }
    with open(args.out, "w") as fh:
        json.dump(result, fh, indent=1)
    for run in result["stdp"]["runs"]:
        print(
            f"STDP {run['duration_s']:g} s: near 0 {run['fraction_near_0']:.3f}, "
            f"near w_max {run['fraction_near_w_max']:.3f}"
        )
    for panel, values in result["tpm1998"]["panels"].items():
        print(
            f"TPM panel {panel}: first/last EPSP peak {values['epsp_peaks_mV'][0]:.4f} / "
            f"{values['epsp_peaks_mV'][-1]:.4f} mV"
        )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
