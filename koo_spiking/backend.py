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

    The project is compiled by our own make file (``koo.mk``, written from Brian2's
    ``makefile``, issue 26): ``objects.cpp`` (it only allocates and loads arrays) first
    and at -O0, header dependencies written by the compiler as it compiles (``-MMD``)
    instead of Brian2's serial ``g++ -MM`` pass over every file on every build, a file
    recompiled only when it or a header it includes changed, or the flags did.
    :func:`last_build_report` gives the files compiled and the seconds of each phase.
    The binary is linked with ``-ffast-math``, which sets flush-to-zero and
    denormals-are-zero at its start: numbers below 2.2e-308 (a decayed dopamine level)
    become 0 instead of taking the slow path of the CPU. ``KOO_BUILD=brian2`` restores
    Brian2's make file and ``KOO_FTZ=off`` the denormal numbers (for comparisons).
    Our make file compiles patched copies of some generated files (:mod:`koo_spiking.build`:
    Brian2's scheduler, the astrocytes' idle ``tanh``, resets without a spike, the spike queue
    read without a copy), each with its switch; the spikes and weights stay bit-identical.
``numpy``
    Pure Python runtime, slow, for debugging.
"""

import atexit
import contextlib
import copy
import fcntl
import hashlib
import itertools
import json
import os
import re
import resource
import shutil
import subprocess
import tempfile
import time

import brian2
import numpy as np

from koo_spiking import build as patches
from koo_spiking.build import _read  # a file's text, None when it cannot be read

__all__ = [
    "TARGETS",
    "use",
    "current",
    "reset",
    "backend",
    "seed",
    "is_standalone",
    "build_directory",
    "temporary_directory",
    "precompiled_header",
    "merge_copies",
    "last_build_report",
]

TARGETS = ("cython", "cpp_standalone", "numpy")
_state = {"target": "cython", "directory": None, "flags": None, "link": None, "objects": None}
_last_report = {}
# the standard headers Brian2's generated files include (objects.h, brianlib/, code objects)
_PCH_HEADERS = (
    "algorithm",
    "cassert",
    "climits",
    "cmath",
    "cstdint",
    "cstdlib",
    "ctime",
    "fstream",
    "iostream",
    "iterator",
    "limits",
    "map",
    "random",
    "set",
    "string",
    "utility",
    "vector",
)


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
        # objects.cpp at -O0, with a precompiled header of its own flags
        plain = [f for f in build if not f.startswith("-O")] + ["-O0"]
        header0 = precompiled_header(plain)
        _state["objects"] = plain + ([f"-include{header0}"] if header0 else [])
        if os.environ.get("KOO_FTZ") != "off":
            link = list(brian2.prefs.codegen.cpp.extra_link_args)
            _state["link"] = link
            brian2.prefs.codegen.cpp.extra_link_args = link + ["-ffast-math"]  # crtfastmath.o: FTZ and DAZ
        _install_build(brian2.get_device())
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
        _uninstall_build(brian2.get_device())
        brian2.device.reinit()
        brian2.device.activate()
        brian2.set_device("runtime")
    brian2.defaultclock.dt = 0.1 * brian2.ms
    if _state["flags"] is not None:
        brian2.prefs.codegen.cpp.extra_compile_args_gcc = _state["flags"]
    if _state["link"] is not None:
        brian2.prefs.codegen.cpp.extra_link_args = _state["link"]
    _state.update(target="cython", directory=None, flags=None, link=None, objects=None)
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
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "koo_spiking", "standalone"
    )
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
            shutil.rmtree(path[: -len(".lock")], ignore_errors=True)
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
    base = (
        os.path.join(tempfile.gettempdir(), "koo_spiking_pch")
        if root == "off"
        else os.path.join(os.path.dirname(root.rstrip(os.sep)) or ".", "pch")
    )
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
                subprocess.run(
                    [gcc[0], "-x", "c++-header", *flags, header + ".tmp", "-o", header + ".gch.tmp"],
                    check=True,
                    capture_output=True,
                    timeout=600,
                )
                os.replace(header + ".tmp", header)
                os.replace(header + ".gch.tmp", header + ".gch")
    except (OSError, subprocess.SubprocessError):
        header = None
    _pch[key] = header
    return header


# ---------------------------------------------------------------------- the build step (issue 26)
_MAKEFILE = "koo.mk"
_TIMES = "koo_times.txt"
_FLAGS = "koo_flags.txt"
_VARIABLES = ("SRCS", "H_SRCS", "OPTIMISATIONS", "CXXFLAGS", "LFLAGS")


def last_build_report():
    """What the last standalone build of this process did, or None before the first.

    Returns
    -------
    dict or None
        ``make``: ``'koo'`` (our make file) or ``'brian2'`` (``KOO_BUILD=brian2``);
        ``files_total`` and ``files_compiled`` (C++ files of the project, and those compiled by
        this build); ``files_merged``: copies of code objects left out (:func:`merge_copies`); ``seconds``: wall seconds per phase, ``write`` (Brian2 writing the project's
        files; it generates the code objects before, in ``run()``), ``compile`` (make until the
        last object file),
        ``link``, ``total`` (the whole ``device.build``, without running the binary);
        ``cpu_seconds``: CPU of the compiler processes (user + system);
        ``slowest``: the ten slowest files as ``[file, seconds]`` (wall, under ``make -j``);
        ``objects_s``: seconds of ``objects.cpp`` (None when not compiled); ``jobs``: make's
        ``-j``; ``directory``: the project. The same dict is written to ``koo_build.json``
        in the project directory.
    """
    return copy.deepcopy(_last_report) if _last_report else None


def _install_build(device):
    """Time ``device.build`` and compile with our make file (an instance attribute, removed by reset)."""
    cls = type(device)

    def build(*args, **kwargs):
        start = time.time()
        _current.clear()
        _current["start"] = start
        try:
            return cls.build(device, *args, **kwargs)
        finally:
            if "compile" in _current:  # a build that compiled (not one that only generated code)
                report = _current["report"]
                report["seconds"]["total"] = round(_current.get("compiled_at", time.time()) - start, 3)
                report["seconds"]["write"] = round(_current["compile"] - start, 3)
                _last_report.clear()
                _last_report.update(report)
                try:
                    with open(os.path.join(report["directory"], "koo_build.json"), "w") as fh:
                        json.dump(report, fh, indent=1)
                except OSError:
                    pass

    def compile_source(directory, compiler, debug, clean):
        _current["compile"] = time.time()
        if compiler == "msvc" or os.environ.get("KOO_BUILD") == "brian2":
            before = _children_cpu()
            t0 = time.time()
            _mtimes = _object_times(directory)
            cls.compile_source(device, directory, compiler, debug, clean)
            after = _object_times(directory)
            compiled = sorted(k for k, v in after.items() if _mtimes.get(k) != v)
            _current["report"] = {
                "make": "brian2",
                "directory": os.path.abspath(directory),
                "files_total": len(_sources(directory)),
                "files_compiled": len(compiled),
                "seconds": {"compile": round(time.time() - t0, 3)},
                "cpu_seconds": round(_children_cpu() - before, 3),
                "slowest": [],
                "objects_s": None,
                "jobs": _jobs(),
            }
        else:
            _current["report"] = _make(directory, clean)
            device.timers["compile"]["make"] = _current["report"]["seconds"]["make"]  # as Brian2 keeps it
        _current["compiled_at"] = time.time()

    device.build = build
    device.compile_source = compile_source


def _uninstall_build(device):
    for name in ("build", "compile_source"):
        device.__dict__.pop(name, None)


_current = {}


def _children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _jobs():
    for arg in brian2.prefs.devices.cpp_standalone.extra_make_args_unix:
        if arg.startswith("-j") and arg[2:].isdigit():
            return int(arg[2:])
    return 1


def _object_times(directory):
    out = {}
    for folder, _, files in os.walk(directory):
        for name in files:
            if name.endswith(".o"):
                path = os.path.join(folder, name)
                out[path] = os.stat(path).st_mtime_ns
    return out


def _read_makefile(directory):
    """The variables of Brian2's generated make file (``NAME = value`` lines)."""
    values = {}
    with open(os.path.join(directory, "makefile")) as fh:
        for line in fh:
            m = re.match(r"^([A-Z_]+) = (.*)$", line.rstrip("\n"))
            if m and m.group(1) in _VARIABLES:
                values[m.group(1)] = m.group(2)
    missing = [k for k in _VARIABLES if k not in values]
    if missing:
        raise RuntimeError(f"backend: Brian2's makefile has no {', '.join(missing)} (Brian2 {brian2.__version__})")
    return values


