"""The Chinese lesson 5 through Voilà in headless Chromium: it renders with no error and the English page's
numbers, Train (训练) makes the charts grow and Stop (停止) stops them, a replay (回放) plays the shipped
recording back, and no English control label, button, figure title, axis, legend or table text is left
(tests/test_zh_browser.py's checker, with lesson 5's code names allowed)."""
from __future__ import annotations

import time

import pytest

from browser import assert_no_error, body_text, click_button, close, open_dashboard, plot_signature, type_into, wait_until
from test_zh_browser import ALLOWED as LESSON1_ALLOWED
from test_zh_browser import control_texts, english_words
from widgets import train as T
from widgets.devtools.serving import OffHostRequests

pytestmark = pytest.mark.browser
NB = "zh/05_live_training.ipynb"
# code names the zh page keeps: run labels (digits, w0.25, BN, aux, lr 0.2, onecycle), the device, units, top-1
ALLOWED = LESSON1_ALLOWED | {"epoch", "cpu", "digits", "cifar", "BN", "aux", "lr", "onecycle", "step", "top",
                             "MFLOPs", "GoogLeNet", "Polyak", "CIFAR", "one", "cycle"}


@pytest.fixture(scope="module")
def page(browser, voila_url):
    """zh lesson 5, opened once for the module; no request leaves the server."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    watch = OffHostRequests(context, voila_url)
    p = open_dashboard(browser, voila_url, NB, ready=".js-plotly-plot", count=6, page=context.new_page())
    yield p
    close(p)
    context.close()
    watch.assert_none(NB)


def status(page) -> str:
    return page.locator(".widget-hbox", has=page.locator("button", has_text="训练")).first.inner_text()


def charts(page) -> str:
    return plot_signature(page, ".lesson-live-charts")


def test_zh_lesson5_renders_with_the_english_pages_numbers(page):
    assert_no_error(page)
    text = body_text(page)
    d = T.describe_run(T.lesson_default("digits"))
    assert f"{d['params']:,}" in text and f"{d['forward_flops'] / 1e6:,.1f} MFLOPs" in text
    assert "CPU：缩小的模型" in text or "GPU：" in text
    assert "第 5 课 · 实时训练 GoogLeNet" in text and "辅助分类器" in text and "录制于" in text
    assert "混淆矩阵（测试集）" in text and "的结果" in text
    assert page.locator("button.language-switch").inner_text().strip() == "English"
    assert page.evaluate("() => document.documentElement.lang") == "zh-CN"


def test_no_english_control_label_or_button_text_is_left(page):
    for i in range(page.locator(".js-plotly-plot").count()):   # plotly draws titles and legends in view
        page.locator(".js-plotly-plot").nth(i).scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    texts = control_texts(page)
    texts["checkbox"] = page.eval_on_selector_all(".widget-checkbox label", "ls => ls.map(l => l.textContent.trim())")
    texts["results"] = page.eval_on_selector_all(".lesson-results td:first-child", "ts => ts.map(t => t.textContent)")
    assert len(texts["label"]) >= 9 and len(texts["button"]) >= 3 and len(texts["title"]) >= 6, texts
    assert texts["axis"] and texts["legend"] and len(texts["checkbox"]) >= 4 and texts["results"], texts
    assert "学习率" in texts["label"] and "批归一化" in texts["checkbox"] and "回放" in texts["button"]
    assert english_words(texts, ALLOWED) == {}


def test_train_runs_and_stop_stops_it(page):
    page.locator(".widget-dropdown", has=page.locator("label", has_text="宽度")).first.locator("select") \
        .select_option(label="1/16")
    type_into(page, "轮数", "6")
    page.wait_for_timeout(300)
    sig0 = charts(page)
    click_button(page, "训练")
    wait_until(page, lambda: charts(page) != sig0, 60, "the charts to grow")
    wait_until(page, lambda: "第 " in page.locator(".lesson-live").first.inner_text(), 30, "live numbers in Chinese")
    click_button(page, "训练")
    wait_until(page, lambda: "正在运行" in status(page) or "已在运行" in status(page), 10, "the already-running message")
    t0 = time.monotonic()
    click_button(page, "停止")
    wait_until(page, lambda: "已按要求" in status(page), 10, "the stopped message")
    assert time.monotonic() - t0 < 3.0, f"Stop took {time.monotonic() - t0:.1f} s"
    page.wait_for_timeout(700)
    frozen = charts(page)
    page.wait_for_timeout(1500)
    assert charts(page) == frozen, "the charts still change after Stop"
    assert_no_error(page)


def test_replay_plays_the_recording_back(page):
    type_into(page, "路径", "/no/such/run.json")
    click_button(page, "回放")
    wait_until(page, lambda: "无法回放：本页面读取的运行历史中没有文件 /no/such/run.json" in status(page), 10,
               "the bad-path message")
    type_into(page, "路径", "")
    sig = charts(page)
    click_button(page, "回放")
    wait_until(page, lambda: charts(page) != sig, 20, "the replay to draw")
    wait_until(page, lambda: "回放结束" in status(page), 30, "the replay to finish")
    assert_no_error(page)
    assert english_words({"button": [t for t in control_texts(page)["button"]]}, ALLOWED) == {}


def test_the_check_finds_english_on_the_english_page(dashboard):
    """The same checker, on the English lesson 5, finds its English labels and buttons (so it can fail)."""
    p = dashboard("05_live_training.ipynb", ready=".js-plotly-plot", count=6)
    found = english_words(control_texts(p), ALLOWED)
    assert "label" in found and "button" in found and any("Learning" in w for w in found["label"]), found
