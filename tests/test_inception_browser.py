"""Lesson 4 views: the builders in Python (click handler, bad input), then the dashboard in Chromium via Voila."""
from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from browser import (assert_no_error, body_text, plot_signature, press_slider, settled, wait_for_change,
                     wait_until)

NOTEBOOK = "04_inception.ipynb"


# ----------------------------------------------------------------------------- without a browser
@pytest.fixture(scope="module")
def views():
    from widgets.views import inception as V
    return V


def test_click_selects_stage_and_dropdown_follows(views):
    net = views.NetworkExplorer()
    before = net.detail.value
    nodes, stage, ring = net.tr("network", "nodes"), net.controls["stage"], net.tr("network", "ring")
    i = net.names.index("inception5b")
    net.on_click(nodes, SimpleNamespace(point_inds=[i]), None)
    assert stage.value == "inception5b"
    assert net.detail.value != before and "7×7×832 → 7×7×1024" in net.detail.value
    assert list(net.tr("bars", "dark").x)[1].startswith("#3×3")
    assert ring.x == (net.nodes[i]["x"],)
    net.on_click(nodes, SimpleNamespace(point_inds=[]), None)  # a click on nothing changes nothing
    assert stage.value == "inception5b"
    net.on_click(nodes, SimpleNamespace(point_inds=[net.names.index("aux1")]), None)
    assert "training only" in net.detail.value and "65,536" in net.detail.value
    stage.widget.value = "conv1"  # the accessible path: the dropdown drives the same update
    assert "9,408" in net.detail.value and ring.x == (0,)


def test_explorer_bad_input_keeps_last_good(views):
    ex = views.ModuleExplorer()
    field, reduced = ex.controls["ch3x3red"].widget, ex.tr("module", "reduced")
    good = tuple(reduced.y)
    field.text.value = "abc"
    assert "not a number" in field.msg.value
    assert tuple(reduced.y) == good and field.value == 96
    field.text.value = "48"
    assert ex.controls["row"].value == views.CUSTOM and tuple(reduced.y) != good
    ex.controls["row"].widget.value = "inception4c"
    assert ex.spec()["in_channels"] == 512 and field.text.value == "128"
    assert ex.controls["row"].value == "inception4c"


def test_every_figure_built_once_with_its_traces(views):
    t = views.Table1View()
    fig = t.figures["bars"]
    assert len(fig.data) == 2 and len(t.tr("bars", "measured").y) == 12
    assert fig.layout.height == 360


# ----------------------------------------------------------------------------- in the browser
def field(page, scope: str, label: str):
    """The text input whose label is exactly `label` inside `scope`."""
    lab = page.locator(".widget-label", has_text=re.compile(rf"^\s*{re.escape(label)}\s*$"))
    return page.locator(scope).locator(".widget-text", has=lab).first.locator("input")


def type_field(page, scope: str, label: str, text: str) -> None:
    inp = field(page, scope, label)
    inp.fill(text)
    inp.press("Enter")


def show(page, scope: str) -> None:
    """Scroll a section into view and wait until its figures have drawn traces (plotly draws when visible)."""
    page.locator(scope).scroll_into_view_if_needed()

    def drawn():
        plots = page.locator(f"{scope} .js-plotly-plot")
        n = plots.count()
        return n > 0 and all(plots.nth(i).locator("g.trace").count() > 0 for i in range(n))

    wait_until(page, drawn, timeout_s=60, what=f"{scope} drawn")


def figure_settled(page, scope: str) -> str:
    """The plot signature once it has stopped changing for 0.7 s (a handler may redraw two figures)."""
    return settled(page, lambda: plot_signature(page, scope), quiet_s=0.7, timeout_s=20, what=scope)


def text_of(page, scope: str) -> str:
    return page.locator(scope).inner_text()


