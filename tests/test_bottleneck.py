"""Lesson 3 maths (widgets.bottleneck, widgets.conv1x1, widgets.bottleneck_tradeoff) against independent
references: hand counts, a naive convolution loop,
PyTorch's FlopCounterMode, torch's own Conv2d/Linear, and the Eckart–Young closed form
checked on sampled data."""
from __future__ import annotations

import itertools
import random
import statistics

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from widgets import bottleneck as B
from widgets import bottleneck_tradeoff as T
from widgets import conv1x1 as C

torch.set_num_threads(1)


# --------------------------------------------------------------------------- the notes' example
def test_notes_example_exact_numbers():
    s = B.ConvShape.notes()
    assert (s.height, s.width, s.ch_in, s.k, s.ch_out, s.ch_red) == (28, 28, 192, 5, 32, 16)
    d, b = B.direct_cost(s), B.bottleneck_cost(s)
    assert d.macs == 28 * 28 * 32 * 5 * 5 * 192 == 120_422_400
    assert [m for _, m, _, _ in b.layers] == [2_408_448, 10_035_200]
    assert b.macs == 12_443_648
    assert d.weights == 5 * 5 * 192 * 32 == 153_600 and d.weights_with_bias == 153_632
    assert [w for _, _, w, _ in b.layers] == [3_072, 12_800]
    assert b.weights == 15_872 and b.weights_with_bias == 15_872 + 16 + 32
    assert B.cost_ratio(s) == pytest.approx(120_422_400 / 12_443_648)
    assert round(B.cost_ratio(s), 1) == 9.7


def test_formulas_show_the_numbers_with_separators():
    s = B.ConvShape.notes()
    assert B.formula_direct(s) == "28·28·32·5·5·192 = 120,422,400"
    assert B.formula_bottleneck(s) == "28·28·16·192 + 28·28·32·5·5·16 = 2,408,448 + 10,035,200 = 12,443,648"


def test_notes_slip_is_a_factor_of_ten():
    n = B.notes_slip()
    assert n["actual"] == 120_422_400 and n["bottleneck"] == 12_443_648
    assert n["factor"] == pytest.approx(1.2e9 / 120_422_400)
    assert 9.9 < n["factor"] < 10.0
    assert n["true_ratio"] == pytest.approx(9.677, abs=1e-3)
    assert 95 < n["claimed_ratio"] < 97


# --------------------------------------------------------------------------- against a naive loop
def naive_conv_count(h, w, c_in, c_out, k):
    """Count multiply-adds by running a literal 'same' convolution loop (zeros of the padding included)."""
    pad = k // 2
    n = 0
    for _o, _i, _j in itertools.product(range(c_out), range(h), range(w)):
        for _c, di, dj in itertools.product(range(c_in), range(k), range(k)):
            _ = (_i + di - pad, _j + dj - pad)  # the input pixel (or padding) this term multiplies
            n += 1
    return n


@pytest.mark.parametrize("h,w,c_in,c_out,k", [(1, 1, 1, 1, 1), (3, 2, 2, 3, 3), (4, 5, 3, 2, 5), (2, 2, 5, 1, 1)])
def test_conv_macs_match_a_naive_loop(h, w, c_in, c_out, k):
    assert B.conv_macs(h, w, c_in, c_out, k) == naive_conv_count(h, w, c_in, c_out, k)


def test_weights_match_pytorch_parameter_counts():
    for c_in, c_out, k in [(192, 32, 5), (192, 16, 1), (16, 32, 5), (3, 7, 3)]:
        conv = nn.Conv2d(c_in, c_out, k, bias=False)
        assert B.conv_weights(c_in, c_out, k) == sum(p.numel() for p in conv.parameters())
        conv_b = nn.Conv2d(c_in, c_out, k, bias=True)
        assert B.conv_weights(c_in, c_out, k, bias=True) == sum(p.numel() for p in conv_b.parameters())


def test_path_weights_match_the_real_modules():
    s = B.ConvShape(7, 9, 12, 3, 10, 4)
    for bias in (False, True):
        direct, bott = B.make_paths(s, bias=bias)
        count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
        d, b = B.direct_cost(s), B.bottleneck_cost(s)
        assert count(direct) == (d.weights_with_bias if bias else d.weights)
        assert count(bott) == (b.weights_with_bias if bias else b.weights)


