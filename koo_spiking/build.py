"""Patches of the generated ``cpp_standalone`` project that make its time step cheaper (issue 26).

Each patch writes a changed copy of one generated file beside it (``koo_network.cpp``,
``code_objects/_koo_X.cpp``), written only when its text changes, and the make file
(``backend``'s ``koo.mk``) compiles the copy instead of Brian2's file; Brian2's own files are
never edited, so it still sees the files it wrote and a warm build recompiles nothing. A patch
that does not find the text it expects (another Brian2 version) leaves the file as it is. None
of them changes an operation on the model's numbers: the spikes and learned weights stay
bit-identical (``tests/test_identical_spikes.py``).

``KOO_NETWORK_PATCH=off``
    Brian2's scheduler (``network.cpp``). Patched, a run without a progress report executes,
    per combination of clocks that tick together, the list of its code objects made once in the
    network's order, instead of looking every object's clock up in a ``std::set`` at every step
    and building that set anew; the process clock (``std::clock``, a system call) is read at the
    end of the run instead of at every step (``Network::_last_run_time`` is the same measure).
``KOO_RESET_SKIP=off``
    A reset code object computes its scalar code (in the encoder, the ``sin`` and ``cos`` of the
    spike phase, once per layer and step) before it loops over the neurons that spiked, also at
    the steps where none did (most of them). Patched, it returns first when no neuron spiked,
    where its scalar code only defines constants (no random number, nothing written).
``KOO_PEEK=off``
    A synaptic pathway's code object reads the synapses of this step's spikes with
    ``pathway.peek()``, which copies the spike queue's list into a vector of the pathway (one
    per OpenMP thread, joined) at every step: at Fashion-MNIST size a twentieth of the step.
    With one thread (the project is built without OpenMP) the copy is the queue's list itself,
    so the patched code object reads that list (``pathway.queue[0]->peek()``).
``KOO_TANH_GATE=off``
    The exogenous IP3 flow of the astrocytes, ``ex_on*(1 + tanh(...))*sign(...)``, is computed
    with ``tanh`` at all four Runge-Kutta stages of every astrocyte even where ``ex_on`` is 0
    (the encoder's astrocytes: the flow is off), and ``tanh`` is a fifth of the step. Patched,
    ``tanh`` is called only where the factor is not 0; where it is 0 the product is the same zero
    (``0*(1 + tanh(x)) == 0*(1 + 0)``, sign included, for every finite ``x``).
"""

import os
import re

__all__ = [
    "patch_network",
    "patch_code_objects",
    "network_text",
    "tanh_text",
    "reset_text",
    "peek_text",
    "NETWORK",
    "TANH_GATE",
    "RESET_SKIP",
    "PEEK",
]

#: environment switches (value ``off`` disables the patch)
NETWORK, TANH_GATE, RESET_SKIP, PEEK = "KOO_NETWORK_PATCH", "KOO_TANH_GATE", "KOO_RESET_SKIP", "KOO_PEEK"


def enabled(switch):
    """True unless the environment variable ``switch`` is ``off``."""
    return os.environ.get(switch) != "off"


def _read(path):
    try:
        with open(path) as fh:
            return fh.read()
    except OSError:
        return None


def _write_if_changed(path, text):
    if _read(path) == text:
        return False
    with open(path + ".tmp", "w") as fh:
        fh.write(text)
    os.replace(path + ".tmp", path)
    return True


# ---------------------------------------------------------------------------------------- scheduler
_LOOP = "    while(clock && clock->running() && !Network::_globally_stopped)\n"
_AFTER = "    Network::_globally_running = false;\n"
_ELAPSED = re.compile(r"^\s*elapsed_realtime = (\(double\)\(current - start\)/\([^;\n]*CLOCKS_PER_SEC\));$", re.M)

