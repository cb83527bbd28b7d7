"""Training throughput: the Koo Encoder v2 (this checkout) against v1 at equal sizes, in one run.

Issue 6 target: training throughput not slower than v1 at equal sizes. v1 is the code before the
v2 rewrite (default commit ``92e1d36^``), checked out with ``git worktree add --detach`` into a
temporary folder (removed at the end, also on error); the checkout itself is never touched. Each
run is one ``KooEncoder.fit`` in its own subprocess (a Brian2 standalone device is one per process),
with PYTHONPATH at that version's tree, backend ``cpp_standalone``, progress off, and its own build
directory (v2: ``KOO_BUILD_CACHE`` in the benchmark's folder; v1, which makes a fresh temporary
project per run, is given one fixed folder instead). Runs alternate v1, v2, v1, v2, ...: the first
round compiles cold, later rounds reuse the project, so make only recompiles what changed. With the
defaults the whole run takes 6 to 8 minutes on 2 busy cores, mostly the two cold compiles.

Measured per run, from Brian2's standalone timers: ``sim_s``, the wall time of the simulation loop
itself (Brian2's ``_last_run_time``: network run only, no compile, no loading or writing of arrays)
and images/s = training images / sim_s; ``make_s``, the compilation; ``build_s``, the whole fit
minus running the binary (building the network in Python, code generation, make, reading results);
``fit_s`` and end-to-end images/s. v2 builds a precompiled header of the C++ standard library once
per compiler (``backend.precompiled_header``): timed on its own (``pch_s``) before the fit, not in
``build_s``. The ratio v2/v1 of images/s is the median over rounds of each, from the same run.

Equal in both: digits 8x8 (sklearn, in [0, 1]), the same training images (one pass, shuffled by each
version's own schedule, every slot plastic with the teacher on: v1 ``epochs`` 1, v2 ``epochs`` 1 and
``decoder_epochs`` 0), n_h1, n_h2, dt, presentation time, input rate, the feature flags (the v2
spec's, set in v1 too; printed and in the JSON: with ``models/koo_encoder.toml`` inhibition, forgetting,
astrocytes, reward and phase on, stdp and short_term off; v1's reward was a factor on the read-out's
step, v2's acts on eligibility traces in every pathway), astrocyte time step (10 ms), seed, backend,
no progress report, no spike monitors.
Not equal (the architectures differ; each version keeps its own):
- inhibitory cells: v1 has one I partner per E cell in h1 and h2 (n_h1 + n_h2 I cells, all-to-all
  I->E), no I cells at the read-out; v2 has ceil(n / ei_ratio) I cells per layer in h1, h2 and
  the reconstruction layer, pooling the layer below;
- input code: v1 is Poisson only; v2 uses its spec's ``input_code`` (default regular, deterministic
  phases; ``--v2-input-code poisson`` makes it equal) and delivers the image in the first stage of
  each slot;
- synapses: v1 has separate feed-forward and feedback synapses per pathway; v2 has tied
  reciprocal synapses plus pooled inhibition and per-layer hub cells; the read-out teacher rate is
  the input rate in v1 and ``output_rate`` in v2;
- all learning parameters are each version's own defaults (v1's own defaults are n_h1 64,
  present 300 ms, input 200 Hz, every feature on: overridden here); the table lists each version's
  neurons, synapses and code objects and the spikes per training image, so the work done is visible.

Prints a table; ``--json`` writes the git commit of the checkout, the command line, the v1 commit,
the sizes and every measurement.

``--today COMMIT`` (issue 26) compares the checkout with the same encoder as it was at COMMIT instead of
v1 (e.g. ``--today 23d3e4c``, before the build and step optimisations): the same v2 spec, images and
sizes in both, runs "today" and "new" alternating. ``--size fashion`` runs at Fashion-MNIST size:
``models/koo_fashion.toml``'s network (n_h1 128, n_h2 64) on 28x28 images (the digits scaled up
bilinearly, 784 pixels; the data set itself is not needed). Both also report images per CPU-second
(``sim_s`` is Brian2's ``_last_run_time``, measured with ``std::clock``: the CPU time of the
simulation loop) and per wall-second of the binary (``binary_s``: loading, simulating, writing), and
the CPU seconds of the binary (``binary_cpu_s``, from the process's children).

v2 is the checkout's working tree (koo_spiking/ copied into the benchmark's folder at the start, so
edits made while it runs do not mix into later rounds; the JSON lists uncommitted changes and a hash
of their diff), or a commit with ``--v2 COMMIT`` (a second temporary worktree).

Usage: python benchmarks/bench_throughput.py [--v1 COMMIT | --today COMMIT] [--v2 COMMIT] [--size fashion]
       [--images 2000] [--n-h1 32] [--n-h2 16]
       [--dt "0.5 ms"] [--present "100 ms"] [--input-rate "80 Hz"] [--rounds 2] [--seed 0]
       [--spec models/koo_encoder.toml] [--v2-input-code poisson] [--timeout 900]
       [--json benchmarks/results/throughput.json]
"""

