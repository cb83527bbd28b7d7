"""Hostile inputs to ``koo-spiking train``: each a one-line error naming the problem, a non-zero exit,
nothing written, and all of it before anything compiles or runs (each case takes well under a second
of simulation time: none reaches Brian2)."""

import gzip
import os

import numpy as np
import pytest

from koo_spiking.cli import main
from koo_spiking.encoder.spec import check_memory, validate_spec


def _idx(path, array, ndim):
    header = bytes([0, 0, 8, ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(header + array.astype(np.uint8).tobytes())


def _idx_dir(path, test_shape=(4, 4)):
    path.mkdir()
    for split, shape in (("train", (4, 4)), ("t10k", test_shape)):
        _idx(path / f"{split}-images-idx3-ubyte.gz", np.zeros((30, *shape)), 3)
        _idx(path / f"{split}-labels-idx1-ubyte.gz", np.arange(30) % 10, 1)
    return path


def _refused(args, tmp_path, capsys, status=2):
    out = tmp_path / "never"
    assert main(["train", *args, "--out", str(out)]) == status
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert not out.exists()
    return err


def _spec(tmp_path, text):
    path = tmp_path / "spec.toml"
    path.write_text(text)
    return str(path)


def test_bad_files(tmp_path, capsys):
    corrupt = _idx_dir(tmp_path / "corrupt")
    (corrupt / "train-images-idx3-ubyte.gz").write_bytes(b"not gzip at all")
    assert "could not be read: Not a gzipped file" in _refused(["--data", str(corrupt)], tmp_path, capsys)
    magic = _idx_dir(tmp_path / "magic")
    _idx(magic / "train-labels-idx1-ubyte.gz", np.zeros((30, 2)), 2)
    assert "wrong magic number 0x00000802 (expected 0x00000801" in _refused(["--data", str(magic)], tmp_path, capsys)
    sizes = _idx_dir(tmp_path / "sizes", test_shape=(5, 5))
    assert "train and test images differ in size" in _refused(["--data", str(sizes)], tmp_path, capsys)


@pytest.mark.parametrize(
    "name, array, message",
    [
        ("inf.npy", np.full((30, 64), np.inf), "NaN or infinite"),
        ("negative.npy", np.full((30, 64), -0.5), "must lie in [0, 1]"),
        ("empty.npy", np.zeros((0, 64)), "non-empty 2-D array"),
    ],
)
def test_bad_pixels(tmp_path, capsys, name, array, message):
    np.save(tmp_path / name, array)
    assert message in _refused(["--data", str(tmp_path / name)], tmp_path, capsys)


def test_mismatched_npz(tmp_path, capsys):
    np.savez(tmp_path / "mixed.npz", X_train=np.zeros((30, 64)), X_test=np.zeros((5, 49)))
    assert "differ in size" in _refused(["--data", str(tmp_path / "mixed.npz")], tmp_path, capsys)


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "[forgetting]\ntau = 5\n",
            "[forgetting] tau = 5 is missing its unit (a quantity in ms-compatible units, like its default '2 s')",
        ),
        ('[forgetting]\ntau = "5 mV"\n', "[forgetting] tau has wrong unit: '5 mV'"),
        ('[forgetting]\ntau = "-5 s"\n', "[forgetting] tau must be positive"),
        ("[learning]\neta = nan\n", "[learning] eta must be a finite number"),
        ("[network]\nn_h1 = 0\n", "[network] n_h1 must be positive"),
        ("[network]\nn_h3 = 4\n", "unknown key 'n_h3'"),
        ("[network]\nn_h1 = 300000\n", "needs about"),
    ],
)
def test_bad_specs(tmp_path, capsys, text, message):
    assert message in _refused([_spec(tmp_path, text)], tmp_path, capsys)


def test_absurd_size_is_refused_with_a_memory_estimate():
    spec = validate_spec({"network": {"n_h1": 300000}})
    with pytest.raises(ValueError, match=r"needs about 2106\.7 GiB \(2\.25e\+10 synapses.*has 16\.0 GiB"):
        check_memory(spec, 64, 1000, available=16 * 2**30)
    check_memory(validate_spec({}), 784, 100000, available=16 * 2**30)  # Fashion-MNIST, code 64: fits


