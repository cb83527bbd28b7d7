"""Commands that start workers stop them, and what they started, on SIGTERM and SIGINT to the parent.

Before, killing ``bench_encoder.py`` with SIGTERM left its pool worker (and its simulation) running.
"""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

PARENT = textwrap.dedent("""
    import os, subprocess, sys, time
    from koo_spiking.workers import process_pool

    def work(path):  # a worker that starts a long child, as a compiler or a simulation binary would be
        child = subprocess.Popen(["sleep", "120"])
        with open(path, "w") as fh:
            fh.write(f"{os.getpid()} {child.pid}")
        child.wait()
        return 0

    if __name__ == "__main__":
        with process_pool(1) as pool:
            pool.submit(work, sys.argv[1]).result()
""")


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:  # a zombie waiting for its parent counts as gone
        return fh.read().split()[2] != "Z"


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 128 + signal.SIGTERM), (signal.SIGINT, None)])
def test_pool_workers_stop_with_their_parent(tmp_path, sig, code):
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    pids = tmp_path / "pids"
    proc = subprocess.Popen(
        [sys.executable, str(script), str(pids)], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 240  # the spawned worker imports the package (Brian2): slow on a loaded machine
    while not (pids.exists() and pids.read_text().count(" ") == 1) and time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the parent ended early: {proc.stdout.read().decode()[-2000:]}")
        time.sleep(0.1)
    worker, child = map(int, pids.read_text().split())
    assert _alive(worker) and _alive(child)
    proc.send_signal(sig)
    returned = proc.wait(timeout=60)
    if code is not None:
        assert returned == code
    else:
        assert returned != 0  # KeyboardInterrupt
    deadline = time.monotonic() + 10
    while (_alive(worker) or _alive(child)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(worker), "the worker outlived its parent"
    assert not _alive(child), "the worker's child (a compiler or binary) outlived the parent"
