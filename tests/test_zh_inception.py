"""Lesson 4 in Chinese, without a browser: every section built in English and in Chinese shows the same
numbers (in several states), its words are Chinese (Table 1's column names, model and layer names
excepted), and the zh landing page links the zh lesson.

`english_words` and `ALLOWED` are imported by tests/test_zh_inception_browser.py (the same rule, in the page).
"""
from __future__ import annotations

import html
import re
from collections import Counter

import ipywidgets as ipw
import plotly.graph_objects as go
import pytest

from widgets import inception_stats as S
from widgets.views import i18n, index
from widgets.views import inception as V

# What a zh lesson 4 may show in Latin letters, besides lesson 1's formula names (tests/test_zh_browser.py):
ALLOWED = {"tanh", "atanh", "Hessian", "lr", "max", "min", "da", "dx", "dL", "dW", "xW",
           "GoogLeNet", "AlexNet",          # the models' names
           "inception",                      # the paper's module names (inception4a)
           "reduce", "pool", "proj",         # Table 1's column names: #3×3 reduce, pool proj
           "top",                            # the metric's name: top-5
           "conv", "fc", "maxpool", "avgpool", "dropout", "softmax"}  # layers as the code names them: the
                                             # stage's title (maxpool2, conv2+conv3) and the head's rows (aux1.fc1)


def english_words(texts: dict[str, list[str]], allowed=ALLOWED) -> dict[str, list[str]]:
    """Words of two or more Latin letters outside `allowed`, by kind of text (as tests/test_zh_browser.py)."""
    found = {}
    for kind, items in texts.items():
        bad = [f"{w!r} in {t[:60]!r}" for t in items for w in re.findall(r"[A-Za-z]{2,}", t) if w not in allowed]
        if bad:
            found[kind] = bad
    return found