_FAST_LOOP = """    if (!report_func && !clocks.empty() && clocks.size() <= 64)
    {
        // koo_spiking (issue 26): the clocks in the set's order, one bit each; the code objects of each
        // combination of clocks that tick together listed once, in the network's order; the process
        // clock read once, after the loop. Objects run in the same order as in the loop below.
        std::vector<Clock*> _koo_clocks(clocks.begin(), clocks.end());
        const size_t _koo_n = _koo_clocks.size();
        std::vector<uint64_t> _koo_bit(objects.size(), 0);
        for (size_t i = 0; i < objects.size(); i++)
            for (size_t k = 0; k < _koo_n; k++)
                if (objects[i].first == _koo_clocks[k])
                    _koo_bit[i] = (uint64_t)1 << k;
        uint64_t _koo_mask = 0;
        for (size_t k = 0; k < _koo_n; k++)
            if (curclocks.find(_koo_clocks[k]) != curclocks.end())
                _koo_mask |= (uint64_t)1 << k;
        std::map< uint64_t, std::vector<codeobj_func> > _koo_lists;
        const std::vector<codeobj_func>* _koo_list = NULL;
        uint64_t _koo_listed = 0;
        while(clock && clock->running() && !Network::_globally_stopped)
        {
            t = clock->t[0];
            if (_koo_list == NULL || _koo_mask != _koo_listed)
            {
                std::map< uint64_t, std::vector<codeobj_func> >::iterator found = _koo_lists.find(_koo_mask);
                if (found == _koo_lists.end())
                {
                    std::vector<codeobj_func> funcs;
                    for (size_t i = 0; i < objects.size(); i++)
                        if ((_koo_bit[i] & _koo_mask) && objects[i].second)
                            funcs.push_back(objects[i].second);
                    found = _koo_lists.insert(std::make_pair(_koo_mask, funcs)).first;
                }
                _koo_list = &found->second;
                _koo_listed = _koo_mask;
            }
            for (size_t j = 0, m = _koo_list->size(); j < m; j++)
                (*_koo_list)[j]();
            for (size_t k = 0; k < _koo_n; k++)
                if (_koo_mask & ((uint64_t)1 << k))
                    _koo_clocks[k]->tick();
            // next_clocks() without a std::set: the first clock of smallest t, and those within epsilon of it
            clock = _koo_clocks[0];
            for (size_t k = 1; k < _koo_n; k++)
                if (_koo_clocks[k]->t[0] < clock->t[0])
                    clock = _koo_clocks[k];
            const double _koo_t = clock->t[0];
            _koo_mask = 0;
            for (size_t k = 0; k < _koo_n; k++)
            {
                const double s = _koo_clocks[k]->t[0];
                if (s == _koo_t || fabs(s - _koo_t) <= Clock_epsilon)
                    _koo_mask |= (uint64_t)1 << k;
            }
        }
        curclocks.clear();
        for (size_t k = 0; k < _koo_n; k++)
            if (_koo_mask & ((uint64_t)1 << k))
                curclocks.insert(_koo_clocks[k]);
        current = std::clock();
        elapsed_realtime = {elapsed};
    }
    else
"""


def network_text(text):
    """Brian2's ``network.cpp`` with the fast loop of ``KOO_NETWORK_PATCH``, or None when the text is not
    the one expected (another Brian2 version, or a ``maximum_run_time`` to check at every step)."""
    if text.count(_LOOP) != 1 or text.count(_AFTER) != 1 or "did_break_early = true" in text:
        return None
    start, end = text.index(_LOOP), text.index(_AFTER)
    elapsed = _ELAPSED.findall(text[start:end])
    if end < start or len(elapsed) != 1 or "#include<utility>\n" not in text:
        return None
    fast = _FAST_LOOP.replace("{elapsed}", elapsed[0])
    text = text[:start] + fast + text[start:]
    return text.replace(
        "#include<utility>\n", "#include<utility>\n#include<map>\n#include<vector>\n#include<stdint.h>\n", 1
    )


def patch_network(directory):
    """Write ``koo_network.cpp`` (Brian2's ``network.cpp`` with the fast loop) when it changed.

    Parameters
    ----------
    directory : str
        The standalone project.

    Returns
    -------
    str or None
        ``"koo_network.cpp"``, the file to compile instead of ``network.cpp``; None when the patch is
        switched off (``KOO_NETWORK_PATCH=off``) or does not apply (Brian2's file is compiled).
    """
    if not enabled(NETWORK):
        return None
    text = _read(os.path.join(directory, "network.cpp"))
    patched = network_text(text) if text is not None else None
    if patched is None:
        return None
    _write_if_changed(os.path.join(directory, "koo_network.cpp"), patched)
    return "koo_network.cpp"


# ---------------------------------------------------------------------------------------- tanh gate
# a factor (a variable's name) times (1.0 + tanh(: the tanh is only needed where the factor is not 0
_GATED = re.compile(r"\b(?P<on>[A-Za-z_]\w*) \* \(1\.0 \+ tanh\(")
_SUPPORT = "////// SUPPORT CODE ///////\nnamespace {\n"
_HELPER = (
    "    // koo_spiking (issue 26): tanh(x) where the factor multiplying (1 + tanh(x)) is not 0; a call, as tanh's\n"
    "    // (inlined, the branch changes the order in which -ffast-math sums the terms around it)\n"
    "    __attribute__((noinline)) static double _koo_gated_tanh(const double on, const double x)\n"
    "    {\n        return on != 0.0 ? tanh(x) : 0.0;\n    }\n"
)


