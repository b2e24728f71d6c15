"""Lesson 4's prose, number by number, against what its maths computes at the defaults (issue 11's guard).

Every number the markdown of notebooks/04_inception.ipynb states is in the table below with the function
that computes it: Table 1 measured on the model (widgets.inception_stats), what the page says about it
(widgets.inception_analysis), the model's own modules (widgets.googlenet) and the paper's Tables 1 and 3 as
transcribed. Lesson 4's prose quotes no timing or accuracy measured by this project; Table 3's errors are the
paper's, shown by the builder from PAPER_TABLE3, not typed into the prose.
"""
from __future__ import annotations

import functools
import inspect
import json
import re

import pytest
import torch

from claims import NOTEBOOKS, Claim, check, markdown
from widgets import inception_analysis as A
from widgets import inception_stats as S
from widgets.googlenet import AUX_LOSS_WEIGHT, TABLE1_INCEPTION, GoogLeNet

NB = "04_inception.ipynb"


def M() -> S.Table1Measurement:
    return S.default_table1()


def T() -> S.Totals:
    return S.totals(M())


def row(name: str) -> S.MeasuredRow:
    return next(r for r in M().rows if r.name == name)


def paper(name: str) -> S.PaperRow:
    return row(name).paper


@functools.lru_cache(maxsize=1)
def model() -> GoogLeNet:
    torch.manual_seed(0)
    return GoogLeNet()


@functools.lru_cache(maxsize=1)
def small_input() -> S.Table1Measurement:
    torch.manual_seed(0)
    return S.measure_table1(GoogLeNet(num_classes=10, small_input=True), image_size=32)


def conv1_positions() -> int:
    _c, h, w = row("conv1").output_shape
    return h * w


def channel_shares() -> A.ShareSummary:
    return A.share_summary(S.branch_shares(M()), "ch")


def aux_pool_side() -> int:
    side = M().aux[0].input_shape[1]
    return model().aux1.pool(torch.zeros(1, 1, side, side)).shape[-1]


