"""Lesson 3 in Chinese, without a browser (issue 15).

* Numbers are language-independent: each section is built in English and in Chinese, driven through the
  same states (controls moved, a timing drawn, a refusal, a training run), and both must show the same
  numbers in their text and the same data in their figures.
* The zh page shows the notes' 120,422,400 and 12,443,648 at its defaults.
* No English is left in what the zh sections show, in any of those states (code identifiers, units and
  the machine's device name aside); the English twin of the check finds the English page's words.
"""
from __future__ import annotations

import html
import re
import threading
from collections import Counter

import numpy as np
import pytest

from widgets import bottleneck as B
from widgets import bottleneck_tradeoff as T
from widgets.views import bottleneck as V
from widgets.views.bottleneck import calculator as VC
from widgets.views.bottleneck import tradeoff as VT

NUMBER = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")   # 12,443,648; 1.8e-14
# Latin words a zh page of lesson 3 may show: code identifiers (C_in, ch_red, nn.Conv2d, FlopCounterMode, the
# 'same' padding mode), names (PyTorch, Adam, SVD, ReLU) and units (ms, MiB, FLOPs, UTC, CPU).
ALLOWED = {"in", "out", "ch", "red", "ReLU", "Conv", "Linear", "nn", "FlopCounterMode", "FLOP", "FLOPs", "PyTorch",
           "torch", "same", "float", "SVD", "Adam", "ms", "MiB", "UTC", "CPU"}
REC = B.recorded_timing()
# what the machine and the recorded report call their devices: data, not words of the page
DEVICE_NAMES = [B.device_info(B.default_device()).name] + ([REC.device] if REC else [])


# --------------------------------------------------------------------------- what a section shows
def _figure_texts(fig) -> list[str]:
    L = fig.layout
    out = [L.title.text or "", *(a.text or "" for a in L.annotations)]
    out += [L[ax].title.text or "" for ax in L if re.fullmatch(r"[xy]axis\d*", ax)]
    for tr in fig.data:
        out.append(tr.name or "")
        for axis in ("x", "y"):
            values = getattr(tr, axis, None)
            if values is not None and len(values) and isinstance(values[0], str):
                out += list(values)          # category labels (the bars' 'direct' / 'bottleneck')
    return out


def shown(widget) -> list[str]:
    """Every text a learner can read in `widget`: labels, button texts, messages, tables, figure furniture."""
    out = []
    if hasattr(widget, "data") and hasattr(widget, "layout") and hasattr(widget, "_data"):   # a FigureWidget
        return _figure_texts(widget)
    for attr in ("description", "value", "tooltip"):
        v = getattr(widget, attr, None)
        if isinstance(v, str) and v:
            out.append(v)
    for child in getattr(widget, "children", ()):
        out += shown(child)
    return out


def plain(texts: list[str]) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", " ".join(texts)))


def numbers(texts: list[str]) -> Counter:
    return Counter(NUMBER.findall(plain(texts)))


def figure_data(section) -> dict:
    """Each trace's numbers (x, y, z, text), category labels left out."""
    out = {}
    for key, tr in section.traces.items():
        for attr in ("x", "y", "z", "text"):
            v = getattr(tr, attr, None)
            if v is None or (len(v) and isinstance(np.ravel(v)[0], str) and attr != "text"):
                continue
            out[f"{key}.{attr}"] = np.asarray(v).tolist()
    return out


def english_words(texts: list[str], names=()) -> list[str]:
    """Latin words outside ALLOWED and `names` (the section's control names, which its messages quote)."""
    text = re.sub(r"<code[^>]*>.*?</code>", " ", " ".join(texts), flags=re.S)   # code is code in every language
    text = plain([text])
    for name in DEVICE_NAMES:
        text = text.replace(name, " ")
    text = re.sub(r"\S+/\S+\.(?:json|py)", " ", text)                               # file paths
    return sorted({w for w in re.findall(r"[A-Za-z]{2,}", text) if w not in ALLOWED | set(names)})


# --------------------------------------------------------------------------- the states each section is driven through
def _single(lang):
    s = V.SingleChannel(lang=lang)
    yield s
    s.controls["weight"].set(-1.5)
    yield s
    yield V.SingleChannel(lang=lang, weight="9")           # refused: a message, the default kept


