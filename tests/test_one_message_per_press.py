"""A slider press redraws each figure once: every figure a press changes gets one plotly message.
So does a section's first update, when it is built.

Two messages to one figure are two redraws in the browser, one after the other (lesson 1's "x2 spans"
sent the contours and then the path: 2 redraws of the raw figure). The lessons are built as their notebooks
build them, in this process; every slider is moved one step, as an arrow key moves it."""
import collections

import plotly.graph_objects as go
import pytest

from lessons import SLIDERS, build_lesson, one_step
from widgets.views import page
from widgets.views.feature_scaling import ScalingAndLearningRate
from widgets.views.section import Section

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
    """lesson(stem): its sections, every one built now."""
    monkeypatch.delenv("QUERY_STRING", raising=False)
    monkeypatch.setattr(page, "lazy", False)

    def build(stem: str) -> list:
        sections = build_lesson(stem)
        for s in sections:
            s.ensure_built()
        return sections

    yield build
    page.reset()


@pytest.mark.parametrize("stem", ["01_feature_scaling", "02_batch_norm", "03_bottleneck", "04_inception"])
def test_every_slider_press_sends_each_figure_at_most_one_message(stem, sent, lesson):
    moved = 0
    for s in lesson(stem):
        for name, c in s.controls.items():
            if not isinstance(c.widget, SLIDERS):
                continue
            before = c.widget.value
            sent.clear()
            c.widget.value = one_step(c.widget)
            assert c.widget.value != before, f"{s.name}.{name} did not move"
            moved += 1
            twice = {f: sent[id(fig)] for f, fig in s.figures.items() if sent[id(fig)] > 1}
            assert not twice, f"{s.name}.{name}: {twice} messages"
            assert s.status.value == "", f"{s.name}.{name}: {s.status.value}"
    assert moved >= 1


def test_the_x2_range_press_redraws_the_raw_figure_and_not_the_standardised_one(sent, lesson):
    lr = next(s for s in lesson("01_feature_scaling") if s.name == "lr")
    sent.clear()
    lr.controls["x2_range"].widget.value = 10.0
    assert sent[id(lr.figures["raw"])] == 1 and sent[id(lr.figures["std"])] == 0


def test_a_sections_first_update_sends_each_figure_one_message(sent, lesson, monkeypatch):
    """What update(None) sends when the section is built: from the end of build() (its figures and
    traces made) to the message about ignored values that follows the first update."""
    page.reset()
    first_update = {}
    build, say = ScalingAndLearningRate.build, Section._say_ignored
    monkeypatch.setattr(ScalingAndLearningRate, "build", lambda self: (build(self), sent.clear()))
    monkeypatch.setattr(Section, "_say_ignored",
                        lambda self: (first_update.update({n: sent[id(f)] for n, f in self.figures.items()}), say(self)))
    ScalingAndLearningRate()
    assert first_update == {"raw": 1, "std": 1}
