"""The training engine of lesson 5 (no UI code): GoogLeNet on digits or CIFAR-10.

    result = train(TrainConfig(dataset="digits"), callback=print, stop_event=threading.Event())

The paper's recipe (Szegedy et al. 2014, section 6) is available as options:
SGD with momentum 0.9, the learning rate cut by 4% every 8 epochs (`schedule="step"`), the two
auxiliary classifiers' losses added with weight 0.3, Polyak averaging of the weights for the
model used at test time, and random-sized crops of 8%-100% of the area with aspect ratio in
[3/4, 4/3]. For short runs, `schedule="onecycle"` (warm up, then cosine down to ~0) learns far
faster than the paper's schedule, which was made for runs of hundreds of epochs.

Deviations, stated where they are made:
* Polyak averaging is done as an exponential moving average of the weights (what the
  paper's DistBelief/TensorFlow lineage did in practice), with a warm-up of the decay
  (`ema_decay_at`) so that a run of a few hundred steps is not dominated by its first weights.
* The averaged model gets fresh BatchNorm statistics from one pass over the training set at
  the end (torch.optim.swa_utils.update_bn), because averaged weights and the running
  statistics of the last weights do not belong together.

The engine reports through `callback(event: dict)` ("start", "step", "epoch", "end"), checks
`stop_event` between steps, writes checkpoints at the end of each epoch when `save` is set
(`torch.load(..., weights_only=True)` reads them back), and stops with a clear message when the
loss becomes NaN or infinite. On CUDA it trains in bf16 autocast with channels_last tensors, keeps
the data set in GPU memory and augments on the GPU; `compile=True` wraps the step's model in
torch.compile. On the CPU a seed gives the same run twice.

Also a CLI: `python -m widgets.train --help`; under `torchrun --nproc_per_node=N` it trains
with DistributedDataParallel (gloo on the CPU, NCCL on CUDA).
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import json
import math
import os
import platform
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.swa_utils import AveragedModel

from widgets import data as D
from widgets.flops import count_flops

AUX_LOSS_WEIGHT = 0.3  # section 5: "their loss is added to the total loss ... with a discount weight (0.3)"
HISTORY_FORMAT = "widgets.train.history/1"
SCHEDULES = ("onecycle", "step")
DEVICES = ("auto", "cuda", "mps", "cpu")


class ConfigError(ValueError):
    """A setting that cannot work; the message is one line for the learner."""


# --------------------------------------------------------------------------- configuration


@dataclass
class TrainConfig:
    """Everything a run depends on. Defaults are the lesson's CPU default on digits."""

    dataset: str = "digits"          # "digits" (embedded) or "cifar10" (binary archive)
    data_dir: str | None = None      # where CIFAR-10 is or goes; None: the cache dir
    download: bool = True            # fetch CIFAR-10 when absent (needs network)
    image_size: int = 16             # model input side: digits' 8x8 are upsampled to it
    small_input: bool = True         # GoogLeNet's stem for small images (no 7x7/2 + pools)
    width: float = 0.25              # channel multiplier of every layer (1.0 = the paper's)
    bn: bool = True                  # BatchNorm after every conv (Inception-v2 style)
    aux: bool = True                 # the two auxiliary classifiers, loss weight 0.3
    dropout: float = 0.2             # before the last FC (paper: 0.4 on ImageNet)
    aux_dropout: float = 0.7         # in the auxiliary heads (paper: 0.7)
    epochs: int = 5
    batch_size: int = 64             # global batch (split across DDP processes)
    lr: float = 0.2                  # peak learning rate (onecycle) or initial (step)
    momentum: float = 0.9            # paper: 0.9
    weight_decay: float = 5e-4
    schedule: str = "onecycle"       # "onecycle" (short runs) or "step" (paper: x0.96 every 8 epochs)
    step_epochs: int = 8             # paper: every 8 epochs ...
    step_gamma: float = 0.96         # ... the learning rate is multiplied by 0.96
    warmup_fraction: float = 0.25    # onecycle: share of steps spent warming up
    averaging: bool = True           # Polyak (EMA) averaging of the weights for the test model
    ema_decay: float = 0.99          # the averaging's decay once warmed up
    augment: bool = False            # random-sized crops (section 6)
    crop_min_area: float = 0.08      # smallest crop area fraction (paper: 8%)
    flip: bool = False               # mirror left-right (never for digits: a mirrored 2 is no 2)
    seed: int = 0
    device: str = "auto"             # auto: CUDA, else MPS, else CPU
    bf16: bool = True                # CUDA only: bf16 autocast
    channels_last: bool = True       # CUDA only: NHWC memory layout for the convs
    compile: bool = False            # torch.compile the model used by the step
    threads: int | None = None       # CPU threads (None: leave torch's setting)
    log_every: int = 1               # steps between "step" events (CUDA syncs only then)
    eval_batch: int = 500
    train_subset: int | None = None  # use only the first N training images (tests, demos)
    save: str | None = None          # checkpoint path, written after every epoch and at the end
    resume: str | None = None        # checkpoint to continue from

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def label(self) -> str:
        """A short legend entry: what distinguishes runs in the comparison overlay."""
        parts = [self.dataset, f"w{self.width:g}", "BN" if self.bn else "no BN", "aux" if self.aux else "no aux",
                 f"lr {self.lr:g}", self.schedule]
        if self.augment:
            parts.append("crops")
        if not self.averaging:
            parts.append("no avg")
        return ", ".join(parts)


