"""Lesson 4 sections without a browser: build each, set its controls by name, check what it draws and says."""
from __future__ import annotations

import re

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


# ----------------------------------------------------------------------------- b. module explorer
def test_explorer_defaults_show_inception_3a():
    ex = V.ModuleExplorer()
    assert ex.controls["row"].value == "inception3a" and ex.controls["n"].value == 4
    assert ex.spec() == dict(in_channels=192, side=28, ch1x1=64, ch3x3red=96, ch3x3=128, ch5x5red=16, ch5x5=32,
                             pool_proj=32)
    assert sum(ex.tr("module", "reduced").y) == pytest.approx(128.049152)  # M multiply-adds, Table 1's 128M
    assert "128.0 M" in ex.numbers.value and "after 4 naive modules" in ex.stack_numbers.value


def test_explorer_row_loads_its_sizes_and_typing_makes_it_custom():
    ex = V.ModuleExplorer()
    before = tuple(ex.tr("module", "naive").y)
    ex.controls["row"].set("inception4c")
    assert ex.spec()["in_channels"] == 512 and ex.spec()["side"] == 14
    assert tuple(ex.tr("module", "naive").y) != before
    ex.controls["ch5x5"].set(65)
    assert ex.controls["row"].value == V.CUSTOM and ex.spec()["ch5x5"] == 65
    ex.controls["row"].set("inception4c")
    assert ex.spec()["ch5x5"] == 64


def test_explorer_values_given_at_build():
    ex = V.ModuleExplorer(row="inception5b", n=2)
    assert ex.spec()["in_channels"] == 832 and ex.controls["row"].value == "inception5b"
    assert list(ex.tr("stack", "naive_channels").x) == [1, 2]
    typed = V.ModuleExplorer(row="inception4a", ch3x3red=48)
    assert typed.controls["row"].value == V.CUSTOM and typed.spec()["in_channels"] == 480
    assert typed.spec()["ch3x3red"] == 48


def test_explorer_metric_and_stack():
    ex = V.ModuleExplorer()
    macs = tuple(ex.tr("module", "reduced").y)
    stack = tuple(ex.tr("stack", "naive_cost").y)
    ex.controls["metric"].set("weights")
    assert tuple(ex.tr("module", "reduced").y) == pytest.approx((12.288, 129.024, 15.872, 6.144))  # thousands
    assert tuple(ex.tr("module", "reduced").y) != macs and tuple(ex.tr("stack", "naive_cost").y) == stack
    ex.controls["metric"].set("out_channels")
    assert tuple(ex.tr("module", "naive").y) == (64, 128, 32, 192)
    ex.controls["n"].set(6)
    assert len(ex.tr("stack", "naive_cost").y) == 6 and "after 6 naive modules" in ex.stack_numbers.value
    assert list(ex.tr("stack", "reduced_channels").y) == [256] * 6


def test_explorer_bad_values_keep_last_good_state():
    ex = V.ModuleExplorer()
    good, numbers = tuple(ex.tr("module", "reduced").y), ex.numbers.value
    field = ex.controls["ch3x3red"].widget
    for bad, msg in (("abc", "not a number"), ("0", "Enter a value from 1"), ("2.5", "whole number"),
                     ("5000", "to 4096")):
        field.text.value = bad
        assert msg in field.msg.value and field.value == 96
        assert tuple(ex.tr("module", "reduced").y) == good and ex.numbers.value == numbers
    assert ex.controls["row"].value == "inception3a"
    assert ex.set_values({"side": "600", "n": 12}) and ex.spec()["side"] == 28 and ex.controls["n"].value == 4
    built = V.ModuleExplorer(side="wide")
    assert "side = wide" in built.status.value and built.spec()["side"] == 28


def test_explorer_says_adds_when_a_reduction_is_wider_than_its_input():
    ex = V.ModuleExplorer()
    ex.set_values({"in_channels": 8, "ch3x3red": 64, "ch5x5red": 64})
    assert "3×3 reduce adds" in ex.numbers.value and "5×5 reduce adds" in ex.numbers.value
    assert "saves" not in ex.numbers.value
    for branch in ("3×3", "5×5"):  # a positive amount after "adds", never "saves -…"
        assert re.search(rf"{branch} reduce adds</td><td[^>]*>[0-9][0-9.,]* M<", ex.numbers.value), branch
