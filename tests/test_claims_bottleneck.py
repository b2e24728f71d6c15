"""Lesson 3's prose, number by number, against what its maths computes at the defaults (issue 11),
and the sentences whose truth is not a single number: the rounding check holds at every width,
the quote is attributed to its source, and no measured time is typed into the prose."""
from __future__ import annotations

import re

import pytest

from claims import Claim, check, markdown
from widgets import bottleneck as B
from widgets import bottleneck_tradeoff as T
from widgets import conv1x1 as C
from widgets.googlenet import TABLE1_INCEPTION
from widgets.views.bottleneck import CostCalculator, ManyChannels, SingleChannel, Tradeoff

NB = "03_bottleneck.ipynb"
NOTES = B.ConvShape.notes()
D, BOT = B.direct_cost(NOTES), B.bottleneck_cost(NOTES)
SETUP = T.TradeoffSetup()                     # the trade-off's defaults (6 underlying signals)

# Section 4 of the paper, verbatim (Szegedy et al., "Going deeper with convolutions", 2015).
PAPER_SECTION4 = (
    "judiciously applying dimension reductions and projections wherever the computational requirements "
    "would increase too much otherwise",
    "even low dimensional embeddings might contain a lot of information about a relatively large image patch",
    "embeddings represent information in a dense, compressed form and compressed information is harder to model",
)

CLAIMS = [
    # a. the weight the single-channel section opens with; the many-channel rounding limit (item 13)
    Claim(NB, r"a 6×6 image times ([0-9]+)", lambda: SingleChannel().controls["weight"].default),
    Claim(NB, r"The row shows that limit too, about ([0-9.e-]+) here",
          lambda: C.rounding_bound(C.demo_volume(), C.demo_filters()[:ManyChannels().controls["n_filters"].default]),
          rel=0.2),
    Claim(NB, r"nn\.Conv2d\(([0-9]+), n, 1\)", lambda: ManyChannels.C),
    # b. the notes' example: sizes, multiplications, weights, ratio
    Claim(NB, r"a ([0-9]+)×28×192 input", lambda: NOTES.height),
    Claim(NB, r"a 28×28×([0-9]+) input", lambda: NOTES.ch_in),
    Claim(NB, r"a ([0-9]+)×[0-9]+ convolution with 32 filters", lambda: NOTES.k),
    Claim(NB, r"convolution with ([0-9]+) filters", lambda: NOTES.ch_out),
    Claim(NB, r"with a ([0-9]+)-channel bottleneck", lambda: NOTES.ch_red),
    Claim(NB, r"28·28·32·5·5·192 = \*\*([0-9,]+)\*\*", lambda: D.macs),
    Claim(NB, r"5·5·192·32 = ([0-9,]+) weights", lambda: D.weights),
    Claim(NB, r"= ([0-9,]+) \+ [0-9,]+ = \*\*", lambda: BOT.layers[0][1]),
    Claim(NB, r"= [0-9,]+ \+ ([0-9,]+) = \*\*", lambda: BOT.layers[1][1]),
    Claim(NB, r"= [0-9,]+ \+ [0-9,]+ = \*\*([0-9,]+)\*\* multiplications", lambda: BOT.macs),
    Claim(NB, r"([0-9,]+) \+ [0-9,]+ = [0-9,]+ weights", lambda: BOT.layers[0][2]),
    Claim(NB, r"[0-9,]+ \+ ([0-9,]+) = [0-9,]+ weights", lambda: BOT.layers[1][2]),
    Claim(NB, r"[0-9,]+ \+ [0-9,]+ = ([0-9,]+) weights", lambda: BOT.weights),
    Claim(NB, r"about \*\*([0-9.]+) times\*\* fewer", lambda: B.cost_ratio(NOTES), tol=0.05),
    Claim(NB, r"from 120,422,400 to 12,443,648, about ([0-9.]+)×", lambda: B.cost_ratio(NOTES), tol=0.05),
    Claim(NB, r"from ([0-9,]+) to 12,443,648", lambda: D.macs),
    Claim(NB, r"from 120,422,400 to ([0-9,]+)", lambda: BOT.macs),
    Claim(NB, r"not the ([0-9]+)× that the note", lambda: B.notes_slip()["claimed_ratio"], tol=0.5),
    Claim(NB, r"about ([0-9]+)× less arithmetic", lambda: B.cost_ratio(NOTES), tol=0.5),
    # c. the counter and the clock
    Claim(NB, r"exactly twice ours: ([0-9,]+) FLOPs", lambda: B.flop_check(NOTES).direct_flops),
    Claim(NB, r"each path runs ([0-9]+) times", lambda: CostCalculator.REPEATS),
    # d. the catch, at its defaults
    Claim(NB, r"inputs whose ([0-9]+) channels", lambda: SETUP.ch_in),
    Claim(NB, r"a fixed ([0-9])×3 convolution", lambda: SETUP.k),
    Claim(NB, r"3×3 convolution 32 → ([0-9]+)", lambda: SETUP.ch_out),
    Claim(NB, r"with Adam for ([0-9]+) steps", lambda: T.TRAIN_STEPS),
    Claim(NB, r"At the default of ([0-9]+) signals", lambda: Tradeoff().controls["latent"].default),
    Claim(NB, r"ch_red = 4 loses ([0-9.]+) %", lambda: 100 * T.best_relative_error(SETUP, 4), tol=0.05),
    Claim(NB, r"ch_red = 6 only ([0-9.]+) %", lambda: 100 * T.best_relative_error(SETUP, 6), tol=0.005),
    Claim(NB, r"break-even width, about ([0-9]+) channels", lambda: T.breakeven_width(SETUP), tol=0.5),
]


