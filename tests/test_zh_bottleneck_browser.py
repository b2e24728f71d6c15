"""The Chinese lesson 3 through Voilà in headless Chromium (issue 15): it renders with no error and the notes'
numbers (120,422,400 and 12,443,648), every control answers (sliders, typed sizes, the bottleneck switch, the
timing and training buttons with Stop, the link button), bad sizes are refused in Chinese beside the field, no
English control label, button, figure, axis, legend, tick or table text is left (the checker of
tests/test_zh_browser.py), and the language switch opens the English lesson in the same state.

One page for the module, driven in order (as the English lesson's browser test does).
"""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from browser import (assert_no_error, body_text, click_button, close, open_dashboard, press_slider, sliders,
                     type_into, wait_for_change, wait_until)
from test_bottleneck_browser import drawn, field_message, figure_text
from test_zh_browser import ALLOWED, control_texts, english_words

from widgets.devtools.serving import OffHostRequests, wait_rendered

pytestmark = pytest.mark.browser
NB = "zh/03_bottleneck.ipynb"
PLOTS = 5
# Code identifiers and names a zh lesson 3 shows in Latin letters: C_in, C_out, ch_red, nn.Conv2d / nn.Linear,
# FlopCounterMode, ReLU, SVD, Adam, and the unit ms.
LESSON3 = {"in", "out", "ch", "red", "Conv", "Linear", "FlopCounterMode", "ReLU", "SVD", "Adam", "ms"}

# Also the figures' tick labels (the bars' categories) and the checkbox's label.
_MORE_TEXTS = """() => {
  const seen = (e) => e.getClientRects().length > 0;
  const pick = (sel) => [...document.querySelectorAll(sel)].filter(seen).map(e => e.textContent.trim()).filter(Boolean);
  return {tick: pick('.js-plotly-plot .xtick text, .js-plotly-plot .ytick text'),
          checkbox: pick('.widget-checkbox')};
}"""


def texts(page) -> dict[str, list[str]]:
    return {**control_texts(page), **page.evaluate(_MORE_TEXTS)}


def has(page, text: str):
    return lambda: text in body_text(page)


def section(page, css: str) -> str:
    return page.locator(f".{css}").first.inner_text()


@pytest.fixture(scope="module")
def page(browser, voila_url):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    watch = OffHostRequests(context, voila_url)
    p = open_dashboard(browser, voila_url, NB, count=PLOTS, page=context.new_page())
    wait_until(p, has(p, "✓ 相等"), 60, "the FlopCounterMode check")
    yield p
    close(p)
    context.close()
    watch.assert_none(NB)


def test_zh_lesson3_renders_with_the_notes_numbers(page):
    assert_no_error(page)
    assert sliders(page).count() == 6 and page.locator(".js-plotly-plot").count() == PLOTS
    text = body_text(page)
    for s in ("28·28·32·5·5·192 = 120,422,400", "2,408,448 + 10,035,200 = 12,443,648", "153,600",
              "240,844,800 FLOPs ÷ 2 = 120,422,400", "≈ 9.68×", "“≈ 1.2B”", "约 120.4 百万次", "直接路径：乘法次数"):
        assert s in text, s
    assert text.count("✓ 相等") == 2 and "✗" not in text
    wait_until(page, has(page, "完成：每条路径各重复了 21 次。"), 90, "the first timing")
    assert re.search(r"实测加速比\s+\d+\.\d\d×", body_text(page))
    assert page.locator("button.language-switch").inner_text().strip() == "English"
    assert page.evaluate("() => document.documentElement.lang") == "zh-CN"
    assert_no_error(page)


def test_no_english_control_label_or_button_text_is_left(page):
    found = texts(page)
    assert len(found["label"]) >= 12 and len(found["button"]) >= 5 and len(found["legend"]) >= 8, found
    assert found["title"] and found["axis"] and found["annotation"] and found["table"] and found["tick"]
    assert "H（高）" in found["label"] and "输入的真实维度" in found["label"]
    assert {"为两条路径计时", "训练各个宽度的瓶颈层", "停止"} <= set(found["button"])
    assert "理论最优（闭式解，SVD）" in found["legend"] and "直接路径" in found["tick"]
    assert english_words(found, ALLOWED | LESSON3) == {}


@pytest.mark.parametrize("index,css,expect", [
    (0, "lesson-single-channel", "每个像素都乘以同一个数 2.5"),
    (1, "lesson-many-channels", "像素 (2, 0) 处的输出 1"),
    (2, "lesson-many-channels", "像素 (2, 1) 处的输出 1"),
    (3, "lesson-many-channels", "6×6×8 → 6×6×5（压缩）"),
    (4, "lesson-many-channels", "像素 (2, 1) 处的输出 2"),
    (5, "lesson-tradeoff", "7 个潜在信号的混合"),
])
def test_every_slider_changes_its_plot_and_numbers(page, index, css, expect):
    before = drawn(page, f".{css}")
    press_slider(page, index)
    wait_until(page, lambda: expect in section(page, css), 20, expect)
    wait_for_change(page, lambda: drawn(page, f".{css}"), before, what=f"slider {index} to redraw")
    assert_no_error(page)


