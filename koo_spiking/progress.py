"""Progress of long standalone runs: compilation and simulation, at almost no cost.

Brian2's ``report=`` in ``cpp_standalone`` reads the process clock (``std::clock()``, a system
call) before every code object of every time step; with the encoder's ~400 code objects that
made a verbose run about four times slower than a silent one (42 against ~170 images/s).
:func:`progress_group` reports from one code object on a coarse clock instead, with the
monotonic wall clock, and :func:`compile_progress` counts the compiled files while ``make`` runs.
"""

from __future__ import annotations

import contextlib
import glob
import io
import os
import sys
import threading
import time
from typing import TYPE_CHECKING

import numpy as np
from brian2 import NeuronGroup, check_units, implementation

if TYPE_CHECKING:
    from collections.abc import Iterator

    from brian2.units.fundamentalunits import Quantity

__all__ = ["progress_group", "compile_progress", "progress_text"]

_CPP_WALL = r"""
double koo_wall_s()
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
"""

_CPP_LINE = r"""
double koo_progress_line(double show, double done, double n_slots, double elapsed, double tty)
{
    if (show <= 0)
        return 0.0;
    const bool final_line = done >= n_slots - 0.5;
    // whole images in integers: -ffast-math turns 100*done/n_slots into done*(100/n_slots) (99% at the end)
    const long d = (long)(done + 0.5), n = (long)(n_slots + 0.5);
    const int bar = (int)(30*d/n);
    char tail[96];
    if (elapsed > 0)
        snprintf(tail, sizeof tail, "%.0f images/s, %.1f s", done/elapsed, elapsed);
    else
        snprintf(tail, sizeof tail, "- images/s, %.1f s", elapsed);
    std::cout << (tty > 0 ? "\r" : "") << "  [" << std::string(bar, '#') << std::string(30 - bar, ' ') << "] "
              << 100*d/n << "% " << d << "/" << n << " images, "
              << tail << ((final_line || tty <= 0) ? "\n" : "") << std::flush;
    return 1.0;
}
"""


@implementation("cpp", _CPP_WALL, headers=["<chrono>"])
@check_units(result=1)
def koo_wall_s():
    """The steady wall clock in seconds (Python body: the numpy target)."""
    return time.monotonic()


def progress_text(done: float, n_slots: float, elapsed: float) -> str:
    """The progress line's text (without the carriage return): ``done`` of ``n_slots`` images after
    ``elapsed`` s, as the C++ body prints it (rate from the first image on, seconds to 0.1 s)."""
    d, n = int(done + 0.5), int(n_slots + 0.5)
    bar = 30 * d // n
    rate = f"{done / elapsed:.0f}" if elapsed > 0 else "-"
    return f"  [{'#' * bar}{' ' * (30 - bar)}] {100 * d // n}% {d}/{n} images, {rate} images/s, {elapsed:.1f} s"


@implementation("cpp", _CPP_LINE, headers=["<iostream>", "<string>", "<cstdio>"])
@check_units(show=1, done=1, n_slots=1, elapsed=1, tty=1, result=1)
def koo_progress_line(show, done, n_slots, elapsed, tty):
    """Print the progress line when ``show`` (Python body of the C++ function, for one cell)."""
    show, done, n_slots, elapsed, tty = (float(np.ravel(x)[0]) for x in (show, done, n_slots, elapsed, tty))
    if show <= 0:
        return 0.0
    print(
        ("\r" if tty > 0 else "") + progress_text(done, n_slots, elapsed),
        end="\n" if done >= n_slots - 0.5 or tty <= 0 else "",
        flush=True,
    )
    return 1.0


def progress_group(n_slots: int, period: Quantity, name: str = "progress") -> NeuronGroup:
    """A one-cell group that prints a progress line every 2 s of wall time (cpp_standalone or numpy).

    Parameters
    ----------
    n_slots : int
        Images in the run (the bar's 100 %).
    period : Quantity
        One image's presentation time; the group's clock.
    """
    # the wall clock's start and last report live in the group, so they span several run calls
    group = NeuronGroup(
        1,
        "start_s : 1\nlast_s : 1\nlines : 1",
        dt=period,
        name=name,
        namespace={
            "koo_wall_s": koo_wall_s,
            "koo_progress_line": koo_progress_line,
            "n_slots": float(n_slots),
            "tty": float(sys.stdout.isatty()),
        },
    )
    group.run_regularly(
        """
        now_s = koo_wall_s()
        start_s += int(lines == 0)*(now_s - start_s)
        done = clip(floor(t/dt + 0.5), 0, n_slots)
        show = int(lines == 0 or now_s - last_s >= 2 or done >= n_slots - 0.5)
        last_s += show*(now_s - last_s)
        lines += koo_progress_line(show, done, n_slots, now_s - start_s, tty)
        """,
        when="end",
        name=f"{name}_line",
    )
    return group


def _sources(directory, since):
    """The C++ files this build compiles: the make file's list once it is written for this build (``koo.mk``
    leaves out merged copies of code objects), every file of the project before."""
    mk = os.path.join(directory, "koo.mk")
    try:
        if os.path.getmtime(mk) >= since:
            with open(mk) as fh:
                for line in fh:
                    if line.startswith("SRCS = "):
                        return [os.path.join(directory, f) for f in line.split()[2:] if f.endswith(".cpp")]
    except OSError:
        pass
    return glob.glob(os.path.join(directory, "code_objects", "*.cpp")) + glob.glob(os.path.join(directory, "*.cpp"))


@contextlib.contextmanager
def compile_progress(directory: str | os.PathLike | None, every: float = 5.0) -> Iterator[None]:
    """While the block runs, print how many of the project's C++ files are compiled, every ``every`` s.

    Silent when nothing needs compiling (a cached build); stops once the binary is linked. Brian2
    sends the file descriptors 1 and 2 to log files while ``make`` runs, so the lines go to a copy
    of standard output taken before.
    """
    if not directory:
        yield
        return
    try:
        sys.stdout.flush()
        fd = os.dup(sys.stdout.fileno())
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):  # e.g. a notebook's stdout
        fd = None
    stop, t0 = threading.Event(), time.time()

    def say(line):
        if fd is None:
            print(line, flush=True)
        else:
            os.write(fd, (line + "\n").encode())

    def watch():
        shown = None
        while not stop.wait(every):
            binary = os.path.join(directory, "main")
            if os.path.exists(binary) and os.path.getmtime(binary) >= t0:
                return
            sources = _sources(directory, t0)
            done = sum(
                1
                for src in sources
                if os.path.exists(src[:-4] + ".o") and os.path.getmtime(src[:-4] + ".o") >= os.path.getmtime(src)
            )
            if sources and done < len(sources) and done != shown:
                say(f"  compiling C++: {done}/{len(sources)} files, {time.time() - t0:.0f} s")
                shown = done

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        if fd is not None:
            os.close(fd)
