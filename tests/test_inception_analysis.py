"""widgets.inception_analysis: what lesson 4 says, checked against the measured model (FlopCounterMode),
the paper's columns and Table 3, and closed forms written here."""
from __future__ import annotations

import numpy as np
import pytest

from widgets import inception_analysis as A
from widgets import inception_stats as S
from widgets.googlenet import TABLE1_INCEPTION


@pytest.fixture(scope="module")
def measured():
    return S.default_table1()


# ----------------------------------------------------------------------------- Table 1's verdicts
def test_verdict_counts(measured):
    counts = A.verdict_counts(measured)
    assert counts == {S.MATCH: 3, S.SMALL: 6, S.DISAGREE: 3}
    assert sum(counts.values()) == sum(1 for r in S.PAPER_TABLE1 if r.params_k is not None or r.ops_m is not None)
    worst = {c.row.name: A.row_verdict(c) for c in S.compare_table1(measured)}
    assert [n for n, v in worst.items() if v == S.DISAGREE] == ["conv1", "inception4c", "inception5a"]
    assert [n for n, v in worst.items() if v == S.MATCH] == ["conv2+conv3", "inception3a", "fc"]
    assert worst["maxpool1"] is None and worst["inception4a"] == S.SMALL  # 4a: both numbers a little off


def test_table1_notes_are_kinds_and_numbers(measured):
    """Language-neutral notes: what each clause says and its numbers, checked by hand for conv1, 3b and 4c."""
    notes = {n.comparison.row.name: n for n in A.table1_notes(measured)}
    assert list(notes) == [c.row.name for c in S.discrepancies(measured)]
    conv1 = notes["conv1"]
    w, hw = 7 * 7 * 3 * 64, 112 * 112
    assert conv1.big and [c.kind for c in conv1.clauses] == ["params_off", "ops_off", "printed_agree"]
    params, ops, agree = (c.values for c in conv1.clauses)
    assert params == dict(weights=w, params_k=w / 1024, printed=2.7, rel=pytest.approx(2.7 / (w / 1024) - 1))
    assert ops == dict(weights=w, h=112, w=112, ops_m=w * hw / 1e6, printed=34, rel=pytest.approx(34 / (w * hw / 1e6) - 1))
    assert agree == dict(printed=2.7, positions=hw, implied=pytest.approx(2.7 * 1024 * hw / 1e6))
    for name, big in (("inception3b", False), ("inception4c", True)):  # printed ops right: only the params cell is off
        assert [c.kind for c in notes[name].clauses] == ["params_off", "only_params_off"] and notes[name].big is big
    assert {c.kind for n in notes.values() for c in n.clauses} == {"params_off", "ops_off", "printed_agree",
                                                                    "only_params_off"}
    assert all(n.clauses for n in notes.values()) and A.note_clauses(S.compare_table1(measured)[4]) == []  # 3a agrees


# ----------------------------------------------------------------------------- the module explorer
def test_compare_module_against_closed_form_for_3a():
    hw, cin, (n1, r3, n3, r5, n5, p) = 28 * 28, 192, TABLE1_INCEPTION["inception3a"]
    cmp = A.compare_module(cin, 28, n1, r3, n3, r5, n5, p)
    naive = hw * cin * (n1 + 9 * n3 + 25 * n5)
    reduced = hw * (cin * (n1 + r3 + r5 + p) + 9 * r3 * n3 + 25 * r5 * n5)
    assert cmp.naive_total["macs"] == naive and cmp.reduced_total["macs"] == reduced == 128_049_152
    assert cmp.ratio == pytest.approx(naive / reduced)
    assert cmp.saved_3x3 == hw * (9 * cin * n3 - (cin * r3 + 9 * r3 * n3))
    assert cmp.saved_5x5 == hw * (25 * cin * n5 - (cin * r5 + 25 * r5 * n5))
    assert cmp.naive_total["out_channels"] == n1 + n3 + n5 + cin and cmp.reduced_total["out_channels"] == 256


@pytest.mark.parametrize("name", S.INCEPTION_NAMES)
def test_compare_module_reduced_equals_the_measured_row(measured, name):
    """The explorer's reduced module for a Table 1 row costs what FlopCounterMode measured on the model."""
    row = next(r for r in measured.rows if r.name == name)
    cmp = A.compare_module(**S.explorer_defaults(measured, name))
    assert cmp.reduced_total["macs"] == row.macs and cmp.reduced_total["weights"] == row.weights


def test_a_reduction_wider_than_its_input_costs_more():
    cmp = A.compare_module(in_channels=8, side=10, ch1x1=4, ch3x3red=64, ch3x3=16, ch5x5red=64, ch5x5=16, pool_proj=4)
    assert cmp.saved_3x3 < 0 and cmp.saved_5x5 < 0 and cmp.ratio < 1


def test_stack_running_totals():
    spec = S.explorer_defaults(S.default_table1(), "inception3a")
    st = A.stack(5, **spec)
    raw = S.stack_costs(5, **spec)
    assert st.naive_cumulative == list(np.cumsum(raw["naive_macs"]))
    assert st.reduced_cumulative == list(np.cumsum(raw["reduced_macs"]))
    assert st.ratio == pytest.approx(sum(raw["naive_macs"]) / sum(raw["reduced_macs"]))
    assert A.stack(1, **spec).ratio == pytest.approx(A.compare_module(**spec).ratio)
    # reduced: every stage outputs n1 + n3 + n5 + p, so from stage 2 on each stage costs the same
    per_stage = np.diff([0] + st.reduced_cumulative)
    assert st.reduced_out == [256] * 5 and len(set(per_stage[1:])) == 1 and per_stage[0] != per_stage[1]
    assert all(b > a for a, b in zip(np.diff([0] + st.naive_cumulative), np.diff(st.naive_cumulative)))


