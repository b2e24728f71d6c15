"""Chinese lesson 2 (notebooks/zh/02_batch_norm.ipynb) through Voilà in headless Chromium: it renders with
no error, every control of every section answers (the training sections' controls are read back from
the run's summary), bad values get a Chinese message, no English control label, button, figure, axis,
legend or table text is left (lesson 1's checker, tests/test_zh_browser.py, with lesson 2's
identifiers), and the language switch opens it from the English page in the same state.
"""
from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from browser import assert_no_error, body_text, wait_until
from test_batch_norm_browser import changed, click, press, sec, section_settled, sig, snapshot, text, type_in
from test_zh_batch_norm import ALLOWED
from test_zh_browser import control_texts, english_words
from widgets.devtools.serving import wait_rendered

pytestmark = pytest.mark.browser
NOTEBOOK = "zh/02_batch_norm.ipynb"
N_FIGURES = 5          # a-e; the training sections build theirs when first pressed
RUN_S = 240            # a short training run on a loaded 2-core machine


@pytest.fixture
def page(dashboard):
    p = dashboard(NOTEBOOK, count=N_FIGURES)
    assert_no_error(p)
    return p


def type_nth(page, key: str, label: str, value: str, n: int) -> None:
    """Type into the n-th number field labelled `label` in section `key` (the sweeps have one per column)."""
    box = sec(page, key).locator(".widget-text").filter(has=page.locator(".widget-label", has_text=label)).nth(n)
    inp = box.locator("input")
    inp.fill(value)
    inp.press("Enter")


def no_english_left(page) -> dict:
    texts = control_texts(page)
    assert english_words(texts, ALLOWED) == {}
    return texts