@pytest.mark.parametrize("claim", CLAIMS, ids=str)
def test_claim(claim):
    check(claim)


def test_the_notes_example_is_inception_3a_5x5_branch():
    """'In the notes' example, which is the 5×5 branch of GoogLeNet's inception (3a)'."""
    assert "5×5 branch of GoogLeNet's inception (3a)" in markdown(NB)
    _c1, _c3r, _c3, c5r, c5, _pp = TABLE1_INCEPTION["inception3a"]
    assert (NOTES.k, NOTES.ch_red, NOTES.ch_out, NOTES.ch_in, NOTES.height) == (5, c5r, c5, 192, 28)


def test_they_agree_to_rounding_at_every_width():
    """Issue 11 item 13: 'They agree to rounding … never by more than float64's rounding allows'."""
    vol, filt = C.demo_volume(), C.demo_filters()
    for n, diff in enumerate(C.conv1x1_vs_linear_by_width(vol, filt), start=1):
        assert diff <= C.rounding_bound(vol, filt[:n])
    assert "about 1e-15" not in markdown(NB)


def test_the_quote_is_the_notes_and_the_paper_is_quoted_verbatim():
    """Issue 11 item 14: 'just as long as the bottleneck is built reasonably' is not in the paper."""
    text = markdown(NB)
    assert "just as long as the bottleneck is built reasonably" not in text
    assert "GoogLeNet's authors say" not in text
    assert re.search(r"The handwritten notes say [^.]*built reasonably \(只要合理构建瓶颈层…\)", text)
    assert "section 4" in text
    for quote in PAPER_SECTION4:
        assert f"\u201c{quote}\u201d" in text or f'"{quote}"' in text, quote


def test_knee_sentence_holds_at_the_default():
    """'while ch_red is at least the input's true dimension, almost nothing is lost (only the noise); below it,
    the error climbs', at the default: every width >= 6 loses under 1 %, every narrower one over 10 %."""
    for r in T.tradeoff_ch_reds(SETUP.ch_in):
        err = T.best_relative_error(SETUP, r)
        assert (err < 0.01) if r >= SETUP.latent else (err > 0.10), r


def test_a_width_past_break_even_costs_more_than_the_direct_layer():
    be = T.breakeven_width(SETUP)
    assert T.tradeoff_cost_share(SETUP, 32) > 1 and 24 < be < 32


def test_no_measured_time_is_typed_into_the_prose():
    """Issue 11's guard: timings are quoted from benchmarks/results by a builder, never typed."""
    text = markdown(NB)
    units = r"(ms|milliseconds?|s|sec|seconds?|minutes?|min)\b"
    assert not re.findall(rf"\d[\d.,]*\s*{units}", text)
    for vague in ("a fraction of a second", "several seconds", "a few seconds", "half a minute"):
        assert vague not in text


# --------------------------------------------------------------------------- the Chinese edition (issue 15)
ZH = "zh/03_bottleneck.ipynb"

