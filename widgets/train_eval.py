"""Evaluation for the training engine: logits in eval mode, top-k accuracy, the confusion matrix,
the order a teacher looks at mistakes in, multi-crop testing and its cost in FLOPs."""
from __future__ import annotations

import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from widgets import data as D
from widgets.flops import count_flops
from widgets.train_config import resolve_accel
from widgets.train_device import synchronize


def split_outputs(outputs) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """(logits, [aux logits...]) from a tensor or GoogLeNet's (logits, aux1, aux2) namedtuple."""
    if isinstance(outputs, torch.Tensor):
        return outputs, []
    logits, *aux = outputs
    return logits, [a for a in aux if a is not None]


def topk_correct(logits: torch.Tensor, target: torch.Tensor, k: int) -> torch.Tensor:
    """How many rows have the target among their k largest logits (a 0-d tensor, no sync)."""
    k = min(k, logits.shape[1])
    return (logits.topk(k, dim=1).indices == target[:, None]).any(dim=1).sum()


def autocast(device: torch.device, enabled: bool):
    """bf16 autocast when enabled, on any device (the CPU's autocast supports bfloat16); else a no-op context."""
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=enabled)


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
        with autocast(x.device, bf16):
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
    synchronize(device)
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


def evaluate_crops(model: nn.Module, data: D.ImageData, config) -> list[dict]:
    """1-crop and 10-crop test accuracy of a trained model (a TrainConfig's run), with the cost of each in FLOPs."""
    flops = forward_flops(model, data.in_channels, config.image_size)
    device = next(model.parameters()).device
    config = resolve_accel(config, device.type)
    out = []
    for crops in (1, 10):
        # mirrored views only where mirroring keeps the label (the run trained with flips)
        r = multi_crop_eval(model, data, config.image_size, crops, config.eval_batch,
                            bf16=config.bf16, channels_last=config.channels_last,
                            mirror=config.flip)
        r["mirrored"] = crops > 1 and config.flip
        r["flops_per_image"] = crops * flops
        out.append(r)
    return out
