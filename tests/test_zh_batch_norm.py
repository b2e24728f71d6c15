"""Lesson 2 in Chinese, without a browser: every section built in English and in Chinese draws the same
data and shows the same numbers (in several states, and after a short run of each training section),
its words are Chinese (code identifiers, units and names excepted), its progress lines are Chinese,
every sentence of widgets/bn_analysis.py quotes the same numbers in both languages, and the zh
landing page links the zh lesson.

`english_words`, `ALLOWED` and `TEXT_ALLOWED` are imported by tests/test_zh_batch_norm_browser.py.
"""
from __future__ import annotations

import html
import math
import re
from collections import Counter
from types import SimpleNamespace

import ipywidgets as ipw
import plotly.graph_objects as go
import pytest

from widgets import bn_analysis as A
from widgets.views import batch_norm as V
from widgets.views import index
from widgets.views.batch_norm.common import say

CJK = re.compile(r"[\u4e00-\u9fff]")

# What a zh lesson 2 may show in Latin letters in its controls, figures and table headings:
ALLOWED = {"tanh", "atanh", "Hessian", "lr", "max", "min", "da", "dx", "dL", "dW", "xW",   # lesson 1's
           "BN",                                    # the layer's name, as in the notes and the paper
           "gamma", "beta", "eps", "epsilon",       # the parameters' names in code: γ (gamma), ε (eps)
           "norm", "last", "fan", "in",             # subscripts: z_norm, W_last, fan_in
           "dw", "dz",                              # derivatives: dL/dw, dL/dz
           "ln",                                    # ln 10 (chance)
           "torch", "autograd", "PyTorch", "momentum",   # the reference and its argument's name
           "SGD", "sigmoid"}                        # the optimiser and the activation, as the code names them
# ... and in its sentences and data lines: the loader's name and splits, the paper's authors and model
TEXT_ALLOWED = ALLOWED | {"widgets", "data", "digits", "all", "train", "test", "Santurkar", "VGG", "MLP"}


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
    return html.unescape(re.sub(r"<[^>]+>", " ", markup))


def _widgets(w: ipw.Widget):
    yield w
    if not isinstance(w, go.FigureWidget):
        for c in getattr(w, "children", ()) or ():
            yield from _widgets(c)


def _figure_texts(fig: go.FigureWidget) -> list[str]:
    lay = fig.layout
    texts = [lay.title.text or ""] + [a.text or "" for a in lay.annotations]
    texts += [lay[k].title.text or "" for k in lay if k.startswith(("xaxis", "yaxis")) and lay[k] is not None]
    return texts + [t.name or "" for t in fig.data]


def words(section) -> dict[str, list[str]]:
    """The section's texts by kind: controls (labels, options, buttons, tooltips), figures (titles,
    axes, annotations, legends), headings (table headers and row names), text (everything else)."""
    out = {"control": [], "figure": [], "heading": [], "text": []}
    for w in _widgets(section.widget):
        if isinstance(w, go.FigureWidget):
            out["figure"] += _figure_texts(w)
            continue
        out["control"] += [getattr(w, a, None) or "" for a in ("description", "tooltip")]
        if hasattr(w, "options"):
            out["control"] += list(w._options_labels)
        if isinstance(w, ipw.HTML) and w.value:
            heads = re.findall(r"<th[^>]*>(.*?)</th>|<tr><td[^>]*>(.*?)</td>", w.value)
            out["heading"] += [html.unescape(a or b) for a, b in heads]
            out["text"].append(_plain(w.value))
    return {k: [t for t in v if t.strip()] for k, v in out.items()}


def values(section) -> list[str]:
    """Every table cell after a row's first (the numbers the tables show, and a run's settings), in order."""
    cells = []
    for w in _widgets(section.widget):
        if isinstance(w, ipw.HTML):
            for row in re.findall(r"<tr>(.*?)</tr>", w.value, re.S):
                cells += [_plain(c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)[1:]]
    return cells


NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?(?:e[-+]\d+)?")