ZH_CLAIMS = [
    Claim(ZH, r"一幅 6×6 的图像乘以 ([0-9]+)", lambda: SingleChannel().controls["weight"].default),
    Claim(ZH, r"这一行也给出了这个上限，此处约为 ([0-9.e-]+)",
          lambda: C.rounding_bound(C.demo_volume(), C.demo_filters()[:ManyChannels().controls["n_filters"].default]),
          rel=0.2),
    Claim(ZH, r"nn\.Conv2d\(([0-9]+), n, 1\)", lambda: ManyChannels.C),
    Claim(ZH, r"([0-9]+)×28×192 的输入", lambda: NOTES.height),
    Claim(ZH, r"28×28×([0-9]+) 的输入", lambda: NOTES.ch_in),
    Claim(ZH, r"([0-9]+)×[0-9]+ 卷积，32 个卷积核", lambda: NOTES.k),
    Claim(ZH, r"卷积，([0-9]+) 个卷积核", lambda: NOTES.ch_out),
    Claim(ZH, r"加一个 ([0-9]+) 通道的瓶颈层", lambda: NOTES.ch_red),
    Claim(ZH, r"28·28·32·5·5·192 = \*\*([0-9,]+)\*\*", lambda: D.macs),
    Claim(ZH, r"5·5·192·32 = ([0-9,]+) 个权重", lambda: D.weights),
    Claim(ZH, r"= ([0-9,]+) \+ [0-9,]+ = \*\*", lambda: BOT.layers[0][1]),
    Claim(ZH, r"= [0-9,]+ \+ ([0-9,]+) = \*\*", lambda: BOT.layers[1][1]),
    Claim(ZH, r"= [0-9,]+ \+ [0-9,]+ = \*\*([0-9,]+)\*\* 次乘法", lambda: BOT.macs),
    Claim(ZH, r"([0-9,]+) \+ [0-9,]+ = [0-9,]+ 个权重", lambda: BOT.layers[0][2]),
    Claim(ZH, r"[0-9,]+ \+ ([0-9,]+) = [0-9,]+ 个权重", lambda: BOT.layers[1][2]),
    Claim(ZH, r"[0-9,]+ \+ [0-9,]+ = ([0-9,]+) 个权重", lambda: BOT.weights),
    Claim(ZH, r"乘法次数约是瓶颈路径的 \*\*([0-9.]+) 倍\*\*", lambda: B.cost_ratio(NOTES), tol=0.05),
    Claim(ZH, r"从 120,422,400 降到 12,443,648，约为 ([0-9.]+)×", lambda: B.cost_ratio(NOTES), tol=0.05),
    Claim(ZH, r"从 ([0-9,]+) 降到 12,443,648", lambda: D.macs),
    Claim(ZH, r"从 120,422,400 降到 ([0-9,]+)", lambda: BOT.macs),
    Claim(ZH, r"所暗示的 ([0-9]+)×", lambda: B.notes_slip()["claimed_ratio"], tol=0.5),
    Claim(ZH, r"算术量约是瓶颈路径的 ([0-9]+) 倍", lambda: B.cost_ratio(NOTES), tol=0.5),
    Claim(ZH, r"恰好是我们的两倍：默认尺寸下直接路径为 ([0-9,]+) FLOPs", lambda: B.flop_check(NOTES).direct_flops),
    Claim(ZH, r"运行 ([0-9]+) 次，报告中位数", lambda: CostCalculator.REPEATS),
    Claim(ZH, r"输入有 ([0-9]+) 个通道", lambda: SETUP.ch_in),
    Claim(ZH, r"固定的 ([0-9])×3 卷积", lambda: SETUP.k),
    Claim(ZH, r"3×3 卷积 32 → ([0-9]+)", lambda: SETUP.ch_out),
    Claim(ZH, r"用 Adam 把每个宽度训练 ([0-9]+) 步", lambda: T.TRAIN_STEPS),
    Claim(ZH, r"默认有 ([0-9]+) 个信号时", lambda: Tradeoff().controls["latent"].default),
    Claim(ZH, r"ch_red = 4 最好也要丢失 ([0-9.]+) %", lambda: 100 * T.best_relative_error(SETUP, 4), tol=0.05),
    Claim(ZH, r"ch_red = 6 只丢失 ([0-9.]+) %", lambda: 100 * T.best_relative_error(SETUP, 6), tol=0.005),
    Claim(ZH, r"盈亏平衡宽度（这里约为 ([0-9]+) 个通道）", lambda: T.breakeven_width(SETUP), tol=0.5),
]


@pytest.mark.parametrize("claim", ZH_CLAIMS, ids=str)
def test_zh_claim(claim):
    check(claim)


def test_the_zh_tables_cover_the_english_one():
    """Every number the English prose claims is claimed in the Chinese prose too (the tables move together)."""
    assert len(ZH_CLAIMS) == len(CLAIMS)


def test_zh_quotes_the_notes_in_their_own_words_and_the_paper_verbatim():
    """The English lesson's correction (issue 11 item 14), kept in Chinese: 'built reasonably' is the notes',
    quoted in the notes' Chinese; the paper, which says something more guarded, is quoted verbatim."""
    text = markdown(ZH)
    assert re.search(r"手写笔记写道：“只要合理构建瓶颈层…”", text)
    assert "GoogLeNet 的作者" not in text and "论文说，只要" not in text
    assert "第 4 节" in text
    for quote in PAPER_SECTION4:
        assert f"\u201c{quote}\u201d" in text, quote
    assert "inception (3a)" in text and "5×5 分支" in text


def test_no_measured_time_is_typed_into_the_zh_prose():
    text = markdown(ZH)
    units = r"(ms|毫秒|秒|分钟|s\b)"
    assert not re.findall(rf"\d[\d.,]*\s*{units}", text)
    for vague in ("几分之一秒", "几秒", "半分钟"):
        assert vague not in text
