"""Lesson 3 maths, section a: what a 1×1 convolution computes.

On one channel it multiplies every pixel by one number; on C channels it is a fully
connected layer C → n applied at every pixel. The check the page shows runs torch's own
`nn.Conv2d(C, n, 1)` and `nn.Linear(C, n)` on the same numbers, and compares their
difference with the most float64 rounding allows (Higham's bound for a dot product).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# torch is imported by the one check that runs it (conv1x1_vs_linear_per_filter): lesson 3's first
# section draws from NumPy alone and does not wait for torch (~2 s of a kernel's start).

#: The unit roundoff of float64 (2⁻⁵³): a rounded result is within this fraction of the exact one.
FLOAT64_U = 2.0**-53


def demo_image(size: int = 6) -> np.ndarray:
    """A small one-channel image with whole-number pixels (a diagonal ramp)."""
    i, j = np.indices((size, size))
    return ((i + 2 * j) % 7 + 1).astype(float)


def conv1x1_single_channel(image: np.ndarray, weight: float) -> np.ndarray:
    """A 1×1 convolution on one channel: every pixel times the one weight."""
    return np.asarray(image, dtype=float) * weight


def demo_volume(height: int = 6, width: int = 6, channels: int = 8, seed: int = 3) -> np.ndarray:
    """A small C-channel image, (H, W, C), with whole-number values from -3 to 3."""
    rng = np.random.default_rng(seed)
    return rng.integers(-3, 4, size=(height, width, channels)).astype(float)


def demo_filters(channels: int = 8, max_filters: int = 16, seed: int = 4) -> np.ndarray:
    """`max_filters` 1×1 filters, (F, C), weights rounded to one decimal so they can be read.
    The first n are used for n filters, so adding a filter keeps the others."""
    rng = np.random.default_rng(seed)
    return np.round(rng.normal(0.0, 0.5, size=(max_filters, channels)), 1)


def relu(z):
    return np.maximum(z, 0.0)


def conv1x1(volume: np.ndarray, filters: np.ndarray, apply_relu: bool = True) -> np.ndarray:
    """1×1 convolution of an (H, W, C) volume with (F, C) filters -> (H, W, F): at each
    pixel, the dot product of the pixel's C-vector with each filter (then ReLU)."""
    out = np.einsum("hwc,fc->hwf", volume, filters)
    return relu(out) if apply_relu else out


@dataclass(frozen=True)
class PixelDot:
    """One output number of a 1×1 convolution, spelled out."""

    x: np.ndarray      # the pixel's channel vector, (C,)
    w: np.ndarray      # the filter, (C,)
    z: float           # x · w
    out: float         # ReLU(z)

    def formula(self, max_terms: int = 16) -> str:
        terms = [f"({a:g})·({b:g})" for a, b in zip(self.x, self.w)]
        if len(terms) > max_terms:
            terms = terms[: max_terms - 1] + ["…"]
        return f"ReLU({' + '.join(terms)}) = ReLU({self.z:.2f}) = {self.out:.2f}"


def pixel_dot(volume: np.ndarray, filters: np.ndarray, row: int, col: int, f: int) -> PixelDot:
    x, w = volume[row, col], filters[f]
    z = float(np.dot(x, w))
    return PixelDot(x, w, z, max(z, 0.0))


def channel_change(ch_in: int, n_filters: int) -> str:
    """What n filters do to the channel count: the kind 'compression', 'expansion' or 'same width'
    (a page words the kind in its own language)."""
    if n_filters < ch_in:
        return "compression"
    if n_filters > ch_in:
        return "expansion"
    return "same width"


def conv1x1_vs_linear(volume: np.ndarray, filters: np.ndarray) -> float:
    """Largest |difference| between torch's 1×1 `nn.Conv2d` and an `nn.Linear(C, F)` with the
    same weights applied to every pixel's channel vector (float64: they agree to rounding)."""
    return float(conv1x1_vs_linear_per_filter(volume, filters).max())


def conv1x1_vs_linear_per_filter(volume: np.ndarray, filters: np.ndarray) -> np.ndarray:
    """The same check, one number per filter, (F,). Output channel f depends on filter f only,
    so the first n numbers check the first n filters (up to rounding: a run with n filters
    may sum in another order and differ in the last bit)."""
    import torch
    from torch import nn

    n_f, c = filters.shape
    conv = nn.Conv2d(c, n_f, 1, bias=False, dtype=torch.float64)
    lin = nn.Linear(c, n_f, bias=False, dtype=torch.float64)
    with torch.no_grad():
        conv.weight.copy_(torch.as_tensor(filters).view(n_f, c, 1, 1))
        lin.weight.copy_(torch.as_tensor(filters))
        x = torch.as_tensor(volume, dtype=torch.float64)                  # (H, W, C)
        by_conv = conv(x.permute(2, 0, 1).unsqueeze(0))[0].permute(1, 2, 0)  # (H, W, F)
        by_linear = lin(x.reshape(-1, c)).reshape(*x.shape[:2], n_f)      # (H·W, C) -> (H, W, F)
    return (by_conv - by_linear).abs().amax(dim=(0, 1)).numpy()


def conv1x1_vs_linear_by_width(volume: np.ndarray, filters: np.ndarray) -> np.ndarray:
    """The check the page shows, for every width: entry n − 1 is the largest |difference| between
    `nn.Conv2d(C, n, 1)` and `nn.Linear(C, n)` holding the first n filters, over all H·W·n outputs."""
    return np.array([conv1x1_vs_linear(volume, filters[:n]) for n in range(1, len(filters) + 1)])


def rounding_bound(volume: np.ndarray, filters: np.ndarray) -> float:
    """How far apart two float64 evaluations of the same outputs may be, in any summation order.

    Each computed dot product of C terms is within γ_C·Σ|x_c·w_c| of the exact one, with
    γ_C = C·u / (1 − C·u) (Higham, Accuracy and Stability of Numerical Algorithms, eq. 3.5);
    two of them are at most twice that apart. Taken at the output where Σ|x_c·w_c| is largest.
    """
    c = filters.shape[1]
    gamma = c * FLOAT64_U / (1 - c * FLOAT64_U)
    worst = np.einsum("hwc,fc->hwf", np.abs(volume), np.abs(filters)).max()
    return float(2 * gamma * worst)


def agreement(difference: float, bound: float) -> str:
    """What the page says of the check: 'identical' (to the last bit), 'rounding' (within the bound), or 'differ'."""
    if difference == 0:
        return "identical"
    return "rounding" if difference <= bound else "differ"
