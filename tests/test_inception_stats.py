"""widgets.inception_stats: the measured Table 1 against closed forms written here from the paper's columns,
the explorer's closed forms against torch's FLOP counter on real modules, and Table 3's arithmetic."""
from __future__ import annotations

import random

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from widgets import inception_stats as S
from widgets.googlenet import GoogLeNet, Inception, NaiveInception, count_weights

torch.set_num_threads(2)


@pytest.fixture(scope="module")
def table():
    return S.default_table1()


def closed_form_weights(in_ch, c1, c3r, c3, c5r, c5, pp):
    return in_ch * (c1 + c3r + c5r + pp) + 9 * c3r * c3 + 25 * c5r * c5


def test_rows_equal_product_of_columns(table):
    """Each measured row's weights and multiply-adds against Table 1's columns (closed form, written here)."""
    in_ch = 192
    by_name = {r.name: r for r in table.rows}
    assert by_name["conv1"].weights == 7 * 7 * 3 * 64
    assert by_name["conv1"].macs == 7 * 7 * 3 * 64 * 112 * 112
    assert by_name["conv2+conv3"].weights == 1 * 1 * 64 * 64 + 3 * 3 * 64 * 192
    assert by_name["conv2+conv3"].macs == (64 * 64 + 9 * 64 * 192) * 56 * 56
    assert by_name["fc"].weights == by_name["fc"].macs == 1024 * 1000
    for r in table.rows:
        if r.paper.kind != "inception":
            continue
        w = closed_form_weights(in_ch, *r.paper.columns)
        h = r.paper.output[0]
        assert r.weights == w, r.name
        assert r.macs == w * h * h, r.name
        assert r.input_shape[0] == in_ch
        in_ch = r.paper.columns[0] + r.paper.columns[2] + r.paper.columns[4] + r.paper.columns[5]
    for r in table.rows:
        if r.paper.kind in ("max pool", "avg pool", "dropout", "softmax"):
            assert r.weights == r.macs == 0, r.name


def test_output_sizes_and_depths_match_paper(table):
    comps = S.compare_table1(table)
    assert all(c.output_ok for c in comps), [c.row.name for c in comps if not c.output_ok]
    assert all(c.depth_ok for c in comps)
    assert sum(r.depth for r in table.rows) == 22  # "22 layers deep when counting only layers with parameters"


def test_totals_against_torch_counter_on_the_whole_model(table):
    with torch.device("meta"):
        net = GoogLeNet(aux_logits=False)
    with FlopCounterMode(display=False) as counter:
        net.eval()(torch.empty(1, 3, 224, 224, device="meta"))
    assert table.total_macs == counter.get_total_flops() // 2 == 1_582_671_872
    assert table.total_weights == count_weights(net) == 6_990_272
    t = S.totals(table)
    assert t.paper_ops_sum == 1_502_000_000  # the printed column adds up to the paper's "1.5 billion"
    assert t.alexnet_ratio == pytest.approx(60e6 / 6_990_272)
    assert 8.5 < t.alexnet_ratio < 8.7 and t.weights_for_12x == 5e6


def test_aux_heads_measured(table):
    a1, a2 = table.aux
    assert (a1.attached_to, a2.attached_to) == ("inception4a", "inception4d")
    assert a1.input_shape == (512, 14, 14) and a2.input_shape == (528, 14, 14)
    assert a1.weights == 512 * 128 + 4 * 4 * 128 * 1024 + 1024 * 1000
    assert a1.macs == 512 * 128 * 16 + 2048 * 1024 + 1024 * 1000
    assert a2.macs == 528 * 128 * 16 + 2048 * 1024 + 1024 * 1000


def test_verdicts(table):
    comps = {c.row.name: c for c in S.compare_table1(table)}
    assert comps["conv1"].params_verdict == comps["conv1"].ops_verdict == S.DISAGREE
    assert comps["inception4c"].params_verdict == S.DISAGREE and comps["inception4c"].ops_verdict == S.MATCH
    assert comps["inception5a"].params_verdict == comps["inception5a"].ops_verdict == S.DISAGREE
    for name in ("conv2+conv3", "inception3a", "fc"):
        assert comps[name].params_verdict == comps[name].ops_verdict == S.MATCH, name
    big = {c.row.name for c in S.discrepancies(table, at_least=S.DISAGREE)}
    assert big == {"conv1", "inception4c", "inception5a"}
    assert "2.7K" in comps["conv1"].note and "9,408" in comps["conv1"].note


def test_paper_units_are_k1024_and_m1e6():
    assert S.classify(163_328 / 1024, 159, 0)[0] == S.MATCH      # 159.5 -> "159"
    assert S.classify(163_328 / 1000, 159, 0)[0] == S.SMALL      # with K = 1000 it would not round
    assert S.classify(1.024, 1, 0)[0] == S.MATCH
    assert S.classify(9.1875, 2.7, 1) == (S.DISAGREE, pytest.approx((2.7 - 9.1875) / 9.1875))


def test_paper_table_is_self_consistent():
    for p in S.PAPER_TABLE1:
        if p.kind == "inception":
            c1, _, c3, _, c5, pp = p.columns
            assert p.output[2] == c1 + c3 + c5 + pp, p.label


