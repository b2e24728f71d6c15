"""Lesson 3 maths: the cost of a convolution, directly or behind a 1×1 bottleneck.

Pure NumPy / PyTorch, no view code. Everything the cost calculator shows is computed here:

* the cost of a k×k 'same' convolution, directly or behind a 1×1 bottleneck
  (multiplications and weights, biases counted separately; the closed form is
  `widgets.flops.conv_macs` / `conv_weights`, shared with lesson 4);
* the same counts measured by PyTorch's own `FlopCounterMode` on real `nn.Conv2d` modules
  (`widgets.flops.count_flops`);
* wall-clock timing of both paths, repeated, summarised by the median, and the
  recorded benchmark (benchmarks/results/bottleneck_timing_cpu.json) read for the page.

The 1×1 convolution itself is in `widgets.conv1x1`; the catch (how much a narrow
bottleneck loses) in `widgets.bottleneck_tradeoff`.

Conventions. A "multiplication" is one multiply-add of the convolution. PyTorch's
`FlopCounterMode` counts FLOPs = 2 × multiply-adds for convolutions, so its figure is
halved before it is compared. Multiplications by the zeros of 'same' padding are
counted, as the hardware does them and as `FlopCounterMode` does. Biases add
additions, not multiplications; the weight counts are given without and with biases
(the notes' figures, e.g. 5·5·192·32 = 153,600, are without).
"""
from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

# torch is imported in the functions that build or time real modules: the closed forms (the landing
# page's numbers, lesson 3's calculator) need none, and importing it costs a page ~2 s and ~200 MB.

# the one closed form and the one counter (widgets.flops); conv_macs / conv_weights stay reachable as B.conv_macs
from widgets.flops import conv_macs, conv_weights, count_flops  # noqa: F401

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


def cost_verdict(s: ConvShape) -> tuple[str, float]:
    """What the page says of the two paths: ('fewer', r) when the bottleneck needs r× fewer
    multiplications, ('same', 1.0), or ('more', r) when it needs r× as many as going direct."""
    ratio = cost_ratio(s)
    if ratio > 1:
        return "fewer", ratio
    if ratio == 1:
        return "same", 1.0
    return "more", 1 / ratio


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
def make_paths(s: ConvShape, device: str = "cpu", bias: bool = False, dtype=None):
    """The two paths as real `nn.Conv2d` modules ('same' padding), in `dtype` (default float32).

    No ReLU between the layers: it adds no multiplications, and the count and the clock
    should measure the same operations. GoogLeNet does put a ReLU after every 1×1.
    """
    import torch
    from torch import nn

    dtype = torch.float32 if dtype is None else dtype
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


class TooBigToRun(ValueError):
    """Real modules of this size would be refused: `kind` is 'memory' (`need` and `limit` in bytes)
    or 'work' (`need` and `limit` in multiplications per run). The page words it from these numbers
    in its own language; str() is an English sentence for logs and scripts."""

    def __init__(self, kind: str, need: int, limit: int):
        self.kind, self.need, self.limit = kind, need, limit
        if kind == "memory":
            text = (f"These sizes would need about {need / 2**20:,.0f} MiB of memory to run "
                    f"(the limit here is {limit / 2**20:,.0f} MiB): try smaller sizes.")
        else:
            text = (f"The direct path would need {need:,} multiplications per run "
                    f"(the limit here is {limit:,}): try smaller sizes.")
        super().__init__(text)


def check_runnable(s: ConvShape, batch: int = 1, max_bytes: int = MAX_BYTES,
                   max_macs: int | None = MAX_TIMED_MACS) -> None:
    """Raise TooBigToRun (a ValueError) if the real modules would be too big."""
    need = allocation_bytes(s, batch)
    if need > max_bytes:
        raise TooBigToRun("memory", need, max_bytes)
    if max_macs is not None:
        macs = direct_cost(s).macs * batch
        if macs > max_macs:
            raise TooBigToRun("work", macs, max_macs)


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
    import torch

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
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


@dataclass(frozen=True)
class DeviceInfo:
    """What a page says of the device: `kind` 'cuda' or 'cpu', the model's `name`, and torch's threads."""

    kind: str
    name: str
    threads: int


def device_info(device: str) -> DeviceInfo:
    import torch

    if device.startswith("cuda"):
        return DeviceInfo("cuda", torch.cuda.get_device_name(torch.device(device)), torch.get_num_threads())
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
    return DeviceInfo("cpu", cpu, torch.get_num_threads())


def device_name(device: str) -> str:
    """The device in English, as the benchmark's report writes it (a page words `device_info` itself)."""
    d = device_info(device)
    return d.name if d.kind == "cuda" else f"CPU ({d.name}), {d.threads} torch thread(s)"


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

    @property
    def falls_short(self) -> bool:
        """Did the clock give less than the count? (Equivalently: the bottleneck path reached fewer
        multiply-adds per second than the direct path, since speed-up = ratio × its rate / direct rate.)"""
        return self.speedup < self.macs_ratio

    def throughput(self, which: str) -> float:
        """Multiply-adds per second achieved (median)."""
        t = self.direct if which == "direct" else self.bottleneck
        cost = direct_cost(self.shape) if which == "direct" else bottleneck_cost(self.shape)
        return cost.macs * self.batch / t.median


def time_paths(s: ConvShape, repeats: int = 15, warmup: int = 3, batch: int = 1, device: str | None = None,
               progress: Callable[[float, int], None] | None = None,
               should_stop: Callable[[], bool] | None = None, seed: int = 0,
               max_bytes: int = MAX_BYTES, max_macs: int | None = MAX_TIMED_MACS) -> PathTiming:
    """Time a forward pass of each path `repeats` times (after `warmup`), alternating
    direct / bottleneck within each repeat. `should_stop()` is checked between runs; if it
    turns true the runs so far are returned (at least one of each). `progress(fraction, done)`
    is told after each repeat (`done` repeats of each path so far). Shapes over the memory or
    work limits are refused with TooBigToRun before anything is allocated."""
    import torch

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
                progress((i + 1) / repeats, i + 1)
            if should_stop and should_stop():
                break
    return result


# --------------------------------------------------------------------------- the recorded benchmark
#: Where benchmarks/bottleneck_timing.py writes its report (there in a checkout of the repository).
RECORDED_TIMING = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "bottleneck_timing_cpu.json"


@dataclass(frozen=True)
class RecordedRun:
    threads: int
    batch: int
    direct_ms: float           # medians
    bottleneck_ms: float
    speedup: float
    macs_ratio: float

    @property
    def falls_short(self) -> bool:
        return self.speedup < self.macs_ratio


@dataclass(frozen=True)
class RecordedTiming:
    """The benchmark's report, as the page quotes it (measured figures are never typed into prose)."""

    date_utc: str
    device: str
    load: float                # load average (1 min) when the run started
    host_cpus: int
    shape: ConvShape
    runs: tuple[RecordedRun, ...]

    @property
    def short(self) -> int:
        """In how many settings the clock gave less than the count."""
        return sum(r.falls_short for r in self.runs)


def recorded_timing(path: Path = RECORDED_TIMING) -> RecordedTiming | None:
    """Read the benchmark's JSON report; None when there is none (a package installed without the repository)."""
    try:
        report = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    runs = tuple(RecordedRun(r["threads"], r["batch"], r["direct_median_ms"], r["bottleneck_median_ms"],
                             r["measured_speedup"], r["macs_ratio"]) for r in report["runs"])
    return RecordedTiming(report["date_utc"], report["device_name"], report["loadavg_before"][0],
                          report["host_cpus"], ConvShape(**report["shape"]), runs)