@pytest.mark.parametrize(
    "args, message",
    [
        (["--train-samples", "-5"], "--train-samples must be a positive integer"),
        (["--train-samples", "5"], "--train-samples must be at least 20"),
        (["--seed", "-1"], "--seed must be a non-negative integer"),
        (["--checkpoint-every", "-3"], "--checkpoint-every must be a positive number"),
        (["--epochs", "0"], "--epochs must be a positive integer"),
    ],
)
def test_bad_arguments(tmp_path, capsys, args, message):
    assert message in _refused(args, tmp_path, capsys)


def test_debug_shows_the_traceback(tmp_path):
    """``--debug`` (before or after the command) re-raises instead of the one-line message (here a spec error)."""
    with pytest.raises(ValueError, match="unknown key"):
        main(["--debug", "train", _spec(tmp_path, "[network]\nn_h3 = 4\n"), "--out", str(tmp_path / "x")])
    with pytest.raises(ValueError, match="unknown key"):
        main(["train", _spec(tmp_path, "[network]\nn_h3 = 4\n"), "--out", str(tmp_path / "x"), "--debug"])


def test_unwritable_output_is_refused_before_anything_runs(tmp_path, capsys):
    """A real probe, not os.access (which says yes to root on a read-only file system)."""
    target = "/sys/koo_spiking_test/out" if os.path.isdir("/sys") else None
    if target is None:
        pytest.skip("no /sys")
    assert main(["train", "--out", target]) == 2
    err = capsys.readouterr().err
    assert "not writable" in err and len(err.strip().splitlines()) == 1


def test_demo_image_count_is_named_as_the_option(tmp_path, capsys):
    assert main(["demo", "--images", "0", "--out", str(tmp_path / "demo")]) == 2
    assert "--images must be a positive integer, got 0" in capsys.readouterr().err
    assert not (tmp_path / "demo").exists()


def test_any_file_of_a_previous_run_is_refused(tmp_path, capsys):
    """Not only metrics.json: a run cut short while its files were moved in left state.npz alone."""
    out = tmp_path / "run"
    out.mkdir()
    (out / "state.npz").write_bytes(b"old")
    assert main(["train", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "holds a previous run (state.npz)" in err and len(err.strip().splitlines()) == 1
    assert (out / "state.npz").read_bytes() == b"old" and sorted(os.listdir(out)) == ["state.npz"]


def test_overwrite_keeps_the_interrupted_run_when_the_new_one_is_refused(tmp_path, capsys):
    """--overwrite removes an interrupted run's checkpoint only once the new run passed its checks."""
    from koo_spiking.encoder.checkpoint import CHECKPOINT

    out = tmp_path / "run"
    (out / "checkpoint").mkdir(parents=True)
    (out / "checkpoint" / CHECKPOINT).write_bytes(b"interrupted")
    args = [
        "train",
        _spec(tmp_path, "[network]\nn_h3 = 4\n"),
        "--checkpoint-every",
        "10",
        "--overwrite",
        "--out",
        str(out),
    ]
    assert main(args) == 2
    assert "unknown key" in capsys.readouterr().err
    assert (out / "checkpoint" / CHECKPOINT).read_bytes() == b"interrupted"


def test_version_and_help_texts(capsys):
    """--version prints the installed version; each command's help names its options, exit status 0."""
    from importlib.metadata import version

    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out.strip() == f"koo-spiking {version('koo_spiking')}"
    with pytest.raises(SystemExit) as stop:
        main(["--help"])
    text = capsys.readouterr().out
    assert stop.value.code == 0 and all(
        cmd in text for cmd in ("train", "demo", "inspect", "export", "sweep", "ablate", "plasticity")
    )
    for cmd, options in (
        ("train", ("--checkpoint-every", "--resume", "--overwrite", "--record", "--data")),
        ("demo", ("--images", "--out")),
        ("inspect", ("--from", "--to", "--layer")),
        ("export", ("--format",)),
        ("ablate", ("--seeds", "--variants", "--workers")),
        (
            "plasticity",
            ("--protocol", "--other", "--switches", "--eval-every", "--rate", "--checkpoint-every", "--resume"),
        ),
    ):
        with pytest.raises(SystemExit) as stop:
            main([cmd, "--help"])
        text = capsys.readouterr().out
        assert stop.value.code == 0 and all(opt in text for opt in options), (cmd, text)