def _sources(directory):
    try:
        return _read_makefile(directory)["SRCS"].split()
    except (OSError, RuntimeError):
        return []


def _write_if_changed(path, text):
    try:
        with open(path) as fh:
            if fh.read() == text:
                return False
    except OSError:
        pass
    with open(path + ".tmp", "w") as fh:
        fh.write(text)
    os.replace(path + ".tmp", path)
    return True


def _objects_optimisations(optimisations):
    """Brian2's ``OPTIMISATIONS`` for objects.cpp: -O0 and the precompiled header of those flags."""
    kept = [t for t in optimisations.split() if not t.startswith(("-O", "-include"))]
    extra = [f for f in (_state["objects"] or ["-O0"]) if f.startswith(("-O", "-include"))]
    return " ".join(kept + extra)


# a compile step that appends "<target> <start> <end>" (seconds since the epoch) to koo_times.txt
_TIMED = '@s=$$(date +%s.%N); {command} && echo "$@ $$s $$(date +%s.%N)" >> ' + _TIMES


def _makefile_text(v, patched=None):
    """``koo.mk``; ``patched`` maps a source to the patched copy compiled instead (:mod:`koo_spiking.build`)."""
    patched = patched or {}
    sources = [patched.get(f, f) for f in v["SRCS"].split()]
    first = [f for f in sources if f == "objects.cpp"]
    sources = first + [f for f in sources if f != "objects.cpp"]  # make -j starts them in this order
    return "\n".join(
        [
            "# written by koo_spiking.backend from Brian2's makefile (issue 26): objects.cpp first and at -O0,",
            "# header dependencies from -MMD while compiling (no serial g++ -MM pass), times in " + _TIMES,
            "PROGRAM = main",
            "SRCS = " + " ".join(sources),
            "OBJS = ${SRCS:.cpp=.o}",
            "OBJS := ${OBJS:.c=.o}",
            "OPTIMISATIONS = " + v["OPTIMISATIONS"],
            "OBJECTS_OPTIMISATIONS = " + _objects_optimisations(v["OPTIMISATIONS"]),
            "CXXFLAGS = " + v["CXXFLAGS"],
            "LFLAGS = " + v["LFLAGS"],
            "",
            "all: $(PROGRAM)",
            ".PHONY: all",
            "",
            "$(PROGRAM): $(OBJS) " + _MAKEFILE,
            "\t" + _TIMED.format(command="$(CXX) $(OBJS) -o $(PROGRAM) $(LFLAGS)"),
            "",
            "objects.o: OPTIMISATIONS = $(OBJECTS_OPTIMISATIONS)",
            "",
            "%.o : %.cpp " + _FLAGS,
            "\t" + _TIMED.format(command="$(CXX) $(CXXFLAGS) -MMD -MP $< -o $@"),
            "",
            "%.o : %.c " + _FLAGS,
            "\t" + _TIMED.format(command="$(CC) -c -MMD -MP $< -o $@"),
            "",
            "-include $(OBJS:.o=.d)",
            "",
        ]
    )


