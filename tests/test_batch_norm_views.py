"""Lesson 2's sections, built without a browser: names, defaults, what each control changes, and
what a bad value does (kept default, a message in the section's status)."""
from __future__ import annotations

import ipywidgets as ipw
import numpy as np
import pytest

from widgets import batchnorm as bn
from widgets.views import batch_norm as V


def _walk(w):
    yield w
    for c in getattr(w, "children", ()) or ():
        yield from _walk(c)


def _data_line(s) -> str:
    return next(w.value for w in _walk(s.widget) if isinstance(w, ipw.HTML) and "bn-data" in w.value)


def _xs(handle) -> np.ndarray:
    return np.asarray(handle.x, dtype=float)


# --------------------------------------------------------------------------- a. forward pass
def test_forward_defaults_and_each_control():
    s = V.ForwardPass()
    assert "bn-sec-a" in s.widget._dom_classes and 'all 1,797 digits (split "all"' in _data_line(s)
    z = _xs(s.tr("hist", "z"))
    assert len(z) == 64 and "z̃ differs from z" in s.stats.value
    s.controls["m"].set(2)
    assert len(_xs(s.tr("hist", "z_norm"))) == 2
    s.controls["gamma"].set(2.0)
    s.controls["beta"].set(1.0)
    zt = _xs(s.tr("hist", "z_tilde"))
    assert np.mean(zt) == pytest.approx(1.0, abs=1e-12)
    s.controls["undo"].set(True)
    assert "z̃ = z exactly" in s.stats.value and s.controls["gamma"].widget.disabled
    np.testing.assert_allclose(_xs(s.tr("hist", "z_tilde")), _xs(s.tr("hist", "z")), atol=1e-12)


def test_forward_new_batch_changes_the_batch_not_the_standardisation():
    s = V.ForwardPass()
    before = _xs(s.tr("hist", "z"))
    s.buttons["new"].click()
    after = _xs(s.tr("hist", "z_norm"))
    assert not np.array_equal(before, _xs(s.tr("hist", "z")))
    assert abs(after.mean()) < 1e-12 and after.var() == pytest.approx(1.0, abs=1e-3)


def test_forward_bad_value_keeps_default_with_a_message():
    s = V.ForwardPass(m=1, gamma="abc")
    assert s.controls["m"].value == 64 and s.controls["gamma"].value == 1.0
    assert "Ignored" in s.status.value and "m = 1" in s.status.value


# --------------------------------------------------------------------------- b. rescaling
def test_rescaling_k_moves_the_marker_eps_redraws_the_curves():
    s = V.Rescaling()
    assert "split \"all\"" in _data_line(s) and "k · ‖dL/dw(k·w)‖" in s.stats.value
    curve = np.asarray(s.tr("rescale", "diff").y)
    s.controls["k"].set(0.01)
    assert s.tr("rescale", "diff at k").x == (pytest.approx(0.01),)
    assert "ε is visible here" in s.stats.value
    assert np.array_equal(np.asarray(s.tr("rescale", "diff").y), curve)       # k alone leaves the curves
    s.controls["eps"].set(1e-2)
    assert not np.array_equal(np.asarray(s.tr("rescale", "diff").y), curve)
    np.testing.assert_allclose(s.tr("rescale", "closed form").y, s.tr("rescale", "diff").y, rtol=1e-6, atol=1e-15)


def test_rescaling_bad_eps_keeps_the_last_good_value():
    s = V.Rescaling(eps=5)
    assert s.controls["eps"].value == bn.EPS and "Ignored eps = 5" in s.status.value
    s.controls["eps"].widget.text.value = "abc"
    assert s.controls["eps"].value == bn.EPS and "is not a number" in s.controls["eps"].widget.msg.value


# --------------------------------------------------------------------------- c. backprop
def test_backprop_terms_sum_to_autograd_and_each_control_redraws():
    s = V.Backprop()
    np.testing.assert_allclose(s.tr("terms", "sum").y, s.tr("terms", "autograd").y, atol=1e-12)
    assert len(s.tr("terms", "term_norm").x) == 8
    s.controls["m"].set(12)
    assert len(s.tr("terms", "term_var").y) == 12
    before = np.asarray(s.tr("terms", "sum").y)
    s.controls["gamma"].set(2.5)
    np.testing.assert_allclose(np.asarray(s.tr("terms", "sum").y), before * 2.5 / 1.5, rtol=1e-9)
    s.controls["upstream"].set("sum")
    assert "③ cancels ①" in s.stats.value and np.max(np.abs(s.tr("terms", "sum").y)) < 1e-12
    ids = np.asarray(s.tr("terms", "term_norm").y)
    s.buttons["new"].click()
    assert not np.array_equal(ids, np.asarray(s.tr("terms", "term_norm").y))