def _channels(lang):
    s = V.ManyChannels(lang=lang)
    yield s
    for name, value in (("row", 3), ("col", 4), ("which", 3), ("n_filters", 8), ("n_filters", 12), ("n_filters", 2)):
        s.controls[name].set(value)
        yield s


FAKE = B.PathTiming(B.ConvShape.notes(), "cpu", 1, B.Timing([2e-3, 2.2e-3, 1.9e-3]), B.Timing([4e-4, 5e-4, 3e-4]))
FAST = B.PathTiming(B.ConvShape.notes(), "cpu", 1, B.Timing([2e-3] * 21), B.Timing([1e-4] * 21))


def _cost(lang):
    s = V.CostCalculator(lang=lang, autorun_timing=False)
    yield s
    with s.lock:
        s._timing_done(FAKE)              # stopped after 3 repeats; the clock falls short of the count
    yield s
    with s.lock:
        s._timing_done(FAST)              # 21 repeats; the clock keeps up
    yield s
    s.controls["ch_red"].set(300)         # past break-even: costs more; the timing is now stale
    yield s
    s.controls["bottleneck"].set(False)
    yield s
    s = V.CostCalculator(lang=lang, autorun_timing=False, height=3, width=3, ch_in=2, k=1, ch_out=2, ch_red=1)
    yield s                               # exactly as many
    s = V.CostCalculator(lang=lang, autorun_timing=False, k="4", height="0")
    s.controls["k"].widget.text.value = "6"
    yield s                               # refused sizes: messages beside the field and in the status
    s = V.CostCalculator(lang=lang, autorun_timing=False, height=5000, width=5000, ch_in=256, k=3, ch_out=64, ch_red=32)
    s.start_timing()
    yield s                               # too much memory to run
    s = V.CostCalculator(lang=lang, autorun_timing=False, height=64, width=64, ch_in=341, k=3, ch_out=341, ch_red=1)
    s.start_timing()
    yield s                               # too many multiplications to time


def _tradeoff(lang):
    s = V.Tradeoff(lang=lang)
    yield s
    for latent in (1, 7, 30):
        s.controls["latent"].set(latent)
        yield s
    yield V.Tradeoff(lang=lang, latent="40")


STATES = {"single": _single, "channels": _channels, "cost": _cost, "tradeoff": _tradeoff}


@pytest.mark.parametrize("name", STATES)
def test_every_state_shows_the_same_numbers_in_both_languages(name):
    for i, (en, zh) in enumerate(zip(STATES[name]("en"), STATES[name]("zh"), strict=True)):
        texts_en, texts_zh = shown(en.widget), shown(zh.widget)
        assert numbers(texts_zh) == numbers(texts_en), (
            f"{name}, state {i}: numbers only in en {numbers(texts_en) - numbers(texts_zh)}, "
            f"only in zh {numbers(texts_zh) - numbers(texts_en)}")
        assert figure_data(zh) == figure_data(en), f"{name}, state {i}: the figures differ"
        assert plain(texts_zh) != plain(texts_en)


@pytest.mark.parametrize("name", STATES)
def test_no_english_is_left_on_the_zh_sections(name):
    found = {}
    for i, zh in enumerate(STATES[name]("zh")):
        words = english_words(shown(zh.widget), zh.controls)
        if words:
            found[i] = words
    assert found == {}, found
    assert english_words(shown(next(STATES[name]("en")).widget)), "the check finds the English page's words"


def test_the_zh_calculator_shows_the_notes_numbers():
    s = V.CostCalculator(lang="zh", autorun_timing=False)
    assert "28·28·32·5·5·192 = 120,422,400" in s.formulas.value
    assert "2,408,448 + 10,035,200 = 12,443,648" in s.formulas.value and "≈ 9.68×" in s.formulas.value
    assert s.flops.value.count("✓ 相等") == 2 and "240,844,800 FLOPs ÷ 2 = 120,422,400" in s.flops.value
    assert s.controls["height"].widget.text.description == "H（高）"
    assert s.task.start_button.description == "为两条路径计时" and s.task.stop_button.description == "停止"
    assert s.tr("bars", "macs.direct").x == ("直接路径",) and s.tr("bars", "macs.conv").x == ("瓶颈路径",)