def lesson_default(dataset: str = "digits") -> TrainConfig:
    """The lesson's defaults for a data set (digits: the CPU default measured in benchmarks/)."""
    if dataset == "cifar10":
        return TrainConfig(dataset="cifar10", image_size=32, width=1.0, epochs=30, batch_size=256, lr=0.2,
                           augment=True, crop_min_area=0.25, flip=True, dropout=0.4, log_every=20)
    return TrainConfig(dataset=dataset)


# Settings that change the model's shape: a checkpoint only resumes into the same ones.
SHAPE_FIELDS = ("dataset", "image_size", "small_input", "width", "bn", "aux")


def validate(config: TrainConfig) -> None:
    """Raise ConfigError with one clear line for a setting that cannot work."""
    c = config
    if c.dataset not in D.DATASETS:
        raise ConfigError(f"unknown data set {c.dataset!r}: choose one of {', '.join(D.DATASETS)}")
    checks = [
        (c.lr > 0 and math.isfinite(c.lr), f"learning rate must be a positive number, got {c.lr}"),
        (c.batch_size >= 1, f"batch size must be at least 1, got {c.batch_size}"),
        (c.epochs >= 1, f"epochs must be at least 1, got {c.epochs}"),
        (0 < c.width <= 4, f"width must be in (0, 4], got {c.width}"),
        (8 <= c.image_size <= 512, f"image size must be from 8 to 512, got {c.image_size}"),
        (0 <= c.momentum < 1, f"momentum must be in [0, 1), got {c.momentum}"),
        (c.weight_decay >= 0, f"weight decay must be >= 0, got {c.weight_decay}"),
        (0 <= c.dropout < 1 and 0 <= c.aux_dropout < 1, "dropout must be in [0, 1)"),
        (c.schedule in SCHEDULES, f"unknown schedule {c.schedule!r}: choose one of {', '.join(SCHEDULES)}"),
        (c.step_epochs >= 1 and 0 < c.step_gamma <= 1, "step schedule needs step_epochs >= 1 and 0 < gamma <= 1"),
        (0 < c.warmup_fraction < 1, "warmup fraction must be in (0, 1)"),
        (0 <= c.ema_decay < 1, f"averaging decay must be in [0, 1), got {c.ema_decay}"),
        (0 < c.crop_min_area <= 1, f"smallest crop area must be in (0, 1], got {c.crop_min_area}"),
        (c.device in DEVICES, f"unknown device {c.device!r}: choose one of {', '.join(DEVICES)}"),
        (c.log_every >= 1, "log_every must be at least 1"),
        (c.threads is None or c.threads >= 1, "threads must be at least 1"),
        (c.train_subset is None or c.train_subset >= 1, "train_subset must be at least 1"),
    ]
    for ok, msg in checks:
        if not ok:
            raise ConfigError(msg)
    if c.data_dir is not None and not Path(c.data_dir).is_dir():
        raise ConfigError(f"data directory {c.data_dir} does not exist")


# --------------------------------------------------------------------------- device


def select_device(preference: str = "auto", local_rank: int = 0) -> tuple[torch.device, str]:
    """CUDA, else Apple's MPS, else the CPU, and a sentence saying which and why."""
    cuda_ok = torch.cuda.is_available()
    mps_ok = bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()
    if preference in ("auto", "cuda") and cuda_ok:
        dev = torch.device("cuda", local_rank % torch.cuda.device_count())
        return dev, f"CUDA GPU: {torch.cuda.get_device_name(dev)} (bf16 autocast, channels_last, data in GPU memory)"
    if preference == "cuda":
        raise ConfigError("device cuda asked for, but no CUDA GPU is visible to torch")
    if preference in ("auto", "mps") and mps_ok:
        return torch.device("mps"), "Apple GPU (MPS), float32"
    if preference == "mps":
        raise ConfigError("device mps asked for, but torch sees no Apple GPU")
    n = torch.get_num_threads()
    threads = f"{n} thread{'s' if n != 1 else ''}"
    if preference == "cpu":
        return torch.device("cpu"), f"CPU, as asked ({threads})"
    why = ("this torch is a CPU-only build" if torch.version.cuda is None else "no CUDA GPU is visible")
    return torch.device("cpu"), f"CPU: {why}, and no Apple GPU; {threads}"


# --------------------------------------------------------------------------- schedule, averaging