# --------------------------------------------------------------------------- what a section shows
def _plain(markup: str) -> str:
    text = re.sub(r"<style>.*?</style>", "", markup, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", text))


def _widgets(w: ipw.Widget):
    yield w
    if not isinstance(w, go.FigureWidget):
        for c in getattr(w, "children", ()) or ():
            yield from _widgets(c)


def _figure_texts(fig: go.FigureWidget) -> list[str]:
    lay = fig.layout
    texts = [lay.title.text or ""]
    texts += [lay[ax].title.text or "" for ax in ("xaxis", "yaxis", "xaxis2", "yaxis2") if ax in lay]
    for t in fig.data:
        texts.append(t.name or "")
        for attr in ("customdata", "text", "x"):
            v = getattr(t, attr, None)
            if v is not None and not isinstance(v, str):
                texts += [str(e) for e in v if isinstance(e, str)]
            elif isinstance(v, str):
                texts.append(v)
    return texts


def shown(section) -> list[tuple[str, list[str], list]]:
    """Per widget, in order: its kind, the texts it shows, and the numeric data it draws."""
    out = []
    for w in _widgets(section.widget):
        if isinstance(w, go.FigureWidget):
            data = [tuple(v) for t in w.data for v in (t.x, t.y) if v is not None and not isinstance(v[0], str)]
            out.append(("figure", _figure_texts(w), data))
            continue
        texts = [getattr(w, "description", "") or ""]
        if hasattr(w, "options"):
            texts += list(w._options_labels)
        if isinstance(getattr(w, "value", None), str) and not isinstance(w, ipw.Text):
            texts.append(_plain(w.value))
        out.append((type(w).__name__, texts, [w.value] if isinstance(w, (ipw.Text, ipw.IntSlider)) else []))
    return out


NUMBER = re.compile(r"[-+−]?\d(?:[\d,]*\d)?(?:\.\d+)?%?")


def numbers(texts: list[str]) -> Counter:
    return Counter(n.replace("−", "-") for t in texts for n in NUMBER.findall(t))


# Each section, with values for its controls that change what it shows (the states compared).
STATES = {
    V.Table1View: [{}, {"metric": "ops", "log_y": True}],
    V.ModuleExplorer: [{}, {"metric": "weights", "n": 1}, {"row": "inception5b", "metric": "out_channels"},
                       {"in_channels": 8, "ch3x3red": 64, "ch5x5red": 64, "n": 9}],
    V.NetworkExplorer: [{"stage": name} for name in ("inception4a", "conv1", "conv2+conv3", "maxpool2", "fc",
                                                       "aux1", "aux2", "inception5b")],
    V.BranchShareView: [{}, {"what": "macs"}],
    V.TestTimeCost: [{}, {"scales": 2, "squares": 1, "crops_per_square": 5, "mirrors": 1, "models": 7}],
}
CASES = [(cls, values) for cls, states in STATES.items() for values in states]


@pytest.mark.parametrize("cls,values", CASES, ids=[f"{c.__name__}-{i}" for i, (c, _v) in enumerate(CASES)])
def test_every_section_shows_the_same_numbers_in_english_and_chinese(cls, values):
    en, zh = cls(**values), cls(lang="zh", **values)
    assert en.values() == zh.values()
    a, b = shown(en), shown(zh)
    assert [kind for kind, _t, _d in a] == [kind for kind, _t, _d in b]
    for (kind, texts_en, data_en), (_k, texts_zh, data_zh) in zip(a, b):
        assert data_en == data_zh, kind
        assert numbers(texts_zh) == numbers(texts_en), (kind, texts_en, texts_zh)
    assert any(numbers(t) for _k, t, _d in a), "the check found no number to compare"


def test_the_comparison_finds_a_changed_number():
    """The check above can fail: two states of one section show different numbers."""
    one, other = shown(V.TestTimeCost(lang="zh")), shown(V.TestTimeCost(lang="zh", models=7))
    assert [numbers(t) for _k, t, _d in one] != [numbers(t) for _k, t, _d in other]


# --------------------------------------------------------------------------- the words
def words_shown(section) -> dict[str, list[str]]:
    """The texts the browser checker reads: labels, buttons, titles, axes, legends, table headers and row names."""
    out = {"label": [], "button": [], "title": [], "axis": [], "legend": [], "table": []}
    for w in _widgets(section.widget):
        if isinstance(w, go.FigureWidget):
            lay = w.layout
            out["title"].append(lay.title.text or "")
            out["axis"] += [lay[ax].title.text or "" for ax in ("xaxis", "yaxis", "xaxis2", "yaxis2") if ax in lay]
            out["legend"] += [t.name for t in w.data if t.name and t.showlegend is not False]
        elif isinstance(w, ipw.Button):
            out["button"].append(w.description)
        elif isinstance(w, ipw.ToggleButtons):
            out["label"].append(w.description)
            out["button"] += list(w._options_labels)
        elif isinstance(w, ipw.HTML):
            cells = re.findall(r"<th>(.*?)</th>|<td class='lesson-stat-name'[^>]*>(.*?)</td>", w.value, re.S)
            out["table"] += [_plain(a or b).strip() for a, b in cells if (a or b).strip()]
        elif getattr(w, "description", ""):
            out["label"].append(w.description)
    return {k: [t for t in v if t] for k, v in out.items()}


@pytest.mark.parametrize("cls,values", CASES, ids=[f"{c.__name__}-{i}" for i, (c, _v) in enumerate(CASES)])
def test_no_english_label_button_title_axis_legend_or_table_text_in_chinese(cls, values):
    zh = words_shown(cls(lang="zh", **values))
    assert zh["label"] or zh["button"] or zh["table"]
    assert english_words(zh) == {}


def test_the_check_finds_the_english_pages_words():
    assert english_words(words_shown(V.Table1View())).keys() >= {"label", "button", "title", "axis", "legend", "table"}


def test_table1_type_column_and_notes_in_chinese():
    t = V.Table1View(lang="zh")
    table, notes = t.layout()[0].value, t.layout()[1].value
    assert "<td class='l'>最大池化</td>" in table and "<td class='l'>inception (3a)</td>" in table
    assert "在印有数字的 12 行中，3 行与模型一致到印刷的最后一位（✓），6 行相差在 3% 以内（≈），3 行相差更多（✗）。" in notes
    assert "卷积 7×7/2</b>：按各列计算有 9,408 个权重 = 9.2K，印刷值为 2.7K（-70.6%）；9,408 × 112×112 = 118.0M 次乘加" in notes
    assert "title='不一致'" in table and "title='disagrees'" in V.Table1View().layout()[0].value


def test_zh_status_messages_and_field_messages():
    ex = V.ModuleExplorer(lang="zh", side="wide")
    assert "side = wide" in ex.status.value and "已忽略" in ex.status.value and ex.spec()["side"] == 28
    field = ex.controls["ch3x3red"].widget
    field.text.value = "abc"
    assert "不是数字" in field.msg.value and field.value == 96
    net = V.NetworkExplorer(lang="zh")
    net.tr("network", "nodes")._dispatch_on_click(type("P", (), {"point_inds": [999]})(), None)
    assert "出错了" in net.status.value  # the click handler's message is in the page's language too


def test_builders_take_the_language():
    for build in (V.table1_view, V.module_explorer_view, V.network_view, V.branch_share_view, V.test_time_view):
        text = " ".join(getattr(w, "description", "") or "" for w in _widgets(build(lang="zh")))
        text += " ".join(w.value for w in _widgets(build(lang="zh")) if isinstance(w, ipw.HTML))
        assert re.search(r"[\u4e00-\u9fff]", text), build.__name__
    with pytest.raises(ValueError, match="en, zh"):
        V.table1_view(lang="fr")


def test_every_lesson4_key_is_asked_for(monkeypatch):
    """A key no view asks for is a string no page shows: building every state above (and the one summary
    the real shares never give, a share that never falls) asks for each lesson 4 key at least once."""
    from widgets import inception_analysis as A
    from widgets.views.inception import shares

    asked, real_t = set(), i18n.t

    def spy(lang, key, **fields):
        asked.add(key)
        return real_t(lang, key, **fields)

    monkeypatch.setattr(i18n, "t", spy)
    for cls, values in CASES:
        cls(**values).heading_text()  # the title names the section's region on the page (widgets/views/page.py)
    steady = A.ShareSummary(["inception3a", "inception3b"], [0.5, 0.6], ["inception3b"], ["inception3a"],
                            ("inception3a", "inception3b"), True)
    assert "never falls" in shares.summary_html(steady, "ch")
    ours = {k for k in i18n.catalogue("en") if k.split(".")[0] in
            ("table1", "explorer", "network", "shares", "testtime", "inception")}
    assert len(ours) > 150 and ours - asked == set()


# --------------------------------------------------------------------------- the landing page
def test_the_zh_landing_page_links_the_zh_lesson_4():
    page = index.course_index(lang="zh")
    html_ = "".join(getattr(child, "value", "") for child in page.children)
    own = re.findall(r"class='lesson-link' href='([^']+)'", html_)
    english = re.findall(r"class='lesson-link-en' href='([^']+)'", html_)
    assert "./04_inception.ipynb" in own and "../04_inception.ipynb" not in english


def test_the_numbers_the_zh_page_shows_at_its_defaults():
    m = S.default_table1()
    t = V.Table1View(lang="zh")
    text = " ".join(w.value for w in t.layout() if isinstance(w, ipw.HTML))
    for expected in ("6,990,272", "1,582,671,872", "9,408", "2.7K", "497.5K", "1072K", "8.6 倍"):
        assert expected in text, expected
    tt = V.TestTimeCost(lang="zh")
    assert "= <b>144</b>" in tt.numbers.value and tt.tr("cost", "setting").x == (144 * m.total_macs,) * 2
    assert tt.tr("cost", "setting").name == "你的设置：144 次前向传播"
