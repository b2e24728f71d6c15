"""The training engine of lesson 5 (no UI code): GoogLeNet on digits or CIFAR-10.

    result = train(TrainConfig(dataset="digits"), callback=print, stop_event=threading.Event())

The paper's recipe (Szegedy et al. 2014, section 6) is available as options:
SGD with momentum 0.9, the learning rate cut by 4% every 8 epochs (`schedule="step"`), the two
auxiliary classifiers' losses added with weight 0.3, Polyak averaging of the weights for the
model used at test time, and random-sized crops of 8%-100% of the area with aspect ratio in
[3/4, 4/3]. For short runs, `schedule="onecycle"` (warm up, then cosine down to ~0) learns far
faster than the paper's schedule, which was made for runs of hundreds of epochs.

Deviations, stated where they are made:
* Polyak averaging is done as an exponential moving average of the weights (widgets.train_recipe).
* The averaged model gets fresh BatchNorm statistics from one pass over the training set at
  the end (torch.optim.swa_utils.update_bn, in `_final_model`), because averaged weights and the
  running statistics of the last weights do not belong together.

The engine reports through `callback(event: dict)` ("start", "step", "epoch", "end", each with its
"progress"; see widgets.progress, which lesson 2's experiments share), checks `stop_event` between
steps, writes checkpoints at the end of each epoch when `save` is set (`torch.load(...,
weights_only=True)` reads them back), and stops with a clear message when the loss becomes NaN
or infinite. The data set is kept on the run's device and augmented there (one path for every
device). `bf16` (autocast), `channels_last` and `compile` (torch.compile of the step's model) work on
every device; unset, they are on for CUDA and off elsewhere (widgets.train_config.accel_defaults),
and the run's reason line says which are in effect. On the CPU a seed gives the same run twice. A run sets `threads` for itself and gives back the count it found.

The loop reads as its parts: `setup` (device, data, model) and `resume` (widgets.train_run),
`_train_epoch` (one epoch of steps), `_evaluate_epoch` (test metrics, checkpoint) and `_finish`
(the test model, the final numbers, the "end" event). The rest lives beside it:
    widgets.train_run      the run's state, setup, resume, checkpoint contents
    widgets.train_config   TrainConfig (each field's help and bounds), validate, lesson_default
    widgets.train_recipe   model, loss, schedules, averaging, describe_run
    widgets.train_eval     logits, accuracy, confusion matrix, multi-crop evaluation, FLOPs
    widgets.train_io       checkpoints, TrainResult, history JSON
    widgets.train_device   device, threads, DDP, machine_info
    widgets.train_cli      `python -m widgets.train --help`; under `torchrun --nproc_per_node=N`
                           it trains with DistributedDataParallel (gloo on the CPU, NCCL on CUDA)
Their names are importable from here too (`from widgets import train as T; T.TrainConfig`).
"""
from __future__ import annotations

import math
import sys
import threading
import time
from typing import Callable

import torch
import torch.nn as nn

from widgets import data as D
from widgets.progress import Reporter
from widgets.train_config import (ACCEL_FIELDS, DEVICES, SCHEDULES, SHAPE_FIELDS, ConfigError, TrainConfig,
                                  accel_defaults, accel_label, feature_map_sides, lesson_default, output_path_error,
                                  resolve_accel, validate)
from widgets.train_device import (Dist, available_bytes, claim_gpu, dist_from_env, machine_info, machine_threads,
                                  select_device, suggest_threads, synchronize)
from widgets.train_eval import (autocast, confusion_matrix, evaluate_crops, forward_flops, metrics_from_logits,
                                mistakes_first, multi_crop_eval, predict_logits, split_outputs, topk_correct)
from widgets.train_io import (HISTORY_FORMAT, TrainResult, check_checkpoint, load_checkpoint, load_history,
                              mean_throughput, save_checkpoint, save_history)
from widgets.train_recipe import (AUX_LOSS_WEIGHT, DATASET_SHAPES, EmaUpdate, build_model, check_resources,
                                  describe_run, ema_decay_at, estimate_memory, inception_loss, lr_at)
from widgets.train_run import Run, resume, save, setup

