"""Lesson 3 maths, section d: the catch. How much of the direct layer's output survives a
bottleneck of `ch_red` channels.

The input's C_in channels are mixtures of `latent` underlying signals plus a little noise.
For a linear bottleneck the best possible error has a closed form (Eckart–Young on the
direct layer's weights, weighted by the input's covariance and by how often each kernel
offset sees a real pixel); `train_bottleneck` fits a real 1×1 + k×k pair by Adam and is
checked against it.

Deviation from GoogLeNet, on purpose: no ReLU after the 1×1 here, so that the optimum has
a closed form to check training against (the page says so).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np

if TYPE_CHECKING:  # torch is imported by the functions that train (lesson 3's page opens without it)
    import torch
    from torch import nn

from widgets.bottleneck import ConvShape, bottleneck_cost, breakeven_ch_red, direct_cost


@dataclass(frozen=True)
class TradeoffSetup:
    """A small layer for the trade-off experiment (seconds on one core).

    Pixels are i.i.d.: x = A·z + noise·ε with z ~ N(0, I_latent), so the C_in channels are
    redundant copies of `latent` underlying signals, as real feature maps are correlated.
    """

    ch_in: int = 32
    ch_out: int = 16
    k: int = 3
    size: int = 8
    latent: int = 6
    noise: float = 0.05
    seed: int = 0

    def mixing(self) -> np.ndarray:
        """A, (C_in, latent), scaled so each channel has variance about 1."""
        rng = np.random.default_rng(self.seed)
        return rng.normal(size=(self.ch_in, self.latent)) / math.sqrt(self.latent)

    def teacher(self) -> np.ndarray:
        """The direct k×k layer's weights, (C_out, C_in, k, k)."""
        rng = np.random.default_rng(self.seed + 1)
        return rng.normal(size=(self.ch_out, self.ch_in, self.k, self.k)) / math.sqrt(self.ch_in * self.k**2)

    def covariance(self) -> np.ndarray:
        a = self.mixing()
        return a @ a.T + self.noise**2 * np.eye(self.ch_in)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """n images, (n, C_in, size, size), float32."""
        import torch

        a = torch.as_tensor(self.mixing(), dtype=torch.float32)
        z = torch.randn(n, self.size, self.size, self.latent, generator=generator)
        x = z @ a.T + self.noise * torch.randn(n, self.size, self.size, self.ch_in, generator=generator)
        return x.permute(0, 3, 1, 2).contiguous()


def offset_counts(size: int, k: int) -> np.ndarray:
    """(k, k): for each kernel offset, how many output pixels of a size×size 'same' conv see a
    real (not padded) input pixel through it."""
    pad = k // 2
    per_axis = np.array([size - abs(d - pad) for d in range(k)], dtype=float)
    return np.outer(per_axis, per_axis)


def _weighted_operator(setup: TradeoffSetup) -> np.ndarray:
    """M = D · W_stack · Σ^½, rows (offset, C_out), columns C_in.

    With i.i.d. pixels the direct layer's expected output energy is ||M||²_F and a bottleneck
    U (ch_red × C_in), V (offsets × C_out × ch_red) leaves error ||D(W − V U)Σ^½||²_F:
    the best rank-ch_red approximation of M (Eckart–Young)."""
    w = setup.teacher()                                             # (O, C, k, k)
    w_stack = w.transpose(2, 3, 0, 1).reshape(-1, setup.ch_in)        # (k·k·O, C)
    d = np.repeat(np.sqrt(offset_counts(setup.size, setup.k).ravel()), setup.ch_out)
    evals, evecs = np.linalg.eigh(setup.covariance())
    sqrt_cov = (evecs * np.sqrt(np.clip(evals, 0, None))) @ evecs.T
    return d[:, None] * w_stack @ sqrt_cov


def best_relative_error(setup: TradeoffSetup, ch_red: int) -> float:
    """Smallest possible E||y_direct − y_bottleneck||² / E||y_direct||² for a linear
    bottleneck of `ch_red` channels (closed form from the singular values)."""
    s2 = np.linalg.svd(_weighted_operator(setup), compute_uv=False) ** 2
    return float(s2[ch_red:].sum() / s2.sum())


