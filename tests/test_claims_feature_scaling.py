"""Lesson 1's prose, number by number, against what its maths computes at the defaults."""
import math

import numpy as np
import pytest

from claims import Claim, check
from widgets import scaling as S

NB = "01_feature_scaling.ipynb"


def _layer(scale: float, units: int = 64):
    w, b, g = S.layer_params(20, units)
    return S.tanh_layer(S.layer_inputs(scale, d=20), w, b, g)


CLAIMS = [
    Claim(NB, r"\\tanh\(0\.1\) = ([0-9.]+)", lambda: math.tanh(0.1), tol=5e-5),
    Claim(NB, r"\\tanh\(2\) = ([0-9.]+)", lambda: math.tanh(2.0), tol=5e-4),
    Claim(NB, r"the slope is only \$([0-9.]+)\$", lambda: S.tanh_unit(0.1, 20).dadz, tol=5e-4),
    Claim(NB, r"\\operatorname\{atanh\}\(0\.96\) = ([0-9.]+)", lambda: S.saturation_z(0.96), tol=5e-4),
    Claim(NB, r"threshold \(([0-9.]+) by default", lambda: S.DEFAULT_SATURATION),
    # section 2: dL/dW grows far more slowly than x; dL/dx falls
    Claim(NB, r"only about ([0-9]+)-fold", lambda: _layer(1000).grad_w_norm / _layer(1).grad_w_norm, tol=0.5),
    Claim(NB, r"it falls about ([0-9]+)-fold", lambda: _layer(1).grad_x_norm / _layer(1000).grad_x_norm, tol=0.5),
]


@pytest.mark.parametrize("claim", CLAIMS, ids=str)
def test_claim(claim):
    check(claim)


def test_scale_1_almost_none_saturate_scale_100_most_do():
    """'At scale 1 almost no unit saturates. At scale 100 most do.'"""
    assert _layer(1).saturated_fraction < 0.01 and _layer(100).saturated_fraction > 0.5


def test_standardised_curve_is_flat():
    """'the green curve is flat' at every N the slider offers."""
    for units in (8, 64, 512):
        y = S.saturation_vs_scale(np.logspace(0, 3, 31), units, True)
        assert np.ptp(y) < 1e-12


def test_condition_number_in_the_millions_at_R_1000():
    assert 1e6 <= S.make_regression(1000).condition_number < 1e7


@pytest.mark.parametrize("lr", [1.9039, 1.995, 3.16])
def test_a_rate_past_the_limit_is_always_called_diverging(lr):
    """Issue 11 item 12: just past 2/lambda_max the page showed a green 'After 50 steps' line."""
    p = S.make_regression(1000, standardised=True)
    assert lr >= p.lr_limit
    w0 = p.w_star + np.array([-2.5, 2.0])
    kind, fields = S.descent_verdict(p, S.gradient_descent(p, w0, lr, 50), lr)
    assert kind in ("diverged", "diverging") and fields["rho"] >= 1.0


def test_a_rate_below_the_limit_converges_quietly():
    p = S.make_regression(1000, standardised=True)
    w0 = p.w_star + np.array([-2.5, 2.0])
    kind, fields = S.descent_verdict(p, S.gradient_descent(p, w0, 0.5, 50), 0.5)
    assert kind == "converging" and fields["steps"] == 50 and fields["rho"] < 1.0


def test_first_saturated_follows_the_threshold():
    assert S.first_saturated(0.1, 0.96) == 20.0
    assert S.first_saturated(0.01, 0.96) is None
    assert S.first_saturated(1.0, 0.96) == 20.0   # tanh(1) = 0.76 is not past 0.96
    assert S.first_saturated(1.0, 0.5) == 1.0
    assert S.first_saturated(-0.1, 0.96) == 20.0
