"""The Chinese edition through Voilà in headless Chromium: zh lesson 1 and the zh landing page render
with no error, every control answers, the numbers are the English page's, no English control label
or button text is left, Chinese glyphs are drawn (a CJK font is installed), and the language switch
goes en -> zh -> en keeping the state.
"""
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from browser import (assert_no_error, body_text, close, open_dashboard, plot_signature, press_slider, sliders,
                     wait_for_change, wait_until)
from widgets.devtools.serving import OffHostRequests, wait_rendered

pytestmark = pytest.mark.browser
NB = "zh/01_feature_scaling.ipynb"
LINES = ".js-plotly-plot .scatterlayer path.js-line"

# slider order on the page (as in the English lesson)
W, X, THRESH, SCALE, UNITS, X2RANGE, STEPS, LR_RAW, LR_STD = range(9)

# What a zh page may show in Latin letters: code identifiers, function names and formula subscripts.
ALLOWED = {"tanh", "atanh", "Hessian", "lr", "max", "min", "da", "dx", "dL", "dW", "xW"}

# The texts a learner reads as controls and figure furniture (visible elements only).
_CONTROL_TEXTS = """() => {
  const seen = (e) => e.getClientRects().length > 0;
  const pick = (sel) => [...document.querySelectorAll(sel)].filter(seen)
      .map(e => e.textContent.trim()).filter(Boolean);
  return {
    label: pick('.widget-label'),
    button: pick('button:not(.language-switch)'),
    link: pick('.widget-html a'),
    title: pick('.js-plotly-plot .gtitle'),
    axis: pick('.js-plotly-plot .xtitle, .js-plotly-plot .ytitle'),
    legend: pick('.js-plotly-plot .legendtext'),
    annotation: pick('.js-plotly-plot .annotation-text'),
    table: pick('.widget-html th, .lesson-stats td:first-child'),
  };
}"""

# Two different Chinese characters drawn alike means both are the missing-glyph box (no CJK font).
_GLYPHS = """(chars) => {
  const c = document.createElement('canvas'); c.width = 48; c.height = 48;
  const g = c.getContext('2d');
  return chars.map(ch => {
    g.clearRect(0, 0, 48, 48); g.font = '32px sans-serif'; g.fillStyle = '#000'; g.fillText(ch, 4, 38);
    return g.getImageData(0, 0, 48, 48).data.join(',');
  });
}"""


# Three probes of the same characters: in the page's language, marked Japanese, marked Chinese.
_HAN_PROBES = """() => {
  for (const lang of ['', 'ja', 'zh-CN']) {
    const s = document.createElement('span');
    s.textContent = '门直骨'; s.style.fontSize = '40px'; s.className = 'han-probe han-probe-' + (lang || 'page');
    if (lang) s.lang = lang;
    document.body.appendChild(s);
  }
  return document.documentElement.lang;
}"""


def control_texts(page) -> dict[str, list[str]]:
    return page.evaluate(_CONTROL_TEXTS)


def english_words(texts: dict[str, list[str]], allowed=ALLOWED) -> dict[str, list[str]]:
    """Words of two or more Latin letters outside `allowed`, by kind of text, with the text they are in."""
    found = {}
    for kind, items in texts.items():
        bad = [f"{w!r} in {t[:60]!r}" for t in items for w in re.findall(r"[A-Za-z]{2,}", t) if w not in allowed]
        if bad:
            found[kind] = bad
    return found


def section(page, css):
    return page.locator(f".{css}").first.inner_text()


