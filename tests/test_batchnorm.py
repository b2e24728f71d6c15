"""widgets.batchnorm against independent references: torch autograd, torch.nn.functional.batch_norm,
torch.nn.BatchNorm1d's running statistics, closed forms and Monte Carlo."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from widgets import batchnorm as bn


def _torch_bn(x, gamma, beta, eps, dy):
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    gt = torch.tensor(gamma, dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(beta, dtype=torch.float64, requires_grad=True)
    y = F.batch_norm(xt, None, None, gt, bt, training=True, eps=eps)
    y.backward(torch.tensor(dy, dtype=torch.float64))
    return y.detach().numpy(), xt.grad.numpy(), gt.grad.numpy(), bt.grad.numpy()


@pytest.mark.parametrize("m,d,eps", [(2, 1, 1e-5), (7, 3, 1e-5), (64, 5, 1e-3), (512, 2, 1e-5)])
def test_forward_backward_match_torch(m, d, eps):
    rng = np.random.default_rng(m * 10 + d)
    x = rng.normal(3.0, 2.0, (m, d))
    gamma, beta = rng.normal(size=d), rng.normal(size=d)
    dy = rng.normal(size=(m, d))
    y, cache = bn.batch_norm_forward(x, gamma, beta, eps)
    dx, dgamma, dbeta = bn.batch_norm_backward(dy, cache)
    y_t, dx_t, dg_t, db_t = _torch_bn(x, gamma, beta, eps, dy)
    np.testing.assert_allclose(y, y_t, atol=1e-10)
    np.testing.assert_allclose(dx, dx_t, atol=1e-10)
    np.testing.assert_allclose(dgamma, dg_t, atol=1e-10)
    np.testing.assert_allclose(dbeta, db_t, atol=1e-10)


def test_three_terms_sum_and_pieces():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(9, 2))
    y, cache = bn.batch_norm_forward(x, [1.5, 0.5], [0.0, 1.0])
    dy = rng.normal(size=(9, 2))
    t = bn.three_terms(dy, cache)
    _, dx_t, _, _ = _torch_bn(x, [1.5, 0.5], [0.0, 1.0], 1e-5, dy)
    np.testing.assert_allclose(t["term_norm"] + t["term_var"] + t["term_mean"], dx_t, atol=1e-10)
    # dL/dmu and dL/dsigma2 against autograd through explicit mu and var leaves
    xt = torch.tensor(x, dtype=torch.float64)
    mu = xt.mean(0).clone().requires_grad_(True)
    var = ((xt - xt.mean(0)) ** 2).mean(0).clone().requires_grad_(True)
    out = torch.tensor([1.5, 0.5], dtype=torch.float64) * (xt - mu) / torch.sqrt(var + 1e-5) + torch.tensor([0.0, 1.0], dtype=torch.float64)
    (out * torch.tensor(dy)).sum().backward()
    np.testing.assert_allclose(t["d_var"], var.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(t["d_mu"], mu.grad.numpy(), atol=1e-10)


def test_sum_loss_gives_zero_input_gradient():
    # sum of BN outputs is m*beta whatever the input: dL/dx must be zero
    x = np.random.default_rng(0).normal(size=(16, 1))
    _, cache = bn.batch_norm_forward(x, 2.0, 0.3)
    dx, dgamma, dbeta = bn.batch_norm_backward(np.ones((16, 1)), cache)
    assert np.max(np.abs(dx)) < 1e-12
    assert dbeta[0] == pytest.approx(16.0)


def test_undo_makes_identity():
    x = np.random.default_rng(1).normal(4.0, 3.0, size=(32, 1))
    _, cache = bn.batch_norm_forward(x, 1.0, 0.0)
    gamma, beta = bn.undo_parameters(cache)
    y, _ = bn.batch_norm_forward(x, gamma, beta)
    np.testing.assert_allclose(y, x, atol=1e-12)


def test_step_by_step_matches_forward():
    X = bn.digits_inputs()
    assert X.shape == (1797, 64)
    w, b = bn.unit_weights()
    s = bn.step_by_step(X[:50], w, b, gamma=2.0, beta=-1.0)
    np.testing.assert_allclose(s.z, X[:50] @ w + b)
    assert s.mu == pytest.approx(s.z.mean())
    assert s.var == pytest.approx(s.z.var())
    assert s.z_tilde.mean() == pytest.approx(-1.0, abs=1e-9)
    assert s.z_tilde.std() == pytest.approx(2.0 * np.sqrt(s.var / (s.var + bn.EPS)), rel=1e-9)
    g, bt = np.sqrt(s.var + s.eps), s.mu
    assert bn.step_by_step(X[:50], w, b, g, bt).max_abs_change < 1e-12


@pytest.mark.parametrize("k", [0.01, 0.3, 7.0, 100.0])
def test_rescaling_invariance_and_gradient_scaling(k):
    X = bn.digits_inputs()[:128]
    w, b = bn.unit_weights()
    r = bn.rescaling(X, w, b, k)
    assert r["mu_k"] == pytest.approx(k * r["mu_1"], rel=1e-9)
    assert r["var_k"] == pytest.approx(k**2 * r["var_1"], rel=1e-9)
    # the only non-invariance is eps: z_norm shrinks by sqrt(var/(var+eps))
    shrink = bn.eps_shrink_factor(r["var_k"]) / bn.eps_shrink_factor(r["var_1"])
    s = bn.step_by_step(X, w, b, 1.0, 0.0)
    assert r["max_diff_z_norm"] == pytest.approx(abs(shrink - 1) * np.max(np.abs(s.z_norm)), rel=1e-6, abs=1e-12)
    # gradient w.r.t. w: autograd for the k*w unit, compared to 1/k times the k=1 gradient
    g = np.random.default_rng(1).normal(size=128)
    wt = torch.tensor(k * w, requires_grad=True)
    z = torch.tensor(X) @ wt + k * b
    zn = F.batch_norm(z[:, None], None, None, training=True, eps=bn.EPS)[:, 0]
    (zn * torch.tensor(g)).sum().backward()
    assert float(wt.grad.norm()) == pytest.approx(r["grad_w_norm_k"], rel=1e-9)
    if k >= 0.3:
        assert r["grad_ratio_times_k"] == pytest.approx(1.0, abs=1e-3)
        assert r["max_diff_z_norm"] < 1e-3


def test_rescaling_eps_visible_for_tiny_k():
    X = bn.digits_inputs()[:128]
    w, b = bn.unit_weights()
    r = bn.rescaling(X, w, b, 0.01)
    assert r["max_diff_z_norm"] > 1e-2          # k^2 var is comparable to eps
    assert r["grad_ratio_times_k"] < 0.97


def test_running_update_matches_torch_batchnorm1d():
    rng = np.random.default_rng(5)
    layer = torch.nn.BatchNorm1d(3, momentum=0.3, dtype=torch.float64)
    rm, rv = np.zeros(3), np.ones(3)
    for _ in range(6):
        batch = rng.normal(2.0, 3.0, size=(10, 3))
        layer.train()
        layer(torch.tensor(batch))
        rm, rv = bn.running_update(rm, rv, batch, momentum=0.3)
    np.testing.assert_allclose(rm, layer.running_mean.numpy(), atol=1e-12)
    np.testing.assert_allclose(rv, layer.running_var.numpy(), atol=1e-12)


def test_running_trajectory_and_bias_correction():
    pop = bn.linear_unit(bn.digits_inputs(), *bn.unit_weights())
    tr = bn.running_trajectory(pop, m=32, steps=5, momentum=0.1, seed=2)
    # replay the same batches through torch's BatchNorm1d
    rng = np.random.default_rng(2)
    layer = torch.nn.BatchNorm1d(1, momentum=0.1, dtype=torch.float64)
    corrected = []
    for t in range(1, 6):
        batch = pop[rng.choice(pop.size, size=32, replace=False)]
        layer(torch.tensor(batch[:, None]))
        assert tr["mean"][t] == pytest.approx(float(layer.running_mean[0]), abs=1e-12)
        assert tr["var"][t] == pytest.approx(float(layer.running_var[0]), abs=1e-12)
        assert tr["batch_var"][t] == pytest.approx(batch.var(), abs=1e-12)
        corrected.append(batch.mean())
        # bias-corrected mean = the EMA's normalised weighted average of the batch means only
        wts = np.array([0.1 * 0.9 ** (t - s) for s in range(1, t + 1)])
        assert tr["mean_bc"][t] == pytest.approx(float(wts @ corrected / wts.sum()), rel=1e-12)
    assert tr["mean_bc"][1] == pytest.approx(tr["batch_mean"][1])


def test_whole_set_and_normalize_with():
    pop = np.array([1.0, 2.0, 4.0, 9.0])
    s = bn.whole_set_stats(pop)
    assert s["mean"] == 4.0 and s["var_biased"] == pytest.approx(9.5) and s["var_unbiased"] == pytest.approx(38 / 3)
    layer = torch.nn.BatchNorm1d(1, dtype=torch.float64).eval()
    with torch.no_grad():
        layer.running_mean.fill_(4.0)
        layer.running_var.fill_(9.5)
    with torch.no_grad():
        ref = float(layer(torch.tensor([[7.0]], dtype=torch.float64))[0, 0])
    assert bn.normalize_with(7.0, 4.0, 9.5) == pytest.approx(ref, abs=1e-12)


def test_batch_noise_against_theory():
    pop = bn.linear_unit(bn.digits_inputs(), *bn.unit_weights())
    mom = bn.population_moments(pop)
    for m in (4, 32, 256):
        mus, vars_ = bn.sample_batch_stats(pop, m, 20000, seed=m)
        assert mus.std() == pytest.approx(bn.theory_std_mu(mom["var"], m), rel=0.03)
        assert vars_.std() == pytest.approx(bn.theory_std_var(mom["var"], mom["mu4"], m), rel=0.05)
        assert vars_.mean() == pytest.approx(mom["var"] * (m - 1) / m, rel=0.02)


def test_output_noise_delta_method_and_m2():
    pop = np.random.default_rng(0).normal(0, 1, 200000)
    for m in (64, 256):
        out = bn.output_noise(pop, 1.0, m, 20000, seed=m)
        assert out.std() == pytest.approx(bn.theory_output_noise_std(1.0, m), rel=0.08)
    # m = 2: every normalised value is +-1 (shrunk by eps), whatever the input
    for other, sign in ((5.0, -1.0), (-4.0, 1.0), (0.31, -1.0)):
        q = ((0.3 - other) / 2) ** 2
        out2 = bn.output_noise(np.array([other]), 0.3, 2, 10)
        np.testing.assert_allclose(out2, sign * np.sqrt(q / (q + bn.EPS)), rtol=1e-12)
    curve = bn.noise_curve(pop[:5000], [4, 64], 2000, 0.5)
    assert curve["std_out"][0] > curve["std_out"][1]


def test_autograd_reference_matches_functional_batch_norm():
    rng = np.random.default_rng(11)
    x = rng.normal(size=(12, 2))
    for kind in ("random", "target", "sum"):
        y, cache = bn.batch_norm_forward(x, [0.7, 2.0], [0.1, -0.3])
        dy = bn.upstream_gradient(kind, y, seed=4)
        ref = bn.autograd_reference(x, [0.7, 2.0], [0.1, -0.3], dy)
        _, dx_t, dg_t, db_t = _torch_bn(x, [0.7, 2.0], [0.1, -0.3], 1e-5, dy)
        for a, b in zip(ref, (dx_t, dg_t, db_t)):
            np.testing.assert_allclose(a, b, atol=1e-12)
    np.testing.assert_allclose(bn.upstream_gradient("target", y, 4), y - np.random.default_rng(4).normal(size=y.shape))
    with pytest.raises(ValueError):
        bn.upstream_gradient("bogus", y)


@pytest.mark.parametrize("k", [0.01, 0.5, 2.0, 10.0, 100.0])
@pytest.mark.parametrize("eps", [1e-5, 1e-2])
def test_rescaling_gap_closed_form_against_torch(k, eps):
    """Issue 11 item 7: the gap between z_norm at k*w and at w is eps's doing, not rounding."""
    X = bn.digits_inputs()[:128]
    w, b = bn.unit_weights()
    r = bn.rescaling(X, w, b, k, eps=eps)
    z = torch.tensor(X) @ torch.tensor(w) + b
    zn = lambda s: F.batch_norm(s * z[:, None], None, None, training=True, eps=eps)[:, 0]  # noqa: E731
    measured = float((zn(k) - zn(1.0)).abs().max())
    assert r["max_diff_closed_form"] == pytest.approx(measured, rel=1e-6)
    assert r["max_diff_z_norm"] == pytest.approx(measured, rel=1e-6)
    if k == 100.0 and eps == 1e-5:   # the large-k limit eps/(2 var) * max|z_norm|
        assert r["gap_limit"] == pytest.approx(measured, rel=1e-3)
        assert measured > 1e-6        # far above rounding


