"""Resumable training: Ctrl-C saves and exits 130, ``kill -9`` loses at most a chunk, and resuming
gives the same weights and metrics as an uninterrupted run with the same chunking."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np

from koo_spiking.cli import main
from koo_spiking.encoder.checkpoint import CHECKPOINT

SPEC = """
[network]
n_h1 = 8
n_h2 = 4
present = "20 ms"
[learning]
epochs = 1
decoder_epochs = 0
warm_up = 2
[reward]
tau_dop = "0.5 ms"  # reward on needs tau_dop <= present/40
"""
# 2 test + 20 training + 20 + 2 evaluation slots = 44 slots: chunks of 15, 15 and 14
ARGS = ["--train-samples", "20", "--test-samples", "2", "--seed", "4", "--backend", "numpy", "--checkpoint-every", "15"]


def _cli(*args):
    return [sys.executable, "-c", "import sys; from koo_spiking.cli import main; sys.exit(main())", "train", *args]


def _wait_for(path, proc, timeout=600):
    t0 = time.time()
    while not os.path.exists(path):
        assert proc.poll() is None, proc.communicate()
        assert time.time() - t0 < timeout, f"{path} never appeared"
        time.sleep(0.2)


def _load(out):
    metrics = json.loads((out / "metrics.json").read_text())
    state = dict(np.load(out / "state.npz"))
    return metrics["models"]["koo"], state


def test_interrupt_kill_and_resume_match_an_uninterrupted_run(tmp_path):
    spec = tmp_path / "tiny.toml"
    spec.write_text(SPEC)
    whole = tmp_path / "whole"
    assert main(["train", str(spec), *ARGS, "--out", str(whole)]) == 0
    assert not (whole / "checkpoint").exists()  # removed once the run is complete

    out = tmp_path / "cut"
    ck = out / "checkpoint" / CHECKPOINT
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # Ctrl-C during the first chunk: the chunk finishes, is saved, exit status 130
    proc = subprocess.Popen(
        _cli(str(spec), *ARGS, "--out", str(out)), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    _wait_for(out / "checkpoint" / "run.json", proc)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 130, err
    assert "--resume" in err and ck.exists() and not (out / "metrics.json").exists()
    with np.load(ck) as data:
        assert int(data["__done"]) == 15
    with np.load(out / "checkpoint" / "chunk_0001.npz") as data:  # each chunk's records in a file of its own
        assert data["counts/h1"].shape == (15, 8)
    # a second start without --resume is refused; --resume then dies by kill -9 after a chunk
    assert main(["train", str(spec), *ARGS, "--out", str(out)]) == 2
    mtime = ck.stat().st_mtime_ns
    proc = subprocess.Popen(
        _cli("--resume", str(out)), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    while ck.stat().st_mtime_ns == mtime:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    with np.load(ck) as data:  # the file is whole: written, then renamed
        assert int(data["__done"]) == 30 and "counts/h1" not in data.files
    with np.load(out / "checkpoint" / "chunk_0002.npz") as data:
        assert data["counts/h1"].shape == (15, 8)
    assert main(["train", "--resume", str(out)]) == 0

    koo_whole, state_whole = _load(whole)
    koo_cut, state_cut = _load(out)
    assert state_whole.keys() == state_cut.keys()
    for key in state_whole:
        np.testing.assert_array_equal(state_cut[key], state_whole[key], err_msg=key)
    for key in ("test_mse", "r2", "probe_accuracy", "spikes_per_image"):
        assert koo_cut[key] == koo_whole[key], key
    assert main(["train", "--resume", str(out)]) == 2  # complete: nothing to resume


def test_checkpoint_arguments_are_checked_first(tmp_path, capsys):
    assert main(["train", "--checkpoint-every", "0", "--out", str(tmp_path / "a")]) == 2
    assert "--checkpoint-every must be a positive number" in capsys.readouterr().err
    assert main(["train", "--resume", str(tmp_path / "none")]) == 2
    assert "no checkpoint there" in capsys.readouterr().err
    assert not (tmp_path / "a").exists()


HELD = """
import os, subprocess, threading
from koo_spiking.encoder.checkpoint import _holding_sigint
threading.Thread(target=threading.Event().wait, daemon=True).start()  # SIGINT not blocked there
caught = []
with _holding_sigint(caught):
    print("ready", flush=True)
    a = os.system("sleep 1.5; exit 3")  # how Brian2 starts the compiler
    b = subprocess.call(["sh", "-c", "sleep 1.5; exit 4"])  # and the standalone binary
print(a, b, bool(caught))
"""


def test_ctrl_c_while_the_compiler_or_the_binary_runs_is_noted_and_spares_them():
    """Ctrl-C in a terminal signals the whole foreground group: the compiler and the binary go on
    (exit statuses 3 and 4, not killed) and the chunk's process notes the signal, also when it
    arrives while ``os.system`` runs and another thread does not block it."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HELD], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGINT)  # while the "compiler" runs
    time.sleep(1.5)
    os.killpg(proc.pid, signal.SIGINT)  # while the "binary" runs
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert out.split() == ["3", "4", "True"]