def numbers(texts: list[str]) -> Counter:
    return Counter(n for t in texts for n in NUMBER.findall(t))


def drawn(section) -> list:
    return [(key, tuple(h.x) if h.x is not None else None, tuple(h.y) if h.y is not None else None)
            for key, h in section.traces.items()]


def assert_same_numbers_and_chinese(en, zh) -> None:
    assert drawn(zh) == drawn(en), "the zh page draws other data"
    cells = lambda s: [NUMBER.findall(c) for c in values(s)]  # noqa: E731  (a cell's words are translated)
    assert cells(zh) == cells(en) and len(values(zh)) > 3, "the zh page's tables show other numbers"
    we, wz = words(en), words(zh)
    assert numbers(wz["text"]) == numbers(we["text"]), "the zh page's texts quote other numbers"
    assert english_words({k: v for k, v in wz.items() if k != "text"}) == {}
    assert english_words({"text": wz["text"]}, TEXT_ALLOWED) == {}
    assert all(CJK.search(t) for t in wz["heading"] if re.search(r"[A-Za-z]{3,}", t)), wz["heading"]
    assert english_words({k: v for k, v in we.items() if k != "text"}), "the check finds the English page's words"


STATES = [
    (V.ForwardPass, {}), (V.ForwardPass, {"undo": True}), (V.ForwardPass, {"m": 2, "gamma": 2.5, "beta": -1.0}),
    (V.Rescaling, {}), (V.Rescaling, {"k": 0.01}), (V.Rescaling, {"k": 10.0, "eps": 0.01}),
    (V.Backprop, {}), (V.Backprop, {"upstream": "sum"}), (V.Backprop, {"upstream": "target", "m": 12}),
    (V.BatchNoise, {}), (V.BatchNoise, {"m": 2}), (V.BatchNoise, {"m": 3}),
    (V.InferenceStats, {}), (V.InferenceStats, {"momentum": 0.5, "t": 1, "example": 5}),
]


@pytest.mark.parametrize("cls,state", STATES, ids=[f"{c.__name__}-{s}" for c, s in STATES])
def test_sections_a_to_e_show_the_same_numbers_in_chinese(cls, state):
    en, zh = cls(**state), cls(lang="zh", **state)
    assert zh.status.value == "" and en.status.value == ""
    assert_same_numbers_and_chinese(en, zh)
    assert words(zh)["control"] != words(en)["control"]


def test_the_zh_page_says_its_defaults_in_chinese():
    a, d, e = V.ForwardPass(lang="zh", undo=True), V.BatchNoise(lang="zh", m=2), V.InferenceStats(lang="zh")
    assert "z̃ 与 z 完全相等" in a.stats.value and a.controls["m"].widget.description == "批大小 m"
    data = next(t for t in words(a)["text"] if "数据：" in t)
    assert '"all"' in data and "1,797" in data
    assert "m = 2：" in d.stats.value and "0.044" in d.stats.value
    assert "10 步后 PyTorch 的滑动平均" in e.stats.value and "测试数字 #0" in e.stats.value


def test_bad_values_are_refused_in_chinese():
    s = V.Rescaling(lang="zh", eps=5)
    assert "已忽略 eps = 5" in s.status.value and "请输入 1e-12 到 1 之间的值" in s.status.value
    s.controls["eps"].widget.text.value = "abc"
    assert "不是数字" in s.controls["eps"].widget.msg.value and s.controls["eps"].value == V.Rescaling().controls["eps"].value


# --------------------------------------------------------------------------- the training sections
def _run(cls, lang: str, start, **state):
    s = cls(lang=lang, **state)
    texts = []
    shown = s.task._progress

    def progress(fraction, text=""):
        texts.append(text)
        shown(fraction, text)

    s.task._progress = progress
    start(s)
    s.task.join(600)
    assert not s.task.running
    return s, [t for t in texts if t]


TRAINING = [
    (V.Training, lambda s: s.task.start_button.click(), {"steps": 20, "depth": 3}),
    (V.Sweeps, lambda s: s.start(V.sweeps.SWEEPS[0]), {"lr_steps": 20}),
    (V.CovariateShift, lambda s: s.task.start_button.click(), {"steps": 20}),
]


