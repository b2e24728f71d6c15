"""The Chinese lesson 4 through Voilà in headless Chromium: it renders with no error and the English page's
numbers, every control answers (as on the English page, tests/test_inception_browser.py), bad input gets a
Chinese message and keeps the last good figure, and no English control label, button, figure title, axis,
legend or table text is left (tests/test_zh_browser.py's checker, with lesson 4's names allowed:
tests/test_zh_inception.py).
"""
from __future__ import annotations

import pytest

from browser import (assert_no_error, body_text, close, open_dashboard, plot_signature, press_slider,
                     wait_for_change, wait_until)
from test_inception_browser import field, figure_settled, show, text_of, type_field
from test_zh_browser import control_texts
from test_zh_inception import ALLOWED, english_words
from widgets.devtools.serving import OffHostRequests

pytestmark = pytest.mark.browser
NB = "zh/04_inception.ipynb"
PLOTS = ".js-plotly-plot"


@pytest.fixture(scope="module")
def page(browser, voila_url):
    """zh lesson 4, opened once for the module; no request leaves the server."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    watch = OffHostRequests(context, voila_url)
    p = open_dashboard(browser, voila_url, NB, ready=PLOTS, count=7, page=context.new_page())
    wait_until(p, lambda: p.locator(".lesson-testtime").count() == 1, what="the last section")
    yield p
    close(p)
    context.close()
    watch.assert_none(NB)


def test_zh_lesson4_renders_with_the_english_pages_numbers(page):
    assert_no_error(page)
    text = body_text(page)
    for expected in ("6,990,272", "1,582,671,872", "9,408", "2.7K", "497.5K", "1072K", "-3.45%", "-3.40%",
                     "144", "8.6 倍", "torchvision"):
        assert expected in text, expected
    assert "第 4 课 · Inception 模块与 GoogLeNet" in text and "辅助分类器" in text and "瓶颈层" in text
    assert "在印有数字的 12 行中，3 行与模型一致到印刷的最后一位" in text
    assert page.locator("button.language-switch").inner_text().strip() == "English"
    assert page.evaluate("() => document.documentElement.lang") == "zh-CN"


def test_no_english_control_label_or_button_text_is_left(page):
    for scope in (".lesson-table1", ".lesson-explorer", ".lesson-network", ".lesson-shares", ".lesson-testtime"):
        show(page, scope)  # plotly draws a figure's titles and legends once it is in view
    texts = control_texts(page)
    # a checkbox writes its description outside .widget-label (ipywidgets 8): read it too
    texts["checkbox"] = page.eval_on_selector_all(".widget-checkbox label", "ls => ls.map(l => l.textContent.trim())")
    assert len(texts["label"]) >= 15 and len(texts["button"]) >= 7 and len(texts["legend"]) >= 10, texts
    assert len(texts["title"]) >= 7 and texts["axis"] and len(texts["table"]) >= 30, texts
    assert "输入通道数" in texts["label"] and "对数坐标" in texts["checkbox"] and "乘加运算占比" in texts["button"]
    assert english_words(texts) == {}


def test_table1_metric_and_log_scale(page):
    show(page, ".lesson-table1")
    sig = plot_signature(page, ".lesson-table1")
    page.locator(".lesson-table1 button", has_text="乘加运算（M）").click()
    sig = wait_for_change(page, lambda: plot_signature(page, ".lesson-table1"), sig, what="Table 1 ops")
    assert "表 1 的运算量" in text_of(page, ".lesson-table1")
    page.locator(".lesson-table1 input[type=checkbox]").check()
    wait_for_change(page, lambda: plot_signature(page, ".lesson-table1"), sig, what="Table 1 log scale")
    assert_no_error(page)


def test_explorer_row_fields_metric_and_stack(page):
    ex = ".lesson-explorer"
    show(page, ex)
    sig, txt = plot_signature(page, ex), text_of(page, ex)
    page.locator(f"{ex} select").select_option(index=4)  # inception (4c)
    wait_for_change(page, lambda: field(page, ex, "输入通道数").input_value(), "192", what="row loaded")
    sig = wait_for_change(page, lambda: plot_signature(page, ex), sig, what="explorer plot for 4c")
    txt = wait_for_change(page, lambda: text_of(page, ex), txt)
    for label, value in (("输入通道数", "640"), ("特征图边长 H = W", "7"), ("#1×1", "100"), ("#3×3 reduce", "64"),
                         ("#3×3", "200"), ("#5×5 reduce", "8"), ("#5×5", "40"), ("pool proj", "50")):
        type_field(page, ex, label, value)
        sig = wait_for_change(page, lambda: plot_signature(page, ex), sig, what=f"explorer after {label}")
        txt = wait_for_change(page, lambda: text_of(page, ex), txt, what=f"numbers after {label}")
    chosen = page.locator(f"{ex} select").evaluate("s => s.options[s.selectedIndex].text")
    assert chosen == "自定义（手动输入）"
    sig = figure_settled(page, ex)
    for bad, msg in (("abc", "不是数字"), ("0", "请输入 1 到 4096 之间的值"), ("2.5", "请输入整数")):
        type_field(page, ex, "#5×5", bad)
        wait_until(page, lambda: msg in text_of(page, ex), what=f"message for {bad!r}")
        assert plot_signature(page, ex) == sig
    type_field(page, ex, "#5×5", "41")
    sig = wait_for_change(page, lambda: plot_signature(page, ex), sig, what="recovery after bad input")
    assert "不是数字" not in text_of(page, ex)
    page.locator(f"{ex} button", has_text="权重数").click()
    sig = wait_for_change(page, lambda: plot_signature(page, ex), sig, what="explorer weights")
    page.locator(f"{ex} button", has_text="输出通道数").click()
    sig = wait_for_change(page, lambda: plot_signature(page, ex), sig, what="explorer channels")
    press_slider(page, 0, "ArrowRight", 2)
    wait_until(page, lambda: "6 个朴素模块之后" in text_of(page, ex), what="stack of 6")
    wait_for_change(page, lambda: plot_signature(page, ex), sig, what="stack plot")
    assert_no_error(page)


def test_network_stage_list_and_shares(page):
    net = ".lesson-network"
    show(page, net)
    sig = plot_signature(page, net)
    options = [o.replace("\xa0", " ") for o in page.locator(f"{net} select option").all_inner_texts()]
    pick = lambda prefix: next(i for i, o in enumerate(options) if o.startswith(prefix))  # noqa: E731
    page.locator(f"{net} select").select_option(index=pick("inception (5b)"))
    wait_until(page, lambda: "7×7×832 → 7×7×1024" in text_of(page, net), what="5b selected")
    sig = wait_for_change(page, lambda: plot_signature(page, net), sig, what="network plot for 5b")
    page.locator(f"{net} select").select_option(index=pick("辅助分类器 2"))
    wait_until(page, lambda: "仅训练时" in text_of(page, net), what="aux2 selected")
    wait_for_change(page, lambda: plot_signature(page, net), sig, what="network plot for aux2")
    sh = ".lesson-shares"
    show(page, sh)
    sig, txt = plot_signature(page, sh), text_of(page, sh)
    page.locator(f"{sh} button", has_text="乘加运算占比").click()
    wait_for_change(page, lambda: plot_signature(page, sh), sig, what="share plot")
    txt = wait_for_change(page, lambda: text_of(page, sh), txt, what="share summary")
    assert "3×3 + 5×5 在乘加运算中的占比" in txt
    assert_no_error(page)


def test_test_time_fields_and_a_bad_value(page):
    tt = ".lesson-testtime"
    show(page, tt)
    sig = plot_signature(page, tt)
    for label, value, expect in (("尺度数", "2", "= 72"), ("每个尺度的方块数", "1", "= 24"),
                                 ("每个方块的裁剪数", "5", "= 20"), ("镜像数", "1", "= 10"),
                                 ("模型数", "7", "10 × 7 个模型 = 70")):
        type_field(page, tt, label, value)
        wait_until(page, lambda: expect in text_of(page, tt), what=f"test-time after {label}")
        sig = wait_for_change(page, lambda: plot_signature(page, tt), sig, what=f"cost line after {label}")
    sig = figure_settled(page, tt)
    type_field(page, tt, "尺度数", "9")
    wait_until(page, lambda: "请输入 1 到 8 之间的值" in text_of(page, tt), what="test-time message")
    assert "10 × 7 个模型 = 70" in text_of(page, tt) and plot_signature(page, tt) == sig
    assert_no_error(page)


def test_the_check_finds_english_on_the_english_page_and_the_switch_keeps_the_state(dashboard):
    """On the English lesson 4 the same checker finds English words (so it can fail); choosing a Table 1 row
    there and pressing 中文 opens the zh lesson with that row loaded."""
    en = dashboard("04_inception.ipynb", ready=PLOTS, count=7)
    ex = ".lesson-explorer"
    show(en, ex)
    found = english_words(control_texts(en))
    assert {"label", "button", "title", "axis", "legend", "table"} <= found.keys(), found
    en.locator(f"{ex} select").select_option(index=4)  # inception (4c)
    wait_for_change(en, lambda: field(en, ex, "input channels").input_value(), "192", what="row loaded")
    en.locator("button.language-switch", has_text="中文").click()
    wait_until(en, lambda: "/voila/render/zh/04_inception.ipynb?row=inception4c" in en.url, 30, "the zh page")
    wait_until(en, lambda: en.locator(".lesson-explorer").count() == 1, 60, "the zh explorer")
    show(en, ex)
    wait_until(en, lambda: field(en, ex, "输入通道数").input_value() == "512", 30, "row 4c on the zh page")
    chosen = en.locator(f"{ex} select").evaluate("s => s.options[s.selectedIndex].text")
    assert chosen.replace("\xa0", " ") == "inception (4c)"
    assert_no_error(en)
