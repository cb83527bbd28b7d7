"""One project-wide choice of Brian2 code-generation target.

``cython``
    Runtime mode with compiled code blocks, the default for interactive use.
``cpp_standalone``
    Writes, compiles and runs a C++ project: for long runs. Every run gets
    its own directory, so parallel runs never share one; ``build_directory``
    hands out a locked directory per model structure, so a model compiled once
    only recompiles the files that changed (Brian2 leaves unchanged files alone).
    With GCC, the C++ standard headers every generated file includes are
    precompiled once per compiler and flags (``precompiled_header``): each file
    then compiles about four times faster.
``numpy``
    Pure Python runtime, slow, for debugging.
"""
import atexit
import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile

import brian2
import numpy as np

__all__ = ["TARGETS", "use", "current", "reset", "backend", "seed", "is_standalone",
           "build_directory", "temporary_directory", "precompiled_header"]

TARGETS = ("cython", "cpp_standalone", "numpy")
_state = {"target": "cython", "directory": None, "flags": None}
# the standard headers Brian2's generated files include (objects.h, brianlib/, code objects)
_PCH_HEADERS = ("algorithm", "cassert", "climits", "cmath", "cstdint", "cstdlib", "ctime", "fstream",
                "iostream", "iterator", "limits", "map", "random", "set", "string", "utility", "vector")


def use(target="cython", directory=None, build_on_run=True):
    """Select the code-generation target for all models built afterwards.

    Parameters
    ----------
    target : {'cython', 'cpp_standalone', 'numpy'}
    directory : str, optional
        Project directory for ``cpp_standalone``; a fresh temporary directory
        when not given, removed when the Python process ends.
    build_on_run : bool
        ``cpp_standalone`` only: build and run at the first ``run()``. Pass
        False to call ``device.build`` yourself (several runs, ``run_args``).

    Returns
    -------
    str or None
        The standalone project directory, None for runtime targets.
    """
    if target not in TARGETS:
        raise ValueError(f"backend: unknown target {target!r} (choose from {', '.join(TARGETS)})")
    reset()
    if target == "cpp_standalone":
        if directory is None:
            directory = tempfile.mkdtemp(prefix="koo_standalone_")
            atexit.register(shutil.rmtree, directory, ignore_errors=True)
        os.makedirs(directory, exist_ok=True)
        brian2.set_device("cpp_standalone", directory=directory, build_on_run=build_on_run)
        brian2.prefs.devices.cpp_standalone.extra_make_args_unix = [f"-j{os.cpu_count() or 1}"]
        flags = list(brian2.prefs.codegen.cpp.extra_compile_args_gcc)  # the user's (Brian2's) flags
        build = _optimisation(flags)
        header = precompiled_header(build)
        if header or build != flags:
            _state["flags"] = flags
            # one token: Brian2 tests each flag on its own and would drop a separate argument
            brian2.prefs.codegen.cpp.extra_compile_args_gcc = build + ([f"-include{header}"] if header else [])
    else:
        brian2.prefs.codegen.target = target
    _state.update(target=target, directory=directory)
    return directory


def _optimisation(flags):
    """``KOO_OPTIMIZE=0``: build with -O0 (about 2.5 times faster to compile, slower to run; same spikes
    up to floating-point rounding), for short runs such as tests. Unset: the flags as they are."""
    level = os.environ.get("KOO_OPTIMIZE")
    if level is None:
        return flags
    if level not in ("0", "1", "2", "3"):
        raise ValueError(f"KOO_OPTIMIZE must be 0, 1, 2 or 3, got {level!r}")
    return [f for f in flags if not f.startswith("-O")] + [f"-O{level}"]


def current():
    """Name of the target in use."""
    return _state["target"]


def is_standalone():
    """True when models are built for ``cpp_standalone``."""
    return _state["target"] == "cpp_standalone"


def reset():
    """Leave standalone mode (if active) and return to the runtime device."""
    if _state["target"] == "cpp_standalone":
        brian2.device.reinit()
        brian2.device.activate()
        brian2.set_device("runtime")
    brian2.defaultclock.dt = 0.1 * brian2.ms
    if _state["flags"] is not None:
        brian2.prefs.codegen.cpp.extra_compile_args_gcc = _state["flags"]
    _state.update(target="cython", directory=None, flags=None)
    brian2.prefs.codegen.target = "cython"


@contextlib.contextmanager
def backend(target, directory=None, build_on_run=True):
    """Context manager: build and run under ``target``, then restore the default.

    A standalone project directory created here (``directory`` not given) is removed on exit:
    read the results inside the block.
    """
    previous = current()
    with contextlib.ExitStack() as stack:
        if target == "cpp_standalone" and directory is None:
            directory = stack.enter_context(_temporary("koo_standalone_"))
        try:
            yield use(target, directory, build_on_run)
        finally:
            reset()
            if previous != "cpp_standalone":
                use(previous)


def seed(value):
    """Seed Brian2's generator (all targets) and numpy's global generator."""
    if value is None:
        return
    value = int(value)
    brian2.seed(value)
    np.random.seed(value)


