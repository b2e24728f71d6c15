"""Every lesson notebook: stored clean, thin (one builder per code cell), and executes headless."""
from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parents[1] / "notebooks"
# The English lessons, then each other edition's (notebooks/zh/...): all held to the same rules.
NOTEBOOKS = sorted(_ROOT.glob("*.ipynb")) + sorted(_ROOT.glob("*/*.ipynb"))
LESSONS = ["00_index", "01_feature_scaling", "02_batch_norm", "03_bottleneck", "04_inception", "05_live_training"]


def _id(path: Path) -> str:
    return path.stem if path.parent == _ROOT else f"{path.parent.name}/{path.stem}"


def code_cells(path: Path):
    nb = json.loads(path.read_text())
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def test_there_are_notebooks():
    names = [p.stem for p in NOTEBOOKS]
    assert "01_feature_scaling" in names
    assert all(n in LESSONS for n in names), f"unexpected notebook names: {names}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_stored_without_outputs(path):
    for cell in code_cells(path):
        assert cell.get("outputs") == [], f"{path.name}: a code cell has outputs (run `make strip`)"
        assert cell.get("execution_count") is None, f"{path.name}: a code cell has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_thin_cells(path):
    """Each code cell imports from widgets.views and calls one builder, leaving its widget as the value."""
    for cell in code_cells(path):
        src = "".join(cell["source"])
        tree = ast.parse(src)
        *head, last = tree.body
        for stmt in head:
            assert isinstance(stmt, ast.ImportFrom) and stmt.module.startswith("widgets.views"), (
                f"{path.name}: only `from widgets.views.… import …` may precede the builder call:\n{src}")
        assert isinstance(last, ast.Expr) and isinstance(last.value, ast.Call), (
            f"{path.name}: a code cell must end with one builder call:\n{src}")


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_executes_headless(path, monkeypatch):
    """Every cell runs, every section built: no browser reports sections in view here, so the lazy
    sections (widgets/views/lazy.py, covered by tests/test_lazy_sections*.py) are turned off."""
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("LESSONS_LAZY", "0")  # the kernel inherits it
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.outputs:
            assert out.output_type != "error", f"{path.name}: {out.get('ename')}: {out.get('evalue')}"
            assert not (out.output_type == "stream" and out.name == "stderr" and "Traceback" in out.text), out.text
        # the builder's widget is the cell's value
        assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in cell.outputs), (
            f"{path.name}: a code cell did not leave a widget as its value")