def test_backprop_bad_gamma_is_refused():
    s = V.Backprop(gamma=-50, upstream="nonsense")
    assert s.controls["gamma"].value == 1.5 and s.controls["upstream"].value == "random"
    assert "gamma = -50" in s.status.value and "upstream = nonsense" in s.status.value


# --------------------------------------------------------------------------- d. batch noise
def test_batch_noise_m_redraws_histograms_and_marker():
    s = V.BatchNoise()
    assert len(_xs(s.tr("noise", "mu"))) == V.noise.TRIALS and "m = 2:" not in s.stats.value
    spread16 = _xs(s.tr("noise", "mu")).std()
    s.controls["m"].set(256)
    assert _xs(s.tr("noise", "mu")).std() < spread16 / 3
    assert s.tr("noise", "current m").x == (256, 256, 256)
    s.controls["m"].set(2)
    assert "m = 2:" in s.stats.value and "0.044" in s.stats.value
    s.controls["m"].set(3)
    assert "±√2" in s.stats.value


def test_batch_noise_bad_m_is_refused():
    s = V.BatchNoise(m=1000)
    assert s.controls["m"].value == 16 and "m = 1000" in s.status.value


# --------------------------------------------------------------------------- e. inference statistics
def test_inference_controls_and_splits():
    s = V.InferenceStats()
    assert 'split "train"' in _data_line(s) and 'split "test"' in _data_line(s)
    assert len(s.train) == 1437 and len(s.test) == 360
    assert "PyTorch running averages after 10 steps" in s.stats.value
    y = np.asarray(s.tr("running", "mean running").y)
    assert y[0] == 0.0 and len(y) == V.inference.STEPS + 1
    s.controls["momentum"].set(0.5)
    assert not np.array_equal(np.asarray(s.tr("running", "mean running").y), y)
    s.controls["t"].set(1)
    assert s.figures["running"].layout.shapes[0].x0 == 1 and "after 1 steps" in s.stats.value
    s.controls["example"].set(5)
    assert "Test digit #5" in s.stats.value


def test_inference_bias_correction_removes_the_start_value():
    s = V.InferenceStats(momentum=0.05, t=3)
    tr = s.traj
    assert tr["mean_bc"][1] == pytest.approx(tr["batch_mean"][1])
    assert abs(tr["mean"][3]) < abs(tr["mean_bc"][3])   # the start value 0 still pulls PyTorch's average


def test_inference_bad_digit_keeps_the_last_good_one():
    s = V.InferenceStats(example=9999)
    assert s.controls["example"].value == 0 and "example = 9999" in s.status.value
    s.controls["example"].widget.text.value = "2.5"
    assert s.controls["example"].value == 0 and "whole number" in s.controls["example"].widget.msg.value


# --------------------------------------------------------------------------- f. training
def test_training_runs_in_the_background_and_draws_both_networks():
    s = V.Training(steps=20, depth=3)
    assert not s.lazy.built and "Press Train" in s.summary.value
    s.task.start_button.click()
    s.task.join(120)
    assert s.lazy.built and len(s.tr("curves", "plain loss").y) == 20 and len(s.tr("curves", "BN grad 0").y) == 3
    assert "this run" in s.summary.value and "3 hidden layers" in s.summary.value
    assert "Without BN the network" in s.summary.value
    assert not any(a.name == "placeholder" for a in s.figures["curves"].layout.annotations)


def test_each_training_control_shows_the_next_run_at_once():
    """Before Train is pressed, moving a control changes what the page says the run will be."""
    s = V.Training()
    assert "Next run: sigmoid, 8 hidden layers" in s.next_run.value and s.next_run in s.layout()
    s.controls["depth"].widget.value = 5
    assert "5 hidden layers" in s.next_run.value
    s.controls["activation"].widget.value = "tanh"
    s.controls["steps"].widget.value = 40
    assert "Next run: tanh, 5 hidden layers" in s.next_run.value and "40 steps" in s.next_run.value
    assert "Press Train" in s.summary.value                       # the summary still names no run


