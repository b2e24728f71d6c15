"""FLOPs of a forward pass, as PyTorch itself counts them (one helper for every lesson).

`torch.utils.flop_counter.FlopCounterMode` counts FLOPs = 2 x multiply-adds for convolutions and
matrix products; lessons that speak of multiplications halve its figure where they compare.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def count_flops(module: nn.Module, x: torch.Tensor) -> int:
    """FLOPs of `module(x)` (no gradients), counted by torch's FlopCounterMode.

    Runs the module as it is: put it in eval mode first if the count must not include
    training-only branches (GoogLeNet's auxiliary heads). Works on the 'meta' device.
    """
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        module(x)
    return int(counter.get_total_flops())
