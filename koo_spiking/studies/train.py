"""The training study: the Koo Encoder against the mean image, PCA and the backprop autoencoders.

All models see the same split and sample budget. One compiled run holds the test set through
the untrained network, training, then the train and test sets with teacher and plasticity off.
Outputs (written only once everything succeeded): ``metrics.json`` (with ``diagnostics`` of
every mission feature and the provenance: git commit, command line, spec),
``reconstructions.png``, ``receptive_fields.png``, ``raster.png``, ``astrocytes.png``,
``state.npz`` (the learned state) and ``spikes.npz`` (the spikes and astrocyte Ca2+ of the last
test images, a :class:`~koo_spiking.io.spikes.SpikeRecord` read by ``koo-spiking inspect``).
"""

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
from brian2 import second

from ..encoder import checkpoint as ck
from ..encoder.estimator import KooEncoder, evaluation_schedule, training_schedule
from ..encoder.spec import check_memory, spec_path
from ..io.datasets import load_dataset
from ..io.spikes import save_spikes
from .diagnostics import diagnostics

__all__ = [
    "run_study",
    "resume_study",
    "prepare_study",
    "score_study",
    "test_record",
    "save_simulation",
    "rescued",
    "reconstruction_metrics",
    "baselines",
    "provenance",
    "probe_accuracy",
]

LAYERS = ("input", "h1", "h2", "recon")
UNSCORED = "unscored.npz"  # a finished simulation whose scoring, record or figures failed
MIN_TRAIN = 20  # training images at least


def reconstruction_metrics(X_hat, X, mean_image):
    """Per-pixel test MSE, PSNR (peak 1) and R^2 against the training mean image."""
    mse = float(np.mean((X_hat - X) ** 2))
    sst = float(np.sum((X - mean_image) ** 2))
    return {
        "test_mse": mse,
        "psnr": float(10 * np.log10(1.0 / max(mse, 1e-12))),
        "r2": float(1 - np.sum((X_hat - X) ** 2) / sst),
    }


def probe_accuracy(code_train, y_train, code_test, y_test):
    """Logistic-regression probe on a code, trained on the train split, scored on the test split."""
    if y_train is None or y_test is None or len(np.unique(y_train)) < 2:
        return None
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    probe.fit(code_train, y_train)
    return float(probe.score(code_test, y_test))


def baselines(ds, k, seed):
    """Every offline baseline (``studies.baselines``) on a study's split, scored as the Koo Encoder is.

    Returns the metrics per baseline key (:data:`~koo_spiking.studies.baselines.KEYS`: mean image, PCA-k
    clipped to [0, 1] and unclipped, the shallow and the deep backprop autoencoder), each with its ``label``,
    and the test reconstructions per key.
    """
    from .baselines import LABELS, fit_baselines

    Xtr, Xte, ytr, yte = ds["X_train"], ds["X_test"], ds.get("y_train"), ds.get("y_test")
    mean = Xtr.mean(0)
    out, recon = {}, {}
    for key, b in fit_baselines(Xtr, Xte, k, seed).items():
        recon[key] = b.reconstruction
        probe = None if b.code_train is None else probe_accuracy(b.code_train, ytr, b.code_test, yte)
        out[key] = {
            **reconstruction_metrics(b.reconstruction, Xte, mean),
            "probe_accuracy": probe,
            "code_size": b.code_size,
            "train_samples": len(Xtr),
            "wall_s": b.wall_s,
            "label": LABELS[key].format(k=b.code_size),
            **b.info,
        }
    return out, recon


