"""Lesson 1 maths against independent references: torch autograd, numpy.linalg, closed forms."""
import numpy as np
import pytest
import torch

from widgets import scaling as S


def test_notes_example():
    """The notes: w = 0.1; x = 1 -> tanh 0.0997; x = 20 -> tanh 0.964 (derivative 0.071)."""
    u1, u20 = S.tanh_unit(0.1, 1.0), S.tanh_unit(0.1, 20.0)
    assert u1.z == pytest.approx(0.1) and round(u1.a, 4) == 0.0997
    assert u20.z == pytest.approx(2.0) and round(u20.a, 3) == 0.964 and round(u20.dadz, 3) == 0.071
    assert abs(u20.a) > S.DEFAULT_SATURATION > abs(u1.a)


@pytest.mark.parametrize("w,x", [(0.1, 1.0), (0.1, 20.0), (-0.7, 3.0), (1.0, -0.2), (0.5, 100.0)])
def test_tanh_unit_against_autograd(w, x):
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    zt = torch.tensor(w * x, dtype=torch.float64, requires_grad=True)
    torch.tanh(w * xt).backward()
    torch.tanh(zt).backward()
    u = S.tanh_unit(w, x)
    assert u.a == pytest.approx(np.tanh(w * x))
    assert u.dadx == pytest.approx(xt.grad.item(), abs=1e-15)
    assert u.dadz == pytest.approx(zt.grad.item(), abs=1e-15)


def test_tanh_curve_derivative_against_autograd():
    z = torch.linspace(-6, 6, 101, dtype=torch.float64, requires_grad=True)
    torch.tanh(z).sum().backward()
    a, da = S.tanh_curve(z.detach().numpy())
    np.testing.assert_allclose(a, np.tanh(z.detach().numpy()))
    np.testing.assert_allclose(da, z.grad.numpy(), atol=1e-15)


def test_saturation_threshold():
    zs = S.saturation_z(0.96)
    assert np.tanh(zs) == pytest.approx(0.96)
    assert zs == pytest.approx(1.9459, abs=1e-4)
    with pytest.raises(ValueError):
        S.saturation_z(1.0)


def test_layer_gradients_against_autograd():
    w, b, g = S.layer_params(20, 32)
    x = S.layer_inputs(30.0)
    stats = S.tanh_layer(x, w, b, g)
    X = torch.tensor(x, requires_grad=True)
    W = torch.tensor(w, requires_grad=True)
    a = torch.tanh(X @ W + torch.tensor(b))
    loss = (torch.tensor(g[: x.shape[0], :32]) * a).sum() / x.shape[0]
    loss.backward()
    assert stats.grad_w_norm == pytest.approx(W.grad.norm().item(), rel=1e-10)
    assert stats.grad_x_norm == pytest.approx(X.grad.norm().item(), rel=1e-10)
    np.testing.assert_allclose(stats.activations, a.detach().numpy())
    assert stats.saturated_fraction == pytest.approx(float((a.abs() > 0.96).double().mean()))


