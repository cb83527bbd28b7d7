"""The notebooks execute top to bottom at small size.

The building-blocks notebook runs on Brian2's numpy target here (a ``brian_preferences`` file in the
kernel's folder, which Brian2 reads at import): its small networks run quickly without compilation, while
its two dozen cold Cython builds took three minutes of CI. Every model it shows is compiled under Cython and
cpp_standalone by the model tests.
"""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path, monkeypatch, request):
    monkeypatch.setenv("KOO_NOTEBOOK_SMALL", "1")
    if path.name.startswith("01_"):
        (tmp_path / "brian_preferences").write_text("codegen.target = 'numpy'\n")
    if path.name.startswith("02_"):  # the encoder notebook displays the train-CLI test's run (same study)
        code, run = request.getfixturevalue("small_run")
        assert code == 0
        monkeypatch.setenv("KOO_NOTEBOOK_RUN", str(run))
    if path.name.startswith("03_"):  # the ablation notebook plots the ablation test's tiny study
        code, run = request.getfixturevalue("small_ablation")
        assert code == 0
        monkeypatch.setenv("KOO_NOTEBOOK_ABLATION", str(run / "ablation.json"))
    if path.name.startswith("04_"):  # the plasticity notebook plots the plasticity test's small protocol
        code, run = request.getfixturevalue("small_protocol")
        assert code == 0
        monkeypatch.setenv("KOO_NOTEBOOK_PLASTICITY", str(run / "plasticity.json"))
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=1200, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    assert any(o.output_type == "display_data" for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
