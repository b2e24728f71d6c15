"""Lesson 3 maths: 1×1 convolutions and the bottleneck.

Pure NumPy / PyTorch, no view code. Everything the page shows is computed here:

* the cost of a k×k 'same' convolution, directly or behind a 1×1 bottleneck
  (multiplications and weights, biases counted separately);
* the same counts measured by PyTorch's own `FlopCounterMode` on real `nn.Conv2d` modules;
* wall-clock timing of both paths, repeated, summarised by the median;
* the 1×1 convolution as a fully connected layer applied at every pixel;
* the catch: how much of the direct layer's output a bottleneck of `ch_red` channels
  can keep (closed form by SVD, and by a few seconds of training).

Conventions. A "multiplication" is one multiply-add of the convolution. PyTorch's
`FlopCounterMode` counts FLOPs = 2 × multiply-adds for convolutions, so its figure is
halved before it is compared. Multiplications by the zeros of 'same' padding are
counted, as the hardware does them and as `FlopCounterMode` does. Biases add
additions, not multiplications; the weight counts are given without and with biases
(the notes' figures, e.g. 5·5·192·32 = 153,600, are without).
"""
from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from torch import nn

# --------------------------------------------------------------------------- the notes' example
#: 28×28×192 input, 5×5 convolution with 32 filters, optional 16-channel 1×1 bottleneck.
NOTES_SHAPE = dict(height=28, width=28, ch_in=192, k=5, ch_out=32, ch_red=16)
#: What the handwritten note wrote for the direct path (a slip: the product is 120,422,400).
NOTES_CLAIMED_DIRECT = 1_200_000_000

#: Bounds for typed sizes. The cost formulas are exact Python integers and take any size;
#: these bounds only keep the page readable.
MAX_SIDE = 100_000
MAX_CHANNELS = 1_000_000
MAX_K = 31

#: Real modules (timing, FLOP counting off the meta device) refuse shapes above these.
MAX_BYTES = 256 * 2**20          # memory the two paths may allocate together
MAX_TIMED_MACS = 4_000_000_000   # multiply-adds of the direct path per timed run (~0.1–1 s on a CPU core)