def best_bottleneck_weights(setup: TradeoffSetup, ch_red: int) -> tuple[np.ndarray, np.ndarray]:
    """The optimal (U, V): U (ch_red, C_in) for the 1×1, V (C_out, ch_red, k, k) for the k×k."""
    m = _weighted_operator(setup)
    u_, s_, vt = np.linalg.svd(m, full_matrices=False)
    evals, evecs = np.linalg.eigh(setup.covariance())
    inv_sqrt_cov = (evecs / np.sqrt(evals)) @ evecs.T
    r = min(ch_red, len(s_))
    u_mat = np.zeros((ch_red, setup.ch_in))
    u_mat[:r] = vt[:r] @ inv_sqrt_cov                               # 1×1 weights
    d = np.repeat(np.sqrt(offset_counts(setup.size, setup.k).ravel()), setup.ch_out)
    v_stack = np.zeros((m.shape[0], ch_red))
    v_stack[:, :r] = (u_[:, :r] * s_[:r]) / d[:, None]               # undo the row weights
    v = v_stack.reshape(setup.k, setup.k, setup.ch_out, ch_red).transpose(2, 3, 0, 1)
    return u_mat, v


def relative_error(y_ref: torch.Tensor, y: torch.Tensor) -> float:
    return float(((y_ref - y) ** 2).sum() / (y_ref**2).sum())


def bottleneck_module(ch_in: int, ch_red: int, ch_out: int, k: int) -> nn.Sequential:
    """1×1 (C_in → ch_red) then k×k 'same' (ch_red → C_out), no bias, no ReLU (see train_bottleneck)."""
    from torch import nn

    return nn.Sequential(nn.Conv2d(ch_in, ch_red, 1, bias=False),
                         nn.Conv2d(ch_red, ch_out, k, padding=k // 2, bias=False))


def teacher_module(setup: TradeoffSetup) -> nn.Conv2d:
    import torch
    from torch import nn

    conv = nn.Conv2d(setup.ch_in, setup.ch_out, setup.k, padding=setup.k // 2, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.as_tensor(setup.teacher(), dtype=torch.float32))
    return conv


#: Adam steps per bottleneck width in the trade-off experiment (about half a second each on one core).
TRAIN_STEPS = 200


def train_bottleneck(setup: TradeoffSetup, ch_red: int, steps: int = TRAIN_STEPS, batch: int = 16, lr: float = 0.02,
                     eval_images: int = 256, should_stop: Callable[[], bool] | None = None) -> float:
    """Fit a bottlenecked layer to the direct layer's output by Adam on fresh samples;
    return its relative error on held-out images.

    Linear on purpose (no ReLU after the 1×1, unlike GoogLeNet): then the best possible
    error has the closed form `best_relative_error`, and training can be checked against it.
    """
    import torch

    g = torch.Generator().manual_seed(setup.seed + 100 + ch_red)
    torch.manual_seed(setup.seed + 200 + ch_red)
    teacher = teacher_module(setup).requires_grad_(False)
    student = bottleneck_module(setup.ch_in, ch_red, setup.ch_out, setup.k)
    opt = torch.optim.Adam(student.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    for step in range(steps):
        if should_stop and step % 20 == 0 and should_stop():
            break
        x = setup.sample(batch, g)
        loss = ((student(x) - teacher(x)) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    x = setup.sample(eval_images, torch.Generator().manual_seed(setup.seed + 999))
    with torch.no_grad():
        return relative_error(teacher(x), student(x))


def tradeoff_ch_reds(ch_in: int) -> list[int]:
    """The bottleneck widths tried: 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, … up to C_in."""
    return [v for v in (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64) if v <= ch_in]


def tradeoff_cost_share(setup: TradeoffSetup, ch_red: int) -> float:
    """Bottleneck-path multiplications as a fraction of the direct path's, at the experiment's shape."""
    s = ConvShape(setup.size, setup.size, setup.ch_in, setup.k, setup.ch_out, ch_red)
    return bottleneck_cost(s).macs / direct_cost(s).macs


def knee_widths(setup: TradeoffSetup, ch_reds: list[int]) -> tuple[int | None, int | None]:
    """The two widths the page discusses: the widest one narrower than the input's `latent`
    signals (None if there is none) and the narrowest one at least that wide (None if none)."""
    narrow = [r for r in ch_reds if r < setup.latent]
    wide = [r for r in ch_reds if r >= setup.latent]
    return (narrow[-1] if narrow else None), (wide[0] if wide else None)


def largest_gap(setup: TradeoffSetup, trained: dict[int, float]) -> float:
    """The largest amount (relative error) by which a trained width missed the closed-form optimum."""
    return max((err - best_relative_error(setup, r) for r, err in trained.items()), default=0.0)


def breakeven_width(setup: TradeoffSetup) -> float:
    """The ch_red past which the bottleneck path costs more than the direct layer, at the experiment's shape."""
    return breakeven_ch_red(ConvShape(setup.size, setup.size, setup.ch_in, setup.k, setup.ch_out, 1))