_EmaUpdate = EmaUpdate  # older name
__all__ = [
    "train", "make_batch", "train_step", "bn_batches", "main",
    "TrainConfig", "ConfigError", "validate", "lesson_default", "SHAPE_FIELDS", "SCHEDULES", "DEVICES",
    "feature_map_sides", "output_path_error", "ACCEL_FIELDS", "accel_defaults", "accel_label", "resolve_accel",
    "select_device", "suggest_threads", "machine_info", "machine_threads", "Dist", "dist_from_env", "available_bytes",
    "claim_gpu", "synchronize",
    "predict_logits", "metrics_from_logits", "confusion_matrix", "mistakes_first", "multi_crop_eval",
    "forward_flops", "evaluate_crops", "split_outputs", "topk_correct",
    "TrainResult", "HISTORY_FORMAT", "save_checkpoint", "load_checkpoint", "check_checkpoint", "save_history",
    "load_history", "AUX_LOSS_WEIGHT", "DATASET_SHAPES", "build_model", "describe_run", "ema_decay_at",
    "inception_loss", "lr_at", "estimate_memory", "check_resources",
]


def main(argv: list[str] | None = None) -> int:
    """The CLI (widgets.train_cli.main): `python -m widgets.train --help`."""
    from widgets.train_cli import main as cli_main

    return cli_main(argv)


# --------------------------------------------------------------------------- one step


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
    """Forward (in bf16 autocast when `bf16`, on any device), the 0.3-weighted loss, backward, SGD step.
    No host sync."""
    with autocast(xb.device, bf16):
        outputs = step_model(xb)
        loss, main_loss, aux = inception_loss(outputs, yb)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return outputs, loss, main_loss, aux


# --------------------------------------------------------------------------- one epoch


class _Sums:
    """Running sums on the device between log points (no host sync per step), and the epoch's totals."""

    def __init__(self, device: torch.device):
        self.loss, self.main, self.aux, self.correct = (torch.zeros((), device=device) for _ in range(4))
        self.n, self.t_log = 0, time.perf_counter()
        self.epoch_loss, self.epoch_correct, self.epoch_n = 0.0, 0.0, 0

    @torch.no_grad()
    def add(self, outputs, loss, main_loss, aux, yb) -> None:
        self.loss += loss.detach()
        self.main += main_loss.detach()
        self.aux += aux.detach()
        self.correct += topk_correct(split_outputs(outputs)[0].detach(), yb, 1)
        self.n += yb.shape[0]


def _log_step(run: Run, sums: _Sums, i: int) -> bool:
    """The "step" event for the steps since the last one; False (and the run marked) if the loss diverged."""
    n_steps = max(1, round(sums.n / run.local_batch))
    loss_v = float(sums.loss) / n_steps  # the sync point
    if not math.isfinite(loss_v):
        run.result.diverged = True
        run.result.message = (f"Diverged at step {run.step} (epoch {run.epoch + 1}): the loss became {loss_v}. "
                              f"Lower the learning rate (it was {run.last_lr:.3g}) or turn BN on.")
        return False
    now = time.perf_counter()
    ev = run.emit("step", step=run.step, epoch=run.epoch + (i + 1) / run.steps_per_epoch, loss=loss_v,
                  main_loss=float(sums.main) / n_steps, aux_loss=float(sums.aux) / n_steps,
                  train_top1=float(sums.correct) / sums.n, lr=run.last_lr,
                  images_per_s=sums.n * run.dist.world_size / max(now - sums.t_log, 1e-9), elapsed=now - run.t_start)
    run.history.append(ev)
    sums.epoch_loss += loss_v * n_steps
    sums.epoch_correct += float(sums.correct)
    sums.epoch_n += sums.n
    for t in (sums.loss, sums.main, sums.aux, sums.correct):
        t.zero_()
    sums.n, sums.t_log = 0, time.perf_counter()
    return True