def provenance(spec=None, command=None):
    """Git commit (with a '+dirty' mark when the tree has changes), command line, spec, time."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        commit = (
            subprocess.run(
                ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10
            ).stdout.strip()
            or None
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        if commit and dirty:
            commit += "+dirty"
    except (OSError, subprocess.SubprocessError):
        commit = None
    command = command or " ".join([os.path.basename(sys.argv[0])] + sys.argv[1:])
    out = {"git_commit": commit, "command": command, "date": time.strftime("%Y-%m-%d %H:%M:%S")}
    if spec is not None:
        out["spec"] = plain_spec(spec)
    return out


OUTPUTS = (
    "astrocytes.png",
    "raster.png",
    "receptive_fields.png",
    "reconstructions.png",
    "spikes.npz",
    "state.npz",
    "profile.txt",
    UNSCORED,
    "metrics.json",
)  # metrics.json last: it marks a complete run


def prepare_study(spec, data, train_samples, test_samples, seed, backend="cpp_standalone", verbose=False, epochs=None):
    """Data split, encoder and the one run's schedule of a study, all checked before anything runs.

    The run holds the test set through the untrained network, training, then the train and test
    sets with teacher and plasticity off. Returns a dict: ``ds``, ``enc`` (a ``KooEncoder`` with its
    spec and input statistics set), ``spec`` (resolved), ``frames``, ``schedule``, ``parts`` (slices of
    the run: untrained, training, train, test).
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"--seed must be a non-negative integer, got {seed!r}")
    ds = load_dataset(data, train_samples, test_samples, seed)
    enc = KooEncoder(spec=spec, backend=backend, seed=seed, verbose=verbose, epochs=epochs)
    spec_r = enc._resolved_spec()  # validates the spec before anything runs or is written
    Xtr, Xte = ds["X_train"], ds["X_test"]
    if len(Xtr) < MIN_TRAIN:
        raise ValueError(
            f"--train-samples must be at least {MIN_TRAIN} (the backprop autoencoders hold out 10 % "
            f"for early stopping), got {len(Xtr)}"
        )
    n_slots = len(Xte) + len(Xtr) * (spec_r["learning"]["epochs"] + spec_r["learning"]["decoder_epochs"] + 1) + len(Xte)
    check_memory(spec_r, Xtr.shape[1], n_slots)
    order, sched = training_schedule(len(Xtr), spec_r, np.random.default_rng(seed))
    n_pre, n_fit = len(Xte), len(order)
    ev_pre, ev_post = evaluation_schedule(n_pre), evaluation_schedule(len(Xtr) + len(Xte))
    frames = np.vstack([Xte, Xtr[order], Xtr, Xte])
    schedule = {key: np.r_[ev_pre[key], sched[key], ev_post[key]] for key in sched}
    enc.spec_, enc.n_features_in_ = spec_r, Xtr.shape[1]
    enc.input_stats_ = enc._input_stats(Xtr, spec_r)
    parts = {
        "untrained": slice(0, n_pre),
        "training": slice(n_pre, n_pre + n_fit),
        "train": slice(n_pre + n_fit, n_pre + n_fit + len(Xtr)),
        "test": slice(n_pre + n_fit + len(Xtr), None),
    }
    return {
        "ds": ds,
        "enc": enc,
        "spec": spec_r,
        "frames": frames,
        "schedule": schedule,
        "parts": parts,
        "seed": seed,
        "backend": backend,
    }


def score_study(study, result, base, command=None):
    """Metrics of a study's run (``result`` of its one simulation) beside the baselines ``base``.

    Returns the summary written to ``metrics.json`` (without spike statistics) and the test
    reconstructions of the Koo Encoder.
    """
    ds, enc, spec_r, parts = study["ds"], study["enc"], study["spec"], study["parts"]
    Xtr, Xte = ds["X_train"], ds["X_test"]
    counts = result["counts"]
    recon_te = enc.counts_to_images(counts["recon"][parts["test"]])
    code_tr, code_te = counts["h2"][parts["train"]], counts["h2"][parts["test"]]
    mean = Xtr.mean(0)
    spikes = {layer: float(c[parts["test"]].sum(1).mean()) for layer, c in counts.items()}
    wall = result["wall_s"]
    metrics = {
        "koo": {
            **reconstruction_metrics(recon_te, Xte, mean),
            "probe_accuracy": probe_accuracy(code_tr, ds.get("y_train"), code_te, ds.get("y_test")),
            "code_size": spec_r["network"]["n_h2"],
            "train_samples": len(Xtr),
            "wall_s": wall,
            "spikes_per_image": float(sum(spikes.values())),
            "spikes_per_image_by_layer": spikes,
            "images_per_s": float(len(study["frames"]) / wall),
        }
    }
    u_recon = enc.counts_to_images(counts["recon"][parts["untrained"]])
    metrics["untrained"] = {
        **reconstruction_metrics(u_recon, Xte, mean),
        "probe_accuracy": None,
        "code_size": spec_r["network"]["n_h2"],
        "train_samples": 0,
        "wall_s": None,
    }
    metrics.update(base)
    diag = diagnostics(result, parts, spec_r, ds)
    summary = {
        "data": ds["name"],
        "image_shape": list(ds["shape"]),
        "seed": study["seed"],
        "backend": study["backend"],
        "provenance": provenance(spec_r, command),
        "models": metrics,
        "diagnostics": diag,
        "build": result.get("build"),
    }
    return summary, recon_te


def test_record(study, result):
    """The spikes of the last test images a study's run recorded, as a SpikeRecord (times from its first slot)."""
    from ..encoder.record import spike_record

    n_rec, n_test = result["window"]["slots"], len(study["ds"]["X_test"])
    return spike_record(result, np.arange(n_test - n_rec, n_test), slot_offset=len(study["frames"]) - n_rec)


