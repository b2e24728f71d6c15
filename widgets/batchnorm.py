"""Batch Normalization, the maths only (NumPy).

Reads top to bottom:
  1. the forward pass and its cache, the backward pass, and the backward pass split into
     the three terms of the chain rule (through z_norm, through sigma^2, through mu);
  2. the linear unit z = x @ w + b that the lesson normalises, and the rescaling w -> k*w;
  3. batch-size noise: how mu_B and sigma^2_B scatter around the population's values;
  4. statistics for inference: whole training set, PyTorch's running averages, and
     bias-corrected running averages.

Shapes: x is (m, d): m examples in the mini-batch, d units (features). Every statistic
is per unit, over the batch axis 0. No ipywidgets or plotly here (tests/test_layering.py).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EPS = 1e-5  # PyTorch's default eps for BatchNorm1d


# ---------------------------------------------------------------------------------------
# 1. forward and backward
# ---------------------------------------------------------------------------------------
def _as_2d(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    return a[:, None] if a.ndim == 1 else a


def batch_norm_forward(x, gamma, beta, eps: float = EPS):
    """Training-mode BN: normalise each column of x with the batch's own mean and biased variance.

    x: (m, d); gamma, beta: (d,) or scalars. Returns (y, cache) with y (m, d).
    """
    x = _as_2d(x)
    m, d = x.shape
    if m < 2:
        raise ValueError("a batch needs at least 2 examples to have a variance")
    gamma = np.broadcast_to(np.asarray(gamma, dtype=np.float64), (d,))
    beta = np.broadcast_to(np.asarray(beta, dtype=np.float64), (d,))
    mu = x.mean(axis=0)                      # (d,)
    xc = x - mu                              # (m, d)
    var = (xc**2).mean(axis=0)               # (d,) biased: divide by m, as the paper and torch do
    inv_std = 1.0 / np.sqrt(var + eps)       # (d,)
    x_norm = xc * inv_std                    # (m, d)
    y = gamma * x_norm + beta                # (m, d)
    cache = dict(x=x, mu=mu, var=var, xc=xc, inv_std=inv_std, x_norm=x_norm,
                 gamma=np.array(gamma), beta=np.array(beta), eps=float(eps))
    return y, cache


def three_terms(dy, cache) -> dict:
    """dL/dz split as in the notes' chain rule (z is the BN input, here called x):

        dL/dz_i = dL/dz_norm_i * dz_norm_i/dz_i          (term "norm": z_i's direct path)
                + dL/dsigma2   * dsigma2/dz_i            (term "var":  through the batch variance)
                + dL/dmu       * dmu/dz_i                (term "mean": through the batch mean)

    with dz_norm_i/dz_i = 1/sqrt(sigma2+eps), dsigma2/dz_i = 2 (z_i - mu)/m, dmu/dz_i = 1/m, and
        dL/dsigma2 = sum_j dL/dz_norm_j (z_j - mu) * (-1/2) (sigma2+eps)^(-3/2)
        dL/dmu     = sum_j dL/dz_norm_j * (-1/sqrt(sigma2+eps)) + dL/dsigma2 * sum_j (-2 (z_j - mu))/m
    (the last sum is exactly zero, so dL/dmu has one term). All arrays (m, d) except the
    two scalars per unit dL/dsigma2 and dL/dmu, shape (d,).
    """
    dy = _as_2d(dy)
    m = dy.shape[0]
    xc, inv_std, gamma = cache["xc"], cache["inv_std"], cache["gamma"]
    d_xnorm = dy * gamma                                              # (m, d)
    d_var = (d_xnorm * xc).sum(axis=0) * -0.5 * inv_std**3            # (d,)
    d_mu = (d_xnorm * -inv_std).sum(axis=0) + d_var * (-2.0 * xc).sum(axis=0) / m  # (d,)
    term_norm = d_xnorm * inv_std                                     # (m, d)
    term_var = d_var * 2.0 * xc / m                                   # (m, d)
    term_mean = np.broadcast_to(d_mu / m, xc.shape).copy()            # (m, d)
    return dict(d_xnorm=d_xnorm, d_var=d_var, d_mu=d_mu, term_norm=term_norm,
                term_var=term_var, term_mean=term_mean, dx=term_norm + term_var + term_mean)


def batch_norm_backward(dy, cache):
    """Gradients of L w.r.t. x, gamma, beta given dy = dL/dy. Returns (dx (m,d), dgamma (d,), dbeta (d,))."""
    dy = _as_2d(dy)
    t = three_terms(dy, cache)
    dgamma = (dy * cache["x_norm"]).sum(axis=0)
    dbeta = dy.sum(axis=0)
    return t["dx"], dgamma, dbeta


def undo_parameters(cache) -> tuple[np.ndarray, np.ndarray]:
    """gamma = sqrt(sigma2_B + eps), beta = mu_B make BN the identity on this batch."""
    return np.sqrt(cache["var"] + cache["eps"]), cache["mu"].copy()


# ---------------------------------------------------------------------------------------
# 2. one linear unit z = x @ w + b on real inputs, and the rescaling w -> k w
# ---------------------------------------------------------------------------------------
def digits_inputs(split: str = "all") -> np.ndarray:
    """scikit-learn's handwritten digits, pixels / 16, (N, 64): one split of widgets.data.digits,
    "all" (1,797, no held-out images), "train" (1,437) or "test" (360)."""
    from widgets.data import digits

    return digits(split)[0]


def unit_weights(n_in: int = 64, seed: int = 0) -> tuple[np.ndarray, float]:
    """A fixed random unit: w ~ N(0, (4/sqrt(n_in))^2), b = 1, so on digits z has mean ~-0.4 and variance ~0.9
    (a variance far above eps, so eps only matters when the learner rescales w by a tiny k)."""
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, 4.0 / np.sqrt(n_in), n_in), 1.0


def linear_unit(x, w, b) -> np.ndarray:
    """z = x @ w + b for a batch x (m, n_in): one pre-activation per example, (m,)."""
    return np.asarray(x, dtype=np.float64) @ np.asarray(w, dtype=np.float64) + b


@dataclass
class StepByStep:
    """The forward pass of section a, every intermediate kept for drawing."""
    z: np.ndarray        # (m,)
    mu: float
    var: float           # biased batch variance
    z_norm: np.ndarray   # (m,)
    z_tilde: np.ndarray  # (m,)
    gamma: float
    beta: float
    eps: float

    @property
    def max_abs_change(self) -> float:
        """max_i |z_tilde_i - z_i|: zero when gamma, beta undo the normalisation."""
        return float(np.max(np.abs(self.z_tilde - self.z)))


def step_by_step(x, w, b, gamma: float, beta: float, eps: float = EPS) -> StepByStep:
    z = linear_unit(x, w, b)
    y, c = batch_norm_forward(z[:, None], gamma, beta, eps)
    return StepByStep(z=z, mu=float(c["mu"][0]), var=float(c["var"][0]), z_norm=c["x_norm"][:, 0],
                      z_tilde=y[:, 0], gamma=float(gamma), beta=float(beta), eps=float(eps))


def rescaling(x, w, b, k: float, gamma: float = 1.0, beta: float = 0.0, eps: float = EPS,
              upstream=None) -> dict:
    """Compare the unit with weights w and with k*w on the same batch.

    Bias b is scaled too (z -> k z exactly); BN's mean subtraction cancels b anyway.
    The loss is L = sum_i g_i * z_tilde_i with a fixed upstream gradient g (default: a fixed
    random vector), so dL/dw = x^T dL/dz. Returns the statistics, the largest differences of
    z_norm and z_tilde (with their closed form and its large-k limit), and the gradient norms
    (which scale as 1/k).
    """
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    m = x.shape[0]
    if upstream is None:
        upstream = np.random.default_rng(1).normal(size=m)
    g = np.asarray(upstream, dtype=np.float64)[:, None]
    out = {}
    for name, scale in (("1", 1.0), ("k", float(k))):
        z = linear_unit(x, scale * w, scale * b)
        y, c = batch_norm_forward(z[:, None], gamma, beta, eps)
        dz, _, _ = batch_norm_backward(g, c)
        dw = x.T @ dz[:, 0]                   # (n_in,)
        out[name] = dict(z=z, mu=float(c["mu"][0]), var=float(c["var"][0]), z_norm=c["x_norm"][:, 0],
                         z_tilde=y[:, 0], grad_w=dw, grad_w_norm=float(np.linalg.norm(dw)))
    one, kk = out["1"], out["k"]
    return dict(
        k=float(k), mu_1=one["mu"], mu_k=kk["mu"], var_1=one["var"], var_k=kk["var"],
        max_diff_z_norm=float(np.max(np.abs(kk["z_norm"] - one["z_norm"]))),
        max_diff_z_tilde=float(np.max(np.abs(kk["z_tilde"] - one["z_tilde"]))),
        max_diff_closed_form=rescaling_gap(float(np.max(np.abs(one["z"] - one["mu"]))), one["var"], float(k), eps),
        gap_limit=rescaling_gap_limit(float(np.max(np.abs(one["z_norm"]))), one["var"], eps),
        grad_w_norm_1=one["grad_w_norm"], grad_w_norm_k=kk["grad_w_norm"],
        # 1.0 when the gradient scales exactly as 1/k (eps breaks this for tiny k)
        grad_ratio_times_k=float(k) * kk["grad_w_norm"] / one["grad_w_norm"] if one["grad_w_norm"] > 0 else float("nan"),
    )


def rescaling_gap(max_abs_centred: float, var: float, k: float, eps: float = EPS) -> float:
    """Closed form of rescaling()'s max_diff_z_norm: z_norm at k*w minus z_norm at w is, for every example,

        k (z_i - mu) / sqrt(k^2 var + eps)  -  (z_i - mu) / sqrt(var + eps)

    so its largest size over the batch is max_i |z_i - mu| * |k / sqrt(k^2 var + eps) - 1 / sqrt(var + eps)|
    (z, mu, var at w). Not zero for k != 1: eps sits under both square roots."""
    return float(max_abs_centred * abs(k / np.sqrt(k * k * var + eps) - 1.0 / np.sqrt(var + eps)))


def rescaling_gap_limit(max_abs_z_norm: float, var: float, eps: float = EPS) -> float:
    """What rescaling_gap tends to as k grows: eps / (2 var) * max|z_norm| (first order in eps / var)."""
    return float(eps / (2.0 * var) * max_abs_z_norm)


def eps_shrink_factor(var: float, eps: float = EPS) -> float:
    """sqrt(var / (var + eps)): the factor by which eps shrinks every |z_norm| below its eps-free value.

    With w -> k w the batch variance becomes k^2 var, so for tiny k (k^2 var comparable to eps)
    this factor drops below one and z_norm is no longer invariant."""
    return float(np.sqrt(var / (var + eps)))


# ---------------------------------------------------------------------------------------
# 3. batch size and noise
# ---------------------------------------------------------------------------------------
def population_moments(pop) -> dict:
    """Mean, variance (biased: the population's own), and 4th central moment of a finite population."""
    pop = np.asarray(pop, dtype=np.float64)
    mu = pop.mean()
    c = pop - mu
    return dict(mean=float(mu), var=float((c**2).mean()), mu4=float((c**4).mean()), n=int(pop.size))


def pair_output(d: float, eps: float = EPS) -> float:
    """|z_norm| of both members of a batch of two values d apart: (d/2) / sqrt(d^2/4 + eps).
    Nearly 1 unless d is comparable to sqrt(eps)."""
    return float(d / np.sqrt(d * d + 4.0 * eps))


def pair_gap(level: float, eps: float = EPS) -> float:
    """The distance d below which a batch of two gives |z_norm| < level: pair_output(d) = level."""
    return float(2.0 * level * np.sqrt(eps / (1.0 - level * level)))


def samuelson_bound(m: int) -> float:
    """No |z_norm| in a batch of m can exceed sqrt(m - 1) (Samuelson's inequality, biased variance)."""
    return float(np.sqrt(m - 1))


def sample_batch_stats(pop, m: int, trials: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Draw `trials` mini-batches of size m (with replacement) from pop. Returns (mu_B, var_B) each (trials,),
    var_B biased (what BN normalises with)."""
    pop = np.asarray(pop, dtype=np.float64)
    rng = np.random.default_rng(seed)
    batch = pop[rng.integers(0, pop.size, size=(trials, m))]   # (trials, m)
    return batch.mean(axis=1), batch.var(axis=1)


def theory_std_mu(sigma2: float, m: int) -> float:
    """std of mu_B for i.i.d. draws: sigma / sqrt(m)."""
    return float(np.sqrt(sigma2 / m))


def theory_std_var(sigma2: float, mu4: float, m: int) -> float:
    """std of the biased batch variance for i.i.d. draws (exact, any distribution):
    Var(s^2) = mu4/m - sigma^4 (m-3)/(m(m-1)) for the unbiased s^2, and var_B = (m-1)/m s^2."""
    var_s2 = mu4 / m - sigma2**2 * (m - 3) / (m * (m - 1))
    return float((m - 1) / m * np.sqrt(max(var_s2, 0.0)))


def output_noise(pop, value: float, m: int, trials: int, eps: float = EPS, seed: int = 0) -> np.ndarray:
    """The normalised output of one fixed example `value` when it sits in `trials` different mini-batches:
    the other m-1 members are drawn from pop. Returns z_norm of that example, (trials,)."""
    pop = np.asarray(pop, dtype=np.float64)
    rng = np.random.default_rng(seed)
    others = pop[rng.integers(0, pop.size, size=(trials, m - 1))]
    batch = np.concatenate([np.full((trials, 1), value), others], axis=1)  # (trials, m)
    mu = batch.mean(axis=1)
    var = batch.var(axis=1)
    return (value - mu) / np.sqrt(var + eps)


def theory_output_noise_std(z0: float, m: int) -> float:
    """Delta-method std of an example's normalised value z0 (in population units) for a normal population:
    Var(mu_B)/sigma^2 = 1/m, Var(sigma_B)/sigma^2 ~ 1/(2m)  =>  std ~ sqrt((1 + z0^2 / 2) / m). Large-m approximation."""
    return float(np.sqrt((1.0 + 0.5 * z0**2) / m))


def noise_curve(pop, ms, trials: int, value: float, seed: int = 0) -> dict:
    """For each batch size in ms: empirical std of mu_B, var_B, and of one example's normalised output."""
    mom = population_moments(pop)
    rows = dict(m=[], std_mu=[], std_var=[], std_out=[], theory_mu=[], theory_var=[], theory_out=[])
    z0 = (value - mom["mean"]) / np.sqrt(mom["var"])
    for i, m in enumerate(ms):
        mus, vars_ = sample_batch_stats(pop, int(m), trials, seed + i)
        outs = output_noise(pop, value, int(m), trials, seed=seed + 1000 + i)
        rows["m"].append(int(m))
        rows["std_mu"].append(float(mus.std()))
        rows["std_var"].append(float(vars_.std()))
        rows["std_out"].append(float(outs.std()))
        rows["theory_mu"].append(theory_std_mu(mom["var"], int(m)))
        rows["theory_var"].append(theory_std_var(mom["var"], mom["mu4"], int(m)))
        rows["theory_out"].append(theory_output_noise_std(z0, int(m)))
    return {k: np.asarray(v) for k, v in rows.items()}


# ---------------------------------------------------------------------------------------
# 4. statistics for inference
# ---------------------------------------------------------------------------------------
def running_update(running_mean, running_var, batch, momentum: float = 0.1):
    """One step of PyTorch's BatchNorm running statistics (train mode), for a batch (m, d):

        running_mean <- (1 - momentum) * running_mean + momentum * mu_B
        running_var  <- (1 - momentum) * running_var  + momentum * s^2_B,   s^2_B = m/(m-1) * sigma^2_B

    The running variance uses the unbiased estimate s^2_B while the batch itself is normalised
    with the biased sigma^2_B. Note PyTorch's `momentum` is the weight of the NEW value
    (Keras' momentum=0.99 is the weight of the old one: same EMA, opposite names).
    """
    batch = _as_2d(batch)
    m = batch.shape[0]
    mu = batch.mean(axis=0)
    var_unbiased = batch.var(axis=0) * m / (m - 1)
    new_mean = (1.0 - momentum) * np.asarray(running_mean, dtype=np.float64) + momentum * mu
    new_var = (1.0 - momentum) * np.asarray(running_var, dtype=np.float64) + momentum * var_unbiased
    return new_mean, new_var


def bias_correct(running, start, momentum: float, t: int):
    """Remove the start value's leftover weight (1-momentum)^t from an EMA after t updates:

        r_t = (1-a)^t r_0 + sum_s a (1-a)^(t-s) v_s   =>   (r_t - (1-a)^t r_0) / (1 - (1-a)^t)

    is a weighted average of the batch values only (weights sum to one). Adam's correction
    is the case r_0 = 0. t = 0 has no batches: returned as the start value.
    """
    if t <= 0:
        return np.asarray(running, dtype=np.float64) * 0 + start
    decay = (1.0 - momentum) ** t
    if decay >= 1.0:   # momentum 0: nothing learned
        return np.asarray(running, dtype=np.float64)
    return (np.asarray(running, dtype=np.float64) - decay * start) / (1.0 - decay)


def batch_draws(pop, m: int, steps: int, seed: int = 0) -> np.ndarray:
    """The `steps` mini-batches of size m (without replacement within a batch) that running_trajectory
    feeds, as a (steps, m) array: they depend on m and the seed, not on the momentum."""
    pop = np.asarray(pop, dtype=np.float64)
    rng = np.random.default_rng(seed)
    return np.stack([pop[rng.choice(pop.size, size=m, replace=False)] for _ in range(steps)]) if steps else \
        np.empty((0, m))


def running_trajectory(pop, m: int, steps: int, momentum: float = 0.1, seed: int = 0,
                       init_mean: float = 0.0, init_var: float = 1.0, batches: np.ndarray | None = None) -> dict:
    """Feed `steps` mini-batches of size m from a 1-D population (batch_draws(pop, m, steps, seed), or
    `batches` already drawn) through running_update's rule, as PyTorch would during training. Returns
    per-step arrays (length steps+1, index 0 = before any batch): running mean/var, their bias-corrected
    versions, and each batch's mu_B and sigma^2_B. The rule is applied to the batches' statistics in one
    pass (tests/test_batchnorm.py replays the same batches through torch's BatchNorm1d)."""
    batches = batch_draws(pop, m, steps, seed) if batches is None else np.asarray(batches, dtype=np.float64)
    mu, var = batches.mean(axis=1), batches.var(axis=1)
    out = dict(mean=_ema(mu, init_mean, momentum), var=_ema(var * m / (m - 1), init_var, momentum),
               batch_mean=np.concatenate([[np.nan], mu]), batch_var=np.concatenate([[np.nan], var]))
    t = np.arange(steps + 1)
    for key, start in (("mean", init_mean), ("var", init_var)):
        bc = [bias_correct(r, start, momentum, int(k)) for r, k in zip(out[key][1:], t[1:])]
        out[f"{key}_bc"] = np.concatenate([[start], np.asarray(bc, dtype=np.float64).reshape(-1)])
    return out


def _ema(values: np.ndarray, start: float, momentum: float) -> np.ndarray:
    """running_update's rule, r <- (1 - momentum) r + momentum v, over a sequence: [r_0, r_1, ...]."""
    out, r = [float(start)], float(start)
    for v in values.tolist():
        r = (1.0 - momentum) * r + momentum * v
        out.append(r)
    return np.asarray(out)


def start_weight(momentum: float, t: int) -> float:
    """The weight (1 - momentum)^t the running average still gives its start value after t updates."""
    return float((1.0 - momentum) ** t)


def whole_set_stats(pop) -> dict:
    """Mean and variance over the whole training set: biased (divide by N) and unbiased (N-1)."""
    pop = np.asarray(pop, dtype=np.float64)
    return dict(mean=float(pop.mean()), var_biased=float(pop.var()), var_unbiased=float(pop.var(ddof=1)))


def normalize_with(value, mean, var, gamma: float = 1.0, beta: float = 0.0, eps: float = EPS):
    """Inference-mode BN: gamma (value - mean)/sqrt(var + eps) + beta with fixed statistics."""
    return gamma * (np.asarray(value, dtype=np.float64) - mean) / np.sqrt(var + eps) + beta


# ---------------------------------------------------------------------------------------
# reference: the same gradient from torch autograd (shown beside the hand-derived one)
# ---------------------------------------------------------------------------------------
def autograd_reference(x, gamma, beta, dy, eps: float = EPS):
    """dL/dx, dL/dgamma, dL/dbeta for L = sum(dy * BN(x)), by torch autograd through the forward formula
    (no hand-written backward involved). float64; returns NumPy arrays shaped like batch_norm_backward's."""
    import torch

    xt = torch.tensor(_as_2d(x), dtype=torch.float64, requires_grad=True)
    d = xt.shape[1]
    g = torch.tensor(np.broadcast_to(np.asarray(gamma, dtype=np.float64), (d,)).copy(), requires_grad=True)
    b = torch.tensor(np.broadcast_to(np.asarray(beta, dtype=np.float64), (d,)).copy(), requires_grad=True)
    mu = xt.mean(dim=0)
    var = ((xt - mu) ** 2).mean(dim=0)
    y = g * (xt - mu) / torch.sqrt(var + eps) + b
    (y * torch.tensor(_as_2d(dy), dtype=torch.float64)).sum().backward()
    return xt.grad.numpy(), g.grad.numpy(), b.grad.numpy()


def upstream_gradient(kind: str, y, seed: int = 0) -> np.ndarray:
    """The gradient dL/dy arriving from above, for the three losses of section c:
    "random": a fixed random vector (L = sum g_i y_i); "target": L = 1/2 sum (y_i - t_i)^2 with t ~ N(0, 1),
    so dL/dy = y - t; "sum": L = sum y_i, dL/dy = 1 (and dL/dx = 0: the sum of BN outputs is m*beta)."""
    y = _as_2d(y)
    rng = np.random.default_rng(seed)
    if kind == "random":
        return rng.normal(size=y.shape)
    if kind == "target":
        return y - rng.normal(size=y.shape)
    if kind == "sum":
        return np.ones_like(y)
    raise ValueError(f"unknown upstream gradient {kind!r}")
