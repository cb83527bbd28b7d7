"""Make the README's figure from the outputs of the main job.

    koo-spiking train --data digits --seed 0 --out out_digits
    python docs/make_figure.py out_digits            # writes docs/_static/front.png

The figure is the run's ``reconstructions.png`` (test digits, the Koo Encoder, PCA, the backprop autoencoder and
the mean image) above its ``raster.png`` (every layer's spikes in the last test images), scaled to one width.
"""

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

OUT = Path(__file__).resolve().parent / "_static" / "front.png"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", help="output directory of koo-spiking train")
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--width", type=float, default=10.0, help="figure width in inches")
    args = parser.parse_args(argv)
    run = Path(args.run)
    panels = [mpimg.imread(run / name) for name in ("reconstructions.png", "raster.png")]
    ratios = [p.shape[0] / p.shape[1] for p in panels]
    fig, axes = plt.subplots(
        len(panels), 1, figsize=(args.width, args.width * sum(ratios)), gridspec_kw={"height_ratios": ratios}
    )
    for ax, img in zip(axes, panels):
        ax.imshow(img)
        ax.axis("off")
    fig.subplots_adjust(left=0, right=1, top=1, bottom=0, hspace=0.02)
    fig.savefig(args.out, dpi=90)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
