"""The paper's training recipe (Szegedy et al. 2014, sections 5-6) as the engine uses it: the model,
the 0.3-weighted auxiliary loss (defined once, in widgets.googlenet), the learning-rate schedules,
Polyak averaging, and what a setting costs before it runs.

Deviation, stated where it is made: Polyak averaging is an exponential moving average of the
weights (what the paper's DistBelief/TensorFlow lineage did in practice), with a warm-up of the
decay (`ema_decay_at`) so that a run of a few hundred steps is not dominated by its first weights.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn as nn

from widgets.googlenet import AUX_LOSS_WEIGHT, googlenet_loss_terms
from widgets.train_config import TrainConfig
from widgets.train_eval import forward_flops

inception_loss = googlenet_loss_terms  # (total, main, aux sum); the engine's historical name
__all__ = ["AUX_LOSS_WEIGHT", "inception_loss", "build_model", "lr_at", "ema_decay_at", "EmaUpdate",
           "DATASET_SHAPES", "describe_run"]


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


def describe_run(config: TrainConfig, model_factory: Callable | None = None) -> dict:
    """What a setting costs before it runs: parameters, forward FLOPs per image (counted by
    torch's FlopCounterMode on a real model), steps, and the learning rates it will use."""
    cin, classes, n_train = DATASET_SHAPES[config.dataset]
    if config.train_subset:
        n_train = min(n_train, config.train_subset)
    model = (model_factory or build_model)(config, cin, classes)
    steps = max(0, n_train // config.batch_size)
    lrs = [lr_at(config, s, max(1, steps)) for s in (0, max(0, steps * config.epochs - 1))]
    flops = forward_flops(model, cin, config.image_size)
    return {"params": sum(p.numel() for p in model.parameters()), "forward_flops": flops,
            "train_flops_per_epoch": 3 * flops * steps * config.batch_size,  # forward + 2x backward
            "steps_per_epoch": steps, "total_steps": steps * config.epochs,
            "lr_first": lrs[0], "lr_peak": config.lr, "lr_last": lrs[1]}