import argparse
import hashlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import tomllib
from worktrees import git, remove

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_V1 = "92e1d36^"
N_DIGITS = 1797


# ---------------------------------------------------------------------------------- the child
def _child(version, config_path, result_path):
    """One fit of one version (this process imports only that version's koo_spiking)."""
    with open(config_path) as fh:
        cfg = json.load(fh)
    tree = os.path.realpath(cfg["tree"])
    import koo_spiking

    where = os.path.realpath(koo_spiking.__file__)
    if not where.startswith(tree + os.sep):
        raise RuntimeError(f"bench_throughput: {version} imported koo_spiking from {where}, not from {tree}")
    import brian2
    import numpy as np
    from brian2.devices.cpp_standalone.device import CPPStandaloneDevice
    from sklearn.datasets import load_digits

    rec = {"version": version, "koo_spiking": where, "brian2": brian2.__version__}
    original_build, original_run = CPPStandaloneDevice.build, brian2.Network.run
    original_binary = CPPStandaloneDevice.run

    def binary(self, *args, **kwargs):
        import resource

        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        out = original_binary(self, *args, **kwargs)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        rec.update(
            binary_wall_s=time.perf_counter() - t0,
            binary_cpu_s=after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime,
            binary_s=self.timers["run_binary"],
            sim_s=float(self._last_run_time),
            completed=float(self._last_run_completed_fraction),
        )
        return out

    def build(self, *args, **kwargs):
        t0 = time.perf_counter()
        out = original_build(self, *args, **kwargs)
        rec.update(
            build_call_s=time.perf_counter() - t0,
            make_s=self.timers["compile"]["make"],
            clean_s=self.timers["compile"]["clean"],
            code_objects=len(self.code_objects),
            project=self.project_dir,
        )
        if hasattr(self, "_last_run_time"):  # a build that ran the binary (v1); else device.run (below)
            rec.update(
                binary_s=self.timers["run_binary"],
                sim_s=float(self._last_run_time),
                completed=float(self._last_run_completed_fraction),
            )
        return out

    def run(self, *args, **kwargs):
        out = original_run(self, *args, **kwargs)  # builds and runs the binary (build_on_run)
        neurons, synapses = {}, {}
        for obj in self.objects:
            try:
                if isinstance(obj, brian2.Synapses):
                    synapses[obj.name] = int(len(obj))
                elif isinstance(obj, brian2.NeuronGroup):
                    neurons[obj.name] = int(len(obj))
            except Exception:  # noqa: BLE001 (a size Brian2 cannot read back is left out)
                pass
        rec.update(neurons=neurons, synapses=synapses)
        return out

    CPPStandaloneDevice.build, brian2.Network.run, CPPStandaloneDevice.run = build, run, binary
    X = load_digits().data.astype(np.float64) / 16.0
    if cfg.get("pixels", 64) != 64:  # Fashion-MNIST size: the digits scaled up bilinearly
        from scipy.ndimage import zoom

        side = int(round(cfg["pixels"] ** 0.5))
        X = np.clip(np.stack([zoom(x.reshape(8, 8), side / 8, order=1) for x in X]), 0, 1).reshape(len(X), -1)
    X = X[np.arange(cfg["images"]) % len(X)]
    spec = cfg["spec"]
    if cfg.get("api", "v1" if version == "v1" else "v2") == "v1":
        import koo_spiking.encoder as encoder_module
        from koo_spiking.encoder import KooEncoder

        project = cfg["build_dir"]

        def mkdtemp(prefix="", **_):  # v1 makes a fresh project per run: give it one fixed folder
            os.makedirs(project, exist_ok=True)
            return project

        encoder_module.tempfile = type("FixedProject", (), {"mkdtemp": staticmethod(mkdtemp)})
    else:
        from koo_spiking import backend
        from koo_spiking.encoder import KooEncoder

        t0 = time.perf_counter()
        rec["pch"] = backend.precompiled_header(list(brian2.prefs.codegen.cpp.extra_compile_args_gcc))
        rec["pch_s"] = time.perf_counter() - t0
    model = KooEncoder(spec=spec, backend="cpp_standalone", seed=cfg["seed"], verbose=False)
    t0 = time.perf_counter()
    model.fit(X)
    rec["fit_s"] = time.perf_counter() - t0
    n = cfg["images"]
    counts = {k: float(np.asarray(v).sum()) / n for k, v in model.train_counts_.items()}
    rec["spikes_per_image"] = counts
    rec["spikes_per_image_total"] = float(sum(counts.values()))
    rec["images"] = n
    rec["images_per_s"] = n / rec["sim_s"]
    rec["images_per_s_end_to_end"] = n / rec["fit_s"]
    rec["images_per_cpu_s"] = n / rec["sim_s"]  # (std::clock: CPU of the simulation loop)
    rec["images_per_wall_s"] = n / rec["binary_wall_s"]  # the binary: loading, simulating, writing
    rec["build_s"] = rec["fit_s"] - rec["binary_s"]
    rec["n_neurons"] = int(sum(rec.get("neurons", {}).values()))
    rec["n_synapses"] = int(sum(rec.get("synapses", {}).values()))
    with open(result_path, "w") as fh:
        json.dump(rec, fh, indent=2, default=str)
    return 0