# --------------------------------------------------------------------------- against FlopCounterMode
def test_counts_match_flopcountermode_over_random_shapes():
    rng = random.Random(0)
    for _ in range(60):
        s = B.ConvShape(rng.randint(1, 64), rng.randint(1, 64), rng.randint(1, 512), rng.choice([1, 3, 5, 7]),
                        rng.randint(1, 512), rng.randint(1, 256))
        direct, bott = B.make_paths(s, device="meta")
        x = torch.empty(1, s.ch_in, s.height, s.width, device="meta")
        with FlopCounterMode(display=False) as fc:
            direct(x)
        assert fc.get_total_flops() == 2 * B.direct_cost(s).macs, s
        with FlopCounterMode(display=False) as fc:
            bott(x)
        assert fc.get_total_flops() == 2 * B.bottleneck_cost(s).macs, s
        check = B.flop_check(s)
        assert (check.direct_macs, check.bottleneck_macs) == (B.direct_cost(s).macs, B.bottleneck_cost(s).macs)


def test_flop_check_on_real_cpu_tensors_agrees_with_meta():
    s = B.ConvShape(12, 10, 24, 3, 16, 8)
    cpu, meta = B.flop_check(s, device="cpu"), B.flop_check(s, device="meta")
    assert cpu == meta
    assert cpu.direct_flops == 2 * B.direct_cost(s).macs
    assert (cpu.reduce_flops, cpu.conv_flops) == tuple(2 * m for _, m, _, _ in B.bottleneck_cost(s).layers)


def test_notes_example_under_flopcountermode():
    check = B.flop_check(B.ConvShape.notes())
    assert check.direct_flops == 240_844_800
    assert check.direct_macs == 120_422_400 and check.bottleneck_macs == 12_443_648


def test_huge_sizes_count_on_meta_but_refuse_to_run():
    s = B.ConvShape(100_000, 100_000, 1_000_000, 31, 1_000_000, 1_000_000)
    assert B.direct_cost(s).macs == 100_000**2 * 1_000_000 * 31**2 * 1_000_000  # exact integer arithmetic
    assert B.flop_check(s).direct_macs == B.direct_cost(s).macs
    with pytest.raises(ValueError, match="MiB"):
        B.check_runnable(s)
    with pytest.raises(ValueError, match="MiB"):
        B.flop_check(s, device="cpu")
    with pytest.raises(ValueError, match="MiB"):
        B.time_paths(s, repeats=1)


def test_runnable_guard_limits():
    assert B.allocation_bytes(B.ConvShape.notes()) < B.MAX_BYTES
    B.check_runnable(B.ConvShape.notes())
    # within memory but too many multiplications to time
    s = B.ConvShape(512, 512, 64, 9, 128, 16)
    with pytest.raises(ValueError, match="multiplications"):
        B.check_runnable(s, max_bytes=10**12)


def test_refusals_carry_their_kind_and_numbers():
    """The page words a refusal in its own language from these (issue 15); str() stays English for scripts."""
    s = B.ConvShape(5000, 5000, 256, 3, 64, 32)
    with pytest.raises(B.TooBigToRun) as refused:
        B.check_runnable(s)
    assert (refused.value.kind, refused.value.need, refused.value.limit) == ("memory", B.allocation_bytes(s), B.MAX_BYTES)
    s = B.ConvShape(512, 512, 64, 9, 128, 16)
    with pytest.raises(B.TooBigToRun) as refused:
        B.check_runnable(s, max_bytes=10**12)
    assert (refused.value.kind, refused.value.need, refused.value.limit) == ("work", B.direct_cost(s).macs,
                                                                               B.MAX_TIMED_MACS)
    assert "173,946,175,488 multiplications" in str(refused.value)


def test_device_info_and_the_benchmarks_english_name():
    d = B.device_info("cpu")
    assert d.kind == "cpu" and d.name and d.threads == torch.get_num_threads()
    assert B.device_name("cpu") == f"CPU ({d.name}), {d.threads} torch thread(s)"


@pytest.mark.parametrize("bad", [dict(height=0), dict(width=-3), dict(ch_in=2.5), dict(k=4), dict(ch_red="16"),
                                 dict(ch_out=True), dict(k=0)])
def test_shape_refuses_bad_sizes(bad):
    with pytest.raises(ValueError):
        B.ConvShape(**{**B.NOTES_SHAPE, **bad})