CLAIMS = [
    # opening
    Claim(NB, r"a network (\d+) layers deep", lambda: sum(r.depth for r in M().rows)),
    Claim(NB, r"by the paper's count, about ([0-9.]+) billion", lambda: T().paper_ops_sum / 1e9, tol=0.05),
    Claim(NB, r"Inception\((\d+), 64, 96, 128, 16, 32, 32\)", lambda: row("inception3a").input_shape[0]),
    # a. Table 1
    Claim(NB, r"Its \*\*K is (\d+)\*\*", lambda: S.PAPER_K),
    Claim(NB, r"inception 3a has ([0-9,]+) weights", lambda: row("inception3a").weights),
    Claim(NB, r"which is\s+([0-9.]+) × 1024", lambda: row("inception3a").weights / S.PAPER_K, tol=0.05),
    Claim(NB, r'× 1024, printed "([0-9]+)K"', lambda: paper("inception3a").params_k),
    Claim(NB, r"Of the (\d+) rows with printed numbers", lambda: sum(A.verdict_counts(M()).values())),
    Claim(NB, r"printed numbers, (\d+) match the model", lambda: A.verdict_counts(M())[S.MATCH]),
    Claim(NB, r"(\d+) more are within 3%", lambda: A.verdict_counts(M())[S.SMALL]),
    Claim(NB, r"and (\d+) are off by more", lambda: A.verdict_counts(M())[S.DISAGREE]),
    Claim(NB, r"7·7·3·64 = ([0-9,]+) weights", lambda: row("conv1").weights),
    Claim(NB, r"weights, ([0-9.]+) times the\s+printed 2\.7K",
          lambda: row("conv1").weights / (paper("conv1").params_k * S.PAPER_K), tol=0.05),
    Claim(NB, r"printed ([0-9.]+)K \(2\.7 × 1024", lambda: paper("conv1").params_k),
    Claim(NB, r"2\.7 × 1024 = ([0-9,]+)\)", lambda: paper("conv1").params_k * S.PAPER_K, tol=0.5),
    Claim(NB, r"the printed (\d+)M operations", lambda: paper("conv1").ops_m),
    Claim(NB, r"\(([0-9.]+) M with K = 1000", lambda: paper("conv1").params_k * 1000 * conv1_positions() / 1e6, tol=0.05),
    Claim(NB, r"([0-9.]+) M with K = 1024\)", lambda: paper("conv1").params_k * 1024 * conv1_positions() / 1e6, tol=0.05),
    Claim(NB, r"about ([0-9.]+) M weights and", lambda: T().weights / 1e6, tol=0.05),
    Claim(NB, r"M weights and ([0-9.]+) G multiply-adds", lambda: T().macs / 1e9, tol=0.005),
    Claim(NB, r"ops column summed: ([0-9,]+) M", lambda: T().paper_ops_sum / 1e6),
    Claim(NB, r'"(\d+) times fewer parameters', lambda: S.PAPER_FEWER_THAN_ALEXNET),
    Claim(NB, r"AlexNet's (\d+) M", lambda: S.ALEXNET_PARAMS / 1e6),
    Claim(NB, r"the model's ([0-9.]+) M weights", lambda: T().weights / 1e6, tol=0.005),
    Claim(NB, r"M weights is ([0-9.]+), as", lambda: T().alexnet_ratio, tol=0.05),
    # b. explorer
    Claim(NB, r"inception 3a takes (\d+) channels", lambda: S.explorer_defaults(M(), "inception3a")["in_channels"]),
    Claim(NB, r"channels and gives (\d+)\)",
          lambda: A.compare_module(**S.explorer_defaults(M(), "inception3a")).reduced_total["out_channels"]),
    # c. network
    Claim(NB, r"stride 3 \((\d+)×\d+ →", lambda: M().aux[0].input_shape[1]),
    Claim(NB, r"→ (\d+)×\d+\), a 1×1", aux_pool_side),
    Claim(NB, r"convolution with (\d+) filters", lambda: model().aux1.conv[0].out_channels),
    Claim(NB, r"layer of (\d+) units", lambda: model().aux1.fc1.out_features),
    Claim(NB, r"(\d+)% dropout", lambda: model().aux1.dropout.p * 100),
    Claim(NB, r"with weight ([0-9.]+),", lambda: AUX_LOSS_WEIGHT),
    Claim(NB, r"L_\\text\{main\} \+ ([0-9.]+)\\,", lambda: AUX_LOSS_WEIGHT),
    Claim(NB, r"Each holds about ([0-9.]+) M weights", lambda: M().aux[0].weights / 1e6, tol=0.05),
    Claim(NB, r"Each holds about ([0-9.]+) M weights", lambda: M().aux[1].weights / 1e6, tol=0.05),
    Claim(NB, r"mostly its (\d+) → \d+ fully", lambda: model().aux1.fc1.in_features),
    Claim(NB, r"mostly its \d+ → (\d+) fully", lambda: model().aux1.fc1.out_features),
    Claim(NB, r"\(([0-9.]+) M with them", lambda: A.aux_overhead(M())["weights_with_heads"] / 1e6, tol=0.05),
    Claim(NB, r"M with them, ([0-9.]+) M without", lambda: T().weights / 1e6, tol=0.05),
    Claim(NB, r"only ([0-9.]+)% to its multiply-adds", lambda: A.aux_overhead(M())["macs_share"] * 100, tol=0.05),
    # c. shares
    Claim(NB, r"([0-9.]+)% of inception 3a's output", lambda: channel_shares().first * 100, tol=0.05),
    Claim(NB, r"and ([0-9.]+)% of 5b's", lambda: channel_shares().last * 100, tol=0.5),
    # d. test-time cost
    Claim(NB, r"\*\*(\d+) scales\*\*", lambda: len(S.CROP_SCALES)),
    Claim(NB, r"\*\*(\d+) squares\*\*", lambda: len(S.CROP_SQUARES)),
    Claim(NB, r"\*\*(\d+) crops\*\*", lambda: S.test_time_crops() // (len(S.CROP_SCALES) * len(S.CROP_SQUARES) * S.CROP_MIRRORS)),
    Claim(NB, r"= (\d+) \\text\{ crops per image\}", lambda: S.test_time_crops()),
    Claim(NB, r"averaged \*\*(\d+) models\*\*", lambda: max(r.models for r in S.PAPER_TABLE3)),
    Claim(NB, r"1 → 10 crops is (\d+)× the", lambda: A.crop_steps(1)[0].cost_factor),
    Claim(NB, r"10 → 144 another ([0-9.]+)×", lambda: A.crop_steps(1)[1].cost_factor),
    # the model in code
    Claim(NB, r"applies the ([0-9.]+) weighting", lambda: AUX_LOSS_WEIGHT),
    Claim(NB, r"divides 224 by (\d+) before", lambda: 224 // row("inception3a").input_shape[1]),
    Claim(NB, r"with one that divides by (\d+)", lambda: 32 // small_input().rows[4].input_shape[1]),
    Claim(NB, r"reach 3a at (\d+)×", lambda: next(r for r in small_input().rows if r.name == "inception3a").input_shape[1]),
]


@pytest.mark.parametrize("claim", CLAIMS, ids=str)
def test_claim(claim):
    check(claim)


def test_the_code_line_is_table1s_row_3a():
    m = re.search(r"Inception\(([0-9, ]+)\)", markdown(NB))
    assert tuple(int(v) for v in m.group(1).split(",")) == (row("inception3a").input_shape[0],
                                                              *TABLE1_INCEPTION["inception3a"])


def test_the_large_disagreements_are_conv1_4c_and_5a():
    """'Inception 4c and 5a are the other large ones.'"""
    assert "Inception 4c\nand 5a are the other large ones" in markdown(NB)
    assert [c.row.name for c in S.discrepancies(M(), at_least=S.DISAGREE)] == ["conv1", "inception4c", "inception5a"]


def test_the_share_rises_from_4a_to_4d_but_not_across_the_network():
    assert "rises at every module from 4a to 4d, but not across the network" in markdown(NB)
    assert "the nine modules of Table 1" in markdown(NB) and len(S.INCEPTION_NAMES) == 9
    for what in ("ch", "macs"):
        s = A.share_summary(S.branch_shares(M()), what)
        assert s.longest_rise == ("inception4a", "inception4d") and not s.monotonic, what


def test_the_crop_scales():
    m = re.search(r"shorter side (\d+), (\d+), (\d+) and (\d+)\)", markdown(NB))
    assert tuple(int(v) for v in m.groups()) == S.CROP_SCALES


def test_the_signature_shown_is_the_models():
    m = re.search(r"`GoogLeNet\(([^`]*)\)`", markdown(NB))
    shown = dict(p.split("=") for p in m.group(1).split(", "))
    real = {n: repr(p.default) for n, p in inspect.signature(GoogLeNet).parameters.items()}
    assert shown == real


def test_initialisation_is_he_for_convolutions_and_n001_for_linear_layers():
    """'we use He initialisation for the convolutions and N(0, 0.01) for the linear layers'."""
    assert "He initialisation\n  for the convolutions and N(0, 0.01) for the linear layers" in markdown(NB)
    conv = model().conv1.conv.weight
    fan_in = conv[0].numel()
    assert conv.std().item() == pytest.approx((2 / fan_in) ** 0.5, rel=0.05)
    assert model().fc.weight.std().item() == pytest.approx(0.01, rel=0.02)


def test_no_measured_timing_or_accuracy_is_typed_in_the_prose():
    """Issue 11's guard: lesson 4 quotes no figure measured by a run (times, accuracies, load, throughput)."""
    text = markdown(NB)
    for pattern in (r"\d+(\.\d+)?\s*(ms|s|seconds?|minutes?|min)\b", r"accuracy (of|reached) \d",
                    r"\d+(\.\d+)?\s*% (top-[15] )?(accuracy|correct)", r"(images?|samples?)/s\b",
                    r"\bload (average|of \d)"):
        assert not re.search(pattern, text), pattern
    nb = json.loads((NOTEBOOKS / NB).read_text())
    assert all(c["outputs"] == [] for c in nb["cells"] if c["cell_type"] == "code")
