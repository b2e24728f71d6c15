"""One training run's state and how it begins: the device, the data on it, the model with its
optimiser and averaged copy, each rank's share of the steps (`setup`); continuing from a
checkpoint (`resume`); and what a checkpoint holds (`checkpoint_state`). The loop is in widgets.train."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn as nn
from torch.optim.swa_utils import AveragedModel

from widgets import data as D
from widgets.progress import Reporter
from widgets.train_config import SHAPE_FIELDS, ConfigError, TrainConfig, accel_label, resolve_accel
from widgets.train_device import Dist, claim_gpu, cuda_rng_state, select_device, set_cuda_rng_state
from widgets.train_io import (TrainResult, one_line, check_checkpoint, check_weights, load_checkpoint,
                              save_checkpoint)
from widgets.train_recipe import EmaUpdate, check_resources


# --------------------------------------------------------------------------- the run's state


@dataclass
class Run:
    """Everything the parts of one run share."""

    c: TrainConfig                       # the accelerator options resolved for the device (resolve_accel)
    hooks: Reporter
    dist: Dist
    device: torch.device
    data: D.ImageData
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor                 # resized and normalised once
    x_fixed: torch.Tensor | None         # the training images resized and normalised (no augmentation)
    model: nn.Module
    step_model: nn.Module                # the model the step calls: DDP- and/or compile-wrapped
    optimizer: torch.optim.Optimizer
    ema_fn: EmaUpdate
    averaged: AveragedModel | None
    result: TrainResult
    steps_per_epoch: int = 0
    local_batch: int = 1
    g_perm: torch.Generator | None = None
    g_aug: torch.Generator | None = None
    history: list[dict] = field(default_factory=list)
    start_epoch: int = 0
    epoch: int = 0
    step: int = 0
    last_lr: float = 0.0
    t_start: float = field(default_factory=time.perf_counter)

    @property
    def total_steps(self) -> int:
        return self.c.epochs * self.steps_per_epoch

    @property
    def on_cuda(self) -> bool:
        return self.device.type == "cuda"

    @property
    def bf16(self) -> bool:
        return bool(self.c.bf16)

    @property
    def channels_last(self) -> bool:
        return bool(self.c.channels_last)

    def eval_model(self) -> nn.Module:
        return self.averaged.module if self.averaged is not None else self.model

    def progress(self) -> float:
        return self.step / max(1, self.total_steps)

    def emit(self, event: str, **fields) -> dict:
        return self.hooks.emit(event, self.progress(), **fields)


# --------------------------------------------------------------------------- setup


def open_device(c: TrainConfig, dist: Dist) -> tuple[torch.device, str]:
    """The run's device (and why); on CUDA this process's own GPU, with cuDNN autotuning and TF32."""
    device, reason = select_device(c.device, dist.local_rank)
    claim_gpu(device)
    return device, reason


def model_parts(c: TrainConfig, model_factory: Callable, data: D.ImageData, device: torch.device, dist: Dist):
    """The model, its optimiser, the averaged copy, and the model the step calls."""
    torch.manual_seed(c.seed)
    model = model_factory(c, data.in_channels, data.num_classes).to(device)
    if c.channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay)
    ema_fn = EmaUpdate(c.ema_decay)
    averaged = AveragedModel(model, multi_avg_fn=ema_fn, use_buffers=False) if c.averaging else None
    step_model: nn.Module = model
    if dist.active:
        from torch.nn.parallel import DistributedDataParallel as DDP

        step_model = DDP(model, device_ids=[device.index] if device.type == "cuda" else None)
    if c.compile:
        step_model = torch.compile(step_model)
    return model, optimizer, ema_fn, averaged, step_model


def setup(c: TrainConfig, hooks: Reporter, data: D.ImageData | None, model_factory: Callable, dist: Dist) -> Run:
    """Device, data (loaded once, moved to the device once), model, and each rank's share of the steps."""
    t_start = time.perf_counter()
    device, reason = open_device(c, dist)
    c = resolve_accel(c, device.type)  # from here on, the settings in effect
    reason = f"{reason}; {accel_label(c, device.type)}"
    if dist.local_batch_of(c.batch_size) < 2 and c.bn:
        raise ConfigError(f"batch size {c.batch_size} over {dist.world_size} processes leaves "
                          f"{dist.local_batch_of(c.batch_size)} image per process: BatchNorm needs at least 2")
    check_resources(c, device, dist.world_size)
    if data is None:
        data = D.load_dataset(c.dataset, c.data_dir, c.download)
    data = data.to(device)
    x_train, y_train = data.x_train, data.y_train
    if c.train_subset is not None:
        x_train, y_train = x_train[:c.train_subset], y_train[:c.train_subset]
    prepare = lambda x: D.normalize(D.resize(x, c.image_size), data.mean, data.std)  # noqa: E731 (N, C, size, size)
    model, optimizer, ema_fn, averaged, step_model = model_parts(c, model_factory, data, device, dist)
    result = TrainResult(config=c.to_dict(), device=str(device), device_reason=reason, rank=dist.rank,
                         world_size=dist.world_size, data=data)
    run = Run(c, hooks, dist, device, data, x_train, y_train, prepare(data.x_test),
              None if c.augment else prepare(x_train), model, step_model, optimizer, ema_fn, averaged, result,
              t_start=t_start)
    # sharding: the same permutation on every rank (same seed), each takes its slice
    run.local_batch = dist.local_batch_of(c.batch_size)
    run.steps_per_epoch = (x_train.shape[0] // dist.world_size) // run.local_batch
    if run.steps_per_epoch < 1:
        raise ConfigError(f"batch size {c.batch_size} is larger than the {x_train.shape[0]:,} training images")
    run.g_perm = torch.Generator(device=device).manual_seed(c.seed)
    run.g_aug = torch.Generator(device=device).manual_seed(c.seed + 1 + dist.rank)
    return run


# --------------------------------------------------------------------------- resume, checkpoint


def resume(run: Run, path: str) -> None:
    """Continue from a checkpoint made with the same model settings: weights, optimiser, averaging,
    the generators, the epoch and step reached, and the history so far. Everything is checked
    first (widgets.train_io.check_checkpoint, check_weights): a bad file is one ConfigError line."""
    ck = check_checkpoint(load_checkpoint(path), path)
    saved = ck["config"]
    diff = [k for k in SHAPE_FIELDS if saved.get(k) != getattr(run.c, k)]
    if diff:
        raise ConfigError(f"checkpoint {path} was made with other {', '.join(diff)} "
                          f"({', '.join(f'{k}={saved.get(k)!r}' for k in diff)})")
    if ck["epoch"] >= run.c.epochs:
        n = ck["epoch"]
        raise ConfigError(f"checkpoint {path} already trained {n} epoch{'s' if n != 1 else ''}; "
                          f"raise --epochs above {n} to train on")
    check_weights(run.model, ck["model"], "model", path)
    if run.averaged is not None and ck.get("averaged") is not None:
        check_weights(run.averaged, ck["averaged"], "averaged", path)
    try:
        _apply(run, ck)
    except (ValueError, KeyError, TypeError, RuntimeError, IndexError) as exc:
        raise ConfigError(f"checkpoint {path} does not fit this run: {one_line(exc)}") from None


def _apply(run: Run, ck: dict) -> None:
    run.model.load_state_dict(ck["model"])
    run.optimizer.load_state_dict(ck["optimizer"])
    if run.averaged is not None and ck.get("averaged") is not None:
        run.averaged.load_state_dict(ck["averaged"])
        run.ema_fn.n = int(run.averaged.n_averaged.item()) - 1
    run.g_perm.set_state(ck["g_perm"])
    run.g_aug.set_state(ck["g_aug"])
    torch.set_rng_state(ck["rng_cpu"])  # dropout draws from the global generators
    set_cuda_rng_state(ck.get("rng_cuda"), run.device)
    run.start_epoch, run.step = int(ck["epoch"]), int(ck["step"])
    run.history = list(ck.get("history", []))


def checkpoint_state(run: Run, epoch_done: int) -> dict:
    """Everything `resume` needs to continue exactly: tensors and plain containers only."""
    return {"model": run.model.state_dict(), "optimizer": run.optimizer.state_dict(),
            "averaged": run.averaged.state_dict() if run.averaged is not None else None,
            "g_perm": run.g_perm.get_state(), "g_aug": run.g_aug.get_state(), "rng_cpu": torch.get_rng_state(),
            "rng_cuda": cuda_rng_state(run.device),
            "epoch": epoch_done, "step": run.step, "config": run.c.to_dict(), "history": run.history}


def save(run: Run, epoch_done: int) -> None:
    """The checkpoint after `epoch_done` epochs, when the run has a --save path (rank 0 writes it)."""
    if run.c.save and run.dist.rank == 0:
        save_checkpoint(run.c.save, checkpoint_state(run, epoch_done))