def _train_epoch(run: Run) -> _Sums | None:
    """One epoch of steps over this rank's shard; None when stopped or diverged."""
    c, world, rank = run.c, run.dist.world_size, run.dist.rank
    per_rank = run.x_train.shape[0] // world
    perm = torch.randperm(run.x_train.shape[0], generator=run.g_perm, device=run.device)[: per_rank * world]
    perm = perm[rank::world]
    sums = _Sums(run.device)
    for i in range(run.steps_per_epoch):
        if run.hooks.stop_requested:
            run.result.stopped = True
            return None
        idx = perm[i * run.local_batch:(i + 1) * run.local_batch]
        xb, yb = make_batch(c, run.data, run.x_train, run.y_train, run.x_fixed, idx, run.g_aug, run.channels_last)
        run.last_lr = lr_at(c, run.step, run.steps_per_epoch)
        for group in run.optimizer.param_groups:
            group["lr"] = run.last_lr
        outputs, loss, main_loss, aux = train_step(run.step_model, run.optimizer, xb, yb, run.bf16)
        if run.averaged is not None:
            run.averaged.update_parameters(run.model)
        run.step += 1
        sums.add(outputs, loss, main_loss, aux, yb)
        if (run.step % c.log_every == 0 or i == run.steps_per_epoch - 1) and not _log_step(run, sums, i):
            return None
    return sums


def _evaluate_epoch(run: Run, sums: _Sums, epoch_seconds: float) -> bool:
    """Test metrics of the current weights, the "epoch" event and the checkpoint; False if diverged."""
    # the current weights: the averaged ones only get BN statistics of their own at the end,
    # and with the last weights' statistics they are badly off early in a run
    m = metrics_from_logits(predict_logits(run.model, run.x_test, run.c.eval_batch, run.bf16, run.channels_last),
                            run.data.y_test)
    if not math.isfinite(m["loss"]):
        run.result.diverged = True
        run.result.message = (f"Diverged in epoch {run.epoch + 1}: the test loss became {m['loss']}. "
                              f"Lower the learning rate (it was {run.last_lr:.3g}) or turn BN on.")
        return False
    ev = run.emit("epoch", epoch=run.epoch + 1, step=run.step,
                  train_loss=sums.epoch_loss / max(1, run.steps_per_epoch),
                  train_top1=sums.epoch_correct / max(1, sums.epoch_n),
                  test_loss=m["loss"], test_top1=m["top1"], test_top5=m["top5"], lr=run.last_lr,
                  images_per_s=run.steps_per_epoch * run.local_batch * run.dist.world_size / epoch_seconds,
                  epoch_seconds=epoch_seconds, elapsed=time.perf_counter() - run.t_start)
    run.history.append(ev)
    run.result.epochs_done = run.epoch + 1
    save(run, run.epoch + 1)
    return True


def _epochs(run: Run) -> None:
    run.model.train()
    run.epoch = run.start_epoch
    run.last_lr = lr_at(run.c, run.step, run.steps_per_epoch)
    for epoch in range(run.start_epoch, run.c.epochs):
        run.epoch = epoch
        t_epoch = time.perf_counter()
        sums = _train_epoch(run)
        if sums is None:
            return
        synchronize(run.device)  # the epoch's time includes its last kernels
        if not _evaluate_epoch(run, sums, time.perf_counter() - t_epoch):
            return


# --------------------------------------------------------------------------- finish


def bn_batches(x: torch.Tensor, size: int) -> list[torch.Tensor]:
    """`x` in batches of `size` for update_bn, a last batch of one image joined to the one before:
    BatchNorm in training mode must never see a batch of 1 (its statistics are meaningless, and
    on a 1x1 map torch refuses them)."""
    batches = [x[i:i + size] for i in range(0, x.shape[0], size)]
    if len(batches) > 1 and batches[-1].shape[0] == 1:
        batches[-2:] = [torch.cat(batches[-2:])]
    return batches


def _final_model(run: Run) -> nn.Module:
    """The test-time model: the averaged weights, with BN statistics of their own (one pass over
    the training images)."""
    c, averaged = run.c, run.averaged
    if averaged is not None and any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in run.model.modules()):
        fixed = run.x_fixed if run.x_fixed is not None else \
            D.normalize(D.resize(run.x_train, c.image_size), run.data.mean, run.data.std)
        batches = bn_batches(fixed, c.eval_batch)
        with autocast(run.device, run.bf16):
            torch.optim.swa_utils.update_bn(batches, averaged, device=run.device)
    return run.eval_model()


