"""Encoder benchmark: the Koo Encoder against the mean image, PCA and a backprop autoencoder.

Digits (all 1347 / 450 images, code 16) and Fashion-MNIST (10 000 / 2 000 images, code 64), every
baseline on the same split and sample budget in the same run. Prints one table per data set
and writes JSON. Targets (issue 3): digits test MSE <= PCA-16; Fashion-MNIST test MSE <= the
backprop autoencoder and probe accuracy >= 88 %.

Usage: python benchmarks/bench_encoder.py [--quick] [--only digits|fashion-mnist] [--json out.json]
       [--fashion-train N] [--fashion-test M] [--epochs E]
"""
import argparse
import json
import os
import sys
import tempfile

from koo_spiking.study import run_study

TARGETS = {"digits": ("test_mse <= pca", None), "fashion-mnist": ("test_mse <= autoencoder", 0.88)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small budgets (smoke test)")
    parser.add_argument("--only", choices=["digits", "fashion-mnist"])
    parser.add_argument("--json")
    parser.add_argument("--fashion-train", type=int, default=10000)
    parser.add_argument("--fashion-test", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=None, help="override the spec's epochs")
    parser.add_argument("--backend", default="cpp_standalone")
    args = parser.parse_args(argv)
    here = os.path.dirname(os.path.abspath(__file__))
    models = os.path.join(here, "..", "models")
    runs = {
        "digits": dict(data="digits", spec=os.path.join(models, "koo_encoder.toml"),
                       train_samples=300 if args.quick else None, test_samples=100 if args.quick else None),
        "fashion-mnist": dict(data="fashion-mnist", spec=os.path.join(models, "koo_fashion.toml"),
                              train_samples=500 if args.quick else args.fashion_train,
                              test_samples=200 if args.quick else args.fashion_test),
    }
    results = {}
    for name, kw in runs.items():
        if args.only and name != args.only:
            continue
        spec = kw.pop("spec")
        if args.epochs or args.quick:
            import tomllib

            with open(spec, "rb") as fh:
                raw = tomllib.load(fh)
            raw.setdefault("learning", {})["epochs"] = args.epochs or 1
            spec = raw
        out = tempfile.mkdtemp(prefix=f"bench_encoder_{name}_")
        summary = run_study(spec, out=out, backend=args.backend, seed=0, verbose=True, **kw)
        m = summary["models"]
        results[name] = {"models": m, "phase_code": summary["phase_code"],
                         "targets": {"mse_vs_pca": m["koo"]["test_mse"] / m["pca"]["test_mse"],
                                     "mse_vs_autoencoder": m["koo"]["test_mse"] / m["autoencoder"]["test_mse"],
                                     "r2_vs_untrained": m["koo"]["r2"] - m["untrained"]["r2"]},
                         "out": out}
        print(f"\n{name}: koo/PCA MSE ratio {results[name]['targets']['mse_vs_pca']:.2f}, "
              f"koo/autoencoder {results[name]['targets']['mse_vs_autoencoder']:.2f}, "
              f"R2 gain over untrained {results[name]['targets']['r2_vs_untrained']:+.3f}\n")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2, default=str)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