# ---------------------------------------------------------------------------------- the parent


def _working_tree():
    """Uncommitted changes of the checkout (tracked files) and a hash of their diff."""
    status = subprocess.run(
        ["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout  # (not stripped: ' M path')
    diff = subprocess.run(["git", "-C", ROOT, "diff", "HEAD"], capture_output=True, timeout=120).stdout
    return {
        "changed": [line[3:] for line in status.splitlines() if line.strip()],
        "diff_sha1": hashlib.sha1(diff).hexdigest(),
    }


def _specs(args, v2_spec):
    net = v2_spec["network"]
    image = "28x28 (digits scaled up, 784 pixels)" if args.size == "fashion" else "8x8 digits (64 pixels)"
    sizes = {
        "image": image,
        "pixels": 784 if args.size == "fashion" else 64,
        "images": args.images,
        "n_h1": args.n_h1 if args.n_h1 is not None else net["n_h1"],
        "n_h2": args.n_h2 if args.n_h2 is not None else net["n_h2"],
        "dt": args.dt or net["dt"],
        "present": args.present or net["present"],
        "input_rate": args.input_rate or net["input_rate"],
        "seed": args.seed,
        "backend": "cpp_standalone",
        "progress": "off",
    }
    shared = {k: sizes[k] for k in ("n_h1", "n_h2", "dt", "present", "input_rate")}
    features = dict(v2_spec["features"])
    v2 = json.loads(json.dumps(v2_spec))
    v2["network"].update(shared)
    if args.v2_input_code:
        v2["network"]["input_code"] = args.v2_input_code
    v2["learning"].update(epochs=1, decoder_epochs=0, seed=args.seed)
    v1 = {
        "name": "koo_encoder_v1",
        "network": dict(shared),
        "features": features,
        "learning": {"epochs": 1, "seed": args.seed},
        "astrocytes": {"dt": v2_spec.get("astrocytes", {}).get("dt", "10 ms")},
    }
    sizes["features"] = features
    sizes["v2_input_code"] = v2["network"].get("input_code")
    return sizes, v1, v2


def _run_child(version, tree, cfg, work, index, timeout):
    config = os.path.join(work, f"config_{index}_{version}.json")
    result = os.path.join(work, f"result_{index}_{version}.json")
    log = os.path.join(work, f"log_{index}_{version}.txt")
    with open(config, "w") as fh:
        json.dump(cfg, fh)
    env = dict(os.environ, PYTHONPATH=tree, PYTHONDONTWRITEBYTECODE="1")
    if version != "v1":
        env["KOO_BUILD_CACHE"] = os.path.join(work, f"{version}_cache")  # its precompiled header lands in work/pch
    scratch = os.path.join(work, f"cwd_{version}")
    os.makedirs(scratch, exist_ok=True)
    t0 = time.perf_counter()
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--child", version, config, result],
            cwd=scratch,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            rc = proc.wait(timeout=timeout)
        except BaseException:
            os.killpg(proc.pid, signal.SIGKILL)  # the child's session: it and its make / main
            proc.wait()
            raise
    if rc != 0:
        with open(log) as fh:
            tail = fh.read()[-3000:]
        raise RuntimeError(f"bench_throughput: {version} run {index} failed (exit {rc}):\n{tail}")
    with open(result) as fh:
        rec = json.load(fh)
    rec["process_s"] = time.perf_counter() - t0
    return rec


def _sigterm(*_):
    raise SystemExit(143)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--v1", default=DEFAULT_V1, metavar="COMMIT", help="commit of v1 (default 92e1d36^)")
    parser.add_argument(
        "--today",
        default=None,
        metavar="COMMIT",
        help="compare with the encoder as it was at COMMIT (same spec) instead of v1, e.g. 23d3e4c",
    )
    parser.add_argument(
        "--size",
        choices=("digits", "fashion"),
        default="digits",
        help="fashion: models/koo_fashion.toml's network on 784-pixel images",
    )
    parser.add_argument(
        "--v2",
        default=None,
        metavar="COMMIT",
        help="commit of v2 (default: this checkout's working tree, copied at the start)",
    )
    parser.add_argument(
        "--spec",
        default=None,
        help="v2 spec (default: models/koo_encoder.toml of v2's tree); its network sizes are "
        "the defaults of the options below",
    )
    parser.add_argument("--images", type=int, default=2000, help="training images per fit (digits, cycled)")
    parser.add_argument("--n-h1", type=int, default=None, help="hidden-1 E cells (default: the v2 spec's)")
    parser.add_argument("--n-h2", type=int, default=None, help="hidden-2 E cells, the code (default: the v2 spec's)")
    parser.add_argument("--dt", default=None, help="time step, e.g. '0.5 ms' (default: the v2 spec's)")
    parser.add_argument(
        "--present", default=None, help="presentation per image, e.g. '100 ms' (default: the v2 spec's)"
    )
    parser.add_argument(
        "--input-rate", default=None, help="rate of a white pixel, both versions (default: the v2 spec's)"
    )
    parser.add_argument(
        "--v2-input-code",
        choices=("regular", "poisson"),
        default=None,
        help="v2's input code (default: the spec's; v1 is always Poisson)",
    )
    parser.add_argument("--rounds", type=int, default=2, help="rounds of (v1, v2); the first compiles cold")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=900, help="seconds per fit process")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark's folder (logs, projects)")
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    if args.images < 1 or args.rounds < 1:
        parser.error("--images and --rounds must be positive")
    from koo_spiking.studies.train import provenance  # this checkout (the child imports its own tree)

    if args.size == "fashion" and args.spec is None:
        args.spec = os.path.join(ROOT, "models", "koo_fashion.toml")
    names = ("today", "new") if args.today else ("v1", "v2")
    if args.today:
        args.v1 = args.today
    v1_sha = git("rev-parse", "--verify", args.v1 + "^{commit}")
    v2_sha = git("rev-parse", "--verify", args.v2 + "^{commit}") if args.v2 else None
    report = {
        "provenance": provenance(),
        "v1_commit": {"given": args.v1, "sha": v1_sha},
        "v2": {"given": args.v2, "sha": v2_sha} if args.v2 else {"working_tree": _working_tree()},
    }
    work = tempfile.mkdtemp(prefix="bench_throughput_")
    tree_v1, tree_v2 = os.path.join(work, "v1"), os.path.join(work, "v2")
    trees = [tree_v1] + ([tree_v2] if args.v2 else [])
    previous = signal.signal(signal.SIGTERM, _sigterm)
    runs = []
    try:
        git("worktree", "add", "--detach", tree_v1, v1_sha)
        if args.v2:
            git("worktree", "add", "--detach", tree_v2, v2_sha)
        else:  # a snapshot of the working tree: edits during the run stay out of it
            shutil.copytree(
                os.path.join(ROOT, "koo_spiking"),
                os.path.join(tree_v2, "koo_spiking"),
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            )
        spec_file = args.spec or os.path.join(tree_v2 if args.v2 else ROOT, "models", "koo_encoder.toml")
        with open(spec_file, "rb") as fh:
            v2_spec = tomllib.load(fh)
        full = os.path.join(tree_v2 if args.v2 else ROOT, "models", "koo_encoder.toml")
        if os.path.abspath(spec_file) != os.path.abspath(full):  # a partial spec: the full model's other keys
            with open(full, "rb") as fh:
                base = tomllib.load(fh)
            for section, entries in v2_spec.items():
                if isinstance(entries, dict):
                    base.setdefault(section, {}).update(entries)
                else:
                    base[section] = entries
            v2_spec = base
        sizes, spec_v1, spec_v2 = _specs(args, v2_spec)
        if args.today:  # the same spec in both
            spec_v1 = spec_v2
        report.update(
            v2_spec_file=args.spec or "models/koo_encoder.toml",
            sizes=sizes,
            specs={names[0]: spec_v1, names[1]: spec_v2},
            not_equal=[] if args.today else NOT_EQUAL,
            versions=list(names),
        )
        v2_name = v2_sha or report["provenance"]["git_commit"]
        print(
            f"bench_throughput: {names[0]} {args.v1} ({v1_sha[:10]}) against {names[1]} {v2_name}, "
            f"{args.images} images, n_h1 {sizes['n_h1']}, n_h2 {sizes['n_h2']}, dt {sizes['dt']}, "
            f"present {sizes['present']}, input {sizes['input_rate']}, {args.rounds} rounds",
            flush=True,
        )
        for r in range(1, args.rounds + 1):
            for version, tree, spec in ((names[0], tree_v1, spec_v1), (names[1], tree_v2, spec_v2)):
                cfg = {
                    "tree": tree,
                    "spec": spec,
                    "images": args.images,
                    "seed": args.seed,
                    "build_dir": os.path.join(work, "v1_build"),
                    "pixels": sizes["pixels"],
                    "api": "v1" if version == "v1" else "v2",
                }
                rec = _run_child(version, tree, cfg, work, r, args.timeout)
                rec.update(round=r, compile="cold" if r == 1 else "warm")
                runs.append(rec)
                print(
                    f"  round {r} {version}: {rec['images_per_s']:.1f} images/CPU-s (sim {rec['sim_s']:.2f} s), "
                    f"build {rec['build_s']:.1f} s (make {rec['make_s']:.1f} s)",
                    flush=True,
                )
    finally:
        signal.signal(signal.SIGTERM, previous)
        remove(trees, work, args.keep)
    for rec in runs:  # temporary paths, gone with the folder
        for key in ("project", "koo_spiking", "pch"):
            rec.pop(key, None)
    report["runs"] = runs
    report["summary"] = summarize(runs, names)
    print(table(runs, report["summary"], sizes, names))
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as fh:
            json.dump(report, fh, indent=2, default=str)
        print(f"wrote {args.json}")
    return 0


NOT_EQUAL = [
    "inhibitory cells: v1 one I partner per E cell in h1 and h2 (all-to-all I->E), none at the read-out; "
    "v2 ceil(n/ei_ratio) I cells per layer in h1, h2 and reconstruction, pooling the layer below",
    "input code: v1 Poisson only; v2 its spec's input_code (default regular), image delivered in the first "
    "stage of each slot",
    "synapses: v1 separate feed-forward and feedback synapses; v2 tied reciprocal synapses, pooled inhibition, "
    "hub cells; read-out teacher at the input rate (v1) or output_rate (v2)",
    "learning parameters: each version's own defaults",
    "build: v2 compiles with a precompiled header of the C++ standard library (pch_s, once per compiler, "
    "outside build_s); v1 has none",
]


def summarize(runs, names=("v1", "v2")):
    out = {}
    for version in names:
        rs = [r for r in runs if r["version"] == version]
        cold = [r for r in rs if r["compile"] == "cold"]
        warm = [r for r in rs if r["compile"] == "warm"]
        ips = [r["images_per_s"] for r in rs]
        out[version] = {
            "images_per_s": ips,
            "images_per_s_median": statistics.median(ips),
            "sim_s": [r["sim_s"] for r in rs],
            "images_per_s_end_to_end": [r["images_per_s_end_to_end"] for r in rs],
            "build_s_cold": [r["build_s"] for r in cold],
            "build_s_warm": [r["build_s"] for r in warm],
            "make_s_cold": [r["make_s"] for r in cold],
            "make_s_warm": [r["make_s"] for r in warm],
            "neurons": rs[0]["n_neurons"],
            "synapses": rs[0]["n_synapses"],
            "code_objects": rs[0]["code_objects"],
            "spikes_per_image": rs[0]["spikes_per_image_total"],
        }
        if all("images_per_wall_s" in r for r in rs):
            out[version]["images_per_wall_s"] = [r["images_per_wall_s"] for r in rs]
            out[version]["images_per_wall_s_median"] = statistics.median(out[version]["images_per_wall_s"])
            out[version]["binary_cpu_s"] = [r["binary_cpu_s"] for r in rs]
    a_name, b_name = names
    v1, v2 = out[a_name], out[b_name]
    tag = f"{b_name}_{a_name}"
    per_round = [
        b["images_per_s"] / a["images_per_s"]
        for a, b in zip([r for r in runs if r["version"] == a_name], [r for r in runs if r["version"] == b_name])
    ]
    out[f"ratio_{tag}_images_per_s"] = v2["images_per_s_median"] / v1["images_per_s_median"]
    out[f"ratio_{tag}_images_per_s_per_round"] = per_round
    if "images_per_wall_s_median" in v1 and "images_per_wall_s_median" in v2:
        out[f"ratio_{tag}_images_per_wall_s"] = v2["images_per_wall_s_median"] / v1["images_per_wall_s_median"]
    out[f"target_{b_name}_not_slower"] = bool(out[f"ratio_{tag}_images_per_s"] >= 1.0)
    for kind in ("cold", "warm"):
        a, b = v1[f"build_s_{kind}"], v2[f"build_s_{kind}"]
        if a and b:
            out[f"ratio_{tag}_build_s_{kind}"] = statistics.median(b) / statistics.median(a)
    return out


def table(runs, summary, sizes, names=("v1", "v2")):
    head = (
        f"{'version':<8}{'round':>6}{'compile':>9}{'sim s':>8}{'img/CPU-s':>10}{'fit s':>8}"
        f"{'end-to-end/s':>14}{'build s':>9}{'make s':>8}{'pch s':>7}{'spikes/img':>12}"
    )
    rows = [
        f"sizes: {sizes['images']} training images of {sizes['image']}, n_h1 {sizes['n_h1']}, "
        f"n_h2 {sizes['n_h2']}, dt {sizes['dt']}, present {sizes['present']}, input {sizes['input_rate']}, "
        f"{sizes['backend']}, progress off",
        "features on: " + (", ".join(k for k, v in sizes["features"].items() if v) or "none"),
        head,
        "-" * len(head),
    ]
    for r in runs:
        pch = f"{r['pch_s']:7.1f}" if "pch_s" in r else f"{'-':>7}"
        rows.append(
            f"{r['version']:<8}{r['round']:>6}{r['compile']:>9}{r['sim_s']:8.2f}{r['images_per_s']:10.1f}"
            f"{r['fit_s']:8.1f}{r['images_per_s_end_to_end']:14.1f}{r['build_s']:9.1f}{r['make_s']:8.1f}"
            f"{pch}{r['spikes_per_image_total']:12.0f}"
        )
    rows.append("-" * len(head))
    a_name, b_name = names
    tag = f"{b_name}_{a_name}"
    for v in names:
        s = summary[v]
        wall = (
            f", {s['images_per_wall_s_median']:.1f} images per wall-second of the binary"
            if "images_per_wall_s_median" in s
            else ""
        )
        rows.append(
            f"{v}: {s['neurons']} neurons, {s['synapses']} synapses, {s['code_objects']} code objects; "
            f"median {s['images_per_s_median']:.1f} images per CPU-second of the simulation{wall}"
        )
    ratio = summary[f"ratio_{tag}_images_per_s"]
    rows.append(
        f"ratio {b_name}/{a_name} images per CPU-second (median of rounds): {ratio:.2f} "
        f"(per round {', '.join(f'{x:.2f}' for x in summary[f'ratio_{tag}_images_per_s_per_round'])}); "
        f"target not slower: {summary[f'target_{b_name}_not_slower']}"
    )
    if f"ratio_{tag}_images_per_wall_s" in summary:
        rows.append(
            f"ratio {b_name}/{a_name} images per wall-second of the binary: "
            f"{summary[f'ratio_{tag}_images_per_wall_s']:.2f}"
        )
    for kind in ("cold", "warm"):
        if f"ratio_{tag}_build_s_{kind}" in summary:
            rows.append(f"ratio {b_name}/{a_name} build s, {kind}: {summary[f'ratio_{tag}_build_s_{kind}']:.2f}")
    if a_name == "v1":
        rows.append("not equal: " + "; ".join(NOT_EQUAL))
    return "\n".join(rows)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        sys.exit(_child(*sys.argv[2:]))
    sys.exit(main())