def test_breakeven_width():
    s = B.ConvShape.notes()
    be = B.breakeven_ch_red(s)
    assert be == pytest.approx(192 * 32 * 25 / (192 + 32 * 25))
    below = B.ConvShape(**{**B.NOTES_SHAPE, "ch_red": int(be)})
    above = B.ConvShape(**{**B.NOTES_SHAPE, "ch_red": int(be) + 1})
    assert B.cost_ratio(below) > 1 > B.cost_ratio(above)


# --------------------------------------------------------------------------- timing
def test_time_callable_returns_every_measurement_and_the_median():
    ticks = iter([0.0, 1.0, 1.0, 4.0, 4.0, 6.0, 6.0, 6.5, 6.5, 10.0])  # durations 1, 3, 2, 0.5, 3.5
    calls = []
    t = B.time_callable(lambda: calls.append(1), repeats=5, warmup=2, clock=lambda: next(ticks))
    assert len(calls) == 7
    assert t.times == [1.0, 3.0, 2.0, 0.5, 3.5]
    assert t.median == statistics.median(t.times) == 2.0
    assert t.spread == (0.5, 3.5)
    with pytest.raises(ValueError):
        B.time_callable(lambda: None, repeats=0)


def test_time_paths_small_shape():
    s = B.ConvShape(8, 8, 16, 3, 8, 4)
    seen = []
    r = B.time_paths(s, repeats=5, warmup=1, device="cpu", progress=lambda f, done: seen.append((f, done)))
    assert len(r.direct.times) == len(r.bottleneck.times) == 5
    assert all(t > 0 for t in r.direct.times + r.bottleneck.times)
    assert r.speedup == pytest.approx(r.direct.median / r.bottleneck.median)
    assert r.macs_ratio == B.cost_ratio(s)
    assert r.throughput("direct") == pytest.approx(B.direct_cost(s).macs / r.direct.median)
    assert seen[-1] == (1.0, 5) and [done for _, done in seen] == [1, 2, 3, 4, 5]   # repeats done: a number, not words
    stopped = B.time_paths(s, repeats=50, warmup=0, device="cpu", should_stop=lambda: True)
    assert len(stopped.direct.times) == 1


# --------------------------------------------------------------------------- the 1×1 convolution
def test_single_channel_is_multiplication():
    img = C.demo_image(6)
    out = C.conv1x1_single_channel(img, 2.0)
    conv = nn.Conv2d(1, 1, 1, bias=False)
    with torch.no_grad():
        conv.weight.fill_(2.0)
        ref = conv(torch.as_tensor(img, dtype=torch.float32)[None, None])[0, 0].numpy()
    np.testing.assert_allclose(out, ref)
    np.testing.assert_array_equal(out, 2 * img)
    assert img.shape == (6, 6)


def test_conv1x1_matches_torch_conv_with_relu():
    vol = C.demo_volume(6, 6, 8)
    filt = C.demo_filters(8, 16)[:5]
    conv = nn.Conv2d(8, 5, 1, bias=False, dtype=torch.float64)
    with torch.no_grad():
        conv.weight.copy_(torch.as_tensor(filt)[:, :, None, None])
        ref = torch.relu(conv(torch.as_tensor(vol).permute(2, 0, 1)[None]))[0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(C.conv1x1(vol, filt), ref, atol=1e-12)
    assert C.conv1x1(vol, filt).shape == (6, 6, 5)


def test_conv1x1_equals_linear_per_pixel():
    """The lesson's claim, checked with torch alone (random weights, with biases, float32)."""
    torch.manual_seed(0)
    conv = nn.Conv2d(7, 11, 1)
    lin = nn.Linear(7, 11)
    with torch.no_grad():
        lin.weight.copy_(conv.weight[:, :, 0, 0])
        lin.bias.copy_(conv.bias)
    x = torch.randn(2, 7, 5, 4)
    by_conv = conv(x)                                                   # (N, F, H, W)
    by_lin = lin(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)             # Linear over the channel axis
    torch.testing.assert_close(by_conv, by_lin)
    # and the page's helper agrees to rounding, per filter and over all of them
    per = C.conv1x1_vs_linear_per_filter(C.demo_volume(), C.demo_filters())
    assert per.shape == (16,) and per.max() < 1e-12
    assert C.conv1x1_vs_linear(C.demo_volume(), C.demo_filters()[:4]) < 1e-12


def test_pixel_dot_spells_out_one_output():
    vol, filt = C.demo_volume(), C.demo_filters()[:4]
    out = C.conv1x1(vol, filt)
    for r, c, f in [(1, 0, 0), (2, 3, 0), (5, 5, 3)]:
        d = C.pixel_dot(vol, filt, r, c, f)
        assert d.out == pytest.approx(out[r, c, f])
        assert d.z == pytest.approx(float(vol[r, c] @ filt[f]))
        assert d.formula().endswith(f"= {d.out:.2f}")
    # the default pixel on the page shows a positive (not clipped) output
    assert C.pixel_dot(vol, filt, 1, 0, 0).z > 0


def test_channel_change():
    assert C.channel_change(8, 4) == "compression"
    assert C.channel_change(8, 12) == "expansion"
    assert C.channel_change(8, 8) == "same width"


def test_demo_filters_are_stable_prefixes():
    a, b = C.demo_filters(8, 16), C.demo_filters(8, 16)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, np.round(a, 1))