def check_profile(backend, checkpoint_every):
    """Refuse ``--profile`` where it cannot work, before anything runs."""
    from ..encoder.compiled import PERF

    if backend != "cpp_standalone":
        raise ValueError(f"--profile samples the compiled binary: it needs --backend cpp_standalone, not {backend}")
    if checkpoint_every:
        raise ValueError("--profile profiles one run: leave out --checkpoint-every")
    if shutil.which(PERF) is None:
        raise ValueError(
            f"--profile needs the sampling profiler {PERF!r} on the PATH (Debian: apt-get install linux-perf)"
        )


def save_simulation(path, result):
    """A run's learned state, counts and dopamine in one ``.npz`` (``state.<name>``, ``counts.<layer>``,
    ``dopamine.<layer>``), written atomically; returns ``path``."""
    arrays = {f"state.{k}": np.asarray(v) for k, v in (result.get("state") or {}).items()}
    for key in ("counts", "dopamine"):
        arrays.update({f"{key}.{k}": np.asarray(v) for k, v in result.get(key, {}).items()})
    if "mse" in result:  # evaluation curves already computed (a plasticity protocol)
        arrays["mse"] = np.asarray(result["mse"], float)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".part.npz"
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, path)
    return path


@contextlib.contextmanager
def rescued(result, path):
    """Run the block that scores a finished simulation; if it fails, save the simulation first
    (:func:`save_simulation` to ``path``) and raise the error with ``[simulation saved in PATH]``."""
    try:
        yield
    except Exception as err:
        if not path:
            raise
        try:
            save_simulation(path, result)
            note = f"[simulation saved in {path}]"
        except Exception as save_err:  # say so, but keep the original error
            note = f"[the simulation could not be saved in {path}: {save_err}]"
        message = f"{' '.join(str(err).split())} {note}"
        try:
            new = type(err)(message)
        except Exception:
            new = RuntimeError(f"{type(err).__name__}: {message}")
        raise new from err


def check_out(out, overwrite=False):
    """Refuse an output path that cannot take a run's files, before anything runs or is written."""
    out = os.path.abspath(os.fspath(out))
    if os.path.exists(out) and not os.path.isdir(out):
        raise ValueError(f"--out {out} exists and is not a directory")
    held = [name for name in OUTPUTS if os.path.exists(os.path.join(out, name))]
    if held and not overwrite:
        raise ValueError(
            f"--out {out} holds a previous run ({', '.join(held)}); pass --overwrite or choose another directory"
        )
    parent = out
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    # a real probe: os.access says yes to root even on a read-only file system
    try:
        fd, probe = tempfile.mkstemp(prefix=".koo_probe_", dir=parent)
    except OSError as err:
        raise ValueError(f"--out {out}: the directory {parent} is not writable ({err.strerror})") from None
    os.close(fd)
    os.remove(probe)