def test_large_inputs_saturate_and_standardising_fixes_it():
    w, b, g = S.layer_params(20, 64)
    raw = S.tanh_layer(S.layer_inputs(1000.0), w, b, g)
    std = S.tanh_layer(S.standardise(S.layer_inputs(1000.0)), w, b, g)
    small = S.tanh_layer(S.layer_inputs(1.0), w, b, g)
    assert raw.saturated_fraction > 0.95 and small.saturated_fraction < 0.05
    assert std.saturated_fraction < 0.05
    assert raw.mean_local_grad < 0.05 < 0.5 < std.mean_local_grad
    x = S.standardise(S.layer_inputs(7.0))
    np.testing.assert_allclose(x.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(x.std(0), 1, atol=1e-12)
    # standardised inputs do not depend on the raw scale at all
    np.testing.assert_allclose(S.standardise(S.layer_inputs(3.0)), S.standardise(S.layer_inputs(300.0)), atol=1e-9)


@pytest.mark.parametrize("standardised", [False, True])
def test_hessian_against_autograd_and_eigvalsh(standardised):
    p = S.make_regression(1000.0, standardised=standardised)
    X, y = torch.tensor(p.X), torch.tensor(p.y)

    def loss(w):
        r = X @ w - y
        return (r @ r) / (2 * len(y))

    H = torch.autograd.functional.hessian(loss, torch.zeros(2, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(p.H, H, rtol=1e-10)
    np.testing.assert_allclose(p.eigenvalues, np.linalg.eigvalsh(H), rtol=1e-10)
    w = torch.tensor([0.3, -0.2], dtype=torch.float64, requires_grad=True)
    loss(w).backward()
    np.testing.assert_allclose(p.grad(w.detach().numpy()), w.grad.numpy(), rtol=1e-9, atol=1e-12)
    assert p.loss(w.detach().numpy()) == pytest.approx(loss(w).item(), rel=1e-10)
    # w* is least squares
    np.testing.assert_allclose(p.w_star, np.linalg.lstsq(p.X, p.y, rcond=None)[0], rtol=1e-8)


def test_conditioning():
    raw, std = S.make_regression(1000.0), S.make_regression(1000.0, standardised=True)
    assert raw.condition_number > 1e6
    assert std.condition_number < 1.5
    assert raw.lr_limit == pytest.approx(2 / np.linalg.eigvalsh(raw.H)[-1])


def test_gradient_descent_path_is_the_iteration():
    p = S.make_regression(10.0)
    w0 = np.array([-1.0, 0.0])
    d = S.gradient_descent(p, w0, 0.01, 5)
    w = w0.copy()
    for k in range(5):
        w = w - 0.01 * (p.X.T @ (p.X @ w - p.y)) / len(p.y)
        np.testing.assert_allclose(d.path[k + 1], w, rtol=1e-12)
    assert d.diverged_at is None and len(d.path) == 6


@pytest.mark.parametrize("standardised", [False, True])
def test_stability_limit(standardised):
    """Just under 2/lambda_max converges; just over diverges (and is reported, not a NaN)."""
    p = S.make_regression(100.0, standardised=standardised)
    w0 = p.w_star + np.array([1.0, 0.5])  # not on an eigenvector
    lim = p.lr_limit
    under = S.gradient_descent(p, w0, 0.98 * lim, 3000)
    assert under.diverged_at is None and under.losses[-1] < under.losses[0]
    over = S.gradient_descent(p, w0, 1.02 * lim, 3000)
    assert over.diverged_at is not None
    assert np.all(np.isfinite(over.path)) and np.all(np.isfinite(over.losses))
    assert S.steps_to_reach(p, w0, 1.02 * lim, 1e-3) is None


def test_steps_to_reach_matches_simulation():
    p = S.make_regression(10.0)
    w0 = np.array([-1.0, 0.0])
    lr = p.lr_best
    k = S.steps_to_reach(p, w0, lr, 1e-3)
    d = S.gradient_descent(p, w0, lr, k)
    assert d.losses[k] - p.loss_star <= 1e-3 < d.losses[k - 1] - p.loss_star


@pytest.mark.parametrize("R", [1.0, 3.7, 250.0])
def test_the_standardised_problem_does_not_depend_on_the_range_of_x2(R):
    """Lesson 1 draws the standardised problem once and redraws only the raw one when R moves."""
    a, b = S.make_regression(R, standardised=True), S.make_regression(1000.0, standardised=True)
    for f in ("X", "y", "H", "w_star"):
        np.testing.assert_allclose(getattr(a, f), getattr(b, f), rtol=1e-9, atol=1e-12)
    assert a.loss_star == pytest.approx(b.loss_star, rel=1e-9)
    assert not np.allclose(S.make_regression(R).H, S.make_regression(1000.0).H)   # the raw one does