def tanh_text(text):
    """A code object's text with every ``f * (1.0 + tanh(x``, ``f`` a variable, gated on ``f != 0``;
    None when it has none (or no support-code block to put the helper in)."""
    if not _GATED.search(text) or text.count(_SUPPORT) != 1:
        return None
    text = _GATED.sub(lambda m: f"{m.group('on')} * (1.0 + _koo_gated_tanh({m.group('on')}, ", text)
    return text.replace(_SUPPORT, _SUPPORT + _HELPER, 1)


# ---------------------------------------------------------------------------------------- idle resets
_EVENTS = re.compile(r"^(?P<line>\s*const int32_t _num_events = [^;\n]*;\n)", re.M)
_SCALAR = re.compile(r"// scalar code\n(?P<block>.*?)\n\s*for\(int32_t _index_events=0;", re.S)
_CONSTANT = re.compile(r"^\s*(?:const \w+ \w+ = [^;]*;)?\s*$")


def reset_text(text):
    """A reset code object's text returning before its scalar code when no neuron spiked; None when the
    text is not the one expected or its scalar code does more than define constants (e.g. draws a
    random number)."""
    events, scalar = _EVENTS.findall(text), _SCALAR.findall(text)
    if len(events) != 1 or len(scalar) != 1 or "rand" in scalar[0] or "poisson" in scalar[0]:
        return None
    if not all(_CONSTANT.match(line) for line in scalar[0].splitlines()):
        return None
    return text.replace(
        events[0],
        events[0] + "    if (_num_events == 0) return;  // koo_spiking (issue 26): no spike, nothing to reset\n",
        1,
    )


# ---------------------------------------------------------------------------------------- spike queue
_PEEK = re.compile(r"(std::vector<int> \*_spiking_synapses = )(\w+)\.peek\(\);")
_ONE_THREAD = (
    "std::vector< CSpikeQueue * > queue;",
    "for(int _thread=0; _thread < 1; _thread++)",
    "all_peek.insert(all_peek.end(), queue[_thread]->peek()->begin(), queue[_thread]->peek()->end());",
)


def one_thread(directory):
    """True when the project's ``synapses_classes.h`` is Brian2's pathway for one thread, whose ``peek()`` is
    a copy of its one queue's list."""
    text = _read(os.path.join(directory, "synapses_classes.h")) or ""
    return all(text.count(line) == 1 for line in _ONE_THREAD)


def peek_text(text):
    """A synaptic code object's text reading the spike queue's list (``pathway.queue[0]->peek()``) instead of
    the pathway's copy of it; None when it has no ``pathway.peek()``. Only for a project of one thread
    (:func:`one_thread`)."""
    if not _PEEK.search(text):
        return None
    return _PEEK.sub(
        lambda m: f"{m.group(1)}{m.group(2)}.queue[0]->peek();  // koo_spiking: no copy (one thread)", text
    )


_PATCHES = (
    (TANH_GATE, lambda name, text: "tanh(" in text, tanh_text),
    (RESET_SKIP, lambda name, text: re.search(r"_resetter_codeobject(_\d+)?\.cpp$", name), reset_text),
    (PEEK, lambda name, text: ".peek();" in text, peek_text),
)


def patch_code_objects(directory, sources):
    """Write ``code_objects/_koo_X.cpp`` for every code object of ``sources`` that a patch changes (the
    tanh gate, the idle reset, the spike queue read without a copy), written when its text changed.

    Parameters
    ----------
    directory : str
        The standalone project.
    sources : list of str
        The project's C++ files (paths relative to ``directory``).

    Returns
    -------
    dict
        Source -> the patched file to compile instead; empty with every patch switched off
        (``KOO_TANH_GATE=off``, ``KOO_RESET_SKIP=off``, ``KOO_PEEK=off``).
    """
    patches = [
        (test, patch)
        for switch, test, patch in _PATCHES
        if enabled(switch) and (switch != PEEK or one_thread(directory))
    ]
    out = {}
    if not patches:
        return out
    for src in sources:
        folder, name = os.path.split(src)
        if folder != "code_objects" or not name.endswith(".cpp") or name.startswith("_koo_"):
            continue
        text = original = _read(os.path.join(directory, src))
        if text is None:
            continue
        for test, patch in patches:
            if test(name, text):
                text = patch(text) or text
        if text != original:
            target = os.path.join(folder, "_koo_" + name)  # (Brian2's names never start with _)
            _write_if_changed(os.path.join(directory, target), text)
            out[src] = target
    return out
