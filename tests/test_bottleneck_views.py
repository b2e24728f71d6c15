"""Lesson 3's sections, built without a browser: names, defaults, what each control changes,
bad values refused with a message, and the background work drawn under the section's lock."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from widgets import bottleneck_tradeoff as T
from widgets import conv1x1 as C
from widgets.views import bottleneck as V
from widgets.views.bottleneck import calculator as VC
from widgets.views.bottleneck import tradeoff as VT


# --------------------------------------------------------------------------- a1. one channel
def test_single_channel_defaults_and_weight():
    s = V.SingleChannel()
    assert s.name == "single" and "lesson-single-channel" in s.widget._dom_classes
    np.testing.assert_array_equal(s.tr("images", "output").z, 2 * C.demo_image(6))
    assert "multiplied by the same number 2:" in s.numbers.value
    s.controls["weight"].set(-1.5)
    np.testing.assert_array_equal(s.tr("images", "output").z, -1.5 * C.demo_image(6))
    assert "output = -1.5 × input" in s.figures["images"].layout.annotations[1].text
    assert "top-left 1 → -1.5" in s.numbers.value


@pytest.mark.parametrize("raw,why", [("abc", "not a number"), ("9", "from -3 to 3"), ("nan", "finite")])
def test_single_channel_bad_weight_keeps_the_default(raw, why):
    s = V.SingleChannel(weight=raw)
    assert s.controls["weight"].value == 2.0 and why in s.status.value
    np.testing.assert_array_equal(s.tr("images", "output").z, 2 * C.demo_image(6))


# --------------------------------------------------------------------------- a2. many channels
def test_many_channels_defaults_spell_out_one_output():
    s = V.ManyChannels()
    assert s.values() == {"row": 1, "col": 0, "n_filters": 4, "which": 1}
    dot = C.pixel_dot(C.demo_volume(), C.demo_filters()[:4], 1, 0, 0)
    assert "Output 1 at pixel (1, 0)" in s.numbers.value and dot.formula() in s.numbers.value
    assert "6×6×8 → 6×6×4 (compression)" in s.numbers.value
    np.testing.assert_array_equal(s.tr("pixel", "x").y, C.demo_volume()[1, 0])
    assert s.tr("pixel", "outputs").x == ("f1", "f2", "f3", "f4")


def test_many_channels_every_control_redraws():
    s = V.ManyChannels()
    s.controls["row"].set(2)
    assert s.tr("pixel", "box").y == (2,) and "Output 1 at pixel (2, 0)" in s.numbers.value
    s.controls["col"].set(3)
    assert s.tr("pixel", "box").x == (3,)
    np.testing.assert_array_equal(s.tr("pixel", "x").y, C.demo_volume()[2, 3])
    s.controls["which"].set(3)
    np.testing.assert_array_equal(s.tr("pixel", "w").y, C.demo_filters()[2])
    assert "output channel 3 (6×6)" in s.figures["pixel"].layout.annotations[2].text
    s.controls["n_filters"].set(12)
    assert len(s.tr("pixel", "outputs").x) == 12 and "6×6×8 → 6×6×12 (expansion)" in s.numbers.value


def test_fewer_filters_clamp_the_filter_shown():
    s = V.ManyChannels(which=4)
    s.controls["n_filters"].set(2)
    assert s.controls["which"].value == 2 and s.controls["which"].widget.max == 2
    assert "Output 2 at pixel" in s.numbers.value


def test_the_check_runs_the_real_layers_for_each_width():
    """Issue 11 item 13: the row shows nn.Conv2d(8, n, 1) against nn.Linear(8, n) at the current n,
    beside the rounding float64 allows, and says which it is."""
    vol, filt = C.demo_volume(), C.demo_filters()
    for n in (1, 4, 16):
        s = V.ManyChannels(n_filters=n)
        diff, bound = C.conv1x1_vs_linear(vol, filt[:n]), C.rounding_bound(vol, filt[:n])
        assert f"Conv2d(8, {n}, 1) − Linear(8, {n})" in s.numbers.value
        assert f"{diff:.1e} over all 36×{n} outputs" in s.numbers.value and f"{bound:.1e}" in s.numbers.value
        assert ("identical to the last bit" if diff == 0 else "float64 rounding, which allows") in s.numbers.value


def test_many_channels_bad_values_keep_the_defaults():
    s = V.ManyChannels(row="7", n_filters="x")
    assert s.values()["row"] == 1 and s.values()["n_filters"] == 4
    assert "row = 7" in s.status.value and "n_filters = x" in s.status.value


# --------------------------------------------------------------------------- b + c. the cost calculator
def _calculator(**values):
    return V.CostCalculator(autorun_timing=False, **values)


def test_calculator_defaults_are_the_notes_example():
    s = _calculator()
    assert s.name == "cost" and "lesson-cost-calculator" in s.widget._dom_classes
    assert "28·28·32·5·5·192 = 120,422,400" in s.formulas.value
    assert "2,408,448 + 10,035,200 = 12,443,648" in s.formulas.value and "≈ 9.68×" in s.formulas.value
    assert s.flops.value.count("✓ equal") == 2 and "240,844,800 FLOPs ÷ 2 = 120,422,400" in s.flops.value
    assert s.tr("bars", "macs.direct").y == (120_422_400,)
    assert s.tr("bars", "macs.reduce").y == (2_408_448,) and s.tr("bars", "macs.conv").y == (10_035_200,)
    assert s.tr("bars", "weights.direct").y == (153_600,) and s.tr("bars", "weights.conv").text == ("15,872",)


def test_calculator_sizes_and_the_bottleneck_switch():
    s = _calculator(height=14, width=14, ch_in=256, k=3, ch_out=64, ch_red=32)
    assert "14·14·64·3·3·256 = 28,901,376" in s.formulas.value
    assert "1,605,632 + 3,612,672 = 5,218,304" in s.formulas.value
    s.controls["ch_red"].set(300)                        # past the break-even width: it costs more
    assert "as many</b> multiplications as going direct: here it costs more" in s.formulas.value
    s.controls["bottleneck"].set(False)
    assert s.tr("bars", "macs.reduce").y == () and "bottleneck path" not in s.formulas.value
    assert s.flops.value.count("✓ equal") == 1
    s.controls["bottleneck"].set(True)
    assert "bottleneck path: multiplications" in s.formulas.value


@pytest.mark.parametrize("name,raw,why", [("k", "4", "odd kernel"), ("height", "0", "from 1 to"),
                                          ("ch_in", "2.5", "whole number"), ("width", "abc", "not a number")])
def test_calculator_bad_sizes_keep_the_notes_example(name, raw, why):
    s = _calculator(**{name: raw})
    assert s.read_shape() == VC.B.ConvShape.notes()
    assert why in s.status.value and "120,422,400" in s.formulas.value
    s.controls[name].widget.text.value = raw           # typed on the page: the message sits beside the field
    assert why in s.controls[name].widget.msg.value and "120,422,400" in s.formulas.value


def test_timing_runs_on_the_task_and_marks_itself_stale():
    s = _calculator(height=8, width=8, ch_in=16, k=3, ch_out=8, ch_red=4)
    s.start_timing()
    s.task.join(60)
    assert "Done: 21 repeats" in s.task.status.value
    assert len(s.tr("timing", "direct").x) == len(s.tr("timing", "bottleneck").x) == 21
    assert "8×8×16, 3×3 conv, 8 filters, ch_red 4" in s.timing.value and "measured speed-up" in s.timing.value
    s.controls["height"].set(9)
    assert "The sizes changed since the last timing" in s.timing.value


def test_sizes_changed_while_timing_show_the_result_as_stale(monkeypatch):
    """The result of a run started on the old sizes arrives after the learner typed new ones."""
    gate, started = threading.Event(), threading.Event()
    real = VC.B.time_paths

    def slow_time_paths(shape, **kw):
        started.set()
        gate.wait(10)
        return real(shape, repeats=3, warmup=0)

    monkeypatch.setattr(VC.B, "time_paths", slow_time_paths)
    s = _calculator(height=8, width=8, ch_in=16, k=3, ch_out=8, ch_red=4)
    s.start_timing()
    assert started.wait(10)
    s.controls["ch_red"].set(2)
    gate.set()
    s.task.join(30)
    assert "ch_red 4" in s.timing.value and "The sizes changed since the last timing" in s.timing.value


def test_timing_refuses_sizes_too_big_to_run():
    s = _calculator(height=5000, width=5000, ch_in=256, k=3, ch_out=64, ch_red=32)
    s.start_timing()
    assert "would need about" in s.task.status.value and not s.task.running


def test_recorded_benchmark_is_quoted_from_its_report():
    s = _calculator()
    rec = VC.B.recorded_timing()
    assert rec.date_utc in s.recorded.value and f"{rec.runs[0].speedup:.2f}×" in s.recorded.value
    assert f"In {rec.short} of {len(rec.runs)} settings" in s.recorded.value


# --------------------------------------------------------------------------- d. the catch
def _best(latent: int, widths) -> list[float]:
    setup = T.TradeoffSetup(latent=latent)
    return [100 * T.best_relative_error(setup, r) for r in widths]


def _fake_training(monkeypatch, gate: threading.Event | None = None, started: threading.Event | None = None):
    """train_bottleneck replaced by one that returns the optimum + 0.5 points at once (or when `gate` opens)."""
    def train(setup, ch_red, should_stop=None, **kw):
        if started is not None:
            started.set()
        if gate is not None:
            gate.wait(10)
        return T.best_relative_error(setup, ch_red) + 0.005

    monkeypatch.setattr(VT.T, "train_bottleneck", train)


def test_tradeoff_defaults_and_the_latent_slider():
    s = V.Tradeoff()
    assert s.name == "tradeoff" and "lesson-tradeoff" in s.widget._dom_classes
    np.testing.assert_allclose(s.tr("tradeoff", "best").y, _best(6, s.ch_reds))
    assert "ch_red = 4 (narrower than the input's 6 underlying signals): at best <b>21.0 %</b>" in s.numbers.value
    assert s.tr("tradeoff", "trained").x == ()
    s.controls["latent"].set(7)
    np.testing.assert_allclose(s.tr("tradeoff", "best").y, _best(7, s.ch_reds))
    assert "mixtures of <b>7</b> underlying signals" in s.numbers.value
    assert "costs more than the direct layer" in V.Tradeoff(latent=30).numbers.value


def test_tradeoff_bad_latent_keeps_the_default():
    s = V.Tradeoff(latent="40")
    assert s.controls["latent"].value == 6 and "from 1 to 32" in s.status.value


def test_training_draws_every_width_and_reports_the_gap(monkeypatch):
    _fake_training(monkeypatch)
    s = V.Tradeoff()
    s.task.start_button.click()
    s.task.join(30)
    assert sorted(s.trained) == s.ch_reds and s.tr("tradeoff", "trained").x == tuple(s.ch_reds)
    assert "Trained 10 widths" in s.task.status.value and "is 0.50 percentage points" in s.task.status.value


def test_a_latent_change_during_training_cancels_the_run(monkeypatch):
    gate, started = threading.Event(), threading.Event()
    _fake_training(monkeypatch, gate, started)
    s = V.Tradeoff()
    s.task.start_button.click()
    assert started.wait(10)
    s.controls["latent"].set(7)                  # while the worker is inside a width's training
    assert "training stopped" in s.status.value
    gate.set()
    s.task.join(30)
    assert s.trained == {} and s.tr("tradeoff", "trained").x == ()
    assert "Trained" not in s.task.status.value
    np.testing.assert_allclose(s.tr("tradeoff", "best").y, _best(7, s.ch_reds))


def test_a_latent_change_while_a_point_is_being_drawn_leaves_no_stale_point(monkeypatch):
    """Issue 10: the trade-off worker wrote the figure and `trained` while update() reset them on the
    kernel's main thread. Here the worker is held in the middle of drawing its first point while the
    learner moves the slider from another thread: afterwards the figure and `trained` must describe
    the new input only (before the fix, the old input's point was drawn over the new curve)."""
    _fake_training(monkeypatch)
    s = V.Tradeoff()
    handle = s.tr("tradeoff", "trained")
    plain_update, drawing, moved = handle.update, threading.Event(), threading.Event()

    def update_slowly(*args, **kw):
        if threading.current_thread().name == "lesson-task" and kw.get("x"):   # the worker drawing a point
            drawing.set()
            moved.wait(2)        # the learner moves the slider now (or waits for the section's lock)
        return plain_update(*args, **kw)

    monkeypatch.setattr(handle, "update", update_slowly)
    s.task.start_button.click()
    assert drawing.wait(10)
    learner = threading.Thread(target=lambda: (s.controls["latent"].set(7), moved.set()))
    learner.start()
    learner.join(10)
    s.task.join(30)
    assert s.setup.latent == 7
    assert s.trained == {} and s.tr("tradeoff", "trained").x == ()
    np.testing.assert_allclose(s.tr("tradeoff", "best").y, _best(7, s.ch_reds))
    assert "Trained" not in s.task.status.value


def test_stop_keeps_the_widths_finished_so_far(monkeypatch):
    gate, started = threading.Event(), threading.Event()
    _fake_training(monkeypatch, gate, started)
    s = V.Tradeoff()
    s.task.start_button.click()
    assert started.wait(10)
    s.task.stop_button.click()
    gate.set()
    s.task.join(30)
    assert "Stopped after 0 of 10 widths" in s.task.status.value and s.trained == {}