_VARIANT = re.compile(r"^(?P<prefix>after_run_|before_run_)?(?P<obj>\w+_codeobject)(?:_(?P<n>[1-9]\d*))?\.cpp$")


def _renamer(names):
    """A function renaming every code object of ``names`` (e.g. ``X_codeobject_2`` -> ``X_codeobject_1``) in a
    text; a name matches whole (no letter or digit before it, no digit after it: ``_run_X``, ``_INCLUDED_X_after``)."""
    alternatives = "|".join(sorted(map(re.escape, names), key=len, reverse=True))
    pattern = re.compile(r"(?<![A-Za-z0-9])(" + alternatives + r")(?![0-9])")
    return lambda text: pattern.sub(lambda m: names[m.group(1)], text)


def merge_copies(directory, sources):
    """Leave out of the build the copies that each later ``run()`` makes of a code object.

    Brian2 generates a code object again for every ``run()`` call (``X_codeobject_1.cpp`` with its
    ``after_run_``/``before_run_`` files): the encoder's split run (the raster of the last images
    recorded in a second ``run()``) doubled about a third of its files. Of the variants of a code
    object among ``sources`` (``X_codeobject``, ``X_codeobject_1``, ...), the lowest-numbered is
    compiled; another whose files are its text but for the name is left out and ``main.cpp`` calls
    the first instead. A variant that differs in anything (or counts its own profiling time) is kept.

    Returns the sources to compile and the merged variants (name -> the name compiled instead).
    ``KOO_MERGE_COPIES=off`` keeps every file.
    """
    if os.environ.get("KOO_MERGE_COPIES") == "off":
        return list(sources), {}
    folder = os.path.join(directory, "code_objects")
    families = {}  # obj -> n -> {prefix: file stem}, only files of this build's sources
    for src in sources:
        m = _VARIANT.match(os.path.basename(src))
        if m and src.startswith("code_objects/"):
            n = int(m.group("n") or 0)
            families.setdefault(m.group("obj"), {}).setdefault(n, {})[m.group("prefix") or ""] = os.path.basename(src)[
                :-4
            ]
    merged, dropped = {}, set()
    for obj, variants in families.items():
        first = min(variants)
        name = {n: obj if n == 0 else f"{obj}_{n}" for n in variants}
        for n, files in variants.items():
            if n == first or set(files) != set(variants[first]):
                continue
            rename = _renamer({name[n]: name[first]})
            same = True
            for prefix, ext in itertools.product(files, (".cpp", ".h")):
                text = _read(os.path.join(folder, files[prefix] + ext))
                original = _read(os.path.join(folder, variants[first][prefix] + ext))
                if text is None or original is None or "profiling_info" in text or rename(text) != original:
                    same = False
                    break
            if same:
                merged[name[n]] = name[first]
                dropped |= set(files.values())
    if merged:
        main = os.path.join(directory, "main.cpp")
        _write_if_changed(main, _renamer(merged)(_read(main)))
    return [s for s in sources if os.path.basename(s)[:-4] not in dropped], merged