@dataclass(frozen=True)
class ConvShape:
    """H × W × C_in input, k × k 'same' convolution with ch_out filters, 1×1 bottleneck of ch_red."""

    height: int
    width: int
    ch_in: int
    k: int
    ch_out: int
    ch_red: int

    def __post_init__(self):
        for name in ("height", "width", "ch_in", "k", "ch_out", "ch_red"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise ValueError(f"{name} must be a whole number, got {v!r}")
            if v < 1:
                raise ValueError(f"{name} must be at least 1, got {v}")
        if self.k % 2 == 0:
            # 'same' padding with an even kernel pads one side more than the other; the
            # lesson sticks to odd kernels (1, 3, 5, …) as GoogLeNet does.
            raise ValueError(f"k must be odd for 'same' padding, got {self.k}")

    @classmethod
    def notes(cls) -> "ConvShape":
        return cls(**NOTES_SHAPE)

    @property
    def pixels(self) -> int:
        return self.height * self.width


# --------------------------------------------------------------------------- cost formulas
def conv_macs(height: int, width: int, ch_in: int, ch_out: int, k: int) -> int:
    """Multiply-adds of a k×k 'same' convolution: every one of the H·W·C_out outputs is a
    dot product of length k·k·C_in."""
    return height * width * ch_out * k * k * ch_in


def conv_weights(ch_in: int, ch_out: int, k: int, bias: bool = False) -> int:
    """Learned numbers of a k×k convolution: k·k·C_in per filter, C_out filters (+ C_out biases)."""
    return k * k * ch_in * ch_out + (ch_out if bias else 0)


@dataclass(frozen=True)
class PathCost:
    """Cost of one path: a list of (layer name, multiplications, weights, biases)."""

    layers: tuple[tuple[str, int, int, int], ...]

    @property
    def macs(self) -> int:
        return sum(m for _, m, _, _ in self.layers)

    @property
    def weights(self) -> int:
        return sum(w for _, _, w, _ in self.layers)

    @property
    def biases(self) -> int:
        return sum(b for _, _, _, b in self.layers)

    @property
    def weights_with_bias(self) -> int:
        return self.weights + self.biases


def direct_cost(s: ConvShape) -> PathCost:
    """The k×k convolution applied straight to the C_in-channel input."""
    return PathCost(((f"{s.k}×{s.k} conv", conv_macs(s.height, s.width, s.ch_in, s.ch_out, s.k),
                      conv_weights(s.ch_in, s.ch_out, s.k), s.ch_out),))


def bottleneck_cost(s: ConvShape) -> PathCost:
    """1×1 conv C_in → ch_red, then the k×k conv ch_red → C_out."""
    return PathCost((
        ("1×1 conv", conv_macs(s.height, s.width, s.ch_in, s.ch_red, 1), conv_weights(s.ch_in, s.ch_red, 1), s.ch_red),
        (f"{s.k}×{s.k} conv", conv_macs(s.height, s.width, s.ch_red, s.ch_out, s.k),
         conv_weights(s.ch_red, s.ch_out, s.k), s.ch_out),
    ))


def cost_ratio(s: ConvShape) -> float:
    """How many times fewer multiplications the bottleneck path needs (>1: it is cheaper)."""
    return direct_cost(s).macs / bottleneck_cost(s).macs


def formula_direct(s: ConvShape) -> str:
    """The direct-path product with the current numbers, e.g. '28·28·32·5·5·192 = 120,422,400'."""
    return f"{s.height}·{s.width}·{s.ch_out}·{s.k}·{s.k}·{s.ch_in} = {direct_cost(s).macs:,}"


def formula_bottleneck(s: ConvShape) -> str:
    """'28·28·16·192 + 28·28·32·5·5·16 = 2,408,448 + 10,035,200 = 12,443,648'."""
    (_, m1, _, _), (_, m2, _, _) = bottleneck_cost(s).layers
    return (f"{s.height}·{s.width}·{s.ch_red}·{s.ch_in} + {s.height}·{s.width}·{s.ch_out}·{s.k}·{s.k}·{s.ch_red}"
            f" = {m1:,} + {m2:,} = {m1 + m2:,}")


def breakeven_ch_red(s: ConvShape) -> float:
    """The ch_red at which both paths cost the same: C_in·C_out·k² / (C_in + C_out·k²).
    A wider bottleneck costs more than no bottleneck at all."""
    return s.ch_in * s.ch_out * s.k**2 / (s.ch_in + s.ch_out * s.k**2)


def notes_slip(s: ConvShape | None = None) -> dict:
    """Compare the note's '≈ 1.2B' with the product it meant (at the notes' shape)."""
    s = s or ConvShape.notes()
    direct, bott = direct_cost(s).macs, bottleneck_cost(s).macs
    return dict(claimed=NOTES_CLAIMED_DIRECT, actual=direct, bottleneck=bott, factor=NOTES_CLAIMED_DIRECT / direct,
                true_ratio=direct / bott, claimed_ratio=NOTES_CLAIMED_DIRECT / bott)


# --------------------------------------------------------------------------- real modules
def make_paths(s: ConvShape, device: str = "cpu", bias: bool = False, dtype=torch.float32):
    """The two paths as real `nn.Conv2d` modules ('same' padding).

    No ReLU between the layers: it adds no multiplications, and the count and the clock
    should measure the same operations. GoogLeNet does put a ReLU after every 1×1.
    """
    pad = s.k // 2
    direct = nn.Conv2d(s.ch_in, s.ch_out, s.k, padding=pad, bias=bias, device=device, dtype=dtype)
    reduce = nn.Conv2d(s.ch_in, s.ch_red, 1, bias=bias, device=device, dtype=dtype)
    conv = nn.Conv2d(s.ch_red, s.ch_out, s.k, padding=pad, bias=bias, device=device, dtype=dtype)
    return direct, nn.Sequential(reduce, conv)


def allocation_bytes(s: ConvShape, batch: int = 1, bytes_per_number: int = 4) -> int:
    """A generous estimate of what running both paths allocates: weights, input, the
    intermediate and both outputs, plus an im2col-sized workspace for the k×k convs."""
    acts = s.pixels * batch * (s.ch_in + s.ch_red + 2 * s.ch_out)
    workspace = s.pixels * batch * s.k * s.k * (s.ch_in + s.ch_red)
    weights = direct_cost(s).weights_with_bias + bottleneck_cost(s).weights_with_bias
    return bytes_per_number * (acts + workspace + weights)


def check_runnable(s: ConvShape, batch: int = 1, max_bytes: int = MAX_BYTES,
                   max_macs: int | None = MAX_TIMED_MACS) -> None:
    """Raise ValueError, with a reason a learner can read, if the real modules would be too big."""
    need = allocation_bytes(s, batch)
    if need > max_bytes:
        raise ValueError(f"These sizes would need about {need / 2**20:,.0f} MiB of memory to run "
                         f"(the limit here is {max_bytes / 2**20:,.0f} MiB): try smaller sizes.")
    if max_macs is not None:
        macs = direct_cost(s).macs * batch
        if macs > max_macs:
            raise ValueError(f"The direct path would need {macs:,} multiplications per run "
                             f"(the limit here is {max_macs:,}): try smaller sizes.")


def count_flops(module: nn.Module, x: torch.Tensor) -> int:
    """FLOPs of one forward pass, as PyTorch's `FlopCounterMode` counts them."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter, torch.no_grad():
        module(x)
    return int(counter.get_total_flops())


@dataclass(frozen=True)
class FlopCheck:
    """FlopCounterMode's counts (FLOPs) and the multiplications they mean (FLOPs / 2)."""

    direct_flops: int
    reduce_flops: int
    conv_flops: int

    @property
    def bottleneck_flops(self) -> int:
        return self.reduce_flops + self.conv_flops

    @property
    def direct_macs(self) -> int:
        return self.direct_flops // 2

    @property
    def bottleneck_macs(self) -> int:
        return self.bottleneck_flops // 2


def flop_check(s: ConvShape, device: str = "meta", batch: int = 1) -> FlopCheck:
    """Run `FlopCounterMode` on the real modules of both paths.

    On the 'meta' device the modules and tensors carry shapes but no data, so nothing is
    allocated and any size can be counted; on a real device the memory guard applies.
    """
    if device != "meta":
        check_runnable(s, batch, max_macs=None)
    direct, bott = make_paths(s, device=device)
    x = torch.zeros(batch, s.ch_in, s.height, s.width, device=device)
    h = torch.zeros(batch, s.ch_red, s.height, s.width, device=device)
    return FlopCheck(count_flops(direct, x), count_flops(bott[0], x), count_flops(bott[1], h))


# --------------------------------------------------------------------------- timing
@dataclass
class Timing:
    """Repeated measurements (seconds) and their median."""

    times: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def spread(self) -> tuple[float, float]:
        """(min, max): how much the clock varied between repeats."""
        return min(self.times), max(self.times)


def time_callable(fn: Callable[[], object], repeats: int = 15, warmup: int = 2,
                  sync: Callable[[], None] | None = None,
                  clock: Callable[[], float] = time.perf_counter) -> Timing:
    """Call `fn` `warmup` times untimed, then `repeats` times timed; return every time."""
    if repeats < 1:
        raise ValueError("repeats must be at least 1")
    sync = sync or (lambda: None)
    for _ in range(warmup):
        fn()
    sync()
    out = Timing()
    for _ in range(repeats):
        t0 = clock()
        fn()
        sync()
        out.times.append(clock() - t0)
    return out


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def device_name(device: str) -> str:
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(torch.device(device))
    import platform

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"CPU ({cpu}), {torch.get_num_threads()} torch thread(s)"


@dataclass
class PathTiming:
    """Both paths timed on the same input, interleaved so both see the same machine load."""

    shape: ConvShape
    device: str
    batch: int
    direct: Timing
    bottleneck: Timing

    @property
    def speedup(self) -> float:
        """Median time of the direct path / median time of the bottleneck path."""
        return self.direct.median / self.bottleneck.median

    @property
    def macs_ratio(self) -> float:
        return cost_ratio(self.shape)

    def throughput(self, which: str) -> float:
        """Multiply-adds per second achieved (median)."""
        t = self.direct if which == "direct" else self.bottleneck
        cost = direct_cost(self.shape) if which == "direct" else bottleneck_cost(self.shape)
        return cost.macs * self.batch / t.median


def time_paths(s: ConvShape, repeats: int = 15, warmup: int = 3, batch: int = 1, device: str | None = None,
               progress: Callable[[float, str], None] | None = None,
               should_stop: Callable[[], bool] | None = None, seed: int = 0,
               max_bytes: int = MAX_BYTES, max_macs: int | None = MAX_TIMED_MACS) -> PathTiming:
    """Time a forward pass of each path `repeats` times (after `warmup`), alternating
    direct / bottleneck within each repeat. `should_stop()` is checked between runs; if it
    turns true the runs so far are returned (at least one of each). Shapes over the memory
    or work limits are refused with ValueError before anything is allocated."""
    device = device or default_device()
    check_runnable(s, batch, max_bytes=max_bytes, max_macs=max_macs)
    torch.manual_seed(seed)
    direct, bott = make_paths(s, device=device)
    x = torch.randn(batch, s.ch_in, s.height, s.width, device=device)
    sync = torch.cuda.synchronize if device.startswith("cuda") else None
    result = PathTiming(s, device, batch, Timing(), Timing())
    with torch.inference_mode():
        for i in range(repeats):
            for name, mod in (("direct", direct), ("bottleneck", bott)):
                t = time_callable(lambda: mod(x), repeats=1, warmup=warmup if i == 0 else 0, sync=sync)
                getattr(result, name).times.extend(t.times)
            if progress:
                progress((i + 1) / repeats, f"repeat {i + 1} of {repeats}")
            if should_stop and should_stop():
                break
    return result


# --------------------------------------------------------------------------- a. the 1×1 convolution
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
    """'compression', 'expansion' or 'same width' of the channel count."""
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


# --------------------------------------------------------------------------- d. the catch
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
    return nn.Sequential(nn.Conv2d(ch_in, ch_red, 1, bias=False),
                         nn.Conv2d(ch_red, ch_out, k, padding=k // 2, bias=False))


def teacher_module(setup: TradeoffSetup) -> nn.Conv2d:
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
