"""Lesson 4 sections without a browser: build each, set its controls by name, check what it draws and says."""
from __future__ import annotations

import pytest

from widgets import inception_stats as S
from widgets.views import inception as V


@pytest.fixture(scope="module")
def measured():
    return S.default_table1()


# ----------------------------------------------------------------------------- a. Table 1
def test_table1_metric_and_log_scale():
    t = V.Table1View()
    fig = t.figures["bars"]
    params = tuple(t.tr("bars", "measured").y)
    assert params[0] == pytest.approx(9408 / 1024) and len(params) == 12
    assert tuple(t.tr("bars", "paper").y)[0] == 2.7
    t.controls["metric"].set("ops")
    ops = tuple(t.tr("bars", "measured").y)
    assert ops != params and ops[0] == pytest.approx(118.013952)
    assert fig.layout.title.text.startswith("Table 1, operations") and fig.layout.yaxis.title.text == "M multiply-adds"
    assert fig.layout.yaxis.type == "linear"
    t.set_values({"log_y": "true"})
    assert fig.layout.yaxis.type == "log"


def test_table1_bad_value_keeps_default_with_message():
    t = V.Table1View(metric="flops")
    assert t.controls["metric"].value == "params" and "metric = flops" in t.status.value
    assert t.figures["bars"].layout.title.text.startswith("Table 1, parameters")
    assert t.set_values({"log_y": "maybe"}) and t.controls["log_y"].value is False


def test_table1_page_text(measured):
    w = V.table1_view()
    text = " ".join(c.value for c in w.children if hasattr(c, "value") and isinstance(c.value, str))
    for expected in ("6,990,272", "1,582,671,872", "9,408", "2.7K", "497.5K", "1072K", "8.6× fewer"):
        assert expected in text, expected
    assert "lesson-table1" in w._dom_classes