@pytest.mark.browser
def test_dashboard(dashboard):
    page = dashboard(NOTEBOOK, ready=".lesson-table1 .js-plotly-plot", count=1)
    wait_until(page, lambda: page.locator(".lesson-testtime").count() == 1, what="the last section")
    text = body_text(page)
    for expected in ("6,990,272", "1,582,671,872", "9,408", "2.7K", "497.5K", "1072K", "-3.45%", "-3.40%",
                     "144", "8.6× fewer", "torchvision"):
        assert expected in text, expected
    assert_no_error(page)

    # a. Table 1: metric and log scale
    show(page, ".lesson-table1")
    sig = plot_signature(page, ".lesson-table1")
    page.locator(".lesson-table1 button", has_text="multiply-adds (M)").click()
    sig = wait_for_change(page, lambda: plot_signature(page, ".lesson-table1"), sig, what="Table 1 ops")
    page.locator(".lesson-table1 input[type=checkbox]").check()
    wait_for_change(page, lambda: plot_signature(page, ".lesson-table1"), sig, what="Table 1 log scale")

    # b. explorer: row, typed sizes (good and bad), metric, stack slider
    ex = ".lesson-explorer"
    show(page, ex)
    sig, txt = plot_signature(page, ex), text_of(page, ex)
    page.locator(f"{ex} select").select_option(index=4)  # inception (4c)
    wait_for_change(page, lambda: field(page, ex, "input channels").input_value(), "192", what="row loaded")
    sig = wait_for_change(page, lambda: plot_signature(page, ex), sig, what="explorer plot for 4c")
    txt = wait_for_change(page, lambda: text_of(page, ex), txt)
    for label, value in (("input channels", "640"), ("map side H = W", "7"), ("#1×1", "100"),
                         ("#3×3 reduce", "64"), ("#3×3", "200"), ("#5×5 reduce", "8"), ("#5×5", "40"),
                         ("pool proj", "50")):
        type_field(page, ex, label, value)
        sig = wait_for_change(page, lambda: plot_signature(page, ex), sig, what=f"explorer after {label}")
        txt = wait_for_change(page, lambda: text_of(page, ex), txt, what=f"numbers after {label}")
    assert page.locator(f"{ex} select").evaluate("s => s.options[s.selectedIndex].text").replace("\xa0", " ") == "custom (typed)"
    sig = figure_settled(page, ex)
    for bad, msg in (("abc", "is not a number"), ("0", "Enter a value from 1"), ("2.5", "whole number")):
        type_field(page, ex, "#5×5", bad)
        wait_until(page, lambda: msg in text_of(page, ex), what=f"message for {bad!r}")
        assert plot_signature(page, ex) == sig
    type_field(page, ex, "#5×5", "41")
    sig = wait_for_change(page, lambda: plot_signature(page, ex), sig, what="recovery after bad input")
    assert "is not a number" not in text_of(page, ex)
    page.locator(f"{ex} button", has_text="weights").click()
    sig = wait_for_change(page, lambda: plot_signature(page, ex), sig, what="explorer weights")
    page.locator(f"{ex} button", has_text="output channels").click()
    sig = wait_for_change(page, lambda: plot_signature(page, ex), sig, what="explorer channels")
    press_slider(page, 0, "ArrowRight", 2)
    wait_until(page, lambda: "after 6 naive modules" in text_of(page, ex), what="stack of 6")
    wait_for_change(page, lambda: plot_signature(page, ex), sig, what="stack plot")

    # c. network: the dropdown (the accessible twin of a click) and the share toggle
    net = ".lesson-network"
    show(page, net)
    sig, txt = plot_signature(page, net), text_of(page, net)
    options = [o.replace("\xa0", " ") for o in page.locator(f"{net} select option").all_inner_texts()]
    pick = lambda prefix: next(i for i, o in enumerate(options) if o.startswith(prefix))  # noqa: E731
    page.locator(f"{net} select").select_option(index=pick("inception (5b)"))
    wait_until(page, lambda: "7×7×832 → 7×7×1024" in text_of(page, net), what="5b selected")
    sig = wait_for_change(page, lambda: plot_signature(page, net), sig, what="network plot for 5b")
    page.locator(f"{net} select").select_option(index=pick("auxiliary classifier 2"))
    wait_until(page, lambda: "training only" in text_of(page, net), what="aux2 selected")
    wait_for_change(page, lambda: plot_signature(page, net), sig, what="network plot for aux2")
    sh = ".lesson-shares"
    show(page, sh)
    sig, txt = plot_signature(page, sh), text_of(page, sh)
    page.locator(f"{sh} button", has_text="share of multiply-adds").click()
    wait_for_change(page, lambda: plot_signature(page, sh), sig, what="share plot")
    wait_for_change(page, lambda: text_of(page, sh), txt, what="share summary")

    # d. test-time: every field, and a bad value
    tt = ".lesson-testtime"
    show(page, tt)
    sig = plot_signature(page, tt)
    for label, value, expect in (("scales", "2", "= 72"), ("squares per scale", "1", "= 24"),
                                 ("crops per square", "5", "= 20"), ("mirrors", "1", "= 10"),
                                 ("models", "7", "10 × 7 model(s) = 70")):
        type_field(page, tt, label, value)
        wait_until(page, lambda: expect in text_of(page, tt), what=f"test-time after {label}")
        sig = wait_for_change(page, lambda: plot_signature(page, tt), sig, what=f"cost line after {label}")
    sig = figure_settled(page, tt)
    type_field(page, tt, "scales", "9")
    wait_until(page, lambda: "Enter a value from 1 to 8" in text_of(page, tt), what="test-time message")
    assert "10 × 7 model(s) = 70" in text_of(page, tt) and plot_signature(page, tt) == sig
    assert_no_error(page)
