"""Lesson 4 sections without a browser: build each, set its controls by name, check what it draws and says."""
from __future__ import annotations

import re
import threading
from types import SimpleNamespace

import pytest

from widgets import inception_analysis as A
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
    for expected in ("6,990,272", "1,582,671,872", "9,408", "2.7K", "497.5K", "1072K", "8.6× fewer",
                     "Of the 12 rows with printed numbers, 3 match the model to the last printed digit (✓), "
                     "6 are within 3% (≈) and 3 are off by more (✗)."):
        assert expected in text, expected
    assert "lesson-table1" in w._dom_classes
    notes = V.table1.notes_html(measured)
    assert "convolution 7×7/2</b>" in notes and "9,408 × 112×112 = 118.0M" in notes and " x " not in notes


def test_table1_notes_in_english_are_inception_stats_notes(measured):
    """The view words inception_analysis' clauses; in English they give back inception_stats' own note."""
    from widgets.views.inception.common import words, x
    t = words("en", "table1")
    notes = A.table1_notes(measured)
    assert len(notes) == 9
    for n in notes:
        assert V.table1.note_text(n, t) == x(n.comparison.note).replace(" x ", " × "), n.comparison.row.name


def test_explorer_one_module_is_singular():
    ex = V.ModuleExplorer(n=1)
    assert "after 1 naive module<" in ex.stack_numbers.value and "after 1 reduced module<" in ex.stack_numbers.value


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


# ----------------------------------------------------------------------------- c. the network
def _click(net, name: str | None):
    """What plotly does when a stage is clicked: the trace dispatches to its registered on_click callbacks."""
    inds = [] if name is None else [net.names.index(name)]
    net.tr("network", "nodes")._dispatch_on_click(SimpleNamespace(point_inds=inds), None)


def test_network_click_goes_through_the_registered_guarded_handler():
    net = V.NetworkExplorer()
    _click(net, "inception4e")
    assert net.controls["stage"].value == "inception4e" and "14×14×528 → 14×14×832" in net.detail.value
    assert net.tr("network", "ring").x == (net.nodes[net.names.index("inception4e")]["x"],)
    net.tr("network", "nodes")._dispatch_on_click(SimpleNamespace(point_inds=[999]), None)  # no such stage
    assert net.controls["stage"].value == "inception4e" and "Something went wrong" in net.status.value


def test_network_click_waits_for_the_section_lock():
    """A click and a background drawing never write the figures at once: the click takes the lock."""
    net = V.NetworkExplorer()
    held, release = threading.Event(), threading.Event()

    def hold():
        with net.lock:
            held.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(5)
    clicker = threading.Thread(target=_click, args=(net, "inception5b"))
    clicker.start()
    clicker.join(0.3)
    assert clicker.is_alive() and net.controls["stage"].value == "inception4a"
    release.set()
    clicker.join(5)
    holder.join(5)
    assert net.controls["stage"].value == "inception5b"


def test_network_every_stage_has_bars_that_add_up(measured):
    net = V.NetworkExplorer()
    macs = {r.name: r.macs for r in measured.rows} | {a.name: a.macs for a in measured.aux}
    for name in net.names:
        net.controls["stage"].set(name)
        light, dark = net.tr("bars", "light"), net.tr("bars", "dark")
        assert sum(light.y) + sum(dark.y) == pytest.approx(macs[name] / 1e6), name
        assert len(light.x) == len(light.y) == len(dark.y)


def test_network_titles_count_layers_right():
    net = V.NetworkExplorer(stage="conv2+conv3")
    title = net.figures["bars"].layout.title
    assert title.text == "conv2+conv3: 2 layers"  # a 1×1 and a 3×3, not "one layer"
    net.controls["stage"].set("fc")
    assert title.text == "fc: one layer"
    net.controls["stage"].set("maxpool2")
    assert "no weights" in title.text and "56×56×192 → 28×28×192" in net.detail.value


def test_network_aux_detail_follows_the_model():
    from widgets.googlenet import AUX_LOSS_WEIGHT, GoogLeNet
    net = V.NetworkExplorer(stage="aux2")
    head = GoogLeNet().aux2
    assert f"dropout {head.dropout.p:.0%}" in net.detail.value and f"loss × {AUX_LOSS_WEIGHT:g}" in net.detail.value
    assert f"1×1 conv {head.conv[0].out_channels}" in net.detail.value
    assert f"FC {head.fc1.out_features}" in net.detail.value
    assert (head.pool.kernel_size, head.pool.stride) == (5, 3) and "5×5/3 avg pool" in net.detail.value


