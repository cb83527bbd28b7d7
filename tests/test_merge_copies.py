"""Byte-identical copies of code objects made by a second ``run()`` are not compiled (backend.merge_copies);
the spikes stay bit-identical (tests/test_identical_spikes.py builds the split run with them merged)."""

from koo_spiking.backend import merge_copies

CODE = """#include "code_objects/{name}.h"
void _run_{name}() {{ int {body}; }}
"""
HEADER = """#ifndef _INCLUDED_{obj}_after
#define _INCLUDED_{obj}_after
void _run_{name}();
#endif
"""
MAIN = """#include "code_objects/g_stateupdater_codeobject.h"
#include "code_objects/g_stateupdater_codeobject_1.h"
#include "code_objects/g_stateupdater_codeobject_10.h"
#include "code_objects/after_run_g_thresholder_codeobject_1.h"
#include "code_objects/h_stateupdater_codeobject_1.h"
int main() {
    network.add(&clock, _run_g_stateupdater_codeobject);
    network.add(&clock, _run_g_stateupdater_codeobject_1);
    network.add(&clock, _run_g_stateupdater_codeobject_10);
    _run_after_run_g_thresholder_codeobject_1();
    network.add(&clock, _run_h_stateupdater_codeobject_1);
}
"""


def _object(folder, name, obj, body="x"):
    (folder / f"{name}.cpp").write_text(CODE.format(name=name, body=body))
    (folder / f"{name}.h").write_text(HEADER.format(name=name, obj=obj))


def _project(tmp_path):
    co = tmp_path / "code_objects"
    co.mkdir()
    for name in ("g_stateupdater_codeobject", "g_stateupdater_codeobject_1", "g_stateupdater_codeobject_10"):
        _object(co, name, name)
    for name, obj in (
        ("after_run_g_thresholder_codeobject", "g_thresholder_codeobject"),
        ("after_run_g_thresholder_codeobject_1", "g_thresholder_codeobject_1"),
    ):
        _object(co, name, obj)
    _object(co, "h_stateupdater_codeobject", "h_stateupdater_codeobject", body="x")
    _object(co, "h_stateupdater_codeobject_1", "h_stateupdater_codeobject_1", body="y")  # differs: kept
    (tmp_path / "main.cpp").write_text(MAIN)
    return sorted(f"code_objects/{p.name}" for p in co.glob("*.cpp")) + ["main.cpp"]


def test_identical_copies_are_merged_and_others_kept(tmp_path):
    sources = _project(tmp_path)
    kept, merged = merge_copies(str(tmp_path), sources)
    assert merged == {
        "g_stateupdater_codeobject_1": "g_stateupdater_codeobject",
        "g_stateupdater_codeobject_10": "g_stateupdater_codeobject",
        "g_thresholder_codeobject_1": "g_thresholder_codeobject",
    }
    assert "code_objects/h_stateupdater_codeobject_1.cpp" in kept  # a copy that differs is compiled
    assert not any(
        k.endswith(("stateupdater_codeobject_1.cpp", "_10.cpp")) and k.startswith("code_objects/g_") for k in kept
    )
    main = (tmp_path / "main.cpp").read_text()
    assert "_run_g_stateupdater_codeobject_1" not in main and "_run_g_stateupdater_codeobject_10" not in main
    assert "_run_after_run_g_thresholder_codeobject()" in main
    assert "_run_h_stateupdater_codeobject_1" in main


def test_switched_off(tmp_path, monkeypatch):
    monkeypatch.setenv("KOO_MERGE_COPIES", "off")
    sources = _project(tmp_path)
    assert merge_copies(str(tmp_path), sources) == (sources, {})
    assert (tmp_path / "main.cpp").read_text() == MAIN


def test_variants_of_this_build_only(tmp_path):
    """A network built a second time in one process numbers its objects from _1 (the first run) and _2 (the
    second); a file of an earlier build left in the project (``X_codeobject.cpp``) is not among the sources and
    must not be called (this linked against a missing object in a reused build directory)."""
    co = tmp_path / "code_objects"
    co.mkdir()
    for name in ("k_stateupdater_codeobject", "k_stateupdater_codeobject_1", "k_stateupdater_codeobject_2"):
        _object(co, name, name)
    (tmp_path / "main.cpp").write_text(
        "network.add(&clock, _run_k_stateupdater_codeobject_1);\n"
        "network.add(&clock, _run_k_stateupdater_codeobject_2);\n"
    )
    sources = [
        "code_objects/k_stateupdater_codeobject_1.cpp",
        "code_objects/k_stateupdater_codeobject_2.cpp",
        "main.cpp",
    ]  # the stale unnumbered file is not a source of this build
    kept, merged = merge_copies(str(tmp_path), sources)
    assert merged == {"k_stateupdater_codeobject_2": "k_stateupdater_codeobject_1"}
    assert kept == ["code_objects/k_stateupdater_codeobject_1.cpp", "main.cpp"]
    assert (tmp_path / "main.cpp").read_text().count("_run_k_stateupdater_codeobject_1);") == 2
