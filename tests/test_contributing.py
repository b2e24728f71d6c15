"""CONTRIBUTING.md's section example runs as written, and does what it says."""
import re
from pathlib import Path

from widgets.views import i18n, page

DOC = Path(__file__).resolve().parents[1] / "CONTRIBUTING.md"
WORDS = {"slope.z": "z", "slope.fig_title": "tanh", "slope.trace_tanh": "tanh(z)", "slope.trace_now": "now",
         "slope.slope": "slope: {slope:.4f}"}


def test_the_section_example_runs(monkeypatch):
    code = re.search(r"## Adding a section.*?```python\n(.*?)```", DOC.read_text(), re.S).group(1)
    assert 20 <= len(code.strip().splitlines()) <= 45
    real = i18n.catalogue
    monkeypatch.setattr(i18n, "catalogue", lambda lang: {**real(lang), **WORDS})
    ns: dict = {}
    exec(compile(code, "CONTRIBUTING.md", "exec"), ns)
    page.reset()
    s = ns["TanhSlope"](z=1.0)
    assert s.numbers.value == "slope: 0.4200"                       # 1 − tanh(1)²
    s.controls["z"].set(0.0)
    assert s.numbers.value == "slope: 1.0000" and s.tr("curve", "now").y == (0.0,)
    assert "section-slope" in s.widget._dom_classes
    page.reset()