def _cache_root():
    root = os.environ.get("KOO_BUILD_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "koo_spiking", "standalone")
    return root


@contextlib.contextmanager
def build_directory(key, prefix="koo_"):
    """A standalone project directory reserved for one model structure.

    Runs of the same structure (same ``key``) reuse the directory, so make only recompiles
    what changed (the number of image slots, the seed). The directory is locked while in use:
    a parallel process with the same key gets a fresh temporary directory instead, since
    Brian2's standalone device is one per process and a project cannot be shared.
    Set ``KOO_BUILD_CACHE`` to choose the cache folder, or to ``off`` to always build fresh.
    The cache keeps the ``KOO_BUILD_CACHE_KEEP`` (default 16) most recently used projects: older
    ones are removed after a run (never one in use).

    Parameters
    ----------
    key : str
        Anything that identifies the model structure (hashed).
    """
    root = _cache_root()
    if root == "off":
        with _temporary(prefix) as directory:
            yield directory
        return
    keep = _cache_keep()
    name = prefix + hashlib.sha1(key.encode()).hexdigest()[:16]
    try:
        os.makedirs(root, exist_ok=True)
        lock = open(os.path.join(root, name + ".lock"), "w")
    except OSError:  # read-only home: build in a temporary directory
        with _temporary(prefix) as directory:
            yield directory
        return
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # in use by another process
            with _temporary(prefix) as directory:
                yield directory
            return
        os.utime(lock.name)  # the project's last use
        try:
            yield os.path.join(root, name)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
            _prune(root, keep)


def _cache_keep():
    text = os.environ.get("KOO_BUILD_CACHE_KEEP", "16")
    try:
        keep = int(text)
    except ValueError:
        keep = -1
    if keep < 1:
        raise ValueError(f"KOO_BUILD_CACHE_KEEP must be a positive number of projects, got {text!r}")
    return keep


def _prune(root, keep):
    """Remove the least recently used projects of the cache beyond ``keep`` (skipping those in use)."""
    locks = [f for f in os.listdir(root) if f.endswith(".lock")]
    locks.sort(key=lambda f: os.path.getmtime(os.path.join(root, f)), reverse=True)
    for name in locks[keep:]:
        path = os.path.join(root, name)
        with open(path, "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:  # in use
                continue
            shutil.rmtree(path[:-len(".lock")], ignore_errors=True)
            os.remove(path)


def temporary_directory(prefix="koo_"):
    """A fresh standalone project directory, removed after the run (a full compilation)."""
    return _temporary(prefix)


@contextlib.contextmanager
def _temporary(prefix):
    """A fresh build directory, removed after the run (fallback builds never pile up)."""
    directory = tempfile.mkdtemp(prefix=prefix)
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _gcc():
    """The C++ compiler make will call, if it is GCC (its precompiled headers are ours to use)."""
    cxx = os.environ.get("CXX") or "g++"
    path = shutil.which(cxx)
    if not path:
        return None
    try:
        version = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return (path, version) if "Free Software Foundation" in version else None


_pch = {}


def precompiled_header(flags):
    """Path of a header of the C++ standard library includes, precompiled for this compiler.

    Passed to every standalone compilation with ``-include``; GCC then loads the ``.gch`` beside
    it instead of parsing some 60 000 lines of headers per generated file. Built once per
    compiler and flags in the build cache (locked, written then renamed). GCC checks that the
    ``.gch`` matches the flags and falls back to the plain header if not, so the result never
    depends on it. Returns None when the compiler is not GCC, the build fails or the
    environment variable ``KOO_PCH`` is ``off``.

    Parameters
    ----------
    flags : list of str
        The compiler flags of the generated files (``prefs.codegen.cpp.extra_compile_args_gcc``).
    """
    if os.environ.get("KOO_PCH") == "off":
        return None
    key = repr(flags)
    if key in _pch:
        return _pch[key]
    gcc = _gcc()
    root = _cache_root()
    if gcc is None:
        _pch[key] = None
        return None
    digest = hashlib.sha1(repr((gcc, flags, _PCH_HEADERS)).encode()).hexdigest()[:16]
    # beside the build cache; with the cache off, in one shared folder of the system's temp
    base = os.path.join(tempfile.gettempdir(), "koo_spiking_pch") if root == "off" else \
        os.path.join(os.path.dirname(root.rstrip(os.sep)) or ".", "pch")
    folder = os.path.join(base, digest)
    header = os.path.join(folder, "koo_std.h")
    try:
        if " " in header:  # Brian2 writes the flags into a makefile unquoted
            raise OSError("space in path")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not os.path.exists(header + ".gch"):
                text = "".join(f"#include <{name}>\n" for name in _PCH_HEADERS)
                with open(header + ".tmp", "w") as fh:
                    fh.write(text)
                subprocess.run([gcc[0], "-x", "c++-header", *flags, header + ".tmp", "-o", header + ".gch.tmp"],
                               check=True, capture_output=True, timeout=600)
                os.replace(header + ".tmp", header)
                os.replace(header + ".gch.tmp", header + ".gch")
    except (OSError, subprocess.SubprocessError):
        header = None
    _pch[key] = header
    return header