def _make(directory, clean):
    """Compile the project with ``koo.mk``; the report of :func:`last_build_report` (without generate)."""
    v = _read_makefile(directory)
    all_sources = v["SRCS"].split()
    kept, merged = merge_copies(directory, all_sources)
    v["SRCS"] = " ".join(kept)
    patched = patches.patch_code_objects(directory, kept)
    network = patches.patch_network(directory)
    if network:
        patched["network.cpp"] = network
    text = _makefile_text(v, patched)
    mk = os.path.join(directory, _MAKEFILE)
    if clean:
        for path in _object_times(directory):
            os.remove(path)
    _write_if_changed(mk, text)
    # the objects depend on the flags (not on the list of files: a new file does not recompile the others)
    _write_if_changed(
        os.path.join(directory, _FLAGS),
        "\n".join([v["OPTIMISATIONS"], _objects_optimisations(v["OPTIMISATIONS"]), v["CXXFLAGS"], v["LFLAGS"]]) + "\n",
    )
    times = os.path.join(directory, _TIMES)
    if os.path.exists(times):
        os.remove(times)
    make = brian2.prefs.devices.cpp_standalone.make_cmd_unix
    args = list(brian2.prefs.devices.cpp_standalone.extra_make_args_unix)
    before = _children_cpu()
    t0 = time.time()
    log = os.path.join(directory, "koo_make.log")
    with open(log, "w") as fh:
        code = subprocess.call([make, "-f", _MAKEFILE, *args], cwd=directory, stdout=fh, stderr=subprocess.STDOUT)
    t1 = time.time()
    cpu = _children_cpu() - before
    if code != 0:
        with open(log) as fh:
            tail = fh.read()[-3000:]
        raise RuntimeError(f"Project compilation failed (make -f {_MAKEFILE}, error code {code}); see {log}:\n{tail}")
    files, link = [], None
    if os.path.exists(times):
        with open(times) as fh:
            for line in fh:
                parts = line.split()
                if len(parts) == 3:
                    name, a, b = parts[0], float(parts[1]), float(parts[2])
                    if name == "main":
                        link = (a, b)
                    else:
                        files.append((name[:-2] + (".c" if name[:-2] + ".c" in v["SRCS"].split() else ".cpp"), a, b))
    compile_end = max([b for _, _, b in files], default=t0)
    slowest = sorted(((f, round(b - a, 3)) for f, a, b in files), key=lambda x: -x[1])
    objects = [round(b - a, 3) for f, a, b in files if f == "objects.cpp"]
    return {
        "make": "koo",
        "directory": os.path.abspath(directory),
        "files_total": len(v["SRCS"].split()),
        "files_merged": len(all_sources) - len(kept),
        "files_compiled": len(files),
        "seconds": {
            "compile": round(max(compile_end - t0, 0.0), 3),
            "link": round(link[1] - link[0], 3) if link else 0.0,
            "make": round(t1 - t0, 3),
        },
        "cpu_seconds": round(cpu, 3),
        "slowest": [list(x) for x in slowest[:10]],
        "objects_s": objects[0] if objects else None,
        "jobs": _jobs(),
    }