def test_zh_messages_beside_a_refused_kernel_size():
    s = V.CostCalculator(lang="zh", autorun_timing=False)
    s.controls["k"].widget.text.value = "4"
    assert "请输入奇数的卷积核尺寸" in s.controls["k"].widget.msg.value and "仍保留 5" in s.controls["k"].widget.msg.value
    assert "120,422,400" in s.formulas.value


def test_zh_timing_says_its_progress_and_result_in_chinese(monkeypatch):
    """The maths reports repeats done as a number; the page words it (and the stale note) in its language."""
    seen, gate = [], threading.Event()

    def fake_time_paths(shape, repeats, progress, should_stop, **kw):
        progress(10 / repeats, 10)
        seen.append(s.task.status.value)
        gate.wait(10)
        return B.PathTiming(shape, "cpu", 1, B.Timing([2e-3] * repeats), B.Timing([3e-4] * repeats))

    monkeypatch.setattr(VC.B, "time_paths", fake_time_paths)
    s = V.CostCalculator(lang="zh", autorun_timing=False, height=8, width=8, ch_in=16, k=3, ch_out=8, ch_red=4)
    s.start_timing()
    gate.set()
    s.task.join(30)
    assert seen == ["<span class='lesson-progress'>第 10 次重复，共 21 次</span>"]
    assert "完成：每条路径各重复了 21 次。" in s.task.status.value
    assert "8×8×16，3×3 卷积，8 个卷积核，ch_red 4，批大小 1" in s.timing.value and "实测加速比" in s.timing.value
    s.controls["height"].set(9)
    assert "上次计时之后尺寸已经改变" in s.timing.value


def _fake_training(monkeypatch):
    monkeypatch.setattr(VT.T, "train_bottleneck",
                        lambda setup, ch_red, should_stop=None, **kw: T.best_relative_error(setup, ch_red) + 0.005)


def test_training_reports_the_same_numbers_in_both_languages(monkeypatch):
    _fake_training(monkeypatch)
    status = {}
    for lang in ("en", "zh"):
        s = V.Tradeoff(lang=lang)
        s.task.start_button.click()
        s.task.join(30)
        status[lang] = s.task.status.value
        assert sorted(s.trained) == s.ch_reds
    assert "已训练 10 个宽度，每个 200 步 Adam" in status["zh"] and "0.50 个百分点" in status["zh"]
    assert numbers([status["zh"]]) == numbers([status["en"]])


def test_zh_training_progress_stop_and_a_changed_input(monkeypatch):
    gate, started, seen = threading.Event(), threading.Event(), []

    def train(setup, ch_red, should_stop=None, **kw):
        seen.append(s.task.status.value)
        started.set()
        gate.wait(10)
        return T.best_relative_error(setup, ch_red)

    monkeypatch.setattr(VT.T, "train_bottleneck", train)
    s = V.Tradeoff(lang="zh")
    s.task.start_button.click()
    assert started.wait(10)
    s.task.stop_button.click()
    gate.set()
    s.task.join(30)
    assert "正在训练 ch_red = 1（第 1 个，共 10 个）" in seen[0]
    assert "已停止：10 个宽度中完成了 0 个。" in s.task.status.value

    gate.clear()
    started.clear()
    s.task.start_button.click()
    assert started.wait(10)
    s.controls["latent"].set(7)
    gate.set()
    s.task.join(30)
    assert "输入已改变，训练因此停止" in s.status.value and s.trained == {}


# --------------------------------------------------------------------------- the zh lesson on the zh landing page
def test_the_zh_landing_page_and_the_language_switch_find_the_zh_lesson():
    from widgets.views import index, page

    zh = index.course_index(lang="zh")
    cards = "".join(getattr(child, "value", "") for child in zh.children)
    assert "class='lesson-link' href='./03_bottleneck.ipynb'" in cards and "打开第 3 课" in cards
    assert "href='../03_bottleneck.ipynb'" not in cards            # no longer 'coming soon' + the English lesson
    assert page.other_edition_exists("http://h/voila/render/03_bottleneck.ipynb", "zh")
    assert page.other_edition_exists("http://h/voila/render/zh/03_bottleneck.ipynb", "en")
