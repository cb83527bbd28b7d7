"""Command line: ``koo-spiking demo``."""
import argparse
import sys

from .backend import TARGETS

__all__ = ["main"]


def _parser():
    parser = argparse.ArgumentParser(prog="koo-spiking", description="koo_spiking: spiking models on Brian2")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="small E/I network with astrocytes, driven by the embedded digits")
    demo.add_argument("--out", default="demo_out", help="output directory (default: demo_out)")
    demo.add_argument("--images", type=int, default=20, help="digits shown, 200 ms each (default 20)")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--backend", choices=TARGETS, default="cython")
    return parser


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        if args.command == "demo":
            from .demo import run_demo

            run_demo(args.out, n_images=args.images, seed=args.seed, target=args.backend)
    except (ValueError, FileNotFoundError, OSError) as err:
        print(f"koo-spiking: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
