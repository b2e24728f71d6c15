"""Lesson 1 maths: tanh saturation, a layer of tanh units, and gradient descent on
linear regression with badly scaled features. NumPy only (tests check against torch).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The notes call |tanh| above this "saturated": tanh(2) = 0.964 is their example.
DEFAULT_SATURATION = 0.96


# --------------------------------------------------------------------------- a. one unit
@dataclass(frozen=True)
class TanhUnit:
    """a = tanh(z), z = w·x, and how much a moves when x does."""

    w: float
    x: float
    z: float
    a: float
    dadz: float  # 1 - tanh(z)^2
    dadx: float  # w * (1 - tanh(z)^2): the unit's sensitivity to its input


def tanh_unit(w: float, x: float) -> TanhUnit:
    z = w * x
    a = float(np.tanh(z))
    dadz = 1.0 - a * a
    return TanhUnit(w=w, x=x, z=z, a=a, dadz=dadz, dadx=w * dadz)


def tanh_curve(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """tanh(z) and its derivative 1 - tanh(z)^2."""
    a = np.tanh(z)
    return a, 1.0 - a * a


NOTES_CASES = (1.0, 20.0, 40.0, 100.0)  # the notes' x = 1 and x = 20, then pushed further


def first_saturated(w: float, threshold: float, xs: tuple[float, ...] = NOTES_CASES) -> float | None:
    """The first x in `xs` at which tanh(w*x) is past the threshold (|a| > threshold), or None."""
    for x in xs:
        if abs(np.tanh(w * x)) > threshold:
            return x
    return None


def saturation_z(threshold: float) -> float:
    """|tanh(z)| > threshold  <=>  |z| > atanh(threshold)."""
    if not 0.0 < threshold < 1.0:
        raise ValueError("threshold must be in (0, 1)")
    return float(np.arctanh(threshold))


# --------------------------------------------------------------------------- b. a layer
@dataclass(frozen=True)
class LayerStats:
    activations: np.ndarray  # (n, units) tanh outputs
    saturated_fraction: float  # share of |a| > threshold
    mean_local_grad: float  # mean of 1 - a^2: the share of the gradient that gets through tanh
    grad_w_norm: float  # ||dL/dW||_F for the fixed upstream gradient
    grad_x_norm: float  # ||dL/dX||_F: what reaches the layer below


def layer_inputs(scale: float, n: int = 256, d: int = 20, seed: int = 0) -> np.ndarray:
    """A batch of raw, non-negative features in [0, scale] (like pixel values or prices)."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0.0, 1.0, size=(n, d)) * scale


def standardise(x: np.ndarray) -> np.ndarray:
    """Zero mean, unit variance per feature (the batch's own statistics)."""
    return (x - x.mean(axis=0)) / x.std(axis=0)


