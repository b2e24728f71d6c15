"""A slider press redraws each figure once: every figure a press changes gets one plotly message.

Two messages to one figure are two redraws in the browser, one after the other (lesson 1's "x2 spans"
sent the contours and then the path: 2 redraws of the raw figure). The lessons are built as their notebooks
build them, in this process; every slider is moved one step."""
import collections
import json
import pathlib

import ipywidgets as ipw
import plotly.graph_objects as go
import pytest

from widgets.views import page

NOTEBOOKS = pathlib.Path(__file__).resolve().parents[1] / "notebooks"
SLIDERS = (ipw.FloatSlider, ipw.IntSlider, ipw.FloatLogSlider)
SENDS = ("_send_update_msg", "_send_restyle_msg", "_send_relayout_msg")


@pytest.fixture
def sent(monkeypatch):
    """Counts plotly's messages to the browser, by figure."""
    counts = collections.Counter()
    for name in SENDS:
        original = getattr(go.FigureWidget, name)

        def counting(fig, *a, _original=original, **kw):
            counts[id(fig)] += 1
            return _original(fig, *a, **kw)

        monkeypatch.setattr(go.FigureWidget, name, counting)
    return counts


@pytest.fixture
def lesson(monkeypatch):
    """lesson(notebook): its sections, built as its code cells build them (every one built now)."""
    monkeypatch.delenv("QUERY_STRING", raising=False)
    monkeypatch.setattr(page, "lazy", False)

    def build(notebook: str) -> list:
        page.reset()
        ns: dict = {}
        for cell in json.loads((NOTEBOOKS / notebook).read_text())["cells"]:
            if cell["cell_type"] == "code":
                exec("".join(cell["source"]), ns)
        for s in page.sections():
            s.ensure_built()
        return page.sections()

    yield build
    page.reset()


def _step(w: ipw.Widget) -> None:
    w.value = w.value + w.step if w.value + w.step <= w.max else w.value - w.step


@pytest.mark.parametrize("notebook", ["01_feature_scaling.ipynb", "02_batch_norm.ipynb", "03_bottleneck.ipynb",
                                      "04_inception.ipynb"])
def test_every_slider_press_sends_each_figure_at_most_one_message(notebook, sent, lesson):
    moved = 0
    for s in lesson(notebook):
        for name, c in s.controls.items():
            if not isinstance(c.widget, SLIDERS):
                continue
            sent.clear()
            _step(c.widget)
            moved += 1
            twice = {f: sent[id(fig)] for f, fig in s.figures.items() if sent[id(fig)] > 1}
            assert not twice, f"{s.name}.{name}: {twice} messages"
            assert s.status.value == "", f"{s.name}.{name}: {s.status.value}"
    assert moved >= 1


def test_the_x2_range_press_redraws_the_raw_figure_and_not_the_standardised_one(sent, lesson):
    lr = next(s for s in lesson("01_feature_scaling.ipynb") if s.name == "lr")
    sent.clear()
    lr.controls["x2_range"].widget.value = 10.0
    assert sent[id(lr.figures["raw"])] == 1 and sent[id(lr.figures["std"])] == 0