# --------------------------------------------------------------------------- the catch
def _student_from_closed_form(setup, r):
    u, v = T.best_bottleneck_weights(setup, r)
    m = T.bottleneck_module(setup.ch_in, r, setup.ch_out, setup.k)
    with torch.no_grad():
        m[0].weight.copy_(torch.as_tensor(u, dtype=torch.float32)[:, :, None, None])
        m[1].weight.copy_(torch.as_tensor(v, dtype=torch.float32))
    return m


@pytest.mark.parametrize("latent,r", [(6, 2), (6, 4), (6, 6), (12, 8), (3, 16)])
def test_closed_form_error_matches_sampled_data(latent, r):
    """The Eckart–Young figure equals the error the SVD-built bottleneck really makes on data
    (real torch convolutions with zero padding, many sampled images)."""
    setup = T.TradeoffSetup(latent=latent)
    student, teacher = _student_from_closed_form(setup, r), T.teacher_module(setup)
    x = setup.sample(2000, torch.Generator().manual_seed(7))
    with torch.no_grad():
        err = T.relative_error(teacher(x), student(x))
    best = T.best_relative_error(setup, r)
    assert err == pytest.approx(best, rel=0.05, abs=2e-4)


def test_no_random_bottleneck_beats_the_closed_form():
    setup = T.TradeoffSetup(latent=6)
    teacher = T.teacher_module(setup)
    x = setup.sample(500, torch.Generator().manual_seed(3))
    torch.manual_seed(0)
    for r in (2, 4):
        best = T.best_relative_error(setup, r)
        for _ in range(3):
            m = T.bottleneck_module(setup.ch_in, r, setup.ch_out, setup.k)
            with torch.no_grad():
                err = T.relative_error(teacher(x), m(x))
            assert err > best


def test_closed_form_shape_of_the_tradeoff():
    setup = T.TradeoffSetup(latent=6)
    errs = [T.best_relative_error(setup, r) for r in range(1, setup.ch_in + 1)]
    assert all(a >= b - 1e-12 for a, b in zip(errs, errs[1:]))       # wider never hurts
    assert errs[-1] == pytest.approx(0.0, abs=1e-12)                 # full width loses nothing
    assert errs[3] > 0.1                                             # ch_red 4 < 6 signals: a lot lost
    assert errs[5] < 0.01                                            # ch_red 6: only the noise


def test_training_reaches_the_closed_form():
    setup = T.TradeoffSetup(latent=6)
    for r in (3, 8):
        trained = T.train_bottleneck(setup, r, steps=200)
        best = T.best_relative_error(setup, r)
        assert trained >= best - 0.02          # cannot beat the optimum (up to sampling noise)
        assert trained <= best + 0.02          # and a few hundred steps get close to it


def test_tradeoff_cost_share_and_widths():
    setup = T.TradeoffSetup()
    assert T.tradeoff_ch_reds(32) == [1, 2, 3, 4, 6, 8, 12, 16, 24, 32]
    s = B.ConvShape(8, 8, 32, 3, 16, 4)
    assert T.tradeoff_cost_share(setup, 4) == pytest.approx(1 / B.cost_ratio(s))
    assert T.tradeoff_cost_share(setup, 4) == pytest.approx((32 * 4 + 16 * 9 * 4) / (16 * 9 * 32))


