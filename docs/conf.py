"""Sphinx configuration of the koo_spiking documentation.

Build: ``python -m sphinx -W -b html docs docs/_build/html`` (from the repository root).
Before reading the sources this file runs the committed generators, so that no number or equation in
the built pages is typed by hand:

* ``docs/make_results.py``: the results pages from ``benchmarks/results/*.json``;
* ``docs/make_models.py``: the model library's equations and parameter tables from the code;
* the notebooks of ``notebooks/`` are copied (not executed) to ``docs/_generated/notebooks``.
"""

import os
import sys
import warnings
from pathlib import Path

import nbformat

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS))

import koo_spiking  # noqa: E402

GENERATED = DOCS / "_generated"


def _generate():
    GENERATED.mkdir(exist_ok=True)
    import make_models
    import make_results

    for module in (make_results, make_models):  # in this process: Brian2 is imported once
        if module.main(["--out", str(GENERATED)]) != 0:
            raise RuntimeError(f"docs/{module.__name__}.py failed")
    nbdir = GENERATED / "notebooks"
    nbdir.mkdir(exist_ok=True)
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # cells without ids: normalised below
            nb = nbformat.read(path, as_version=4)
        _, nb = nbformat.validator.normalize(nb)
        nb = nbformat.from_dict(nb)
        target = nbdir / path.name
        text = nbformat.writes(nb)
        if not target.exists() or target.read_text() != text:  # unchanged files keep Sphinx's cache valid
            target.write_text(text)


if not os.environ.get("KOO_DOCS_SKIP_GENERATE"):
    _generate()

project = "koo_spiking"
author = "the koo_spiking authors"
copyright = "2026, the koo_spiking authors"
release = koo_spiking.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "myst_nb",  # MyST Markdown pages and notebooks (rendered, never executed here)
]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "**/.ipynb_checkpoints", "README.md"]
root_doc = "index"

# notebooks: shown as committed; the tests (tests/test_notebooks.py) execute them
nb_execution_mode = "off"
nb_merge_streams = True
myst_enable_extensions = ["colon_fence", "dollarmath", "amsmath", "deflist", "substitution"]
myst_heading_anchors = 3

autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": True, "show-inheritance": True, "member-order": "bysource"}
autodoc_typehints = "description"
autodoc_mock_imports = ["pynwb"]  # the optional NWB export needs it only when called
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_rtype = False

intersphinx_mapping = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable", None),
    "brian2": ("https://brian2.readthedocs.io/en/stable", None),
}
# intersphinx needs the network; the CI build runs without it, so it is off unless asked for
if not os.environ.get("KOO_DOCS_INTERSPHINX"):
    intersphinx_mapping = {}

html_theme = "furo"
html_title = f"koo_spiking {release}"
html_static_path = []
html_theme_options = {"source_repository": "", "navigation_with_keys": True}

nitpicky = False
suppress_warnings = [
    "myst.header",  # the included CHANGELOG.md/CONTRIBUTING.md start below the page's own title level
]

# Methods a class inherits from Brian2 or scikit-learn keep their own documentation there; inheriting their
# docstrings would pull in cross-references to those projects' pages (warnings under -W).
autodoc_inherit_docstrings = False

# Docstrings that docutils cannot parse as reStructuredText (indented formulas or lists without a blank line).
# They are shown verbatim (first line as the summary) until they are fixed in the code; remove a name from this
# list when its docstring is fixed. `python docs/check_docstrings.py` lists them as well.
VERBATIM_DOCSTRINGS: set = set()  # none left; add a name here only while its docstring is being fixed


def _verbatim(app, what, name, obj, options, lines):
    if name not in VERBATIM_DOCSTRINGS or not lines:
        return
    first = lines[0].replace("\\", "\\\\").replace("*", "\\*").replace("`", "'")
    rest = lines[1:]
    lines[:] = [first, ""] + ((["::", ""] + ["    " + line for line in rest] + [""]) if any(rest) else [])


def _skip(app, what, name, obj, skip, options):
    # scikit-learn's metadata-routing methods (set_fit_request, ...) are generated on KooEncoder by sklearn
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-process-docstring", _verbatim)
    app.connect("autodoc-skip-member", _skip)