def lr_at(config: TrainConfig, step: int, steps_per_epoch: int) -> float:
    """Learning rate for optimiser step `step` (0-based).

    step:     lr * gamma ** floor(epoch / step_epochs)    (paper: gamma 0.96, every 8 epochs)
    onecycle: cosine from lr/25 up to lr over the warm-up, then cosine down to lr/(25*1e4)
              (the shape of torch's OneCycleLR with its default factors; momentum is not cycled)
    """
    if config.schedule == "step":
        epoch = step // steps_per_epoch
        return config.lr * config.step_gamma ** (epoch // config.step_epochs)
    total = config.epochs * steps_per_epoch
    initial, peak = config.lr / 25.0, config.lr
    final = initial / 1e4
    up_end = float(config.warmup_fraction * total) - 1
    if step <= up_end:
        pct, start, end = (step / up_end if up_end > 0 else 1.0), initial, peak
    else:
        pct, start, end = (step - up_end) / (total - 1 - up_end), peak, final
    pct = min(max(pct, 0.0), 1.0)
    return end + (start - end) / 2.0 * (1.0 + math.cos(math.pi * pct))


def ema_decay_at(decay: float, n_averaged: int) -> float:
    """The averaging's decay after `n_averaged` updates: min(decay, (1 + n) / (10 + n)).

    The warm-up (TensorFlow's ExponentialMovingAverage with num_updates) keeps the early,
    random weights from lingering in the average of a short run.
    """
    return min(decay, (1.0 + n_averaged) / (10.0 + n_averaged))


class _EmaUpdate:
    """multi_avg_fn for AveragedModel: avg <- avg + (1 - d) (w - avg), with d = ema_decay_at(...)."""

    def __init__(self, decay: float):
        self.decay, self.n = decay, 0

    def __call__(self, averaged: list[torch.Tensor], current: list[torch.Tensor], _num) -> None:
        self.n += 1
        d = ema_decay_at(self.decay, self.n)
        torch._foreach_lerp_(averaged, current, 1.0 - d)


# --------------------------------------------------------------------------- model and loss


def build_model(config: TrainConfig, in_channels: int, num_classes: int) -> nn.Module:
    from widgets.googlenet import GoogLeNet

    return GoogLeNet(num_classes=num_classes, aux_logits=config.aux, batch_norm=config.bn,
                     small_input=config.small_input, width=config.width, dropout=config.dropout,
                     aux_dropout=config.aux_dropout, in_channels=in_channels)


def split_outputs(outputs) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """(logits, [aux logits...]) from a tensor or GoogLeNet's (logits, aux1, aux2) namedtuple."""
    if isinstance(outputs, torch.Tensor):
        return outputs, []
    logits, *aux = outputs
    return logits, [a for a in aux if a is not None]


def inception_loss(outputs, target: torch.Tensor, aux_weight: float = AUX_LOSS_WEIGHT):
    """total = CE(logits) + aux_weight * (CE(aux1) + CE(aux2)); returns (total, main, aux sum)."""
    logits, aux = split_outputs(outputs)
    main = F.cross_entropy(logits.float(), target)
    aux_sum = sum((F.cross_entropy(a.float(), target) for a in aux), torch.zeros((), device=main.device))
    return main + aux_weight * aux_sum, main, aux_sum


def topk_correct(logits: torch.Tensor, target: torch.Tensor, k: int) -> torch.Tensor:
    """How many rows have the target among their k largest logits (a 0-d tensor, no sync)."""
    k = min(k, logits.shape[1])
    return (logits.topk(k, dim=1).indices == target[:, None]).any(dim=1).sum()


# --------------------------------------------------------------------------- evaluation


def _autocast(device: torch.device, enabled: bool):
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=enabled and device.type == "cuda")


@torch.no_grad()
def predict_logits(model: nn.Module, x: torch.Tensor, batch: int = 500, bf16: bool = False,
                   channels_last: bool = False) -> torch.Tensor:
    """Logits (N, K) in float32 for prepared (resized, normalised) inputs, in eval mode."""
    was_training = model.training
    model.eval()
    outs = []
    for i in range(0, x.shape[0], batch):
        xb = x[i:i + batch]
        if channels_last:
            xb = xb.contiguous(memory_format=torch.channels_last)
        with _autocast(x.device, bf16):
            outs.append(split_outputs(model(xb))[0].float())
    model.train(was_training)
    return torch.cat(outs)


def metrics_from_logits(logits: torch.Tensor, y: torch.Tensor) -> dict:
    n = y.shape[0]
    return {
        "loss": float(F.cross_entropy(logits, y)),
        "top1": float(topk_correct(logits, y, 1)) / n,
        "top5": float(topk_correct(logits, y, 5)) / n,
    }


def confusion_matrix(y_true, y_pred, num_classes: int) -> torch.Tensor:
    """counts[i, j] = how many images of class i were predicted as j."""
    y_true = torch.as_tensor(y_true).long().cpu()
    y_pred = torch.as_tensor(y_pred).long().cpu()
    flat = y_true * num_classes + y_pred
    return torch.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def mistakes_first(y_true, y_pred, confidence) -> list[int]:
    """Test-image indices: the wrong predictions (most confident first), then the right ones
    (least confident first) - the order in which a teacher would look at them."""
    y_true, y_pred, conf = (torch.as_tensor(t).cpu() for t in (y_true, y_pred, confidence))
    wrong = (y_true != y_pred)
    key = torch.where(wrong, -conf.double() - 2.0, conf.double())  # wrong sort before right
    return torch.argsort(key, stable=True).tolist()


def multi_crop_eval(model: nn.Module, data: D.ImageData, size: int, crops: int, batch: int = 500,
                    bf16: bool = False, channels_last: bool = False, mirror: bool = True) -> dict:
    """Test accuracy from 1 view or the average softmax of 10 views; cost = views x forward FLOPs."""
    device = next(model.parameters()).device
    x = data.x_test.to(device)
    y = data.y_test.to(device)
    t0 = time.perf_counter()
    probs = None
    for view in D.multi_crop_views(x, size, crops, mirror=mirror):
        logits = predict_logits(model, D.normalize(view, data.mean, data.std), batch, bf16, channels_last)
        p = logits.softmax(dim=1)
        probs = p if probs is None else probs + p
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - t0
    probs = probs / crops
    n = y.shape[0]
    return {"crops": crops, "top1": float(topk_correct(probs, y, 1)) / n, "top5": float(topk_correct(probs, y, 5)) / n,
            "seconds": seconds, "forward_passes_per_image": crops}