def _final_numbers(run: Run) -> None:
    result, c = run.result, run.c
    test_model = _final_model(run)
    logits = predict_logits(test_model, run.x_test, c.eval_batch, run.bf16, run.channels_last)
    m = metrics_from_logits(logits, run.data.y_test)
    conf, pred = logits.softmax(1).max(1)
    result.final = {"test_top1": m["top1"], "test_top5": m["top5"], "test_loss": m["loss"],
                    "epochs": result.epochs_done, "steps": run.step}
    if run.averaged is not None:
        raw = metrics_from_logits(predict_logits(run.model, run.x_test, c.eval_batch, run.bf16, run.channels_last),
                                  run.data.y_test)
        result.final.update(raw_test_top1=raw["top1"], raw_test_top5=raw["top5"])
    result.final["predictions"] = pred.cpu().tolist()
    result.final["confidence"] = [round(v, 5) for v in conf.cpu().tolist()]
    result.model = test_model
    if not result.stopped:  # a stopped run keeps its last whole-epoch checkpoint
        save(run, result.epochs_done)


def _finish(run: Run) -> TrainResult:
    """The stop message, the test model and its numbers, and the "end" event."""
    result, c = run.result, run.c
    if result.stopped and not result.message:
        result.message = (f"Stopped by request at step {run.step} (epoch {run.epoch + 1}); "
                          + (f"the checkpoint {c.save} holds the last whole epoch." if c.save and result.epochs_done
                             else "nothing was lost but this run."))
    if not result.diverged and result.epochs_done > 0:
        _final_numbers(run)
    result.seconds = time.perf_counter() - run.t_start
    result.final["seconds"] = result.seconds
    result.final["images_per_s"] = mean_throughput(run.history)
    if not result.message and not result.stopped:
        n = result.epochs_done
        result.message = (f"Finished {n} epoch{'s' if n != 1 else ''} in {result.seconds:.1f} s: test top-1 "
                          f"{result.final.get('test_top1', float('nan')):.4f}.")
    run.emit("end", step=run.step, stopped=result.stopped, diverged=result.diverged, message=result.message,
             final={k: v for k, v in result.final.items() if k not in ("predictions", "confidence")})
    return result


# --------------------------------------------------------------------------- the run


def _train(c: TrainConfig, hooks: Reporter, data, model_factory, dist: Dist) -> TrainResult:
    run = setup(c, hooks, data, model_factory, dist)
    c = run.c  # the accelerator options resolved for the device
    if c.resume:
        resume(run, c.resume)
    n_params = sum(p.numel() for p in run.model.parameters())
    run.emit("start", device=str(run.device), reason=run.result.device_reason, epochs=c.epochs,
             start_epoch=run.start_epoch, steps_per_epoch=run.steps_per_epoch, total_steps=run.total_steps,
             params=n_params, world_size=dist.world_size, label=c.label(), config=c.to_dict())
    try:
        _epochs(run)
    finally:
        run.result.history = run.history
        run.result.steps_done = run.step
    return _finish(run)


def train(config: TrainConfig, callback: Callable[[dict], None] | None = None,
          stop_event: threading.Event | None = None, *, data: D.ImageData | None = None,
          model_factory: Callable[[TrainConfig, int, int], nn.Module] | None = None) -> TrainResult:
    """Train one run; return a TrainResult (also when stopped or diverged: see its message).

    `data` lets a caller reuse a loaded data set; `model_factory(config, in_channels, classes)`
    replaces GoogLeNet (tests use a tiny stand-in).
    """
    validate(config)
    dist = dist_from_env(config.device)
    threads_found = torch.get_num_threads()
    try:
        if config.threads is not None:
            torch.set_num_threads(config.threads)
        return _train(config, Reporter(callback, stop_event), data, model_factory or build_model, dist)
    finally:
        torch.set_num_threads(threads_found)  # never leave a busy machine's 1 thread to the next run
        if dist.owns_group:
            import torch.distributed as torch_dist

            torch_dist.destroy_process_group()


if __name__ == "__main__":
    sys.exit(main())