def test_network_bad_stage_keeps_default():
    net = V.NetworkExplorer(stage="inception9z")
    assert net.controls["stage"].value == "inception4a" and "stage = inception9z" in net.status.value
    assert "inception4a: its four branches" == net.figures["bars"].layout.title.text


# ----------------------------------------------------------------------------- c. shares
def test_shares_toggle_changes_bars_and_summary():
    sh = V.BranchShareView()
    ch_bars, ch_text = tuple(sh.tr("shares", "3x3").y), sh.summary.value
    assert tuple(sh.tr("shares", "3x3+5x5").y) == pytest.approx((0.625, 0.6, 0.5, 0.5625, 0.625, 2 / 3, 7 / 13, 7 / 13, 0.5))
    assert "lowest 50.0% (inception4a and inception5b)" in ch_text and "from 4a to 4d" in ch_text
    sh.controls["what"].set("macs")
    assert tuple(sh.tr("shares", "3x3").y) != ch_bars and sh.summary.value != ch_text
    assert "multiply-adds" in sh.summary.value and "highest 88.7% (inception3a)" in sh.summary.value
    for i in range(9):  # the four branches fill each module's bar
        assert sum(sh.tr("shares", k).y[i] for k in ("3x3", "5x5", "1x1", "pool")) == pytest.approx(1)
    assert sh.set_values({"what": "weights"}) and sh.controls["what"].value == "macs"


# ----------------------------------------------------------------------------- d. test-time cost
def test_testtime_defaults_are_the_papers_144_crops(measured):
    tt = V.TestTimeCost()
    assert "= <b>144</b>" in tt.numbers.value
    assert tt.tr("cost", "setting").x == (144 * measured.total_macs,) * 2
    assert tt.tr("cost", "setting").name == "your setting: 144 passes"


def test_testtime_fields_move_the_line(measured):
    tt = V.TestTimeCost()
    line = tt.tr("cost", "setting")
    for name, value, crops, passes in (("scales", 2, 72, 72), ("squares", 1, 24, 24), ("crops_per_square", 5, 20, 20),
                                       ("mirrors", 1, 10, 10), ("models", 7, 10, 70)):
        tt.controls[name].set(value)
        assert f"= <b>{crops}</b>" in tt.numbers.value and f"= <b>{passes}</b>" in tt.numbers.value
        assert line.x == (passes * measured.total_macs,) * 2


def test_testtime_bad_value_keeps_last_good_state():
    tt = V.TestTimeCost(models=7)
    field = tt.controls["scales"].widget
    before, numbers = tt.tr("cost", "setting").x, tt.numbers.value
    field.text.value = "9"
    assert "Enter a value from 1 to 8" in field.msg.value and field.value == 4
    assert tt.tr("cost", "setting").x == before and tt.numbers.value == numbers
    built = V.TestTimeCost(mirrors=3)
    assert "mirrors = 3" in built.status.value and built.controls["mirrors"].value == 2


def test_testtime_table_shows_the_cost_steps():
    w = V.test_time_view()
    text = w.children[0].value
    assert "1 → 10 crops costs 10× the forward passes and removes 0.92 points" in text
    assert "10 → 144 crops costs 14.4× the forward passes and removes 1.26 points" in text
    assert "-3.45%" in text and "-3.40%" in text


def test_explorer_link_round_trip():
    """A link names the row alone when a Table 1 row is shown; typed sizes travel with row=custom."""
    ex = V.ModuleExplorer()
    ex.controls["row"].set("inception4c")
    assert ex.changed_values() == {"row": "inception4c"}
    ex.controls["ch5x5"].set(40)
    typed = ex.changed_values()
    assert typed["row"] == V.CUSTOM and typed["ch5x5"] == 40 and typed["in_channels"] == 512
    again = V.ModuleExplorer(**{k: str(v) for k, v in typed.items()})
    assert again.spec() == ex.spec() and again.controls["row"].value == V.CUSTOM
    assert again.tr("module", "reduced").y == ex.tr("module", "reduced").y