def test_every_size_field_changes_the_formulas_and_the_bars(page):
    for label, value, expect in [
        ("H（高）", "14", "14·28·32·5·5·192 = 60,211,200"),
        ("W（宽）", "14", "14·14·32·5·5·192 = 30,105,600"),
        ("C_in（输入通道数）", "256", "14·14·32·5·5·256 = 40,140,800"),
        ("k（卷积核 k×k）", "3", "14·14·32·3·3·256 = 14,450,688"),
        ("C_out（卷积核个数）", "64", "14·14·64·3·3·256 = 28,901,376"),
        ("ch_red（1×1 瓶颈层）", "32", "14·14·32·256 + 14·14·64·3·3·32 = 1,605,632 + 3,612,672 = 5,218,304"),
    ]:
        before = figure_text(page, ".lesson-cost-calculator")
        type_into(page, label, value)
        wait_until(page, has(page, expect), 20, expect)
        wait_for_change(page, lambda: figure_text(page, ".lesson-cost-calculator"), before, what=f"{label}: the bars")
    assert "28,901,376 次乘加，公式为 28,901,376 ✓ 相等" in body_text(page)
    assert "上次计时之后尺寸已经改变" in body_text(page)
    assert_no_error(page)


def test_bad_sizes_are_refused_in_chinese_and_the_last_good_figures_stay(page):
    good = "14·14·64·3·3·256 = 28,901,376"
    for bad, why in [("abc", "“abc”不是数字"), ("0", "请输入 1 到 100000 之间的值"), ("2.5", "请输入整数"),
                     ("", "请输入数字")]:
        type_into(page, "H（高）", bad)
        wait_until(page, lambda: why in (field_message(page, "H（高）") or ""), 20, f"a message for {bad!r}")
        assert "仍保留 14" in field_message(page, "H（高）") and good in body_text(page)
    type_into(page, "k（卷积核 k×k）", "4")
    wait_until(page, lambda: "请输入奇数的卷积核尺寸" in (field_message(page, "k（卷积核 k×k）") or ""), 20, "odd kernel")
    assert good in body_text(page)
    type_into(page, "H（高）", "14")
    wait_until(page, lambda: field_message(page, "H（高）") == "", 20, "the message to clear")
    assert_no_error(page)


def test_the_bottleneck_switch(page):
    before = drawn(page, ".lesson-cost-calculator")
    page.locator(".lesson-cost-calculator .widget-checkbox input").first.click()
    wait_until(page, lambda: "瓶颈路径：乘法次数" not in body_text(page), 20, "bottleneck off")
    wait_for_change(page, lambda: drawn(page, ".lesson-cost-calculator"), before, what="the bars without it")
    page.locator(".lesson-cost-calculator .widget-checkbox input").first.click()
    wait_until(page, has(page, "瓶颈路径：乘法次数"), 20, "bottleneck on")
    assert_no_error(page)


def test_the_timing_button_times_the_new_sizes_and_refuses_huge_ones(page):
    before = drawn(page, ".lesson-cost-calculator")
    click_button(page, "为两条路径计时")
    wait_until(page, has(page, "14×14×256，3×3 卷积，64 个卷积核，ch_red 32，批大小 1"), 90, "the new timing")
    wait_until(page, has(page, "完成：每条路径各重复了 21 次。"), 90, "the timing to finish")
    wait_for_change(page, lambda: drawn(page, ".lesson-cost-calculator"), before, what="the timing dots")
    type_into(page, "H（高）", "5000")
    type_into(page, "W（宽）", "5000")
    wait_until(page, has(page, "5000·5000·64·3·3·256"), 20, "the big sizes")
    click_button(page, "为两条路径计时")
    wait_until(page, has(page, "这些尺寸运行时约需"), 20, "the memory refusal")
    assert "14×14×256，3×3 卷积，64 个卷积核" in body_text(page)      # the last measurement stays
    assert body_text(page).count("✓ 相等") == 2
    assert_no_error(page)


def test_training_draws_points_and_stop_stops_it(page):
    before = drawn(page, ".lesson-tradeoff")
    click_button(page, "训练各个宽度的瓶颈层")
    wait_until(page, lambda: "正在训练 ch_red" in section(page, "lesson-tradeoff"), 30, "training to start")
    wait_for_change(page, lambda: drawn(page, ".lesson-tradeoff"), before, 120, what="a trained point to be drawn")
    page.locator(".lesson-tradeoff button", has_text="停止").click()
    wait_until(page, lambda: re.search(r"已停止：10 个宽度中完成了 \d+ 个。", section(page, "lesson-tradeoff")),
               60, "Stop to be acknowledged")
    assert_no_error(page)


def test_link_button_gives_a_link_to_the_zh_page(page):
    page.locator("button", has_text="生成本视图的链接").click()
    link = page.locator("a.view-link")
    wait_until(page, lambda: link.count() == 1, 30, "the link")
    href = link.get_attribute("href")
    assert "/voila/render/zh/03_bottleneck.ipynb?" in href and "height=5000" in href and "ch_red=32" in href
    assert_no_error(page)


def test_the_language_switch_opens_the_english_lesson_in_the_same_state(page):
    """Last: it leaves the zh page. The English page's words are found by the same checker."""
    page.locator("button.language-switch").click()

    def at_english():
        url = urlsplit(page.url)
        return (url.path.endswith("/voila/render/03_bottleneck.ipynb") and "/zh/" not in url.path
                and parse_qs(url.query).get("ch_red") == ["32"])

    wait_until(page, at_english, 60, "the English lesson 3 with ch_red=32")
    wait_rendered(page, "lesson 3 after the switch", ".js-plotly-plot", PLOTS)
    wait_until(page, has(page, "5000·5000·64·3·3·256 = 3,686,400,000,000"), 60, "the same sizes in English")
    assert english_words(texts(page), ALLOWED | LESSON3), "the checker finds the English page's words"
    assert "H (height)" in control_texts(page)["label"]
    assert_no_error(page)