@pytest.mark.parametrize("cls,start,state", TRAINING, ids=[c.__name__ for c, _, _ in TRAINING])
def test_training_sections_show_the_same_run_in_chinese(cls, start, state):
    before = cls(lang="zh", **state)
    assert english_words({k: v for k, v in words(before).items() if k != "text"}) == {}
    assert english_words({"text": words(before)["text"]}, TEXT_ALLOWED) == {}
    en, _ = _run(cls, "en", start, **state)
    zh, progress = _run(cls, "zh", start, **state)
    assert_same_numbers_and_chinese(en, zh)
    assert progress and all(re.search(r"第 \d+/\d+ 步$", t) and "step" not in t for t in progress), progress[:5]


@pytest.mark.parametrize("sw", V.sweeps.SWEEPS, ids=lambda sw: sw.key)
def test_a_stopped_sweep_with_a_diverged_run_is_summed_up_in_chinese(sw):
    """Both sweeps' rows (drawn without training: a result shaped like a stopped run whose last value diverged)."""
    res = SimpleNamespace(values=list(sw.values[:2]), trains={"plain": [True, False], "BN": [True, True]},
                          final_loss={"plain": [0.5, float("nan")], "BN": [0.4, 0.6]}, stopped=True)
    rows = {lang: V.Sweeps(lang=lang)._rows(sw, res, V.Sweeps().config(sw), 1.0) for lang in ("en", "zh")}
    same = lambda lang: [numbers([k, v]) for k, v in rows[lang]]  # noqa: E731  (word order may differ)
    assert same("zh") == same("en")
    assert "diverged" in rows["en"][3][1] and "发散" in rows["zh"][3][1] and "提前停止" == rows["zh"][-1][0]
    assert english_words({"heading": [k for k, _ in rows["zh"]]}) == {}
    assert english_words({"text": [v for _, v in rows["zh"]]}, TEXT_ALLOWED) == {}


def test_progress_lines_keep_an_unknown_shape_as_they_came():
    s = V.Training(lang="zh")
    assert s.progress_text("BN + noise: step 3/20") == "BN + 噪声：第 3/20 步"
    assert s.progress_text("lr 0.3, plain: step 25/150") == "lr 0.3，无 BN：第 25/150 步"
    assert s.progress_text("evaluating") == "evaluating"
    assert V.Training().progress_text("lr 0.3, plain: step 25/150") == "lr 0.3, plain: step 25/150"


# --------------------------------------------------------------------------- bn_analysis's sentences
def _r(**kw):
    base = dict(loss=[2.3] * 10, final_train_loss=2.3, diverged=False, stopped=False, grad_norm_init=[1e-5, 1.0],
                saturation_final=[0.0], drift=0.001, jitter=1e-5, recent_loss=2.3, loss_range=[0.1],
                grad_change_rel=[2.0], taylor_ratio=[1.0])
    return SimpleNamespace(**{**base, **kw})


def _three(plain=None, bn=None, noisy=None):
    bn_ = dict(drift=0.01, jitter=5e-4, recent_loss=0.08, loss_range=[0.5], grad_change_rel=[2.7])
    noisy_ = dict(drift=0.05, jitter=0.016, recent_loss=0.09)
    return {"plain": _r(**(plain or {})), "BN": _r(**{**bn_, **(bn or {})}), "BN + noise": _r(**{**noisy_, **(noisy or {})})}


