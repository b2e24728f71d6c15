"""The paper's training recipe (Szegedy et al. 2014, sections 5-6) as the engine uses it: the model,
the 0.3-weighted auxiliary loss (defined once, in widgets.googlenet), the learning-rate schedules,
Polyak averaging, and what a setting costs before it runs.

Deviation, stated where it is made: Polyak averaging is an exponential moving average of the
weights (what the paper's DistBelief/TensorFlow lineage did in practice), with a warm-up of the
decay (`ema_decay_at`) so that a run of a few hundred steps is not dominated by its first weights.
"""
from __future__ import annotations

import dataclasses
import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Callable

import torch
import torch.nn as nn

from widgets.googlenet import AUX_LOSS_WEIGHT, googlenet_loss_terms
from widgets.train_config import SHAPE_FIELDS, ConfigError, TrainConfig, lesson_default
from widgets.train_eval import forward_flops

inception_loss = googlenet_loss_terms  # (total, main, aux sum); the engine's historical name
__all__ = ["AUX_LOSS_WEIGHT", "inception_loss", "build_model", "lr_at", "ema_decay_at", "EmaUpdate",
           "DATASET_SHAPES", "build_on_meta", "model_cost", "count_on_meta", "describe_run",
           "DATASET_SIZES", "activation_bytes", "estimate_memory", "check_resources"]


def build_model(config: TrainConfig, in_channels: int, num_classes: int) -> nn.Module:
    from widgets.googlenet import GoogLeNet

    return GoogLeNet(num_classes=num_classes, aux_logits=config.aux, batch_norm=config.bn,
                     small_input=config.small_input, width=config.width, dropout=config.dropout,
                     aux_dropout=config.aux_dropout, in_channels=in_channels)


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


class EmaUpdate:
    """multi_avg_fn for AveragedModel: avg <- avg + (1 - d) (w - avg), with d = ema_decay_at(...)."""

    def __init__(self, decay: float):
        self.decay, self.n = decay, 0

    def __call__(self, averaged: list[torch.Tensor], current: list[torch.Tensor], _num) -> None:
        self.n += 1
        d = ema_decay_at(self.decay, self.n)
        torch._foreach_lerp_(averaged, current, 1.0 - d)


# in_channels, classes, training images (digits: the fixed 80% split)
DATASET_SHAPES = {"digits": (1, 10, 1437), "cifar10": (3, 10, 50_000)}


def build_on_meta(config: TrainConfig, in_channels: int, num_classes: int,
                  model_factory: Callable | None = None) -> nn.Module:
    """The model built on torch's 'meta' device: every shape and weight count, no storage, and a forward
    pass that computes nothing (as lesson 4's Table 1, widgets/inception_record.measure_on_meta).
    FlopCounterMode counts from shapes alone, so its count is the CPU model's: tests/test_train_meta_flops.py."""
    with torch.device("meta"):
        return (model_factory or build_model)(config, in_channels, num_classes)


# The model's cost for the settings lesson 5's page opens with (CPU: the digits default; GPU: the paper
# width at 32 px) and CIFAR-10's default, stored: the page then opens without FlopCounterMode, which
# imports torch._dynamo (~1 CPU s, ~70 MiB). `python -m widgets.train_recipe` rewrites it from the meta
# count; tests/test_train_meta_flops.py counts each entry again on the CPU and fails on any difference.
COST_RECORD = Path(__file__).resolve().parent / "recordings" / "model_cost.json"
RECORDED_CONFIGS = (lesson_default("digits"), dataclasses.replace(lesson_default("digits"), width=1.0, image_size=32),
                    lesson_default("cifar10"))


def shape_key(config: TrainConfig) -> str:
    """The settings that decide the model's parameters and FLOPs (SHAPE_FIELDS), as the record's key."""
    return json.dumps([getattr(config, f) for f in SHAPE_FIELDS])


@lru_cache(maxsize=1)
def _recorded_costs() -> dict:
    return json.loads(COST_RECORD.read_text()) if COST_RECORD.is_file() else {}


def model_cost(config: TrainConfig, model_factory: Callable | None = None) -> tuple[int, int]:
    """(forward FLOPs of one image, parameters): from COST_RECORD for a recorded shape, else counted
    by torch's FlopCounterMode on the model built on the 'meta' device (no arithmetic, the CPU's count)."""
    recorded = None if model_factory else _recorded_costs().get(shape_key(config))
    if recorded:
        return recorded["forward_flops"], recorded["params"]
    return count_on_meta(config, model_factory)


def count_on_meta(config: TrainConfig, model_factory: Callable | None = None) -> tuple[int, int]:
    """(forward FLOPs of one image, parameters), FlopCounterMode on the model built on the 'meta' device."""
    cin, classes, _ = DATASET_SHAPES[config.dataset]
    model = build_on_meta(config, cin, classes, model_factory)
    return forward_flops(model, cin, config.image_size), sum(p.numel() for p in model.parameters())


