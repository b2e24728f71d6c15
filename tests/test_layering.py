"""The maths never imports the views: widgets/<topic>.py stays free of ipywidgets and plotly."""
import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "widgets"
VIEW_LIBS = {"ipywidgets", "plotly", "IPython", "anywidget"}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
            if node.module.startswith("widgets.views") or node.module == "widgets.ui":
                roots.add("widgets.views")
    return roots


def maths_modules():
    return [p for p in PKG.glob("*.py") if p.name not in ("ui.py", "__init__.py")]


def test_there_is_maths():
    assert maths_modules()


def test_maths_modules_import_no_view_library():
    for path in maths_modules():
        bad = imported_roots(path) & (VIEW_LIBS | {"widgets.views"})
        assert not bad, f"{path.name} imports {sorted(bad)}: maths must not depend on views"
