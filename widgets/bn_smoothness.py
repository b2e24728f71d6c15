"""The smoothness probes of Santurkar, Tsipras, Ilyas, Madry 2018 ("How Does Batch Normalization
Help Optimization?") on lesson 2's MLP (widgets.bn_training): from the current weights, step along
the gradient and see how much the loss and the gradient change. The model is given back as it was.
"""
from __future__ import annotations

import math
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn


STEP_MULTIPLIERS = (0.5, 1.0, 2.0, 4.0)   # step sizes probed along -g, as multiples of the learning rate


@contextmanager
def model_kept(model: nn.Module):
    """Run a probe on the model and give it back as it was: weights and BN's running buffers
    (a train-mode forward updates running_mean/var, which the final evaluation uses)."""
    state = {k: v.clone() for k, v in model.state_dict().items()}
    try:
        yield
    finally:
        model.load_state_dict(state)
        model.zero_grad(set_to_none=True)


def smoothness(model: nn.Module, xb, yb, lr: float) -> tuple[float, float, float, float, float]:
    """Santurkar et al.'s probes at the current point: move along the gradient by eta in lr*STEP_MULTIPLIERS
    (same batch, same noise), and record the spread of the loss, the largest change of the gradient,
    and the effective beta-smoothness max ||grad' - grad|| / ||eta grad||. The model is restored."""
    with model_kept(model):
        return _smoothness_probe(model, xb, yb, lr)


def _smoothness_probe(model: nn.Module, xb, yb, lr: float) -> tuple[float, float, float, float, float]:
    params = [p for p in model.parameters()]
    saved = [p.detach().clone() for p in params]

    def loss_and_grad():
        model.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        return float(loss.detach()), [p.grad.detach().clone() if p.grad is not None else torch.zeros_like(p)
                                      for p in params]

    loss0, grad0 = loss_and_grad()
    gnorm = math.sqrt(sum(float((gr**2).sum()) for gr in grad0))
    losses, changes, betas, rel, pred = [loss0], [], [], [], []
    for mult in STEP_MULTIPLIERS:
        eta = lr * mult
        with torch.no_grad():
            for p, s, gr in zip(params, saved, grad0):
                p.copy_(s - eta * gr)
        loss_e, grad_e = loss_and_grad()
        diff = math.sqrt(sum(float(((a - b) ** 2).sum()) for a, b in zip(grad_e, grad0)))
        losses.append(loss_e)
        changes.append(diff)
        betas.append(diff / (eta * gnorm) if gnorm > 0 else 0.0)
        rel.append(diff / gnorm if gnorm > 0 else 0.0)
        # first-order Taylor: L(theta - eta g) ~ L0 - eta ||g||^2; 1.0 = the gradient predicts the step exactly
        pred.append((loss0 - loss_e) / (eta * gnorm**2) if gnorm > 0 else 1.0)
    finite = [v for v in losses if math.isfinite(v)]
    loss_range = (max(finite) - min(finite)) if len(finite) == len(losses) else float("inf")
    return loss_range, max(changes), max(betas), max(rel), pred[STEP_MULTIPLIERS.index(1.0)]