def run_study(
    spec=None,
    data="digits",
    train_samples=None,
    test_samples=None,
    seed=0,
    out="out",
    backend="cpp_standalone",
    verbose=True,
    figures=True,
    command=None,
    overwrite=False,
    checkpoint_every=None,
    resume=False,
    epochs=None,
    record=50,
    profile=False,
):
    """Train the Koo Encoder and the baselines on one split; write metrics and figures to ``out``.

    ``out`` is checked first: a file, or a directory holding a previous run (unless ``overwrite``),
    or an unwritable place is refused before anything runs. With ``checkpoint_every`` the run is
    split into chunks of that many images and its full state saved in ``out/checkpoint`` after each
    (see ``encoder.checkpoint``); ``resume`` continues from there (use :func:`resume_study`).
    ``record`` last test images have their spikes saved in ``spikes.npz`` (0: no file); recording
    only adds monitors, the learned state is the same. ``profile``: the simulation runs under the
    sampling profiler ``perf`` (``perf record``); ``profile.txt`` (``perf report``) and the top symbols
    in ``metrics.json`` (``profile``) show where the binary spends its time.
    """
    check_out(out, overwrite)
    if profile:
        check_profile(backend, checkpoint_every)
    ck_dir, stale = check_checkpoint(out, checkpoint_every, resume, overwrite)
    if isinstance(record, bool) or not isinstance(record, (int, np.integer)) or record < 0:
        raise ValueError(f"--record must be a non-negative number of images, got {record!r}")
    study = prepare_study(spec, data, train_samples, test_samples, seed, backend, verbose, epochs)
    ds, enc, spec_r = study["ds"], study["enc"], study["spec"]
    Xtr, Xte = ds["X_train"], ds["X_test"]
    if stale:  # --overwrite: the interrupted run goes only once the new one has passed every check
        shutil.rmtree(ck_dir)
    k = spec_r["network"]["n_h2"]
    say = print if verbose else (lambda *a, **kw: None)
    learn = spec_r["learning"]
    say(
        f"koo-spiking train: {ds['name']}, {len(Xtr)} train / {len(Xte)} test images, code size {k}, "
        f"{learn['epochs']} + {learn['decoder_epochs']} (read-out) epochs, backend {backend}"
    )
    say("fitting baselines (mean image, PCA clipped and unclipped, shallow and deep backprop autoencoder) ...")
    base, base_recon = baselines(ds, k, seed)
    say("simulating: untrained pass over the test set, training, evaluation of train and test sets (compilation first)")
    tmp = tempfile.mkdtemp(prefix="koo_study_")
    try:
        frames, schedule = study["frames"], study["schedule"]
        # spikes of the last test images: for spikes.npz and the raster figure (6 images)
        shown_n = min(max(record, 6 if figures else 0), len(Xte))
        if record > len(Xte):
            print(
                f"koo-spiking: warning: --record {record} but the test set has {len(Xte)} images: "
                f"recording all {len(Xte)}",
                file=sys.stderr,
            )
        if checkpoint_every:
            write_run_args(
                ck_dir,
                dict(
                    spec=spec_r if spec is None or isinstance(spec, dict) else os.path.abspath(spec_path(spec)),
                    data=data,
                    train_samples=train_samples,
                    test_samples=test_samples,
                    seed=seed,
                    backend=backend,
                    figures=figures,
                    epochs=epochs,
                    checkpoint_every=checkpoint_every,
                    record=record,
                ),
            )
            result = ck.run_chunks(
                enc, frames, schedule, checkpoint_every, ck_dir, state={}, astro=True, raster=shown_n, say=say
            )
        else:
            result = enc.simulate(
                frames,
                schedule,
                state={},
                astro=True,
                raster=shown_n,
                profile=os.path.join(tmp, "perf.data") if profile else None,
            )
        enc.state_ = result["state"]
        # scoring, the record and figures: if any fails, the simulation is saved first
        with rescued(result, os.path.join(os.path.abspath(out), UNSCORED)):
            summary, recon_te = score_study(study, result, base, command)
            metrics, diag = summary["models"], summary["diagnostics"]
            if profile:
                from ..encoder.compiled import profile_report

                summary["profile"] = {
                    "tool": "perf record -F 499 -g",
                    "file": "profile.txt",
                    "top_self_percent": profile_report(
                        os.path.join(tmp, "perf.data"), os.path.join(tmp, "profile.txt")
                    ),
                }
                os.remove(os.path.join(tmp, "perf.data"))
            spikes_rec = None
            if "window" in result:  # absent only when a resumed run had nothing left to simulate
                n_rec = result["window"]["slots"]
                T = float(spec_r["network"]["present"] / second)
                spikes_rec = test_record(study, result)
                if record:
                    from .statistics import spike_statistics

                    keep = spikes_rec.window(spikes_rec.slots[-min(record, n_rec)][0]) if n_rec > record else spikes_rec
                    save_spikes(os.path.join(tmp, "spikes.npz"), keep)
                    # rates, CV of ISIs, Fano factor, pairwise correlation (Elephant) of the recorded test images
                    diag["spike_statistics"] = spike_statistics(keep, bin_size=min(0.01, T), count_window=T)
            if figures:
                from ..encoder import figures as figs
                from .inspection import raster_figure

                figs.reconstructions(
                    os.path.join(tmp, "reconstructions.png"),
                    Xte[:10],
                    ds["shape"],
                    {
                        "koo": recon_te[:10],
                        "pca": base_recon["pca"][:10],
                        "backprop AE": base_recon["backprop_autoencoder"][:10],
                        "mean image": base_recon["mean_image"][:10],
                    },
                )
                figs.receptive_fields(os.path.join(tmp, "receptive_fields.png"), enc.state_, ds["shape"])
                if spikes_rec is not None:
                    last = spikes_rec.window(spikes_rec.slots[-min(6, n_rec)][0])
                    raster_figure(
                        os.path.join(tmp, "raster.png"),
                        last,
                        title=f"Koo Encoder on the last {min(6, n_rec)} test images: excitatory (red), "
                        "inhibitory (blue), inputs (grey); dotted: image boundaries",
                    )
                figs.astrocytes(os.path.join(tmp, "astrocytes.png"), result.get("astrocytes", {}))
            np.savez_compressed(os.path.join(tmp, "state.npz"), **enc.state_)
            with open(os.path.join(tmp, "metrics.json"), "w") as fh:
                json.dump(summary, fh, indent=2)
        os.makedirs(out, exist_ok=True)
        for name in OUTPUTS:  # --overwrite: no file of the previous run stays beside the new ones
            if os.path.isfile(os.path.join(out, name)):
                os.remove(os.path.join(out, name))
        for name in sorted(os.listdir(tmp), key=lambda n: (n == "metrics.json", n)):
            shutil.move(os.path.join(tmp, name), os.path.join(out, name))
        if ck_dir:
            shutil.rmtree(ck_dir, ignore_errors=True)  # the run is complete
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    say(table(metrics))
    for warning in diag["health"]["warnings"]:
        print(f"koo-spiking: warning: {warning}", file=sys.stderr)
    say(f"wrote {', '.join(sorted(os.listdir(out)))} to {out}")
    return summary