def test_zh_sections_a_to_e(page):
    body = body_text(page)
    assert "第 2 课 · 批归一化" in body and "a. 前向传播，一步一步来" in body and "e. 推理时用的统计量" in body
    assert "10 步后 PyTorch 的滑动平均" in body and "按“训练”" in body and "滑动平均的公式写乱了" in body
    for key, split in (("a", '"all"'), ("b", '"all"'), ("c", '"all"'), ("d", '"all"'), ("e", '"test"'), ("f", '"train"'),
                       ("sweeps", '"train"'), ("g", '"train"')):
        assert "数据：" in text(page, key) and split in text(page, key), key   # each section names its digits
    texts = no_english_left(page)
    assert len(texts["label"]) >= 20 and len(texts["button"]) >= 8 and len(texts["legend"]) >= 10, texts
    assert "批大小 m" in texts["label"] and "换一批" in texts["button"] and "训练三个网络" in texts["button"]
    assert any("归一化" in t for t in texts["annotation"]) and "测试时使用的均值" in texts["annotation"]

    # a. sliders, undo toggle, new batch
    for idx in (0, 1, 2):
        before = snapshot(page, "a")
        press(page, "a", idx, "ArrowLeft" if idx == 0 else "ArrowRight")
        changed(page, "a", *before, f"section a to react to slider {idx}")
    click(page, "a", "撤销 BN")
    wait_until(page, lambda: "z̃ 与 z 完全相等" in text(page, "a"), 20, "the undo to make z̃ = z")
    click(page, "a", "撤销 BN")
    wait_until(page, lambda: "z̃ 与 z 不同" in text(page, "a"), 20, "undo to switch off")
    before = snapshot(page, "a")
    click(page, "a", "换一批")
    changed(page, "a", *before, "a new batch")

    # b. k slider, eps field, bad eps values (a Chinese message, the drawing kept)
    before = snapshot(page, "b")
    press(page, "b", 0, "ArrowLeft", times=3)
    changed(page, "b", *before, "section b to react to k")
    before = snapshot(page, "b")
    type_in(page, "b", "ε（eps）", "0.01")
    changed(page, "b", *before, "section b to react to eps")
    good = section_settled(page, "b")
    type_in(page, "b", "ε（eps）", "abc")
    wait_until(page, lambda: "不是数字" in text(page, "b"), 20, "a message for eps = abc")
    type_in(page, "b", "ε（eps）", "5")
    wait_until(page, lambda: "请输入" in text(page, "b"), 20, "a message for eps = 5")
    page.wait_for_timeout(500)
    assert sig(page, "b") == good[0], "a bad eps changed the drawing"

    # c. m slider, upstream dropdown, gamma field, new batch
    before = snapshot(page, "c")
    press(page, "c", 0)
    changed(page, "c", *before, "section c to react to m")
    sec(page, "c").locator("select").select_option(label="输出之和（L = Σ z̃ᵢ）")
    wait_until(page, lambda: "抵消 ①" in text(page, "c") and "损失与 z 完全无关" in text(page, "c"), 20, "the sum note")
    before = snapshot(page, "c")
    sec(page, "c").locator("select").select_option(index=0)
    changed(page, "c", *before, "section c to react to the upstream choice")
    before = snapshot(page, "c")
    type_in(page, "c", "γ（gamma）", "2.5")
    changed(page, "c", *before, "section c to react to gamma")
    before = snapshot(page, "c")
    click(page, "c", "换一批")
    changed(page, "c", *before, "a new batch in section c")

    # d. batch size down to 2
    before = snapshot(page, "d")
    press(page, "d", 0, "ArrowLeft", times=14)
    wait_until(page, lambda: "m = 2：" in text(page, "d"), 30, "the m = 2 explanation")
    wait_until(page, lambda: sig(page, "d") != before[0], 30, "section d's drawing to change")

    # e. momentum, m, t sliders; test-digit field (good and bad)
    for idx in (0, 1, 2):
        before = snapshot(page, "e")
        press(page, "e", idx)
        changed(page, "e", *before, f"section e to react to slider {idx}")
    type_in(page, "e", "测试数字 #", "5")
    wait_until(page, lambda: "测试数字 #5：" in text(page, "e"), 20, "the test digit to change")
    type_in(page, "e", "测试数字 #", "9999")
    wait_until(page, lambda: "请输入" in text(page, "e"), 20, "a message for digit 9999")
    assert "测试数字 #5：" in text(page, "e")
    no_english_left(page)
    assert_no_error(page)


def _enabled(page, key: str, label: str) -> bool:
    return not sec(page, key).locator("button.jupyter-button", has_text=label).first.is_disabled()


