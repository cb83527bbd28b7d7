"""Worker processes that stop with their parent: on SIGTERM or SIGINT to the parent, every worker and
everything it started (the compiler, a simulation binary) is terminated before the parent exits.

A plain ``concurrent.futures.ProcessPoolExecutor`` leaves its workers running when the parent is
killed with SIGTERM (Python's default action ends the parent at once, with no clean-up), and a
worker's compiler or binary would run on after the worker. Here each worker leads a process group
of its own, and the parent's handlers signal those groups, wait briefly, then kill what is left.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import os
import signal
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

__all__ = ["process_pool", "stop_groups"]


def _own_group():
    os.setpgrp()  # the worker and its children form a group the parent can signal as one


def stop_groups(pids: Iterable[int | None], grace: float = 3.0) -> None:
    """SIGTERM the process group of each of ``pids``, then SIGKILL what is still there after ``grace`` s."""
    pids = [p for p in pids if p]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, sig)
        deadline = time.monotonic() + grace
        while sig == signal.SIGTERM and time.monotonic() < deadline:
            alive = []
            for pid in pids:
                with contextlib.suppress(ChildProcessError):
                    if os.waitpid(pid, os.WNOHANG) == (0, 0):
                        alive.append(pid)
                        continue
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, 0)  # a child of the worker may outlive it in the group
                    alive.append(pid)
            if not alive:
                return
            time.sleep(0.05)


@contextlib.contextmanager
def process_pool(max_workers: int | None) -> Iterator[cf.ProcessPoolExecutor]:
    """A ``ProcessPoolExecutor`` (spawned workers) whose workers stop with the parent.

    While the block runs, SIGTERM and SIGINT to the parent stop every worker's process group and
    then end the parent as the signal would have (``SystemExit(128 + signal)``, or
    ``KeyboardInterrupt`` for SIGINT); the previous handlers are restored after the block.
    """
    pool = cf.ProcessPoolExecutor(
        max_workers=max_workers, mp_context=multiprocessing.get_context("spawn"), initializer=_own_group
    )
    previous = {}

    def handler(signum, frame):
        stop_groups(list(getattr(pool, "_processes", {}) or {}))
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGINT):
        previous[sig] = signal.signal(sig, handler)
    try:
        yield pool
    except BaseException:
        stop_groups(list(getattr(pool, "_processes", {}) or {}))
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    else:
        pool.shutdown(wait=True)
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