R = dict(k=10.0, var_k=80.0, max_diff_z_norm=1.5e-5, max_diff_closed_form=1.5e-5, gap_limit=1.51e-5)
BN_OK = _r(final_train_loss=0.05, grad_norm_init=[1.0, 1.1])
SENTENCES = [
    ("forward", [A.undo_verdict(1e-17), A.undo_verdict(0.3)]),
    ("rescaling", [A.rescaling_message(R, 1e-5), A.rescaling_message(dict(R, var_k=1e-4), 1e-5),
                   A.rescaling_message(dict(R, k=1.0, var_k=0.8), 1e-5)]),
    ("backprop", [A.SUM_LOSS_NOTE]),
    ("noise", [A.small_batch_note(2, 0.974, 0.0444, 1.0), A.small_batch_note(3, 0.5, 0.0444, math.sqrt(2))]),
    ("training", [*A.training_sentences({"plain": _r(), "BN": BN_OK}, "sigmoid"),
                  *A.training_sentences({"plain": _r(), "BN": BN_OK}, "tanh"),
                  *A.training_sentences({"plain": _r(final_train_loss=1.5, grad_norm_init=[0.5, 1.0]), "BN": BN_OK},
                                        "tanh"),
                  *A.training_sentences({"plain": _r(diverged=True, final_train_loss=float("nan")), "BN": BN_OK},
                                        "tanh"),
                  *A.training_sentences({"plain": _r(grad_norm_init=[0.0, 1.0]), "BN": BN_OK}, "sigmoid"),
                  *A.training_sentences({"plain": _r(stopped=True), "BN": BN_OK}, "sigmoid")]),
    ("sweeps", [A.trained_values([0.03, 0.1, 0.3], t) for t in
                ([True, True, False], [True, False, True], [False] * 3, [False, True, False])]),
    ("shift", [*A.shift_verdict(_three()), *A.shift_verdict(_three(plain={"drift": 0.2, "recent_loss": 0.5})),
               *A.shift_verdict(_three(plain={"recent_loss": 0.5})), *A.shift_verdict(_three(noisy={"jitter": 5e-4})),
               *A.shift_verdict(_three(noisy={"recent_loss": 1.5}, bn={"loss_range": [0.01], "grad_change_rel": [0.5]})),
               *A.shift_verdict(_three(plain={"jitter": 0.0})), *A.shift_verdict(_three(plain={"recent_loss": 0.09})),
               *A.shift_verdict({"plain": _r()})]),
]


def _kinds(said) -> set[str]:
    kind, fields = said
    return {kind} | {k for v in fields.values() if isinstance(v, tuple) for k in _kinds(v)}


def test_every_sentence_kind_is_said_in_chinese_with_the_same_numbers():
    from widgets.views import i18n

    seen = set()
    for prefix, saids in SENTENCES:
        for s in saids:
            en, zh = say("en", prefix, s), say("zh", prefix, s)
            assert numbers([zh]) == numbers([en]) and (CJK.search(zh) or not re.search("[A-Za-z]", en)), (en, zh)
            assert english_words({"text": [zh]}, TEXT_ALLOWED) == {}, zh
            seen |= {f"{prefix}.{k}" for k in _kinds(s)}
    # every sentence the catalogue holds for bn_analysis's kinds was said at least once above
    kinds = {k for k in i18n.catalogue("en") if re.match(r"(forward\.undo_|rescaling\.(eps_visible|k_is_one|up_to)|"
                                                         r"backprop\.sum_|noise\.m\d_|training\.(loss_|stopped_p|outcome|"
                                                         r"vanish|grad_ratios|unsat)|sweeps\.trained_|shift\.(stopped|"
                                                         r"noise_|noisy_|drift_|smooth|not_smooth))", k)}
    assert kinds == seen, kinds ^ seen


def test_a_diverged_number_is_said_in_the_page_language():
    s = ("grad_ratios", dict(plain_ratio=A.Num(float("nan")), bn_ratio=A.Num(0.5)))
    assert say("en", "training", s).endswith("is diverged without BN and 0.500 with BN.")
    assert "发散" in say("zh", "training", s) and "0.500" in say("zh", "training", s)


# --------------------------------------------------------------------------- the landing page
def test_the_zh_landing_page_links_the_zh_lesson_2():
    cards = "".join(getattr(c, "value", "") for c in index.course_index(lang="zh").children)
    assert "class='lesson-link' href='./02_batch_norm.ipynb'" in cards and "打开第 2 课" in cards
    assert "href='../02_batch_norm.ipynb'" not in cards
