"""Command line: ``koo-spiking demo``, ``train``, ``inspect``, ``export``, ``sweep``, ``sweep-report``, ``ablate``
and ``plasticity``."""

from __future__ import annotations

import argparse
import signal
import sys
from typing import TYPE_CHECKING

from .backend import TARGETS
from .encoder.checkpoint import Interrupted
from .studies.sweep import STOP_AFTER
from .studies.train import MIN_TRAIN

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["main"]


def _version():
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("koo_spiking")
    except PackageNotFoundError:
        return "unknown"


def _parser():
    parser = argparse.ArgumentParser(prog="koo-spiking", description="koo_spiking: spiking models on Brian2")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument(
        "--debug", action="store_true", help="show the full traceback of an error (e.g. one raised inside Brian2)"
    )
    # --debug is also taken after the command (``koo-spiking train --debug``)
    debug = argparse.ArgumentParser(add_help=False)
    debug.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show the full traceback of an error"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo",
        parents=[debug],
        help="small E/I network with one astrocyte per E neuron and astrocyte-gated STDP, "
        "driven by the embedded digits (about 30 s the first time, 15 s after)",
    )
    demo.add_argument("--out", default="demo_out", help="output directory (default: demo_out)")
    demo.add_argument(
        "--images",
        type=int,
        default=30,
        help="digits shown, in blocks of 5 of one class (0, 1, 4 in turn), each 150 ms + 50 ms blank (default 30)",
    )
    demo.add_argument("--seed", type=int, default=0, help="seed of Brian2's and numpy's generators (default 0)")
    demo.add_argument(
        "--backend",
        choices=TARGETS,
        default="cpp_standalone",
        help="Brian2 code-generation target (default: cpp_standalone, one compiled run, its build "
        "cached; cython and numpy run far slower)",
    )
    train = sub.add_parser(
        "train", parents=[debug], help="train the Koo Encoder and its baselines, write metrics and figures"
    )
    train.add_argument(
        "spec",
        nargs="?",
        default=None,
        help="TOML model spec: a path or a shipped name (koo_encoder, koo_small, koo_fashion, koo_no_glia); default: the full model",
    )
    train.add_argument(
        "--data",
        default="digits",
        help="digits (default), fashion-mnist, an IDX directory (the four Fashion-MNIST file names), "
        "PATH.npy (images as rows (n_images, n_pixels), values in [0, 1], split 75/25 by --seed) "
        "or PATH.npz (X_train and X_test, optional y_train and y_test; or X and optional y, split)",
    )
    train.add_argument(
        "--train-samples", type=int, default=None, help=f"training images, at least {MIN_TRAIN} (default: all)"
    )
    train.add_argument("--test-samples", type=int, default=None, help="test images (default: all)")
    train.add_argument(
        "--seed", type=int, default=0, help="seed of the split, the image order and Brian2's generator (default 0)"
    )
    train.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="passes with every pathway plastic (default: the spec's [learning] epochs)",
    )
    train.add_argument("--out", default="out", help="output directory (default: out)")
    train.add_argument("--overwrite", action="store_true", help="replace a previous run in --out")
    train.add_argument(
        "--backend",
        choices=TARGETS,
        default="cpp_standalone",
        help="Brian2 code-generation target (default: cpp_standalone, one compiled run)",
    )
    train.add_argument(
        "--checkpoint-every",
        type=int,
        default=None,
        metavar="N",
        help="run in chunks of N images, saving the full state in OUT/checkpoint after each "
        "(Ctrl-C: finish the chunk, save, exit 130)",
    )
    train.add_argument(
        "--resume",
        metavar="DIR",
        default=None,
        help="continue the interrupted run in DIR (its --out) with its own arguments",
    )
    train.add_argument(
        "--profile",
        action="store_true",
        help="run the simulation under the sampling profiler perf (perf record): profile.txt and the "
        "top symbols in metrics.json show where the binary spends its time",
    )
    train.add_argument(
        "--record",
        type=int,
        default=50,
        metavar="N",
        help="save the spikes and astrocyte Ca2+ of the last N test images in OUT/spikes.npz, "
        "for `koo-spiking inspect` (default 50; 0: no file)",
    )
    inspect = sub.add_parser(
        "inspect",
        parents=[debug],
        help="rasters, population rates, astrocyte Ca2+ and receptive fields of a train run's spikes.npz, as PNG files",
    )
    inspect.add_argument("run_dir", metavar="RUN_DIR", help="output directory of `koo-spiking train`")
    inspect.add_argument(
        "--from",
        dest="t0",
        default=None,
        metavar="T0",
        help="window start, from the first recorded image: seconds ('0.5' or '0.5 s') "
        "or milliseconds ('200 ms') (default: the record's start)",
    )
    inspect.add_argument(
        "--to", dest="t1", default=None, metavar="T1", help="window end, same units (default: the record's end)"
    )
    inspect.add_argument(
        "--layer",
        default=None,
        metavar="NAME",
        help="only this layer (input, h1, h2, recon: its E and I cells are drawn together) "
        "or one population (e.g. h2_I); default: all. Receptive fields are drawn for "
        "h1, h2, recon and all",
    )
    inspect.add_argument("--out", default=None, metavar="DIR", help="output directory (default: RUN_DIR/inspect)")
    export = sub.add_parser("export", parents=[debug], help="a run's recorded spikes (spikes.npz) as NWB or Neo")
    export.add_argument("run_dir", metavar="RUN_DIR", help="output directory of `koo-spiking train`")
    export.add_argument(
        "--format",
        dest="fmt",
        choices=("nwb", "neo"),
        default="nwb",
        help="nwb (units table with layer and cell type, image intervals; needs pynwb) or neo "
        "(Block of SpikeTrains, NeoMatlabIO .mat file); default nwb",
    )
    export.add_argument(
        "--out",
        default=None,
        metavar="FILE",
        help="output file (default: RUN_DIR/spikes.nwb or RUN_DIR/spikes.neo.mat)",
    )
    export.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    sweep = sub.add_parser(
        "sweep",
        parents=[debug],
        help="run a parameter sweep (SWEEP.toml) on Dask workers, results in SQLite; a rerun skips finished points",
    )
    sweep.add_argument(
        "sweep_file",
        metavar="SWEEP.toml",
        help="sweep file: spec, data, seeds, [grid] and [random] ranges (models/sweep_example.toml)",
    )
    sweep.add_argument("--db", required=True, metavar="PATH.sqlite", help="SQLite database of the points")
    sweep.add_argument(
        "--workers",
        type=int,
        default=None,
        help="local Dask workers (default: one per core, at most one per compilation group)",
    )
    sweep.add_argument(
        "--scheduler",
        default=None,
        metavar="tcp://HOST:8786",
        help="address of a running Dask scheduler (default: a LocalCluster on this machine)",
    )
    sweep.add_argument(
        "--keep-going",
        action="store_true",
        help="run every point even when the first ones all fail with the same error "
        f"(default: stop after {STOP_AFTER} such failures and no success)",
    )
    sweep.add_argument(
        "--backend",
        choices=TARGETS,
        default="cpp_standalone",
        help="Brian2 target (default cpp_standalone: run parameters change without recompiling)",
    )
    report = sub.add_parser(
        "sweep-report", parents=[debug], help="tables, 1-D curves, 2-D heat maps and rasters of a sweep database"
    )
    report.add_argument("db", metavar="PATH.sqlite", help="database written by `koo-spiking sweep`")
    report.add_argument("--out", required=True, metavar="DIR", help="output directory")
    report.add_argument("--sweep", default=None, metavar="NAME", help="only this sweep of the database")
    ablate = sub.add_parser(
        "ablate",
        parents=[debug],
        help="the full model, each feature left out and the minimal core, over seeds, with "
        "bootstrap CIs and paired tests (ablation.json, .md, .png)",
    )
    ablate.add_argument(
        "spec",
        nargs="?",
        default=None,
        help="TOML model spec: a path or a shipped name (koo_encoder, koo_small, koo_fashion, koo_no_glia); default: the full model",
    )
    ablate.add_argument("--data", default="digits", help="digits (default), fashion-mnist, DIR, PATH.npy or PATH.npz")
    ablate.add_argument("--seeds", type=int, default=5, help="seeds 0..K-1 (default 5)")
    ablate.add_argument(
        "--train-samples", type=int, default=None, help=f"training images per run, at least {MIN_TRAIN} (default: all)"
    )
    ablate.add_argument("--test-samples", type=int, default=None, help="test images (default: all)")
    ablate.add_argument(
        "--variants", default=None, help="comma-separated subset of the variants (default: all; `full` is always run)"
    )
    ablate.add_argument(
        "--out", required=True, metavar="DIR", help="output directory (its ablation.sqlite makes the study resumable)"
    )
    ablate.add_argument("--workers", type=int, default=None, help="local Dask workers (default: one per core)")
    ablate.add_argument("--scheduler", default=None, metavar="tcp://HOST:8786", help="a running Dask scheduler")
    ablate.add_argument(
        "--keep-going",
        action="store_true",
        help="run every point even when the first ones all fail with the same error "
        f"(default: stop after {STOP_AFTER} such failures and no success)",
    )
    plastic = sub.add_parser(
        "plasticity",
        parents=[debug],
        help="a changing stream (class split, domain switch, repeated switches, class stream) "
        "for the Koo Encoder and the online baselines: adaptation, forgetting, health",
    )
    plastic.add_argument(
        "spec",
        nargs="?",
        default=None,
        help="TOML model spec: a path or a shipped name (koo_encoder, koo_small, koo_fashion, koo_no_glia); default: the full model",
    )
    plastic.add_argument(
        "--protocol",
        default=None,
        choices=("class-split", "domain-switch", "repeated", "stream"),
        help="class-split: classes' first half then second half; domain-switch: --data then --other; "
        "repeated: A, B, A, B ... (--switches); stream: every image once, class after class "
        "(required unless --resume)",
    )
    plastic.add_argument("--data", default="digits", help="digits (default), fashion-mnist, DIR, PATH.npy or PATH.npz")
    plastic.add_argument(
        "--other",
        default=None,
        help="second domain of domain-switch (and of repeated, which otherwise alternates the class "
        "halves); default: fashion-mnist for digits and digits for fashion-mnist, resampled "
        "to --data's image size",
    )
    plastic.add_argument("--seed", type=int, default=0, help="seed of the split, the order and Brian2 (default 0)")
    plastic.add_argument("--train-samples", type=int, default=None, help="training images per data set (default: all)")
    plastic.add_argument("--test-samples", type=int, default=None, help="held-out images per data set (default: all)")
    plastic.add_argument(
        "--passes",
        type=int,
        default=None,
        help="passes over a task's images per block (default: 2; repeated and stream 1)",
    )
    plastic.add_argument("--switches", type=int, default=10, help="switches of the repeated protocol (default 10)")
    plastic.add_argument(
        "--eval-every",
        type=int,
        default=100,
        help="training images between evaluation windows (denser right after a switch; default 100)",
    )
    plastic.add_argument(
        "--eval-images",
        type=int,
        default=100,
        help="held-out images of each task in every evaluation window (default 100)",
    )
    plastic.add_argument(
        "--rate",
        type=float,
        default=0.1,
        help="learning-rate multiplier of the Koo Encoder over the whole stream (constant: no "
        "annealing in a stream that may change; default 0.1, stable on digits where 0.3 "
        "is not)",
    )
    plastic.add_argument("--out", default=None, metavar="DIR", help="output directory (required unless --resume)")
    plastic.add_argument("--overwrite", action="store_true", help="replace a previous protocol run in --out")
    plastic.add_argument(
        "--checkpoint-every",
        type=int,
        default=None,
        metavar="N",
        help="run the Koo Encoder in chunks of N image slots (training and evaluation images), "
        "saving its full state in OUT/checkpoint after each (Ctrl-C: finish the chunk, save, "
        "exit 130)",
    )
    plastic.add_argument(
        "--resume",
        metavar="DIR",
        default=None,
        help="continue the interrupted protocol run in DIR (its --out) with its own arguments",
    )
    plastic.add_argument(
        "--backend",
        choices=TARGETS,
        default="cpp_standalone",
        help="Brian2 target (default cpp_standalone: the whole protocol is one compiled run)",
    )
    return parser


