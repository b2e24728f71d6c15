"""What Batch Normalization buys in training: a deep sigmoid/tanh MLP on scikit-learn's digits.

Plain PyTorch, no UI code. Each experiment reports and stops as the training engine does
(widgets.progress): `callback(event)` gets "start"/"step"/"end" events with their "progress"
(0..1) and "text", and `stop_event` is checked between steps; on Stop it returns what it has so
far with `stopped=True`. The older pair `progress(fraction, text)`/`stop` is still accepted.

Experiments (lesson 2, sections f and g):
  train_run          one run: loss curve, per-layer gradient norms and saturation, one layer's
                     input distribution over time, and the smoothness probe of Santurkar et al.
  compare            the same run without BN, with BN, and with BN + injected noise
  lr_sweep           final loss for a grid of learning rates, with and without BN
  init_scale_sweep   final loss for a grid of initial-weight scales, with and without BN

Santurkar, Tsipras, Ilyas, Madry 2018, "How Does Batch Normalization Help Optimization?":
noise with non-zero mean and non-unit variance, resampled every step, is added after every
BN layer; the loss landscape's smoothness is probed along the gradient direction
(widgets.bn_smoothness).
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Callable

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

from widgets import data as D
from widgets.bn_smoothness import STEP_MULTIPLIERS, model_kept, smoothness  # noqa: F401 - STEP_MULTIPLIERS re-exported
from widgets.bn_smoothness import smoothness as _smoothness  # noqa: F401 - the older name
from widgets.progress import Callback, Reporter, reporter

CHANCE_LOSS = math.log(10.0)   # cross-entropy of a uniform guess over 10 digits: 2.303
TRAINS_BELOW = 1.0             # a run "trains" if its final training loss is below this (and finite)
SATURATION = {"sigmoid": 0.02, "tanh": 0.02}  # unit saturated if its derivative < this fraction of the max


# ---------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def digits_split():
    """Split "train" (1,437) and "test" (360) of widgets.data.digits: the fixed class-stratified
    80/20 split (seed 0) that lesson 5 trains on too, standardised per pixel with the training
    side's statistics. Returns float32 tensors (X_train (1437, 64), y_train, X_test (360, 64), y_test)."""
    (X, y), (Xt, yt) = D.digits("train"), D.digits("test")
    mean, std = X.mean(axis=0), X.std(axis=0)
    std[std == 0] = 1.0                       # the always-blank corner pixels
    as_x = lambda a: torch.from_numpy(((a - mean) / std).astype(np.float32))  # noqa: E731
    return as_x(X), torch.from_numpy(y), as_x(Xt), torch.from_numpy(yt)


# ---------------------------------------------------------------------------------------
# model
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Config:
    depth: int = 8                 # hidden layers (each Linear [+ BN] + activation), then a Linear to 10 classes
    width: int = 64                # units per hidden layer
    activation: str = "sigmoid"    # "sigmoid" or "tanh"
    bn: bool = False               # BatchNorm1d after every hidden Linear, before the activation
    noise: float = 0.0             # Santurkar noise level after each BN (0: none); needs bn
    lr: float = 0.5                # plain SGD step size
    init_scale: float = 1.0        # weights ~ N(0, (init_scale / sqrt(fan_in))^2), biases 0
    steps: int = 300               # SGD steps
    batch_size: int = 64
    seed: int = 0
    probe_layer: int = 5           # hidden layer whose INPUT distribution is recorded (1-based)
    record_every: int = 10         # steps between distribution / smoothness records
    smoothness: bool = True        # probe the loss landscape along the gradient every record_every steps