RUN_ARGS = "run.json"


def check_checkpoint(out, every, resume, overwrite, command="train"):
    """The checkpoint directory of a run (None without checkpoints) and whether it holds an interrupted
    run to replace (``overwrite``; removed by the caller once the new run's inputs passed their checks);
    refuse to mix two runs. ``command``: the CLI command that resumes it."""
    if every is None:
        if resume:
            raise ValueError("resume needs a run started with --checkpoint-every")
        return None, False
    if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every <= 0:
        raise ValueError(f"--checkpoint-every must be a positive number of images, got {every!r}")
    ck_dir = os.path.join(os.path.abspath(out), "checkpoint")
    held = os.path.exists(os.path.join(ck_dir, ck.CHECKPOINT))
    if held and not resume:
        if not overwrite:
            raise ValueError(
                f"--out {out} holds an interrupted run ({ck_dir}); continue it with "
                f"`koo-spiking {command} --resume {out}` or pass --overwrite"
            )
        return ck_dir, True
    return ck_dir, False


def write_run_args(ck_dir, args):
    """The arguments of a checkpointed run, in ``ck_dir/run.json``, for its resumption."""
    os.makedirs(ck_dir, exist_ok=True)
    spec = args["spec"]
    if isinstance(spec, dict):  # quantities as strings with units, other values as they are
        spec = {
            sec: ({k: str(v) if hasattr(v, "dim") else v for k, v in val.items()} if isinstance(val, dict) else val)
            for sec, val in spec.items()
        }
    args = {**args, "spec": spec}
    tmp = os.path.join(ck_dir, f".{RUN_ARGS}.tmp")
    with open(tmp, "w") as fh:
        json.dump(args, fh, indent=1)
    os.replace(tmp, os.path.join(ck_dir, RUN_ARGS))


def read_run_args(out, result):
    """The arguments saved by :func:`write_run_args` for the interrupted run in ``out``; refused when
    ``out`` holds the complete run's ``result`` file or no checkpoint."""
    path = os.path.join(os.path.abspath(out), "checkpoint", RUN_ARGS)
    if os.path.isfile(os.path.join(out, result)):
        raise ValueError(f"--resume {out}: that run is complete ({result})")
    if not os.path.isfile(path):
        raise ValueError(f"--resume {out}: no checkpoint there ({path} is missing)")
    with open(path) as fh:
        return json.load(fh)


def resume_study(out, verbose=True, command=None):
    """Continue an interrupted ``run_study`` from its checkpoint in ``out/checkpoint``."""
    return run_study(out=out, verbose=verbose, command=command, resume=True, **read_run_args(out, "metrics.json"))


def plain_spec(spec):
    return {sec: ({k: str(v) for k, v in val.items()} if isinstance(val, dict) else val) for sec, val in spec.items()}


def table(metrics):
    def cell(value, fmt):
        return "" if value is None else format(value, fmt)

    rows = [f"{'model':<20} {'test_mse':>9} {'psnr':>7} {'r2':>7} {'probe':>7} {'code':>5} {'spikes':>7} {'wall_s':>8}"]
    for name, m in metrics.items():
        rows.append(
            f"{name:<20} {m['test_mse']:>9.4f} {m['psnr']:>7.2f} {m['r2']:>7.3f} "
            f"{cell(m.get('probe_accuracy'), '.3f'):>7} {m['code_size']:>5} "
            f"{cell(m.get('spikes_per_image'), '.0f'):>7} {cell(m['wall_s'], '.1f'):>8}"
        )
    return "\n".join(rows)