@pytest.mark.parametrize("seed", range(4))
def test_explorer_closed_forms_against_flop_counter(seed):
    rng = random.Random(seed)
    in_ch, side = rng.randint(1, 300), rng.choice([1, 3, 7, 14, 28])
    c1, c3r, c3, c5r, c5, pp = (rng.randint(1, 200) for _ in range(6))
    with torch.device("meta"):
        red, naive = Inception(in_ch, c1, c3r, c3, c5r, c5, pp), NaiveInception(in_ch, c1, c3, c5)
    for module, costs in ((red, S.reduced_module_costs(in_ch, side, c1, c3r, c3, c5r, c5, pp)),
                          (naive, S.naive_module_costs(in_ch, side, c1, c3, c5))):
        with FlopCounterMode(display=False) as counter:
            out = module(torch.empty(1, in_ch, side, side, device="meta"))
        summary = S.module_summary(costs)
        assert summary["macs"] == counter.get_total_flops() // 2
        assert summary["weights"] == count_weights(module)
        assert summary["out_channels"] == out.shape[1]
        for b, branch in zip(costs, ("branch1x1", "branch3x3", "branch5x5", "branch_pool")):
            assert b.weights == count_weights(getattr(module, branch))


def test_stack_costs_against_real_stacks():
    spec = dict(ch1x1=64, ch3x3red=96, ch3x3=128, ch5x5red=16, ch5x5=32, pool_proj=32)
    st = S.stack_costs(3, 192, 28, **spec)
    with torch.device("meta"):
        naive, red, c = [], [], 192
        for _ in range(3):
            naive.append(NaiveInception(c, 64, 128, 32))
            c = naive[-1].out_channels
        red = [Inception(192 if i == 0 else 256, **spec) for i in range(3)]
    for modules, key in ((naive, "naive"), (red, "reduced")):
        with FlopCounterMode(display=False, depth=None) as counter:
            y = nn.Sequential(*modules)(torch.empty(1, 192, 28, 28, device="meta"))
        per = counter.get_flop_counts()
        assert st[f"{key}_macs"] == [sum(per[f"Sequential.{i}"].values()) // 2 for i in range(3)]
        assert st[f"{key}_out"][-1] == y.shape[1]
    assert st["naive_out"] == [416, 640, 864]   # grows by 64 + 128 + 32 each stage
    assert st["reduced_out"] == [256, 256, 256]


def test_explorer_rejects_bad_sizes():
    with pytest.raises(ValueError):
        S.reduced_module_costs(0, 28, 1, 1, 1, 1, 1, 1)
    with pytest.raises(ValueError):
        S.naive_module_costs(10, 28, 1.5, 1, 1)


def test_explorer_defaults_from_measured_rows(table):
    d = S.explorer_defaults(table, "inception4c")
    assert d == dict(in_channels=512, side=14, ch1x1=128, ch3x3red=128, ch3x3=256, ch5x5red=24, ch5x5=64,
                     pool_proj=64)


def test_branch_shares(table):
    sh = S.branch_shares(table)
    assert sh["module"][0] == "inception3a"
    assert sh["ch_3x3"][0] == 128 / 256 and sh["ch_5x5"][-1] == 128 / 1024
    for i in range(9):
        assert sum(sh[f"ch_{k}"][i] for k in ("1x1", "3x3", "5x5", "pool")) == pytest.approx(1)
        assert sum(sh[f"macs_{k}"][i] for k in ("1x1", "3x3", "5x5", "pool")) == pytest.approx(1)
    # 3a: 3x3 branch = (192*96 + 9*96*128) / 163,328 of the work
    assert sh["macs_3x3"][0] == pytest.approx((192 * 96 + 9 * 96 * 128) / 163_328)
    trend = S.share_trend(sh)
    assert trend["rises_4a_to_4d"] and not trend["monotonic"]
    assert trend["max_module"] == "inception4d" and trend["max"] == pytest.approx((288 + 64) / 528)


def test_test_time_crops_and_table3():
    assert S.test_time_crops() == 144 == len(S.CROP_SCALES) * len(S.CROP_SQUARES) * 6 * S.CROP_MIRRORS
    assert S.test_time_crops(1, 1, 5, 2) == 10
    with pytest.raises(ValueError):
        S.test_time_crops(0)
    costs = S.table3_costs(1.5e9)
    assert [c.forward_passes for c in costs] == [r.cost for r in S.PAPER_TABLE3]
    assert costs[2].macs_per_image == 144 * 1.5e9
    assert costs[2].macs_per_point == pytest.approx(143 * 1.5e9 / (10.07 - 7.89))
    assert [c.delta_ok for c in costs] == [True] * 5 + [False]   # printed -3.45, but 6.67 - 10.07 = -3.40
    assert costs[-1].delta == pytest.approx(-3.40)
    front = S.pareto_lines(costs)
    assert [(c.row.models, c.row.crops) for c in front] == [(1, 1), (7, 1), (7, 10), (7, 144)]


def test_measure_other_models():
    torch.manual_seed(0)
    m = S.measure_table1(GoogLeNet(num_classes=10, width=0.25, aux_logits=False), image_size=96)
    assert m.aux == []
    assert m.rows[-2].output_shape == (10, 1, 1)
    assert m.total_weights == count_weights(GoogLeNet(num_classes=10, width=0.25, aux_logits=False))


def test_measuring_leaves_a_trained_model_alone():
    torch.manual_seed(0)
    net = GoogLeNet(num_classes=10, width=0.125, batch_norm=True, small_input=True).eval()
    before = net.conv1.bn.running_mean.clone()
    m = S.measure_table1(net, image_size=32)
    assert torch.equal(net.conv1.bn.running_mean, before) and not net.training
    assert len(m.aux) == 2 and m.rows[4].output_shape[1:] == (16, 16)