def test_training_stop_and_a_second_start_refused():
    s = V.Training(steps=2000)
    s.task.start_button.click()
    assert not s.task.start(lambda progress, stop: None)          # one worker per section
    assert "Already running" in s.task.status.value
    s.task.stop()
    s.task.join(30)
    assert not s.task.running and "Stopped" in s.task.status.value


def test_training_bad_values_refused():
    s = V.Training(lr="fast", steps=0)
    assert s.controls["lr"].value == 0.5 and s.controls["steps"].value == 300
    assert "lr = fast" in s.status.value and "steps = 0" in s.status.value


# --------------------------------------------------------------------------- f. sweeps
def _button(root, label: str) -> ipw.Button:
    return next(b for b in _walk(root) if isinstance(b, ipw.Button) and b.description == label)


def test_two_sweep_buttons_share_one_worker(monkeypatch):
    """Issue 10: both sweep buttons could run at once, two worker threads writing one FigureWidget.
    Two starts in a row: the second is refused while the first runs."""
    import threading
    import time

    from widgets import bn_training as bt

    gate, calls = threading.Event(), []

    def fake(name):
        def sweep(cfg, values, progress=None, stop=None, **kw):
            calls.append(name)
            stop = stop or kw.get("stop_event")
            while not gate.is_set() and not stop.is_set():
                time.sleep(0.01)
            return None
        return sweep

    monkeypatch.setattr(bt, "lr_sweep", fake("lr"))
    monkeypatch.setattr(bt, "init_scale_sweep", fake("init_scale"))
    box = V.sweeps_section()
    _button(box, "Sweep learning rates").click()
    time.sleep(0.3)
    _button(box, "Sweep init scales").click()
    time.sleep(0.3)
    texts = " ".join(w.value for w in _walk(box) if isinstance(w, ipw.HTML))
    gate.set()
    assert calls == ["lr"], calls
    assert "Already running" in texts


def test_sweep_draws_its_own_column_and_says_what_trains():
    s = V.Sweeps(lr_steps=20, scale_steps=20)
    assert s.start(V.sweeps.SWEEPS[0])
    assert s.start_buttons["scale"].disabled and s.start_buttons["lr"].disabled    # one worker for both
    s.task.join(300)
    assert s.tr("sweeps", "lr plain").x == V.sweeps.SWEEPS[0].values and not s.tr("sweeps", "scale plain").x
    assert "learning rates that train" in s.summary["lr"].value and "20 steps per run" in s.summary["lr"].value
    names = [a.name for a in s.figures["sweeps"].layout.annotations]
    assert "placeholder lr" not in names and "placeholder scale" in names


def test_sweeps_bad_steps_refused():
    s = V.Sweeps(scale_steps=0, lr_activation="relu")
    assert s.controls["scale_steps"].value == 150 and s.controls["lr_activation"].value == "tanh"
    assert "scale_steps = 0" in s.status.value


def test_the_figures_built_on_a_press_follow_the_screens_width():
    """Built after the page is laid out, the training figures still take their column's width (a fixed
    1280 px was cut on a 414 px screen)."""
    for s in (V.Training(steps=20, depth=3), V.Sweeps(), V.CovariateShift(steps=30)):
        fig = s.lazy.get()
        assert s.lazy.built and s.lazy.box.children == (fig,) and fig.layout.width is None, type(s).__name__


# --------------------------------------------------------------------------- g. covariate shift
def test_covariate_shift_run_draws_three_networks_and_a_verdict():
    s = V.CovariateShift(steps=30)
    assert not s.lazy.built
    s.task.start_button.click()
    s.task.join(300)
    for name in ("plain", "BN", "BN + noise"):
        assert len(s.tr("shift", f"{name} median").y) == 3            # records at steps 0, 10, 20
        assert s.tr("shift", f"{name} spread").y
    assert "drifted" in s.verdict.value and "30 steps" in s.summary.value
    assert not any(a.name == "placeholder" for a in s.figures["shift"].layout.annotations)


def test_covariate_shift_bad_noise_refused():
    s = V.CovariateShift(noise=9)
    assert s.controls["noise"].value == 1.0 and "noise = 9" in s.status.value