def layer_params(d: int, units: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PyTorch's default nn.Linear initialisation: W, b ~ U(-1/sqrt(d), 1/sqrt(d)).

    Also returns a fixed upstream gradient dL/da ~ N(0, 1)/n-style (scaled later), so the
    gradient sizes compare like with like across settings.
    """
    rng = np.random.default_rng(seed)
    bound = 1.0 / np.sqrt(d)
    w = rng.uniform(-bound, bound, size=(d, units))
    b = rng.uniform(-bound, bound, size=units)
    g = rng.standard_normal(size=(512, units))
    return w, b, g


def tanh_layer(x: np.ndarray, w: np.ndarray, b: np.ndarray, upstream: np.ndarray,
               threshold: float = DEFAULT_SATURATION) -> LayerStats:
    """Forward a = tanh(xW + b) and backward for L = sum(upstream * a) / n."""
    n = x.shape[0]
    a = np.tanh(x @ w + b)  # (n, units)
    g = upstream[:n, : w.shape[1]] / n  # dL/da
    delta = g * (1.0 - a * a)  # dL/dz
    grad_w = x.T @ delta  # (d, units)
    grad_x = delta @ w.T  # (n, d)
    return LayerStats(
        activations=a,
        saturated_fraction=float(np.mean(np.abs(a) > threshold)),
        mean_local_grad=float(np.mean(1.0 - a * a)),
        grad_w_norm=float(np.linalg.norm(grad_w)),
        grad_x_norm=float(np.linalg.norm(grad_x)),
    )


def saturation_vs_scale(scales: np.ndarray, units: int, standardised: bool,
                        threshold: float = DEFAULT_SATURATION, d: int = 20) -> np.ndarray:
    """Fraction of saturated units for each input scale (same weights throughout)."""
    w, b, g = layer_params(d, units)
    out = []
    for s in scales:
        x = layer_inputs(float(s), d=d)
        if standardised:
            x = standardise(x)
        out.append(tanh_layer(x, w, b, g, threshold).saturated_fraction)
    return np.array(out)


# --------------------------------------------------------------------------- c. regression
@dataclass(frozen=True)
class Regression:
    """Least squares L(w) = ||X w - y||^2 / (2n): a quadratic with Hessian H = X^T X / n."""

    X: np.ndarray  # (n, 2)
    y: np.ndarray  # (n,)
    H: np.ndarray  # (2, 2) Hessian
    w_star: np.ndarray  # minimiser
    loss_star: float

    @property
    def eigenvalues(self) -> np.ndarray:
        return np.linalg.eigvalsh(self.H)  # ascending

    @property
    def condition_number(self) -> float:
        lo, hi = self.eigenvalues
        return float(hi / lo)

    @property
    def lr_limit(self) -> float:
        """Gradient descent on a quadratic converges iff 0 < lr < 2 / lambda_max."""
        return float(2.0 / self.eigenvalues[-1])

    @property
    def lr_best(self) -> float:
        """The constant rate that minimises the slowest contraction: 2 / (lambda_min + lambda_max)."""
        lo, hi = self.eigenvalues
        return float(2.0 / (lo + hi))

    def error_growth(self, lr: float) -> float:
        """max_i |1 - lr * lambda_i|: the factor by which the slowest-shrinking (or fastest-growing)
        error component is multiplied each step. Gradient descent converges iff this is < 1."""
        return float(np.max(np.abs(1.0 - lr * self.eigenvalues)))

    def loss(self, w: np.ndarray) -> np.ndarray:
        """L at one point (2,) or many (..., 2), from the quadratic form (exact)."""
        e = np.asarray(w, dtype=float) - self.w_star
        return self.loss_star + 0.5 * np.einsum("...i,ij,...j->...", e, self.H, e)

    def grad(self, w: np.ndarray) -> np.ndarray:
        return self.H @ (np.asarray(w, dtype=float) - self.w_star)


def make_regression(x2_range: float = 1000.0, n: int = 200, seed: int = 0,
                    standardised: bool = False) -> Regression:
    """Two features: x1 in [0, 1] and x2 in [0, x2_range]; y = 2 x1 + 3 x2 / x2_range + noise.

    With `standardised=True` both features become zero-mean, unit-variance and y is centred:
    the intercept then decouples (it is mean(y)) so the 2-D picture is the whole problem.
    The raw problem has no intercept, so it too is exactly two-dimensional.
    """
    rng = np.random.default_rng(seed)
    x1 = rng.uniform(0, 1, n)
    x2 = rng.uniform(0, x2_range, n)
    y = 2.0 * x1 + 3.0 * x2 / x2_range + 0.1 * rng.standard_normal(n)
    X = np.stack([x1, x2], axis=1)
    if standardised:
        X = standardise(X)
        y = y - y.mean()
    H = X.T @ X / n
    w_star = np.linalg.solve(H, X.T @ y / n)
    r = X @ w_star - y
    return Regression(X=X, y=y, H=H, w_star=w_star, loss_star=float(r @ r / (2 * n)))


@dataclass(frozen=True)
class DescentPath:
    path: np.ndarray  # (k+1, 2) the iterates, stopped early if they diverge
    losses: np.ndarray  # (k+1,)
    diverged_at: int | None  # step at which the loss blew up, or None


def gradient_descent(problem: Regression, w0: np.ndarray, lr: float, steps: int,
                     blowup: float = 1e6) -> DescentPath:
    """Plain gradient descent w <- w - lr * grad L(w), stopped when the loss exceeds
    `blowup` times its starting value (or stops being finite): that step is reported."""
    w = np.asarray(w0, dtype=float).copy()
    path, losses = [w.copy()], [float(problem.loss(w))]
    limit = blowup * max(losses[0], 1e-12)
    for k in range(1, steps + 1):
        w = w - lr * problem.grad(w)
        loss = float(problem.loss(w))
        if not np.isfinite(loss) or loss > limit:
            return DescentPath(np.array(path), np.array(losses), diverged_at=k)
        path.append(w.copy())
        losses.append(loss)
    return DescentPath(np.array(path), np.array(losses), diverged_at=None)


def descent_verdict(problem: Regression, d: DescentPath, lr: float) -> tuple[str, dict]:
    """What the page says about a run: "diverged" | "diverging" | "converging", and the numbers it quotes.

    A rate at or past 2/lambda_max never converges, even before the loss blows up enough
    for `gradient_descent` to cut the path: the page says so at once, with the growth factor.
    """
    fields = dict(lr=lr, limit=problem.lr_limit, rho=problem.error_growth(lr), steps=len(d.path) - 1,
                  gap=float(d.losses[-1] - problem.loss_star), step=d.diverged_at)
    if d.diverged_at is not None:
        return "diverged", fields
    return ("diverging" if lr >= problem.lr_limit else "converging"), fields


def steps_to_reach(problem: Regression, w0: np.ndarray, lr: float, target_excess: float,
                   max_steps: int = 10**12) -> int | None:
    """Fewest steps k with L(w_k) - L* <= target_excess, from the closed form.

    In H's eigenbasis each error component shrinks by (1 - lr*lambda_i) per step, so
    L(w_k) - L* = 1/2 sum_i lambda_i c_i^2 (1 - lr lambda_i)^(2k). Monotone in k when
    every |1 - lr lambda_i| < 1; returns None if it never gets there (diverges or stalls).
    """
    lam, V = np.linalg.eigh(problem.H)
    c = V.T @ (np.asarray(w0, dtype=float) - problem.w_star)
    rho = np.abs(1.0 - lr * lam)
    weights = 0.5 * lam * c * c

    def excess(k: float) -> float:
        return float(np.sum(weights * rho ** (2 * k)))

    if excess(0) <= target_excess:
        return 0
    if np.any(rho[weights > 0] >= 1.0):
        return None
    lo, hi = 0, 1
    while excess(hi) > target_excess:
        lo, hi = hi, hi * 2
        if hi > max_steps:
            return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if excess(mid) > target_excess:
            lo = mid
        else:
            hi = mid
    return hi