class MLP(nn.Module):
    """depth x (Linear -> [BN] -> [noise] -> activation) -> Linear(width, 10)."""

    def __init__(self, cfg: Config):
        super().__init__()
        if cfg.activation not in ("sigmoid", "tanh"):
            raise ValueError(f"activation must be sigmoid or tanh, not {cfg.activation!r}")
        self.cfg = cfg
        dims = [64] + [cfg.width] * cfg.depth
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.bns = nn.ModuleList(nn.BatchNorm1d(cfg.width) for _ in range(cfg.depth)) if cfg.bn else None
        self.head = nn.Linear(cfg.width, 10)
        self.act = torch.sigmoid if cfg.activation == "sigmoid" else torch.tanh
        g = torch.Generator().manual_seed(cfg.seed)
        for lin in [*self.linears, self.head]:
            with torch.no_grad():
                lin.weight.normal_(0.0, cfg.init_scale / math.sqrt(lin.in_features), generator=g)
                lin.bias.zero_()
        self.noise_params: list[tuple[torch.Tensor, torch.Tensor]] | None = None  # per layer (shift, scale)
        self.inputs: list[torch.Tensor] = []       # input of each hidden Linear, last forward
        self.activations: list[torch.Tensor] = []  # output of each activation, last forward

    def resample_noise(self, g: torch.Generator) -> None:
        """Santurkar et al.'s injected noise for this step: per unit a shift ~ U(-n, n) (non-zero mean)
        and a scale ~ U(1, 1 + 2n) (non-unit variance), resampled every step, so after BN the unit's
        distribution jumps every step: BN's "fixed distribution" is destroyed on purpose."""
        n = self.cfg.noise
        if n <= 0 or not self.cfg.bn:
            self.noise_params = None
            return
        w = self.cfg.width
        self.noise_params = [((torch.rand(w, generator=g) * 2 - 1) * n, 1 + torch.rand(w, generator=g) * 2 * n)
                             for _ in range(self.cfg.depth)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.inputs, self.activations = [], []
        h = x                                                     # (B, 64)
        for i, lin in enumerate(self.linears):
            self.inputs.append(h)
            z = lin(h)                                            # (B, width)
            if self.bns is not None:
                z = self.bns[i](z)
                if self.noise_params is not None:
                    shift, scale = self.noise_params[i]
                    z = scale * z + shift                          # mean shift, var scale^2: changes every step
            h = self.act(z)
            self.activations.append(h)
        return self.head(h)                                       # (B, 10) logits


def saturated_fraction(act: torch.Tensor, activation: str) -> float:
    """Fraction of units whose derivative is below SATURATION * its maximum:
    sigmoid' = s(1-s) <= 0.25 -> saturated when s(1-s) < 0.02*0.25; tanh' = 1-t^2 <= 1 -> saturated when 1-t^2 < 0.02."""
    if activation == "sigmoid":
        deriv = act * (1 - act) / 0.25
    else:
        deriv = 1 - act**2
    return float((deriv < SATURATION[activation]).float().mean())


# ---------------------------------------------------------------------------------------
# one run
# ---------------------------------------------------------------------------------------
@dataclass
class RunResult:
    config: Config
    loss: list[float] = field(default_factory=list)            # mini-batch loss per step
    final_train_loss: float = float("nan")                      # full training set, eval mode
    test_accuracy: float = float("nan")
    grad_norm_init: list[float] = field(default_factory=list)  # ||dL/dW_l|| per hidden layer, step 0
    grad_norm_final: list[float] = field(default_factory=list)
    saturation_init: list[float] = field(default_factory=list) # fraction of saturated units per layer
    saturation_final: list[float] = field(default_factory=list)
    record_steps: list[int] = field(default_factory=list)
    probe_quantiles: list[list[float]] = field(default_factory=list)  # (5, 25, 50, 75, 95)% of layer input
    probe_mean: list[float] = field(default_factory=list)
    probe_std: list[float] = field(default_factory=list)
    smooth_steps: list[int] = field(default_factory=list)
    loss_range: list[float] = field(default_factory=list)       # max - min of L along the gradient step
    grad_change: list[float] = field(default_factory=list)      # max ||grad(theta - eta g) - g||
    beta_smooth: list[float] = field(default_factory=list)      # max ||grad change|| / ||step||
    grad_change_rel: list[float] = field(default_factory=list)  # max ||grad change|| / ||g||
    taylor_ratio: list[float] = field(default_factory=list)     # actual / first-order predicted decrease at eta = lr
    stopped: bool = False
    diverged: bool = False

    @property
    def trains(self) -> bool:
        return (not self.diverged) and math.isfinite(self.final_train_loss) and self.final_train_loss < TRAINS_BELOW

    @property
    def recent_loss(self) -> float:
        """Mean mini-batch training loss over the last 10% of steps (the training curve's end)."""
        tail = self.loss[-max(1, len(self.loss) // 10):]
        return float(np.mean(tail)) if tail else float("nan")

    @property
    def jitter(self) -> float:
        """Mean change of the probe layer's input distribution between successive records:
        mean over t of |mean_t - mean_(t-1)| + |std_t - std_(t-1)|."""
        if len(self.probe_mean) < 2:
            return float("nan")
        dm = np.abs(np.diff(self.probe_mean)) + np.abs(np.diff(self.probe_std))
        return float(dm.mean())

    @property
    def drift(self) -> float:
        """How far the probe layer's input distribution moved: max over records of
        |mean_t - mean_0| + |std_t - std_0| (in the layer input's units)."""
        if not self.probe_mean:
            return float("nan")
        m0, s0 = self.probe_mean[0], self.probe_std[0]
        return float(max(abs(m - m0) + abs(s - s0) for m, s in zip(self.probe_mean, self.probe_std)))


def _layer_grad_norms(model: MLP) -> list[float]:
    return [float(lin.weight.grad.norm()) if lin.weight.grad is not None else 0.0 for lin in model.linears]


def _record_smoothness(res: RunResult, model: MLP, xb, yb, step: int) -> None:
    lr_, gc, beta, rel, pred = smoothness(model, xb, yb, res.config.lr)
    res.smooth_steps.append(step)
    res.loss_range.append(lr_)
    res.grad_change.append(gc)
    res.beta_smooth.append(beta)
    res.grad_change_rel.append(rel)
    res.taylor_ratio.append(pred)


def _record_probe(res: RunResult, model: MLP, probe: torch.Tensor, layer: int, step: int) -> None:
    """The probe layer's input distribution on the fixed probe batch, in train mode (what the layer
    sees while training); the model, BN's running statistics included, is left as it was."""
    with model_kept(model), torch.no_grad():
        model(probe)
        h = model.inputs[layer].flatten()
        q = torch.quantile(h, torch.tensor([0.05, 0.25, 0.5, 0.75, 0.95]))
    res.record_steps.append(step)
    res.probe_quantiles.append([float(v) for v in q])
    res.probe_mean.append(float(h.mean()))
    res.probe_std.append(float(h.std()))


def _sgd_step(res: RunResult, model: MLP, opt: torch.optim.Optimizer, xb, yb, step: int) -> bool:
    """One plain SGD step, with the gradient and saturation records; False if the loss is not finite."""
    opt.zero_grad(set_to_none=True)
    loss = F.cross_entropy(model(xb), yb)
    if not torch.isfinite(loss):
        res.diverged = True
        res.loss.append(float("nan"))
        return False
    loss.backward()
    saturation = [saturated_fraction(a.detach(), res.config.activation) for a in model.activations]
    if step == 0:
        res.grad_norm_init, res.saturation_init = _layer_grad_norms(model), saturation
    res.grad_norm_final, res.saturation_final = _layer_grad_norms(model), saturation
    opt.step()
    res.loss.append(float(loss.detach()))
    return True


def _evaluate(res: RunResult, model: MLP, X, y, Xt, yt) -> None:
    model.eval()                                         # inference: BN uses its running statistics
    model.noise_params = None
    with torch.no_grad():
        train_loss = F.cross_entropy(model(X), y)
        acc = (model(Xt).argmax(dim=1) == yt).float().mean()
    res.final_train_loss = float(train_loss) if not res.diverged else float("nan")
    res.test_accuracy = float(acc) if not res.diverged else float("nan")
    if res.diverged or not math.isfinite(res.final_train_loss):
        res.diverged = True


@contextmanager
def _one_thread():
    """Run on one CPU thread and give the kernel's count back after. The sums of a matrix product
    depend on how its work is split between threads, and this deep saturating MLP amplifies such
    rounding differences: on one thread the same seed gives the same numbers whatever count the
    machine, the kernel or lesson 5's engine has set. (The MLP is small; one thread suits it.)"""
    found = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(found)


def _run(cfg: Config, hooks: Reporter) -> RunResult:
    with _one_thread():
        return _run_one_thread(cfg, hooks)


def _run_one_thread(cfg: Config, hooks: Reporter) -> RunResult:
    X, y, Xt, yt = digits_split()
    torch.manual_seed(cfg.seed)
    g = torch.Generator().manual_seed(cfg.seed + 1)
    model = MLP(cfg)
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr)
    res = RunResult(config=cfg)
    probe = X[:256]                                      # a fixed probe batch for the distribution records
    layer = min(max(cfg.probe_layer, 1), cfg.depth) - 1
    hooks.emit("start", 0.0, steps=cfg.steps, text=f"step 0/{cfg.steps}")
    for step in range(cfg.steps):
        if hooks.stop_requested:
            res.stopped = True
            break
        idx = torch.randint(0, X.shape[0], (cfg.batch_size,), generator=g)
        xb, yb = X[idx], y[idx]
        model.resample_noise(g)
        if step % cfg.record_every == 0:
            if cfg.smoothness:
                _record_smoothness(res, model, xb, yb, step)
            _record_probe(res, model, probe, layer, step)
        if not _sgd_step(res, model, opt, xb, yb, step):
            break
        if step % 25 == 0 or step == cfg.steps - 1:
            hooks.emit("step", (step + 1) / cfg.steps, step=step + 1, loss=res.loss[-1],
                       text=f"step {step + 1}/{cfg.steps}")
    _evaluate(res, model, X, y, Xt, yt)
    hooks.emit("end", len(res.loss) / max(1, cfg.steps), step=len(res.loss), stopped=res.stopped,
               diverged=res.diverged, text=f"step {len(res.loss)}/{cfg.steps}")
    return res


def train_run(cfg: Config, progress: Callable | None = None, stop=None, *, callback: Callback | None = None,
              stop_event=None) -> RunResult:
    """Train one MLP with plain SGD for cfg.steps mini-batch steps; see RunResult for what is recorded.
    Reports through `callback(event)` and checks `stop_event` (see widgets.progress)."""
    return _run(cfg, reporter(callback, stop_event, progress=progress, stop=stop))


VARIANTS = {"plain": dict(bn=False, noise=0.0), "BN": dict(bn=True, noise=0.0), "BN + noise": dict(bn=True)}


def compare(cfg: Config, noise: float = 1.0, progress: Callable | None = None, stop=None,
            variants=("plain", "BN", "BN + noise"), *, callback: Callback | None = None,
            stop_event=None) -> dict[str, RunResult]:
    """The same run (same seed, same batches) without BN, with BN, and with BN + Santurkar noise."""
    hooks = reporter(callback, stop_event, progress=progress, stop=stop)
    out = {}
    for i, name in enumerate(variants):
        if hooks.stop_requested:
            break
        kw = dict(VARIANTS[name])
        kw.setdefault("noise", noise)
        out[name] = _run(replace(cfg, **kw), hooks.part(i, len(variants), f"{name}: "))
    return out


@dataclass
class SweepResult:
    values: list[float]                                          # learning rates or init scales
    final_loss: dict[str, list[float]]                           # "plain" / "BN" -> final training loss (nan: diverged)
    trains: dict[str, list[bool]]
    stopped: bool = False

    def largest_training(self, name: str) -> float:
        """Largest swept value at which the run trains (nan if none)."""
        ok = [v for v, t in zip(self.values, self.trains[name]) if t]
        return max(ok) if ok else float("nan")


def _sweep(cfg: Config, key: str, values, hooks: Reporter) -> SweepResult:
    res = SweepResult(values=[], final_loss={"plain": [], "BN": []}, trains={"plain": [], "BN": []})
    total = 2 * len(values)
    for i, v in enumerate(values):
        if hooks.stop_requested:
            res.stopped = True
            break
        row = {}
        for j, (name, bn) in enumerate((("plain", False), ("BN", True))):
            run_cfg = replace(cfg, bn=bn, noise=0.0, smoothness=False, record_every=10**9, **{key: float(v)})
            row[name] = _run(run_cfg, hooks.part(2 * i + j, total, f"{key} {v:g}, {name}: "))
        if any(r.stopped for r in row.values()):
            res.stopped = True
            break
        res.values.append(float(v))
        for name, r in row.items():
            res.final_loss[name].append(r.final_train_loss)
            res.trains[name].append(r.trains)
    return res


def lr_sweep(cfg: Config, lrs, progress: Callable | None = None, stop=None, *, callback: Callback | None = None,
             stop_event=None) -> SweepResult:
    """Final training loss for each learning rate, with and without BN (same seed)."""
    return _sweep(cfg, "lr", lrs, reporter(callback, stop_event, progress=progress, stop=stop))


def init_scale_sweep(cfg: Config, scales, progress: Callable | None = None, stop=None, *,
                     callback: Callback | None = None, stop_event=None) -> SweepResult:
    """Final training loss for each initial-weight scale, with and without BN (same seed)."""
    return _sweep(cfg, "init_scale", scales, reporter(callback, stop_event, progress=progress, stop=stop))