def test_offset_counts():
    np.testing.assert_array_equal(T.offset_counts(4, 3), np.outer([3, 4, 3], [3, 4, 3]))
    assert T.offset_counts(8, 1).item() == 64


# --------------------------------------------------------------------------- what the pages say (verdicts)
def test_cost_verdict_follows_the_ratio():
    assert B.cost_verdict(B.ConvShape.notes()) == ("fewer", pytest.approx(120_422_400 / 12_443_648))
    wide = B.ConvShape(**{**B.NOTES_SHAPE, "ch_red": 192})
    assert B.cost_verdict(wide) == ("more", pytest.approx(B.bottleneck_cost(wide).macs / B.direct_cost(wide).macs))
    # ch_red·(C_in + C_out·k²) = C_out·k²·C_in: 1·(2 + 2·1) = 2·1·2
    assert B.cost_verdict(B.ConvShape(3, 3, 2, 1, 2, 1)) == ("same", 1.0)


def test_clock_falls_short_exactly_when_the_bottleneck_runs_slower_per_multiplication():
    s = B.ConvShape.notes()
    for t_direct, t_bott in [(2.0, 0.4), (2.0, 0.1), (1.0, 1.0 / B.cost_ratio(s))]:
        r = B.PathTiming(s, "cpu", 1, B.Timing([t_direct]), B.Timing([t_bott]))
        assert r.falls_short == (r.throughput("bottleneck") < r.throughput("direct") * (1 - 1e-12))


def test_recorded_timing_reads_the_benchmark_report(tmp_path):
    rec = B.recorded_timing()
    assert rec is not None, "benchmarks/results/bottleneck_timing_cpu.json is part of the repository"
    assert rec.shape == B.ConvShape.notes() and rec.runs
    for run in rec.runs:
        assert run.macs_ratio == pytest.approx(B.cost_ratio(rec.shape), abs=5e-4)
    assert rec.short == sum(r.speedup < r.macs_ratio for r in rec.runs)
    assert B.recorded_timing(tmp_path / "missing.json") is None
    (tmp_path / "bad.json").write_text("{not json")
    assert B.recorded_timing(tmp_path / "bad.json") is None


def test_conv1x1_check_by_width_runs_the_real_layers_and_stays_within_rounding():
    vol, filt = C.demo_volume(), C.demo_filters()
    by_width = C.conv1x1_vs_linear_by_width(vol, filt)
    assert by_width.shape == (16,)
    assert by_width[3] == C.conv1x1_vs_linear(vol, filt[:4])
    for n in range(1, 17):
        bound = C.rounding_bound(vol, filt[:n])
        assert by_width[n - 1] <= bound
        assert C.agreement(by_width[n - 1], bound) in ("identical", "rounding")
    # the bound by hand for one output: 2·γ_8·Σ|x·w| with γ_8 = 8u / (1 − 8u)
    x, w = vol[:1, :1], filt[:1]
    gamma = 8 * 2.0**-53 / (1 - 8 * 2.0**-53)
    assert C.rounding_bound(x, w) == pytest.approx(2 * gamma * float(np.abs(x[0, 0]) @ np.abs(w[0])))
    assert C.agreement(0.0, 1e-14) == "identical" and C.agreement(3e-14, 1e-14) == "differ"


def test_tradeoff_knee_gap_and_breakeven():
    widths = T.tradeoff_ch_reds(32)
    assert T.knee_widths(T.TradeoffSetup(latent=6), widths) == (4, 6)
    assert T.knee_widths(T.TradeoffSetup(latent=7), widths) == (6, 8)
    assert T.knee_widths(T.TradeoffSetup(latent=1), widths) == (None, 1)
    assert T.knee_widths(T.TradeoffSetup(latent=32), widths[:-1]) == (24, None)
    setup = T.TradeoffSetup()
    best = {r: T.best_relative_error(setup, r) for r in (2, 8)}
    assert T.largest_gap(setup, {2: best[2] + 0.01, 8: best[8] + 0.03}) == pytest.approx(0.03)
    assert T.largest_gap(setup, {}) == 0.0
    be = T.breakeven_width(setup)
    assert be == pytest.approx(32 * 16 * 9 / (32 + 16 * 9))
    assert T.tradeoff_cost_share(setup, int(be)) < 1 < T.tradeoff_cost_share(setup, int(be) + 1)