def test_pair_output_and_gap_against_batch_norm():
    for d in (1e-4, 0.02, 0.0443, 0.5, 3.0):
        y, _ = bn.batch_norm_forward(np.array([[0.3], [0.3 + d]]), 1.0, 0.0)
        assert abs(y[0, 0]) == pytest.approx(bn.pair_output(d), rel=1e-12)
    gap = bn.pair_gap(0.99)
    assert bn.pair_output(gap) == pytest.approx(0.99, rel=1e-12)
    assert bn.pair_output(gap * 0.99) < 0.99 < bn.pair_output(gap * 1.01)


def test_samuelson_bound_holds_and_is_reached():
    rng = np.random.default_rng(0)
    for m in (2, 3, 8):
        x = rng.normal(size=(5000, m))
        zn = (x - x.mean(1, keepdims=True)) / x.std(1, keepdims=True)
        assert np.abs(zn).max() <= bn.samuelson_bound(m) * (1 + 1e-9)
        one_out = np.r_[1.0, np.zeros(m - 1)]
        assert abs((one_out[0] - one_out.mean()) / one_out.std()) == pytest.approx(bn.samuelson_bound(m))


def test_start_weight_is_what_bias_correct_removes():
    r0, v, a, t = 1.0, 3.0, 0.1, 7
    r = r0
    for _ in range(t):
        r = (1 - a) * r + a * v
    assert r == pytest.approx(bn.start_weight(a, t) * r0 + (1 - bn.start_weight(a, t)) * v)
    assert float(bn.bias_correct(np.array([r]), r0, a, t)[0]) == pytest.approx(v)


def test_digits_inputs_splits():
    assert bn.digits_inputs().shape == (1797, 64)
    tr, te = bn.digits_inputs("train"), bn.digits_inputs("test")
    assert tr.shape == (1437, 64) and te.shape == (360, 64)
    assert 0.0 <= tr.min() and te.max() <= 1.0


def test_the_trajectory_of_batches_drawn_once_is_the_same_trajectory():
    """Lesson 2's inference section draws the batches once per m and moves the momentum over them."""
    pop = bn.linear_unit(bn.digits_inputs(), *bn.unit_weights())
    drawn = bn.batch_draws(pop, 16, 40, seed=3)
    assert drawn.shape == (40, 16)
    for momentum in (0.01, 0.1, 0.5, 1.0):
        a = bn.running_trajectory(pop, 16, 40, momentum, seed=3)
        b = bn.running_trajectory(pop, 16, 40, momentum, seed=3, batches=drawn)
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])