# ----------------------------------------------------------------------------- the network
def test_stage_bars_add_up_to_the_measured_row(measured):
    for r in measured.rows:
        bars = A.stage_bars(r)
        assert sum(b.light + b.dark for b in bars) == r.macs, r.name
        assert all(b.light >= 0 and b.dark >= 0 for b in bars)
    for a in measured.aux:
        assert sum(b.dark for b in A.stage_bars(a)) == a.macs and [b.part for b in A.stage_bars(a)] == ["conv", "fc1", "fc2"]


def test_stage_bars_of_an_inception_module(measured):
    r = next(r for r in measured.rows if r.name == "inception4a")
    cin, hw = 480, 14 * 14
    n1, r3, n3, r5, n5, p = TABLE1_INCEPTION["inception4a"]
    bars = {b.part: b for b in A.stage_bars(r)}
    assert bars["branch1x1"] == A.Bar("branch1x1", 0, cin * n1 * hw)
    assert bars["branch3x3"] == A.Bar("branch3x3", cin * r3 * hw, 9 * r3 * n3 * hw)
    assert bars["branch5x5"] == A.Bar("branch5x5", cin * r5 * hw, 25 * r5 * n5 * hw)
    assert bars["branch_pool"] == A.Bar("branch_pool", cin * p * hw, 0)


def test_network_shares_sum_to_one(measured):
    macs, weights = zip(*(A.network_share(measured, r) for r in measured.rows))
    assert sum(macs) == pytest.approx(1) and sum(weights) == pytest.approx(1)


def test_aux_overhead(measured):
    o = A.aux_overhead(measured)
    assert o["weights_with_heads"] == measured.model_weights_with_aux  # count_weights on the whole model
    assert o["weight_factor"] == pytest.approx(measured.model_weights_with_aux / measured.total_weights)
    assert 1.8 < o["weight_factor"] < 2 and o["macs_share"] < 0.01
    # each head: 1x1 conv to 128, FC 2048 -> 1024, FC 1024 -> 1000 (section 5)
    assert o["weights_each"] == [512 * 128 + 2048 * 1024 + 1024 * 1000, 528 * 128 + 2048 * 1024 + 1024 * 1000]


# ----------------------------------------------------------------------------- 3x3 + 5x5 shares
def _channel_share_from_columns():
    out = []
    for name in S.INCEPTION_NAMES:
        n1, _r3, n3, _r5, n5, p = TABLE1_INCEPTION[name]
        out.append((n3 + n5) / (n1 + n3 + n5 + p))
    return out


def test_share_summary_channels(measured):
    s = A.share_summary(S.branch_shares(measured), "ch")
    assert s.share == pytest.approx(_channel_share_from_columns())
    assert s.lowest == ["inception4a", "inception5b"] and s.low == 0.5  # a tie: both are named
    assert s.highest == ["inception4d"] and s.high == pytest.approx(2 / 3)
    assert s.longest_rise == ("inception4a", "inception4d") and not s.monotonic
    assert (s.first, s.last) == (0.625, 0.5)


def test_share_summary_multiply_adds(measured):
    s = A.share_summary(S.branch_shares(measured), "macs")
    assert s.longest_rise == ("inception4a", "inception4d") and not s.monotonic
    assert s.highest == ["inception3a"] and s.lowest == ["inception4a"]
    with pytest.raises(ValueError):
        A.share_summary(S.branch_shares(measured), "weights")


@pytest.mark.parametrize("values, want", [
    ([1, 2, 3], (0, 2)), ([3, 2, 1], (0, 0)), ([1, 2, 1, 2, 3], (2, 4)), ([1, 2, 0, 5], (0, 1)),
    ([1, 1, 1], (0, 0)), ([5], (0, 0)), ([2, 1, 2, 3, 4, 0, 1], (1, 4)),
])
def test_longest_rise(values, want):
    assert A.longest_rise(values) == want


# ----------------------------------------------------------------------------- test-time cost
def test_crop_plan():
    p = A.crop_plan(4, 3, 6, 2, 1, 1.5e9)
    assert (p.crops, p.passes, p.macs) == (144, 144, 144 * 1.5e9)
    assert A.crop_plan(2, 1, 5, 1, 7, 2.0) == A.CropPlan(10, 70, 140.0)
    for bad in (0, 2.5):
        with pytest.raises(ValueError):
            A.crop_plan(4, 3, 6, 2, bad, 1.0)


def test_crop_steps_follow_table3():
    one = A.crop_steps(1)
    assert [(s.crops_from, s.crops_to) for s in one] == [(1, 10), (10, 144)]
    assert [s.cost_factor for s in one] == [10, 14.4]
    assert [s.error_removed for s in one] == [round(10.07 - 9.15, 2), round(9.15 - 7.89, 2)] == [0.92, 1.26]
    seven = A.crop_steps(7)
    assert [s.cost_factor for s in seven] == [10, 14.4] and [s.error_removed for s in seven] == [0.47, 0.95]


def test_error_span_covers_table3():
    lo, hi = A.error_span()
    errs = [r.top5_error for r in S.PAPER_TABLE3]
    assert lo < min(errs) and hi > max(errs) and (lo, hi) == pytest.approx((6.32, 10.42))
