"""List every public module, function, class and method of koo_spiking that lacks a docstring.

    python docs/check_docstrings.py          # prints them; exit status 1 if there is any

Public: a module whose name has no leading underscore; in it, the names in ``__all__`` when the module defines
it, otherwise every name without a leading underscore defined in that module (not imported into it); in a public
class, every method or property without a leading underscore defined in the class itself. Also prints the
docstrings that the documentation shows verbatim because docutils cannot parse them (``VERBATIM_DOCSTRINGS`` in
``docs/conf.py``), which count as failures too.
"""

import ast
import importlib
import inspect
import pkgutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _modules(package="koo_spiking"):
    pkg = importlib.import_module(package)
    yield pkg
    for info in pkgutil.walk_packages(pkg.__path__, package + "."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        yield importlib.import_module(info.name)


def _verbatim():
    tree = ast.parse((ROOT / "docs" / "conf.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "VERBATIM_DOCSTRINGS" for t in node.targets):
            return sorted(ast.literal_eval(node.value))
    return []


def _public(module):
    names = getattr(module, "__all__", None)
    if names is None:
        names = [
            n
            for n, obj in vars(module).items()
            if not n.startswith("_") and getattr(obj, "__module__", None) == module.__name__
        ]
    for name in names:
        obj = getattr(module, name, None)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            if getattr(obj, "__module__", module.__name__) != module.__name__:
                continue  # re-exported: checked where it is defined
            yield f"{module.__name__}.{name}", obj


def missing():
    out = []
    for module in _modules():
        if not (module.__doc__ or "").strip():
            out.append(("module", module.__name__))
        for qualname, obj in _public(module):
            if not (obj.__doc__ or "").strip() or (inspect.isclass(obj) and obj.__doc__ is None):
                out.append(("class" if inspect.isclass(obj) else "function", qualname))
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if attr.startswith("_"):
                        continue
                    func = member.fget if isinstance(member, property) else getattr(member, "__func__", member)
                    if not (inspect.isfunction(func)):
                        continue
                    if not (func.__doc__ or "").strip():
                        out.append(("method", f"{qualname}.{attr}"))
    return out


def main():
    found = missing()
    for kind, name in found:
        print(f"missing docstring: {kind} {name}")
    verbatim = _verbatim()
    for name in verbatim:
        print(f"docstring not valid reStructuredText (shown verbatim in the docs): {name}")
    total = len(found) + len(verbatim)
    print(f"{len(found)} missing, {len(verbatim)} to fix", file=sys.stderr)
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