def _terminated(signum, frame):
    raise SystemExit(128 + signum)  # unwinds: temporary folders are removed on the way out


def main(argv: Iterable[str] | None = None) -> int:
    """Run ``koo-spiking`` with ``argv`` (default: the process's arguments); returns the exit status.

    0: done; 1: a failure inside a run (or failed sweep points); 2: bad input, refused before anything
    ran, with a one-line message; 130: interrupted, the state saved for ``--resume``.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parser().parse_args(argv)
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        return _command(args, argv)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _command(args, argv):
    try:
        if args.command == "demo":
            from .demo import run_demo

            if args.images <= 0:
                raise ValueError(f"--images must be a positive integer, got {args.images}")
            run_demo(args.out, n_images=args.images, seed=args.seed, target=args.backend)
        elif args.command == "train" and args.resume:
            from .studies.train import resume_study

            resume_study(args.resume, command=" ".join(["koo-spiking"] + argv))
        elif args.command == "train":
            from .studies.train import run_study

            if args.epochs is not None and (args.epochs <= 0):
                raise ValueError(f"--epochs must be a positive integer, got {args.epochs}")
            run_study(
                args.spec,
                epochs=args.epochs,
                data=args.data,
                train_samples=args.train_samples,
                test_samples=args.test_samples,
                seed=args.seed,
                out=args.out,
                backend=args.backend,
                command=" ".join(["koo-spiking"] + argv),
                overwrite=args.overwrite,
                checkpoint_every=args.checkpoint_every,
                record=args.record,
                profile=args.profile,
            )
        elif args.command == "sweep":
            from .studies.sweep import run_sweep

            stats = run_sweep(
                args.sweep_file,
                args.db,
                workers=args.workers,
                scheduler=args.scheduler,
                backend=args.backend,
                keep_going=args.keep_going,
            )
            return 1 if stats["failed"] else 0
        elif args.command == "sweep-report":
            from .studies.sweep_report import write_report

            for path in write_report(args.db, args.out, sweep=args.sweep):
                print(f"wrote {path}")
        elif args.command == "ablate":
            from .studies.ablate import run_ablation

            variants = args.variants.split(",") if args.variants else None
            result = run_ablation(
                args.spec,
                data=args.data,
                seeds=args.seeds,
                out=args.out,
                variants=variants,
                train_samples=args.train_samples,
                test_samples=args.test_samples,
                workers=args.workers,
                scheduler=args.scheduler,
                keep_going=args.keep_going,
                command=" ".join(["koo-spiking"] + argv),
            )
            return 1 if result["failed"] else 0
        elif args.command == "plasticity" and args.resume:
            from .studies.plasticity import resume_protocol

            resume_protocol(args.resume, command=" ".join(["koo-spiking"] + argv))
        elif args.command == "plasticity":
            from .studies.plasticity import run_protocol

            missing = [flag for flag, value in (("--protocol", args.protocol), ("--out", args.out)) if value is None]
            if missing:
                raise ValueError(
                    f"plasticity: the following arguments are required: {', '.join(missing)} (or --resume DIR)"
                )
            run_protocol(
                args.spec,
                protocol=args.protocol,
                data=args.data,
                other=args.other,
                seed=args.seed,
                out=args.out,
                train_samples=args.train_samples,
                test_samples=args.test_samples,
                passes=args.passes,
                switches=args.switches,
                eval_every=args.eval_every,
                eval_images=args.eval_images,
                rate=args.rate,
                backend=args.backend,
                overwrite=args.overwrite,
                checkpoint_every=args.checkpoint_every,
                command=" ".join(["koo-spiking"] + argv),
            )
        elif args.command == "inspect":
            from .studies.inspection import inspect_run, parse_time

            t0, t1 = (None if x is None else parse_time(x) for x in (args.t0, args.t1))
            for path in inspect_run(args.run_dir, t0, t1, layer=args.layer, out=args.out):
                print(f"wrote {path}")
        elif args.command == "export":
            from .io.export import export_run

            print(f"wrote {export_run(args.run_dir, args.fmt, out=args.out, overwrite=args.overwrite)}")
    except Interrupted as err:
        print(
            f"koo-spiking: {err}; continue with `koo-spiking {args.command} --resume {args.resume or args.out}`",
            file=sys.stderr,
        )
        return 130
    except (ValueError, FileNotFoundError, OSError) as err:
        if args.debug:
            raise
        message = " ".join(str(err).split())  # one line
        print(f"koo-spiking: error: {message}", file=sys.stderr)
        return 2
    except Exception as err:  # from inside Brian2, the compiler, ...: the cause on one line
        if args.debug:
            raise
        message = " ".join(str(err).split())[:400]
        print(
            f"koo-spiking: error: {type(err).__name__}: {message} (run with --debug for the traceback)", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
