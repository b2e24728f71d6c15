"""Lesson 1's sections, built without a browser: names, defaults, and what each control changes."""
import math

import numpy as np
import pytest

from widgets.views import feature_scaling as F


def test_one_unit_from_keywords_as_a_link_would_set_it():
    s = F.TanhSaturation(w=0.3, x=7)
    assert "2.1" in s.numbers.value and f"{math.tanh(2.1):.4f}" in s.numbers.value
    assert s.tr("curve", "a").x == (pytest.approx(2.1),)


def test_defaults_show_the_notes_two_cases():
    s = F.TanhSaturation()
    assert "0.0997" in s.cases.value and "0.9640" in s.cases.value
    assert "past x = 20 the unit is saturated" in s.cases.value


@pytest.mark.parametrize("w,phrase", [(0.0, "outputs 0 whatever x is"), (0.01, "none of these inputs"),
                                      (1.0, "past x = 20"), (-0.1, "past x = 20")])
def test_the_cases_sentence_holds_across_w(w, phrase):
    s = F.TanhSaturation(w=w)
    assert phrase in s.cases.value


def test_saturated_verdict_quotes_the_slope_it_sees():
    s = F.TanhSaturation(threshold=0.8, x=12)     # z = 1.2: tanh = 0.834 > 0.8
    assert f"saturated</b>: the slope is only {1 - math.tanh(1.2) ** 2:.3f}" in s.numbers.value


def test_layer_toggle_and_units_redraw():
    s = F.TanhLayer()
    before = s.tr("curve", "raw").y
    s.controls["units"].set(16)
    assert not np.array_equal(s.tr("curve", "raw").y, before)
    s.controls["standardised"].set(True)
    assert s.tr("hist", "activations").marker.color == F.STD.color


def test_lr_past_the_limit_is_red_at_once():
    s = F.ScalingAndLearningRate(lr_std=1.995)
    assert "Diverging" in s.msg["std"].value and "lesson-msg-error" in s.msg["std"].value
    s.controls["lr_std"].set(0.5)
    assert "After 50 steps" in s.msg["std"].value


def test_range_rebuilds_the_raw_problem():
    s = F.ScalingAndLearningRate()
    z = s.tr("raw", "loss").z
    s.controls["x2_range"].set(10)
    assert not np.array_equal(s.tr("raw", "loss").z, z) and "condition number" in s.numbers.value


def test_range_leaves_the_standardised_figure_alone():
    """One figure redrawn when R moves: the standardised problem does not depend on R (test_scaling)."""
    s = F.ScalingAndLearningRate()
    std, sent = s.problems["std"], []
    for kind in ("restyle", "relayout", "update"):        # what a FigureWidget sends the page on a change
        setattr(s.figures["std"], f"_send_{kind}_msg", lambda *a, kind=kind, **k: sent.append(kind))
    s.controls["x2_range"].set(10)
    assert s.problems["std"] is std and sent == []


def test_layer_histogram_counts_every_activation():
    """The bars are shares of all 256·N activations, +1.0 included (plotly.js's own bins [start, end)
    dropped every a = +1.0 exactly: a saturated layer showed far more units at -1 than at +1)."""
    s = F.TanhLayer(scale=1000)
    a = _activations(1000.0, 64)
    y = np.asarray(s.tr("hist", "activations").y)
    assert y.sum() == pytest.approx(1.0)
    assert y[-1] == pytest.approx(np.mean(a >= 0.95)) and y[0] == pytest.approx(np.mean(a < -0.95))
    assert np.mean(a == 1.0) > 0.2                 # the case plotly.js got wrong: many exactly +1.0


def _activations(scale: float, units: int) -> np.ndarray:
    from widgets import scaling as S
    w, b, g = S.layer_params(20, units)
    return S.tanh_layer(S.layer_inputs(scale, d=20), w, b, g).activations