@pytest.fixture(scope="module")
def page(browser, voila_url):
    """zh lesson 1, opened once for the module (as the English lesson's test does); no request leaves the server."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    watch = OffHostRequests(context, voila_url)
    p = open_dashboard(browser, voila_url, NB, ready=LINES, count=4, page=context.new_page())
    yield p
    close(p)
    context.close()
    watch.assert_none(NB)


# --------------------------------------------------------------------------- zh lesson 1
def test_zh_lesson1_renders_with_the_notes_numbers(page):
    assert_no_error(page)
    assert sliders(page).count() == 9
    assert page.locator(".js-plotly-plot").count() == 5
    tanh = section(page, "lesson-tanh")
    assert "0.0997" in tanh and "0.964" in tanh and "0.0707" in tanh  # as on the English page
    assert "饱和" in tanh and "笔记中的例子" in tanh
    text = body_text(page)
    assert "第 1 课 · 特征缩放与 tanh 饱和" in text and "条件数" in text
    assert page.locator("button.language-switch").inner_text().strip() == "English"


def test_no_english_control_label_or_button_text_is_left(page):
    texts = control_texts(page)
    assert len(texts["label"]) >= 10 and len(texts["button"]) >= 3 and len(texts["legend"]) >= 5, texts
    assert texts["title"] and texts["axis"] and texts["annotation"]
    assert "权重 w" in texts["label"] and "标准化输入" in texts["button"]
    assert english_words(texts) == {}


def test_chinese_glyphs_are_drawn(page):
    """fonts-noto-cjk (or another CJK font) is installed: two characters are not the same empty box."""
    miss_a, miss_b, sat, he, blank = page.evaluate(_GLYPHS, ["\ue000", "\ue001", "饱", "和", " "])
    assert miss_a == miss_b, "the check cannot tell a missing glyph from a drawn one"
    assert sat != he and blank not in (sat, he), (
        "Chinese characters are drawn as empty boxes: install a CJK font (`apt-get install fonts-noto-cjk`)")


def test_the_page_is_marked_chinese_so_han_characters_take_their_chinese_forms(page):
    assert page.evaluate(_HAN_PROBES) == "zh-CN"
    try:
        shot = {k: page.locator(f".han-probe-{k}").screenshot() for k in ("page", "ja", "zh-CN")}
        assert shot["zh-CN"] != shot["ja"], "the check cannot tell the Chinese forms from the Japanese ones"
        assert shot["page"] == shot["zh-CN"]
    finally:
        page.evaluate("() => document.querySelectorAll('.han-probe').forEach(e => e.remove())")


@pytest.mark.parametrize("index,css,key", [
    (W, "lesson-tanh", "ArrowRight"), (X, "lesson-tanh", "ArrowLeft"), (THRESH, "lesson-tanh", "ArrowLeft"),
    (SCALE, "lesson-layer", "ArrowLeft"), (UNITS, "lesson-layer", "ArrowRight"),
    (X2RANGE, "lesson-regression", "Home"), (STEPS, "lesson-regression", "ArrowRight"),
    (LR_RAW, "lesson-regression", "End"), (LR_STD, "lesson-regression", "ArrowLeft"),
])
def test_every_slider_changes_its_plot_and_numbers(page, index, css, key):
    scope = f".{css}"
    before_plot, before_text = plot_signature(page, scope), section(page, css)
    press_slider(page, index, key, times=3)
    wait_for_change(page, lambda: plot_signature(page, scope), before_plot, what=f"slider {index}: {css} figure")
    wait_for_change(page, lambda: section(page, css), before_text, what=f"slider {index}: {css} numbers")
    assert_no_error(page)


def test_standardise_toggle(page):
    before = section(page, "layer-numbers"), plot_signature(page, ".lesson-layer")
    page.locator(".lesson-layer button", has_text="标准化输入").click()
    wait_for_change(page, lambda: (section(page, "layer-numbers"), plot_signature(page, ".lesson-layer")), before)
    before = plot_signature(page, ".lesson-layer")  # the table shows both columns: only the figures move back
    page.locator(".lesson-layer button", has_text="原始输入").click()
    wait_for_change(page, lambda: plot_signature(page, ".lesson-layer"), before)
    assert_no_error(page)


def test_learning_rate_past_the_limit_says_so_in_chinese(page):
    press_slider(page, X2RANGE, "End")
    press_slider(page, LR_RAW, "End")
    wait_until(page, lambda: "发散" in section(page, "lesson-regression"), what="divergence message")
    assert "2/λmax" in section(page, "lesson-regression")
    press_slider(page, LR_RAW, "Home")
    wait_until(page, lambda: "发散" not in section(page, "lesson-regression"), what="recovery")
    assert_no_error(page)


def test_link_button_gives_a_link_to_the_zh_page(page):
    page.locator("button", has_text="生成本视图的链接").click()
    link = page.locator("a.view-link")
    wait_until(page, lambda: link.count() == 1, what="the link")
    href = link.get_attribute("href")
    assert "/voila/render/zh/01_feature_scaling.ipynb?" in href and "w=" in href
    assert_no_error(page)


# --------------------------------------------------------------------------- switching language
def _at(page, path: str) -> bool:
    """The page is at `path` and its link keeps w = 0.13 (other controls may be listed too)."""
    url = urlsplit(page.url)
    return url.path.endswith(path) and parse_qs(url.query).get("w") == ["0.13"]


def _readout(page, index):
    return page.locator(".widget-slider").nth(index).locator(".widget-readout").inner_text().strip()


def test_language_switch_round_trip_keeps_a_changed_control(dashboard, voila_url):
    page = dashboard("01_feature_scaling.ipynb", ready=LINES, count=4)
    assert english_words(control_texts(page)), "the check finds the English page's words"
    before = section(page, "lesson-tanh")
    press_slider(page, W, "ArrowRight", times=3)  # w 0.10 -> 0.13
    wait_for_change(page, lambda: section(page, "lesson-tanh"), before, what="w to change")
    # the kernel has w = 0.13 (a click can overtake the slider's last value on its way to the kernel)
    wait_until(page, lambda: "The notes' example at w = 0.13" in section(page, "lesson-tanh"), 30, "w = 0.13")
    assert _readout(page, W) == "0.13"

    page.locator("button.language-switch", has_text="中文").click()
    wait_until(page, lambda: _at(page, "/voila/render/zh/01_feature_scaling.ipynb"), 30, "the zh page with w=0.13")
    wait_rendered(page, "zh lesson 1 after the switch", LINES, 4)
    wait_until(page, lambda: _readout(page, W) == "0.13", 30, "w = 0.13 on the zh page")
    assert "权重 w" in control_texts(page)["label"]
    assert "笔记中的例子（w = 0.13）" in section(page, "lesson-tanh")
    assert_no_error(page)

    page.locator("button.language-switch", has_text="English").click()
    wait_until(page, lambda: _at(page, "/voila/render/01_feature_scaling.ipynb") and "/zh/" not in page.url, 30,
               "the English page with w=0.13")
    wait_rendered(page, "lesson 1 after switching back", LINES, 4)
    wait_until(page, lambda: _readout(page, W) == "0.13", 30, "w = 0.13 on the English page")
    assert "weight w" in control_texts(page)["label"]
    assert "The notes' example at w = 0.13" in section(page, "lesson-tanh")
    assert_no_error(page)


# --------------------------------------------------------------------------- the landing pages
def test_landing_pages_link_each_other_and_the_zh_lesson(dashboard):
    page = dashboard("00_index.ipynb", ready=".lesson-card", count=5)
    page.locator("a.edition-link", has_text="中文").click()
    wait_until(page, lambda: page.url.endswith("/voila/render/zh/00_index.ipynb"), 30, "the zh landing page")
    wait_rendered(page, "the zh landing page", ".lesson-card", 5)
    assert_no_error(page)
    wait_until(page, lambda: page.evaluate("() => document.documentElement.lang") == "zh-CN", 10, "<html lang>")
    text = body_text(page)
    assert "设备：" in text and "CPU" in text and "特征缩放与 tanh 饱和" in text and "0.964" in text
    from widgets.views.index import LESSONS, edition   # the zh lessons are those whose notebook exists
    zh = [s for s in LESSONS if (edition("zh") / f"{s}.ipynb").exists()]
    assert "01_feature_scaling" in zh and text.count("即将推出") == len(LESSONS) - len(zh)  # the others: not yet
    links = {"own": "a.lesson-link", "en": "a.lesson-link-en", "edition": "a.edition-link"}
    hrefs = {k: page.eval_on_selector_all(sel, "as => as.map(a => a.getAttribute('href'))") for k, sel in links.items()}
    assert hrefs == {"own": [f"./{s}.ipynb" for s in zh], "en": [f"../{s}.ipynb" for s in LESSONS if s not in zh],
                     "edition": ["../00_index.ipynb"]}
    texts = control_texts(page)
    # the telling-state links quote code names (ch_red) and BN, as the zh lessons do
    assert english_words({"link": texts["link"], "button": texts["button"]},
                         ALLOWED | {"English", "BN", "ch", "red"}) == {}

    page.locator("a.edition-link", has_text="English").click()
    wait_until(page, lambda: page.url.endswith("/voila/render/00_index.ipynb"), 30, "the English landing page")
    wait_rendered(page, "the English landing page", ".lesson-card", 5)
    assert "Open lesson 1" in body_text(page)
    assert page.evaluate("() => document.documentElement.lang") == "en"

    page.locator("a.edition-link", has_text="中文").click()
    wait_until(page, lambda: page.url.endswith("/voila/render/zh/00_index.ipynb"), 30, "the zh landing page again")
    wait_rendered(page, "the zh landing page again", ".lesson-card", 5)
    page.locator("a.lesson-link", has_text="打开第 1 课").click()
    wait_until(page, lambda: page.url.endswith("/voila/render/zh/01_feature_scaling.ipynb"), 30, "zh lesson 1")
    wait_rendered(page, "zh lesson 1 from the zh landing page", LINES, 4)
    assert "0.0997" in body_text(page)
    assert_no_error(page)