def test_zh_training_sections_every_control_and_no_english_in_the_drawn_figures(page):
    # f. every control changed, then one run: its summary names each setting
    before = snapshot(page, "f")
    sec(page, "f").locator("select").select_option("tanh")
    press(page, "f", 0, "ArrowLeft")                                # 7 hidden layers
    type_in(page, "f", "学习率", "0.1")
    type_in(page, "f", "初始化尺度", "2")
    type_in(page, "f", "步数", "20")
    type_in(page, "f", "学习率", "fast")
    wait_until(page, lambda: "不是数字" in text(page, "f"), 20, "a message for lr = fast")
    click(page, "f", "训练")
    ran = "tanh，7 个隐藏层，学习率 0.1，初始化尺度 2，20 步"
    wait_until(page, lambda: ran in text(page, "f") and "最终训练损失 / 测试准确率" in text(page, "f"), RUN_S, "the run")
    wait_until(page, lambda: sig(page, "f") != before[0], 30, "section f's drawing to change")
    assert "没有 BN 时，网络" in text(page, "f") and re.search(r"第 20/20 步", text(page, "f"))
    type_in(page, "f", "步数", "2000")
    wait_until(page, lambda: _enabled(page, "f", "训练"), 30, "训练 to be enabled again")
    click(page, "f", "训练")
    time.sleep(0.5)
    click(page, "f", "停止")
    wait_until(page, lambda: "已停止" in text(page, "f"), 30, "the Stop message")

    # sweeps: each column's controls, then its button; the summary names the settings
    before = snapshot(page, "sweeps")
    type_nth(page, "sweeps", "初始化尺度", "0.5", 0)
    type_nth(page, "sweeps", "每次运行的步数", "20", 0)
    click(page, "sweeps", "扫描学习率")
    wait_until(page, lambda: "tanh，初始化尺度 0.5，每次运行 20 步" in text(page, "sweeps"), RUN_S, "the lr sweep")
    assert "无 BN：能训练的学习率（损失 < 1）" in text(page, "sweeps")
    wait_until(page, lambda: sig(page, "sweeps") != before[0], 30, "section sweeps's drawing to change")
    sec(page, "sweeps").locator("select").nth(1).select_option("sigmoid")
    type_nth(page, "sweeps", "学习率", "0.3", 0)
    type_nth(page, "sweeps", "每次运行的步数", "20", 1)
    type_nth(page, "sweeps", "每次运行的步数", "0", 1)
    wait_until(page, lambda: "请输入" in text(page, "sweeps"), 20, "a message for 0 steps")
    click(page, "sweeps", "扫描初始化尺度")
    wait_until(page, lambda: "sigmoid，学习率 0.3，每次运行 20 步" in text(page, "sweeps"), RUN_S, "the init-scale sweep")

    # g. every control, then the three networks
    before = snapshot(page, "g")
    sec(page, "g").locator("select").select_option("tanh")
    type_in(page, "g", "噪声强度 n", "9")
    wait_until(page, lambda: "请输入" in text(page, "g"), 20, "a message for noise 9")
    type_in(page, "g", "噪声强度 n", "2")
    type_in(page, "g", "学习率", "0.3")
    type_in(page, "g", "步数", "30")
    click(page, "g", "训练三个网络")
    ran = "本次运行：tanh，学习率 0.3，30 步，噪声强度 n = 2"
    wait_until(page, lambda: ran in text(page, "g") and "漂移" in text(page, "g"), RUN_S, "the verdict")
    wait_until(page, lambda: sig(page, "g") != before[0], 30, "section g's drawing to change")

    texts = no_english_left(page)                     # now with the three figures drawn by the runs
    for title in ("各层饱和单元的比例", "最终训练损失与学习率", "无 BN：第 5 个隐藏层的输入"):
        assert title in texts["annotation"], title
    assert "BN + 噪声" in texts["legend"] and "网络" in texts["table"]
    assert_no_error(page)


def test_language_switch_opens_the_zh_lesson_in_the_same_state(dashboard):
    page = dashboard("02_batch_norm.ipynb", count=N_FIGURES)
    assert english_words(control_texts(page), ALLOWED), "the check finds the English page's words"
    press(page, "b", 0, "ArrowRight", times=4)                     # k = 10^0.2
    shown = f"{10 ** 0.2:.4f}"                                     # section b's table row "k", from the kernel
    wait_until(page, lambda: shown in text(page, "b"), 30, "the kernel to have k = 10^0.2")   # not only the slider
    readout = lambda: sec(page, "b").locator(".widget-readout").first.inner_text().strip()  # noqa: E731
    k = readout()
    assert k == "1.58"
    switch = page.locator("button.language-switch", has_text="中文")
    wait_until(page, lambda: switch.is_visible(), 30, "the language switch")
    switch.click()
    wait_until(page, lambda: urlsplit(page.url).path.endswith("/voila/render/zh/02_batch_norm.ipynb")
               and "k" in parse_qs(urlsplit(page.url).query), 30, "the zh page with k in its link")
    wait_rendered(page, "zh lesson 2 after the switch", ".js-plotly-plot", N_FIGURES)
    wait_until(page, lambda: readout() == k and shown in text(page, "b"), 60, f"k = {k} on the zh page")
    assert "这不是舍入误差" in text(page, "b") and "批大小 m" in control_texts(page)["label"]
    assert_no_error(page)
