"""Build time of the main job, cold and warm: this checkout against the build as it was (issue 26), in one run.

The job is the README's main command at a tiny sample budget, so that compiling dominates:
``koo-spiking train --data digits --seed 0 --train-samples 20 --test-samples 10 --record 10`` (change it
with ``--train-samples`` etc.; ``--spec`` for another model). Each run is one process (a Brian2 standalone
device is one per process) with PYTHONPATH at that version's tree and its own build cache
(``KOO_BUILD_CACHE`` in the benchmark's folder, the precompiled headers beside it), the user's default
compiler flags (``KOO_OPTIMIZE`` unset). "today" is a commit (default ``23d3e4c``, the code before issue 26:
Brian2's make file with its serial ``g++ -MM`` pass, objects.cpp last and at -O3), checked out with
``git worktree add --detach`` into a temporary folder (removed at the end); "new" is the checkout's working
tree (koo_spiking/ copied at the start) or ``--new COMMIT``.

Runs alternate today, new: cold (an empty cache, precompiled headers included), then warm (the same
command again on the same cache: Brian2 rewrites what it rewrites, make recompiles what changed).
``--rounds`` repeats the cold and warm pair with fresh caches. Measured per run: wall seconds of the
process, its CPU seconds with every child (compilers included, from ``wait4``), the C++ files compiled
(object files written) and the files of each project; for "new" also ``backend.last_build_report()`` of
each project it built (``koo_build.json``: seconds of writing the project, compile and link, the slowest files,
objects.cpp). Prints a table; ``--json`` writes the git commit of the checkout, the command line, the
commits and every measurement.

Usage: python benchmarks/bench_build.py [--today 23d3e4c] [--new COMMIT] [--rounds 1] [--train-samples 20]
       [--test-samples 10] [--record 10] [--spec PATH] [--timeout 1800] [--keep]
       [--json benchmarks/results/build.json]
"""

import argparse
import glob
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from worktrees import git, remove

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_TODAY = "23d3e4c"


def _objects(cache):
    """Object files in the cache's projects: path -> mtime (ns)."""
    out = {}
    for path in glob.glob(os.path.join(cache, "*", "**", "*.o"), recursive=True):
        try:
            out[path] = os.stat(path).st_mtime_ns
        except OSError:
            pass
    return out


def _projects(cache):
    out = {}
    for mk in glob.glob(os.path.join(cache, "*", "makefile")):
        with open(mk) as fh:
            srcs = next((line.split("=", 1)[1].split() for line in fh if line.startswith("SRCS =")), [])
        out[os.path.basename(os.path.dirname(mk))] = len(srcs)
    return out