def describe_run(config: TrainConfig, model_factory: Callable | None = None) -> dict:
    """What a setting costs before it runs: parameters and forward FLOPs per image (`model_cost`),
    steps, and the learning rates it will use."""
    _, _, n_train = DATASET_SHAPES[config.dataset]
    if config.train_subset:
        n_train = min(n_train, config.train_subset)
    steps = max(0, n_train // config.batch_size)
    lrs = [lr_at(config, s, max(1, steps)) for s in (0, max(0, steps * config.epochs - 1))]
    flops, params = model_cost(config, model_factory)
    return {"params": params, "forward_flops": flops,
            "train_flops_per_epoch": 3 * flops * steps * config.batch_size,  # forward + 2x backward
            "steps_per_epoch": steps, "total_steps": steps * config.epochs,
            "lr_first": lrs[0], "lr_peak": config.lr, "lr_last": lrs[1]}


# --------------------------------------------------------------------------- memory

# training images, test images, bytes per image as the loader keeps it (digits: float32 8x8; CIFAR-10: uint8 3x32x32)
DATASET_SIZES = {"digits": (1437, 360, 8 * 8 * 4), "cifar10": (50_000, 10_000, 3 * 32 * 32)}
MEMORY_HEADROOM = 0.9  # refuse a run estimated above this share of the memory available


def activation_bytes(config: TrainConfig, in_channels: int, classes: int = 10) -> tuple[int, int, int]:
    """(sum, largest) of the float32 outputs of the model's layers for one training image, and the
    parameter count, measured on the meta device (shapes only, nothing allocated). In-place ReLUs
    reuse their input and are not counted again."""
    model = build_on_meta(config, in_channels, classes).train()
    sizes: list[int] = []

    def hook(module, _inputs, out):
        if not (isinstance(module, nn.ReLU) and module.inplace):
            sizes.extend(4 * t.numel() // 2 for t in (out if isinstance(out, tuple) else (out,))
                         if isinstance(t, torch.Tensor))

    handles = [m.register_forward_hook(hook) for m in model.modules() if not any(m.children())]
    with torch.no_grad():
        model(torch.zeros(2, in_channels, config.image_size, config.image_size, device="meta"))  # 2: BN trains
    for h in handles:
        h.remove()
    return sum(sizes), max(sizes), sum(p.numel() for p in model.parameters())


def estimate_memory(config: TrainConfig, in_channels: int, n_train: int, n_test: int, native_bytes_per_image: int,
                    classes: int = 10, world: int = 1) -> dict:
    """Bytes a run needs, in parts (an estimate, meant to refuse what cannot fit, not to budget):
    data      the whole data set on the device as loaded, plus the test images (and, without
              augmentation, the training images) resized and normalised once in float32;
    training  per image of the local batch, every layer's output kept for backward, plus two of the
              largest for the gradients in flight;
    weights   weights, gradients, momentum (and the averaged copy), float32;
    evaluation  eval_batch images through the largest layer, three tensors at a time (no gradients).
    """
    c = config
    used = min(n_train, c.train_subset) if c.train_subset else n_train
    act_sum, act_peak, params = activation_bytes(c, in_channels, classes)
    resized = in_channels * c.image_size ** 2 * 4
    parts = {
        "data": (n_train + n_test) * native_bytes_per_image + (n_test + (0 if c.augment else used)) * resized,
        "training": max(1, c.batch_size // world) * (act_sum + 2 * act_peak),
        "weights": params * 4 * (4 if c.averaging else 3),
        "evaluation": min(c.eval_batch, max(used, n_test)) * act_peak * 3,
    }
    parts["total"] = sum(parts.values())
    return parts


def check_resources(config: TrainConfig, device: torch.device | str | None = None, world: int = 1) -> None:
    """ConfigError when the run's estimated memory (`estimate_memory`) exceeds what the device has free."""
    from widgets import train_device

    available = train_device.available_bytes(device)
    if available is None:
        return
    cin, classes, _ = DATASET_SHAPES[config.dataset]
    n_train, n_test, native = DATASET_SIZES[config.dataset]
    need = estimate_memory(config, cin, n_train, n_test, native, classes, world)
    if need["total"] > MEMORY_HEADROOM * available:
        mib = lambda b: f"{b / 2**20:,.0f} MiB"  # noqa: E731
        parts = ", ".join(f"{k} {mib(v)}" for k, v in need.items() if k != "total")
        raise ConfigError(f"this setting needs about {mib(need['total'])} ({parts}) but {mib(available)} are "
                          f"available: lower the image size, the width or the batch size")


def write_cost_record() -> None:
    """Count RECORDED_CONFIGS on the meta device (never the record) and write COST_RECORD."""
    costs = {shape_key(c): dict(zip(("forward_flops", "params"), count_on_meta(c))) for c in RECORDED_CONFIGS}
    COST_RECORD.write_text(json.dumps(costs, indent=1) + "\n")


if __name__ == "__main__":
    write_cost_record()
    print(f"wrote {COST_RECORD}")
