"""Type hints on the public API: every public function, method and constructor of these modules has an
annotation for each parameter and for its return, and ``typing.get_type_hints`` resolves them all.

Public: the names in a module's ``__all__`` defined in that module (re-exports are checked where they are
defined), and the constructor and the public methods and properties a public class defines itself. Names a
module imports only under ``if TYPE_CHECKING:`` count as resolvable (a type checker sees them); a hint that
names anything else fails.
"""

import ast
import importlib
import inspect
import typing
from pathlib import Path

import pytest

MODULES = [
    "koo_spiking.neuron",
    "koo_spiking.synapse",
    "koo_spiking.population",
    "koo_spiking.astrocyte",
    "koo_spiking.neuromodulator",
    "koo_spiking.eligibility",
    "koo_spiking.structural",
    "koo_spiking.topology",
    "koo_spiking.plotting",
    "koo_spiking.parameters",
    "koo_spiking.progress",
    "koo_spiking.workers",
    "koo_spiking.demo",
    "koo_spiking.demo_report",
    "koo_spiking.cli",
    "koo_spiking.io.datasets",
    "koo_spiking.io.export",
    "koo_spiking.io.spikes",
    "koo_spiking.encoder.estimator",
    "koo_spiking.encoder.spec",
    "koo_spiking.encoder.record",
    "koo_spiking.encoder.checkpoint",
    "koo_spiking.encoder.figures",
    "koo_spiking.encoder.runtime",
    "koo_spiking.encoder.hubs",
    "koo_spiking.encoder.hold",
    "koo_spiking.encoder.boundary",
    "koo_spiking.encoder.pathways",
    "koo_spiking.encoder.network",
    "koo_spiking.encoder.compiled",
]


def _type_checking_names(module):
    """The names ``module`` imports under ``if TYPE_CHECKING:`` (for resolving the hints that use them)."""
    path = Path(module.__file__)
    names = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            code = compile(ast.Module(body=node.body, type_ignores=[]), str(path), "exec")
            exec(code, {"__name__": module.__name__, "__package__": module.__package__}, names)
    return names


def _public(module):
    """(qualified name, function) of each public function, constructor, method and property getter."""
    for name in module.__all__:
        obj = getattr(module, name)
        if getattr(obj, "__module__", None) != module.__name__:
            continue  # a constant, or re-exported from the module that defines it
        if inspect.isfunction(obj):
            yield name, obj
        elif inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if attr.startswith("_") and attr not in ("__init__", "__enter__", "__exit__"):
                    continue
                func = member.fget if isinstance(member, property) else getattr(member, "__func__", member)
                if inspect.isfunction(func):
                    yield f"{name}.{attr}", func


def _missing(module):
    localns = _type_checking_names(module)
    problems, n = [], 0
    for qualname, func in _public(module):
        n += 1
        func = inspect.unwrap(func)  # contextmanager, scikit-learn's set_output wrappers
        try:
            hints = typing.get_type_hints(func, localns=localns)
        except Exception as err:  # noqa: BLE001 - any failure to resolve is the finding
            problems.append(f"{qualname}: hints do not resolve ({type(err).__name__}: {err})")
            continue
        params = list(inspect.signature(func).parameters)
        if (
            "." in qualname
            and params
            and params[0] in ("self", "cls")
            and not isinstance(
                inspect.getattr_static(getattr(module, qualname.split(".")[0]), qualname.split(".")[1]), staticmethod
            )
        ):
            params = params[1:]
        problems += [f"{qualname}: parameter {p!r} has no type hint" for p in params if p not in hints]
        if "return" not in hints:
            problems.append(f"{qualname}: no return type")
    return n, problems


@pytest.mark.parametrize("name", MODULES)
def test_public_api_is_annotated(name):
    module = importlib.import_module(name)
    n, problems = _missing(module)
    assert not problems, "\n".join(problems)
    assert n, f"{name}: no public function found"


def test_type_checking_imports_resolve():
    """The names imported for type checking only exist (a renamed Brian2 class would fail here)."""
    for name in MODULES:
        module = importlib.import_module(name)
        for key, value in _type_checking_names(module).items():
            assert value is not None, f"{name}: {key}"


def test_a_missing_hint_is_found():
    """The check itself: an unannotated parameter, a missing return and an unresolvable name are reported."""
    import types

    module = types.ModuleType("fake_hints")
    module.__file__ = __file__
    exec(
        "def f(a: int, b) -> int: ...\n"
        "def g(a: int): ...\n"
        "def h(a: 'NoSuchType') -> None: ...\n"
        "__all__ = ['f', 'g', 'h']",
        module.__dict__,
    )
    for func in (module.f, module.g, module.h):
        func.__module__ = "fake_hints"
    module.__name__ = "fake_hints"
    _, problems = _missing(module)
    assert any("f: parameter 'b'" in p for p in problems)
    assert any("g: no return type" in p for p in problems)
    assert any(p.startswith("h: hints do not resolve") for p in problems)