def _run(version, tree, work, index, phase, args):
    cache = os.path.join(work, f"{version}_{index}", "cache")
    os.makedirs(cache, exist_ok=True)
    out = os.path.join(work, f"out_{version}_{index}_{phase}")
    log = os.path.join(work, f"log_{version}_{index}_{phase}.txt")
    argv = [
        "train",
        "--data",
        "digits",
        "--seed",
        "0",
        "--train-samples",
        str(args.train_samples),
        "--test-samples",
        str(args.test_samples),
        "--record",
        str(args.record),
        "--out",
        out,
    ]
    if args.spec:
        argv.insert(1, os.path.abspath(args.spec))
    env = dict(os.environ, PYTHONPATH=tree, PYTHONDONTWRITEBYTECODE="1", KOO_BUILD_CACHE=cache)
    env.pop("KOO_OPTIMIZE", None)
    env.pop("KOO_BUILD", None)
    env.pop("KOO_FTZ", None)
    code = (
        "import sys; from koo_spiking.cli import main; import koo_spiking; "
        f"assert koo_spiking.__file__.startswith({tree!r}), koo_spiking.__file__; sys.exit(main({argv!r}))"
    )
    before = _objects(cache)
    t0 = time.perf_counter()
    with open(log, "w") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-c", code], cwd=work, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            _, status, usage = os.wait4(proc.pid, 0) if args.timeout is None else _wait(proc, args.timeout)
        except BaseException:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
    wall = time.perf_counter() - t0
    rc = os.waitstatus_to_exitcode(status)
    if rc != 0:
        with open(log) as fh:
            tail = fh.read()[-3000:]
        raise RuntimeError(f"bench_build: {version} {phase} failed (exit {rc}):\n{tail}")
    after = _objects(cache)
    compiled = [p for p, m in after.items() if before.get(p) != m]
    rec = {
        "version": version,
        "round": index,
        "phase": phase,
        "wall_s": round(wall, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "files_compiled": len(compiled),
        "objects_cpp_compiled": sum(os.path.basename(p) == "objects.o" for p in compiled),
        "projects": _projects(cache),
        "reports": [],
    }
    for path in sorted(glob.glob(os.path.join(cache, "*", "koo_build.json"))):
        if os.path.getmtime(path) >= time.time() - wall - 1:
            with open(path) as fh:
                report = json.load(fh)
            report.pop("directory", None)
            rec["reports"].append(report)
    return rec


def _wait(proc, timeout):
    """wait4 with a timeout (polling): (pid, status, rusage)."""
    end = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return pid, status, usage
        if time.monotonic() > end:
            raise TimeoutError(f"bench_build: a run took over {timeout} s")
        time.sleep(0.2)


def summarize(runs):
    out = {}
    for version in ("today", "new"):
        for phase in ("cold", "warm"):
            rs = [r for r in runs if r["version"] == version and r["phase"] == phase]
            if rs:
                out[f"{version}_{phase}"] = {
                    "wall_s": statistics.median(r["wall_s"] for r in rs),
                    "cpu_s": statistics.median(r["cpu_s"] for r in rs),
                    "files_compiled": statistics.median(r["files_compiled"] for r in rs),
                }
    for phase in ("cold", "warm"):
        a, b = out.get(f"today_{phase}"), out.get(f"new_{phase}")
        if a and b:
            out[f"ratio_new_today_{phase}_wall"] = round(b["wall_s"] / a["wall_s"], 3)
            out[f"ratio_new_today_{phase}_cpu"] = round(b["cpu_s"] / a["cpu_s"], 3)
    return out


def table(runs, summary):
    head = f"{'version':<8}{'round':>6}{'phase':>7}{'wall s':>9}{'CPU s':>9}{'files':>7}  projects (files each)"
    rows = [head, "-" * len(head)]
    for r in runs:
        rows.append(
            f"{r['version']:<8}{r['round']:>6}{r['phase']:>7}{r['wall_s']:9.1f}{r['cpu_s']:9.1f}"
            f"{r['files_compiled']:7d}  {', '.join(str(n) for n in r['projects'].values())}"
        )
        for rep in r["reports"]:
            s = rep["seconds"]
            slow = ", ".join(f"{os.path.basename(f)} {t:.1f}" for f, t in rep["slowest"][:3])
            rows.append(
                f"{'':<8}  build: {rep['files_compiled']}/{rep['files_total']} files, write "
                f"{s.get('write', 0):.1f} s, compile {s['compile']:.1f} s, link {s['link']:.1f} s, "
                f"compiler CPU {rep['cpu_seconds']:.1f} s; objects.cpp "
                f"{'-' if rep['objects_s'] is None else format(rep['objects_s'], '.1f')} s; slowest: {slow}"
            )
    rows.append("-" * len(head))
    for phase in ("cold", "warm"):
        if f"ratio_new_today_{phase}_wall" in summary:
            rows.append(
                f"{phase}: new/today wall {summary[f'ratio_new_today_{phase}_wall']:.2f}, "
                f"CPU {summary[f'ratio_new_today_{phase}_cpu']:.2f}"
            )
    return "\n".join(rows)


def _sigterm(*_):
    raise SystemExit(143)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--today", default=DEFAULT_TODAY, metavar="COMMIT", help="the build as it was (default 23d3e4c)"
    )
    parser.add_argument("--new", default=None, metavar="COMMIT", help="default: this checkout's working tree")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--train-samples", type=int, default=20)
    parser.add_argument("--test-samples", type=int, default=10)
    parser.add_argument("--record", type=int, default=10)
    parser.add_argument("--spec", default=None, help="model spec (default: the CLI's, models/koo_encoder.toml)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per run")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark's folder")
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    sys.path.insert(0, ROOT)
    from koo_spiking.studies.train import provenance

    today = git("rev-parse", "--verify", args.today + "^{commit}")
    new = git("rev-parse", "--verify", args.new + "^{commit}") if args.new else None
    report = {
        "provenance": provenance(),
        "today": {"given": args.today, "sha": today},
        "new": {"given": args.new, "sha": new} if args.new else {"working_tree": True},
        "job": {
            "train_samples": args.train_samples,
            "test_samples": args.test_samples,
            "record": args.record,
            "spec": args.spec or "default",
            "cores": os.cpu_count(),
        },
    }
    work = tempfile.mkdtemp(prefix="bench_build_")
    trees = {"today": os.path.join(work, "today"), "new": os.path.join(work, "new")}
    worktrees = [trees["today"]] + ([trees["new"]] if new else [])
    previous = signal.signal(signal.SIGTERM, _sigterm)
    runs = []
    try:
        git("worktree", "add", "--detach", trees["today"], today)
        if new:
            git("worktree", "add", "--detach", trees["new"], new)
        else:
            shutil.copytree(
                os.path.join(ROOT, "koo_spiking"),
                os.path.join(trees["new"], "koo_spiking"),
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            )
            shutil.copytree(os.path.join(ROOT, "models"), os.path.join(trees["new"], "models"))
        print(
            f"bench_build: today {args.today} ({today[:10]}) against new "
            f"{new or report['provenance']['git_commit']}, {args.rounds} round(s)",
            flush=True,
        )
        for r in range(1, args.rounds + 1):
            for phase in ("cold", "warm"):
                for version in ("today", "new"):
                    rec = _run(version, trees[version], work, r, phase, args)
                    runs.append(rec)
                    print(
                        f"  round {r} {version} {phase}: {rec['wall_s']:.1f} s wall, {rec['cpu_s']:.1f} s CPU, "
                        f"{rec['files_compiled']} files compiled",
                        flush=True,
                    )
    finally:
        signal.signal(signal.SIGTERM, previous)
        remove(worktrees, work, args.keep)
    report["runs"] = runs
    report["summary"] = summarize(runs)
    print(table(runs, report["summary"]))
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as fh:
            json.dump(report, fh, indent=2, default=str)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