def forward_flops(model: nn.Module, in_channels: int, size: int) -> int:
    """FLOPs of one eval forward pass of one image, counted by torch.utils.flop_counter."""
    device = next(model.parameters()).device
    was = model.training
    model.eval()
    try:
        return count_flops(model, torch.zeros(1, in_channels, size, size, device=device))
    finally:
        model.train(was)


# in_channels, classes, training images (digits: the fixed 80% split)
DATASET_SHAPES = {"digits": (1, 10, 1437), "cifar10": (3, 10, 50_000)}


def describe_run(config: TrainConfig, model_factory: Callable | None = None) -> dict:
    """What a setting costs before it runs: parameters, forward FLOPs per image (counted by
    torch's FlopCounterMode on a real model), steps, and the learning rates it will use."""
    cin, classes, n_train = DATASET_SHAPES[config.dataset]
    if config.train_subset:
        n_train = min(n_train, config.train_subset)
    model = (model_factory or build_model)(config, cin, classes)
    steps = max(0, n_train // config.batch_size)
    lrs = [lr_at(config, s, max(1, steps)) for s in (0, max(0, steps * config.epochs - 1))]
    peak = config.lr
    flops = forward_flops(model, cin, config.image_size)
    return {"params": sum(p.numel() for p in model.parameters()), "forward_flops": flops,
            "train_flops_per_epoch": 3 * flops * steps * config.batch_size,  # forward + 2x backward
            "steps_per_epoch": steps, "total_steps": steps * config.epochs,
            "lr_first": lrs[0], "lr_peak": peak, "lr_last": lrs[1]}


def evaluate_crops(model: nn.Module, data: D.ImageData, config: TrainConfig) -> list[dict]:
    """1-crop and 10-crop test accuracy of a trained model, with the cost of each in FLOPs."""
    flops = forward_flops(model, data.in_channels, config.image_size)
    device = next(model.parameters()).device
    on_cuda = device.type == "cuda"
    out = []
    for crops in (1, 10):
        # mirrored views only where mirroring keeps the label (the run trained with flips)
        r = multi_crop_eval(model, data, config.image_size, crops, config.eval_batch,
                            bf16=config.bf16 and on_cuda, channels_last=config.channels_last and on_cuda,
                            mirror=config.flip)
        r["mirrored"] = crops > 1 and config.flip
        r["flops_per_image"] = crops * flops
        out.append(r)
    return out


# --------------------------------------------------------------------------- checkpoints


def save_checkpoint(path: str | os.PathLike, state: dict) -> None:
    """Atomic write (a crash never leaves half a checkpoint)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Read a checkpoint with weights_only=True: tensors and plain containers only, no code."""
    if not Path(path).is_file():
        raise ConfigError(f"checkpoint {path} does not exist")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - a bad file becomes one line
        raise ConfigError(f"checkpoint {path} could not be read: {exc.__class__.__name__}") from None


# --------------------------------------------------------------------------- result, history


@dataclass
class TrainResult:
    config: dict
    device: str
    device_reason: str
    history: list[dict] = field(default_factory=list)
    final: dict = field(default_factory=dict)
    stopped: bool = False
    diverged: bool = False
    message: str = ""
    epochs_done: int = 0
    steps_done: int = 0
    seconds: float = 0.0
    model: nn.Module | None = None       # the test-time model (the averaged one when averaging)
    data: D.ImageData | None = None
    rank: int = 0
    world_size: int = 1

    def history_json(self, note: str = "", extras: dict | None = None) -> dict:
        return {
            "format": HISTORY_FORMAT,
            "recorded": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "device": self.device,
            "device_reason": self.device_reason,
            "host": {"python": platform.python_version(), "torch": torch.__version__,
                     "cpu_threads": torch.get_num_threads(), "machine": platform.machine()},
            "note": note,
            "config": self.config,
            "final": self.final,
            "stopped": self.stopped,
            "diverged": self.diverged,
            "seconds": self.seconds,
            "extras": extras or {},
            "events": self.history,
        }


def save_history(result: TrainResult, path: str | os.PathLike, note: str = "", extras: dict | None = None) -> None:
    """The run as JSON: device, date, settings, final numbers (with test predictions) and events."""
    Path(path).write_text(json.dumps(result.history_json(note, extras), separators=(",", ":")))


def load_history(path_or_text: str | os.PathLike) -> dict:
    """A saved run (see `save_history`), checked enough to be replayed; ValueError if not."""
    text = str(path_or_text)
    if not text.lstrip().startswith("{"):
        text = Path(path_or_text).read_text()
    try:
        h = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not a JSON run history ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(h, dict) or h.get("format") != HISTORY_FORMAT:
        raise ValueError(f"not a run history in format {HISTORY_FORMAT}")
    events = h.get("events")
    if not isinstance(events, list) or not any(e.get("event") == "epoch" for e in events if isinstance(e, dict)):
        raise ValueError("the history has no epoch events to replay")
    return h


# --------------------------------------------------------------------------- distributed


@dataclass
class _Dist:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    owns_group: bool = False

    @property
    def active(self) -> bool:
        return self.world_size > 1


def _dist_from_env(device_pref: str) -> _Dist:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return _Dist()
    import torch.distributed as dist

    info = _Dist(int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0")))
    if not dist.is_initialized():
        use_nccl = torch.cuda.is_available() and device_pref in ("auto", "cuda")
        dist.init_process_group(backend="nccl" if use_nccl else "gloo")
        info.owns_group = True
    return info


# --------------------------------------------------------------------------- the loop


def make_batch(c: TrainConfig, data: D.ImageData, x_train: torch.Tensor, y_train: torch.Tensor,
               x_fixed: torch.Tensor | None, idx: torch.Tensor, generator: torch.Generator,
               channels_last: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """One training batch, built on the data's device: gather, (crop + flip), normalise.

    x_fixed: the training images already resized and normalised (no augmentation), or None.
    """
    yb = y_train[idx]
    if x_fixed is not None:
        xb = x_fixed[idx]
    else:
        xb = D.random_resized_crop(x_train[idx], c.image_size, generator, scale=(c.crop_min_area, 1.0), flip=c.flip)
        xb = D.normalize(xb, data.mean, data.std)
    if channels_last:
        xb = xb.contiguous(memory_format=torch.channels_last)
    return xb, yb


def train_step(step_model: nn.Module, optimizer: torch.optim.Optimizer, xb: torch.Tensor, yb: torch.Tensor,
               bf16: bool):
    """Forward (bf16 autocast on CUDA), the 0.3-weighted loss, backward, SGD step. No host sync."""
    with _autocast(xb.device, bf16):
        outputs = step_model(xb)
        loss, main, aux = inception_loss(outputs, yb)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return outputs, loss, main, aux


def train(config: TrainConfig, callback: Callable[[dict], None] | None = None,
          stop_event: threading.Event | None = None, *, data: D.ImageData | None = None,
          model_factory: Callable[[TrainConfig, int, int], nn.Module] | None = None) -> TrainResult:
    """Train one run; return a TrainResult (also when stopped or diverged: see its message).

    `data` lets a caller reuse a loaded data set; `model_factory(config, in_channels, classes)`
    replaces GoogLeNet (tests use a tiny stand-in).
    """
    validate(config)
    c = config
    emit = callback or (lambda _e: None)
    stop_event = stop_event or threading.Event()
    dist_info = _dist_from_env(c.device)
    try:
        return _train(c, emit, stop_event, data, model_factory or build_model, dist_info)
    finally:
        if dist_info.owns_group:
            import torch.distributed as dist

            dist.destroy_process_group()


def _train(c: TrainConfig, emit, stop_event, data, model_factory, dist_info: _Dist) -> TrainResult:
    t_start = time.perf_counter()
    if c.threads is not None:
        torch.set_num_threads(c.threads)
    device, reason = select_device(c.device, dist_info.local_rank)
    on_cuda = device.type == "cuda"
    bf16 = c.bf16 and on_cuda
    channels_last = c.channels_last and on_cuda
    if on_cuda:
        torch.cuda.set_device(device)  # NCCL and the default stream follow the process's own GPU
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True

    # ---- data: loaded once, moved to the device once; every step indexes device tensors
    if data is None:
        data = D.load_dataset(c.dataset, c.data_dir, c.download)
    data = data.to(device)
    x_train, y_train = data.x_train, data.y_train
    if c.train_subset is not None:
        x_train, y_train = x_train[:c.train_subset], y_train[:c.train_subset]
    size = c.image_size
    x_test = D.normalize(D.resize(data.x_test, size), data.mean, data.std)  # (N, C, size, size)
    y_test = data.y_test
    x_train_fixed = None if c.augment else D.normalize(D.resize(x_train, size), data.mean, data.std)

    # ---- model, optimiser, averaging
    torch.manual_seed(c.seed)
    model = model_factory(c, data.in_channels, data.num_classes).to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay)
    ema_fn = _EmaUpdate(c.ema_decay)
    averaged = AveragedModel(model, multi_avg_fn=ema_fn, use_buffers=False) if c.averaging else None
    step_model: nn.Module = model
    if dist_info.active:
        from torch.nn.parallel import DistributedDataParallel as DDP

        step_model = DDP(model, device_ids=[device.index] if on_cuda else None)
    if c.compile:
        step_model = torch.compile(step_model)

    # ---- sharding: the same permutation on every rank (same seed), each takes its slice
    n_train = x_train.shape[0]
    world, rank = dist_info.world_size, dist_info.rank
    local_batch = max(1, c.batch_size // world)
    per_rank = n_train // world
    steps_per_epoch = per_rank // local_batch
    if steps_per_epoch < 1:
        raise ConfigError(f"batch size {c.batch_size} is larger than the {n_train:,} training images")
    total_steps = c.epochs * steps_per_epoch
    g_perm = torch.Generator(device=device).manual_seed(c.seed)
    g_aug = torch.Generator(device=device).manual_seed(c.seed + 1 + rank)

    history: list[dict] = []
    start_epoch, step = 0, 0
    if c.resume:
        ck = load_checkpoint(c.resume)
        saved = ck.get("config", {})
        diff = [k for k in SHAPE_FIELDS if saved.get(k) != getattr(c, k)]
        if diff:
            raise ConfigError(f"checkpoint {c.resume} was made with other {', '.join(diff)} "
                              f"({', '.join(f'{k}={saved.get(k)!r}' for k in diff)})")
        model.load_state_dict(ck["model"])
        optimizer.load_state_dict(ck["optimizer"])
        if averaged is not None and ck.get("averaged") is not None:
            averaged.load_state_dict(ck["averaged"])
            ema_fn.n = int(averaged.n_averaged.item()) - 1
        g_perm.set_state(ck["g_perm"])
        g_aug.set_state(ck["g_aug"])
        torch.set_rng_state(ck["rng_cpu"])  # dropout draws from the global generators
        if on_cuda and ck.get("rng_cuda") is not None:
            torch.cuda.set_rng_state(ck["rng_cuda"], device)
        start_epoch, step = int(ck["epoch"]), int(ck["step"])
        history = list(ck.get("history", []))

    def checkpoint_state(epoch_done: int) -> dict:
        return {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "averaged": averaged.state_dict() if averaged is not None else None,
                "g_perm": g_perm.get_state(), "g_aug": g_aug.get_state(), "rng_cpu": torch.get_rng_state(),
                "rng_cuda": torch.cuda.get_rng_state(device) if on_cuda else None,
                "epoch": epoch_done, "step": step, "config": c.to_dict(), "history": history}

    def eval_model() -> nn.Module:
        return averaged.module if averaged is not None else model

    n_params = sum(p.numel() for p in model.parameters())
    result = TrainResult(config=c.to_dict(), device=str(device), device_reason=reason, rank=rank, world_size=world,
                         data=data)
    emit({"event": "start", "device": str(device), "reason": reason, "epochs": c.epochs, "start_epoch": start_epoch,
          "steps_per_epoch": steps_per_epoch, "total_steps": total_steps, "params": n_params,
          "world_size": world, "label": c.label(), "config": c.to_dict()})

    model.train()
    epoch = start_epoch
    last_lr = lr_at(c, step, steps_per_epoch)
    try:
        for epoch in range(start_epoch, c.epochs):
            t_epoch = time.perf_counter()
            perm = torch.randperm(n_train, generator=g_perm, device=device)[: per_rank * world]
            perm = perm[rank::world]
            # running sums on the device: no host sync between log points
            acc_loss = torch.zeros((), device=device)
            acc_main = torch.zeros((), device=device)
            acc_aux = torch.zeros((), device=device)
            acc_correct = torch.zeros((), device=device)
            acc_n, epoch_loss_sum, epoch_correct, epoch_n = 0, 0.0, 0.0, 0
            t_log = time.perf_counter()
            for i in range(steps_per_epoch):
                if stop_event.is_set():
                    result.stopped = True
                    break
                idx = perm[i * local_batch:(i + 1) * local_batch]
                xb, yb = make_batch(c, data, x_train, y_train, x_train_fixed, idx, g_aug, channels_last)
                last_lr = lr_at(c, step, steps_per_epoch)
                for group in optimizer.param_groups:
                    group["lr"] = last_lr
                outputs, loss, main, aux = train_step(step_model, optimizer, xb, yb, bf16)
                if averaged is not None:
                    averaged.update_parameters(model)
                step += 1
                with torch.no_grad():
                    acc_loss += loss.detach()
                    acc_main += main.detach()
                    acc_aux += aux.detach()
                    acc_correct += topk_correct(split_outputs(outputs)[0].detach(), yb, 1)
                acc_n += yb.shape[0]
                if step % c.log_every == 0 or i == steps_per_epoch - 1:
                    n_steps = max(1, round(acc_n / local_batch))
                    loss_v = float(acc_loss) / n_steps  # the sync point
                    if not math.isfinite(loss_v):
                        result.diverged = True
                        result.message = (f"Diverged at step {step} (epoch {epoch + 1}): the loss became {loss_v}. "
                                          f"Lower the learning rate (it was {last_lr:.3g}) or turn BN on.")
                        break
                    now = time.perf_counter()
                    ev = {"event": "step", "step": step, "epoch": epoch + (i + 1) / steps_per_epoch,
                          "loss": loss_v, "main_loss": float(acc_main) / n_steps, "aux_loss": float(acc_aux) / n_steps,
                          "train_top1": float(acc_correct) / acc_n, "lr": last_lr,
                          "images_per_s": acc_n * world / max(now - t_log, 1e-9),
                          "elapsed": now - t_start, "progress": step / total_steps}
                    history.append(ev)
                    emit(ev)
                    epoch_loss_sum += loss_v * n_steps
                    epoch_correct += float(acc_correct)
                    epoch_n += acc_n
                    acc_loss.zero_(), acc_main.zero_(), acc_aux.zero_(), acc_correct.zero_()
                    acc_n, t_log = 0, time.perf_counter()
            if result.diverged or result.stopped:
                break
            # ---- end of epoch: test metrics
            if on_cuda:
                torch.cuda.synchronize(device)
            epoch_seconds = time.perf_counter() - t_epoch
            # the current weights: the averaged ones only get BN statistics of their own at the end,
            # and with the last weights' statistics they are badly off early in a run
            m = metrics_from_logits(predict_logits(model, x_test, c.eval_batch, bf16, channels_last), y_test)
            if not math.isfinite(m["loss"]):
                result.diverged = True
                result.message = (f"Diverged in epoch {epoch + 1}: the test loss became {m['loss']}. "
                                  f"Lower the learning rate (it was {last_lr:.3g}) or turn BN on.")
                break
            ev = {"event": "epoch", "epoch": epoch + 1, "step": step,
                  "train_loss": epoch_loss_sum / max(1, steps_per_epoch), "train_top1": epoch_correct / max(1, epoch_n),
                  "test_loss": m["loss"], "test_top1": m["top1"], "test_top5": m["top5"], "lr": last_lr,
                  "images_per_s": steps_per_epoch * local_batch * world / epoch_seconds,
                  "epoch_seconds": epoch_seconds, "elapsed": time.perf_counter() - t_start,
                  "progress": step / total_steps}
            history.append(ev)
            emit(ev)
            result.epochs_done = epoch + 1
            if c.save and rank == 0:
                save_checkpoint(c.save, checkpoint_state(epoch + 1))
    finally:
        result.history = history
        result.steps_done = step

    if result.stopped and not result.message:
        result.message = (f"Stopped by request at step {step} (epoch {epoch + 1}); "
                          + (f"the checkpoint {c.save} holds the last whole epoch." if c.save and result.epochs_done
                             else "nothing was lost but this run."))

    if not result.diverged and result.epochs_done > 0:
        test_model = eval_model()
        if averaged is not None and any(isinstance(mod, nn.modules.batchnorm._BatchNorm) for mod in model.modules()):
            # fresh BN statistics for the averaged weights: one pass over the training images
            fixed = x_train_fixed if x_train_fixed is not None else D.normalize(D.resize(x_train, size), data.mean, data.std)
            batches = [fixed[i:i + c.eval_batch] for i in range(0, fixed.shape[0], c.eval_batch)]
            with _autocast(device, bf16):
                torch.optim.swa_utils.update_bn(batches, averaged, device=device)
        logits = predict_logits(test_model, x_test, c.eval_batch, bf16, channels_last)
        m = metrics_from_logits(logits, y_test)
        prob = logits.softmax(1)
        conf, pred = prob.max(1)
        result.final = {"test_top1": m["top1"], "test_top5": m["top5"], "test_loss": m["loss"],
                        "epochs": result.epochs_done, "steps": step}
        if averaged is not None:
            raw = metrics_from_logits(predict_logits(model, x_test, c.eval_batch, bf16, channels_last), y_test)
            result.final.update(raw_test_top1=raw["top1"], raw_test_top5=raw["top5"])
        result.final["predictions"] = pred.cpu().tolist()
        result.final["confidence"] = [round(v, 5) for v in conf.cpu().tolist()]
        result.model = test_model
        if c.save and rank == 0 and not result.stopped:  # a stopped run keeps its last whole-epoch checkpoint
            save_checkpoint(c.save, checkpoint_state(result.epochs_done))
    result.seconds = time.perf_counter() - t_start
    result.final["seconds"] = result.seconds
    result.final["images_per_s"] = _mean_throughput(history)
    if not result.message and not result.stopped:
        result.message = (f"Finished {result.epochs_done} epoch{'s' if result.epochs_done != 1 else ''} in {result.seconds:.1f} s: test top-1 "
                          f"{result.final.get('test_top1', float('nan')):.4f}.")
    emit({"event": "end", "step": step, "stopped": result.stopped, "diverged": result.diverged, "message": result.message,
          "final": {k: v for k, v in result.final.items() if k not in ("predictions", "confidence")}})
    return result


def suggest_threads() -> tuple[int, str]:
    """CPU threads for a run now, and why. On a machine whose cores are already busy (load
    average >= cores), one thread is much faster than several, whose threads wait on each other
    (measured in benchmarks/cpu_default.py: up to 10x on 2 shared cores)."""
    cores = os.cpu_count() or 1
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    if cores > 1 and load >= cores - 0.5:
        return 1, f"1 thread: the machine is busy (load {load:.1f} on {cores} cores)"
    n = torch.get_num_threads()
    return n, f"{n} threads"


def machine_info(device: torch.device | str | None = None) -> dict:
    """Where a measurement was taken: date, device, CPU count, load, library versions."""
    dev, reason = select_device("auto") if device is None else (torch.device(device), str(device))
    info = {"date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "device": str(dev),
            "device_reason": reason, "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__, "python": platform.python_version(), "machine": platform.machine(),
            "processor": platform.processor() or platform.machine()}
    if hasattr(os, "getloadavg"):
        info["load_average_1_5_15min"] = [round(v, 2) for v in os.getloadavg()]
    if dev.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(dev)
    return info


def _mean_throughput(history: list[dict]) -> float:
    eps = [e for e in history if e.get("event") == "epoch"]
    if not eps:
        return float("nan")
    return sum(e["images_per_s"] for e in eps) / len(eps)


# --------------------------------------------------------------------------- CLI


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad option as one line and exit status 2 (no usage dump)."""

    def error(self, message: str):  # noqa: D401
        self.exit(2, f"{self.prog}: error: {message}\n")


def _positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (v > 0 and math.isfinite(v)):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return v


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return v


def _existing_dir(text: str) -> str:
    if not Path(text).is_dir():
        raise argparse.ArgumentTypeError(f"directory {text} does not exist")
    return text


def make_parser() -> argparse.ArgumentParser:
    d = TrainConfig()
    p = _Parser(prog="python -m widgets.train",
                description="Train GoogLeNet (Szegedy et al. 2014) on digits (embedded) or CIFAR-10. "
                            "Unset options take the data set's lesson default. Runs under torchrun "
                            "with DistributedDataParallel (gloo on CPU, NCCL on CUDA).")
    a = p.add_argument
    a("--dataset", choices=D.DATASETS, default="digits", help="data set (default: digits, embedded, no network)")
    a("--data-dir", type=_existing_dir, help="directory holding CIFAR-10's binary archive or batches "
                                             "(default: $WIDGETS_DATA_DIR or ~/.cache/widgets)")
    a("--download", action=argparse.BooleanOptionalAction, default=True,
      help="download CIFAR-10 when absent (default: yes)")
    a("--device", choices=DEVICES, default="auto", help="auto: CUDA, else MPS, else CPU (default: auto)")
    a("--epochs", type=_positive_int, help=f"epochs (digits default {d.epochs})")
    a("--lr", type=_positive_float, help=f"peak (onecycle) or initial (step) learning rate (digits default {d.lr})")
    a("--batch-size", type=_positive_int, help=f"global batch size (digits default {d.batch_size})")
    a("--schedule", choices=SCHEDULES, help="onecycle (short runs) or step (paper: x0.96 every 8 epochs)")
    a("--momentum", type=float, help=f"SGD momentum (default {d.momentum}, as in the paper)")
    a("--weight-decay", type=float, help=f"L2 weight decay (default {d.weight_decay})")
    a("--width", type=_positive_float, help=f"channel multiplier (digits default {d.width}; 1 = the paper's)")
    a("--image-size", type=_positive_int, help=f"model input side in pixels (digits default {d.image_size})")
    a("--small-input", action=argparse.BooleanOptionalAction, help="small-image stem (default: on)")
    a("--bn", action=argparse.BooleanOptionalAction, help="BatchNorm after each conv (default: on)")
    a("--aux", action=argparse.BooleanOptionalAction, help="auxiliary classifiers, loss weight 0.3 (default: on)")
    a("--averaging", action=argparse.BooleanOptionalAction, help="Polyak (EMA) weight averaging (default: on)")
    a("--augment", action=argparse.BooleanOptionalAction, help="random-sized crops, 8%%-100%% area (digits: off)")
    a("--flip", action=argparse.BooleanOptionalAction, help="random left-right flips (digits: off)")
    a("--crop-min-area", type=_positive_float, help="smallest crop as a fraction of the area (paper: 0.08)")
    a("--dropout", type=float, help=f"dropout before the classifier (digits default {d.dropout})")
    a("--seed", type=int, default=0, help="random seed (default 0); the same seed repeats a CPU run exactly")
    a("--threads", type=_positive_int, help="CPU threads for torch (default: torch's choice)")
    a("--compile", action=argparse.BooleanOptionalAction, default=False, help="torch.compile the model (default: off)")
    a("--bf16", action=argparse.BooleanOptionalAction, default=True, help="bf16 autocast on CUDA (default: on)")
    a("--log-every", type=_positive_int, help="steps between progress updates (default 1; 20 on CIFAR-10)")
    a("--train-subset", type=_positive_int, help="train on the first N images only (quick tries)")
    a("--save", help="checkpoint file, written after every epoch and at the end")
    a("--resume", help="checkpoint to continue from (same model settings)")
    a("--history", help="write the run's history as JSON here (replayable in the dashboard)")
    a("--no-progress", action="store_true", help="no progress bar (log lines only)")
    return p


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    base = lesson_default(args.dataset)
    overrides = {}
    for f in dataclasses.fields(TrainConfig):
        v = getattr(args, f.name, None)
        if v is not None:
            overrides[f.name] = v
    return dataclasses.replace(base, **overrides)


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
        validate(config)
    except (ConfigError, TypeError) as exc:
        parser.error(str(exc))
    rank = int(os.environ.get("RANK", "0"))
    show = rank == 0
    bar = None
    use_bar = show and not args.no_progress

    def on_event(ev: dict) -> None:
        nonlocal bar
        kind = ev["event"]
        if kind == "start" and show:
            print(f"device: {ev['reason']}" + (f"; {ev['world_size']} processes (DDP)" if ev["world_size"] > 1 else ""))
            print(f"model: GoogLeNet {ev['label']}, {ev['params']:,} parameters; "
                  f"{ev['steps_per_epoch']} steps/epoch", flush=True)
            if use_bar:
                from tqdm import tqdm

                bar = tqdm(total=ev["total_steps"], initial=ev["start_epoch"] * ev["steps_per_epoch"],
                           unit="step", dynamic_ncols=True, file=sys.stderr)
        elif kind == "step" and bar is not None:
            bar.update(ev["step"] - bar.n)
            bar.set_postfix(loss=f"{ev['loss']:.3f}", lr=f"{ev['lr']:.3g}", img_s=f"{ev['images_per_s']:.0f}")
        elif kind == "epoch" and show:
            line = (f"epoch {ev['epoch']}/{config.epochs}: train loss {ev['train_loss']:.4f}, test loss "
                    f"{ev['test_loss']:.4f}, test top-1 {ev['test_top1']:.4f}, top-5 {ev['test_top5']:.4f}, "
                    f"{ev['images_per_s']:.0f} img/s")
            (bar.write if bar is not None else print)(line)

    stop = threading.Event()
    try:
        result = train(config, on_event, stop)
    except (ConfigError, D.DataUnavailable, D.ChecksumError) as exc:
        if bar is not None:
            bar.close()
        parser.error(str(exc))
    except KeyboardInterrupt:
        if bar is not None:
            bar.close()
        print("interrupted", file=sys.stderr)
        return 130
    if bar is not None:
        bar.close()
    if not show:
        return 0 if not result.diverged else 1
    if args.history:
        save_history(result, args.history)
    if result.diverged:
        print(f"error: {result.message}", file=sys.stderr)
        return 1
    f = result.final
    print(f"time: {result.seconds:.1f} s ({f.get('images_per_s', float('nan')):.0f} img/s mean over epochs)")
    print(f"final test accuracy: {f['test_top1']:.4f} (top-5 {f['test_top5']:.4f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
