"""FLOPs of a forward pass, as PyTorch itself counts them (one helper for every lesson).

`torch.utils.flop_counter.FlopCounterMode` counts FLOPs = 2 x multiply-adds for convolutions and
matrix products; lessons that speak of multiplications halve its figure where they compare.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch is imported where it counts: the closed forms below need none (the landing page)
    import torch
    from torch import nn


def count_flops(module: nn.Module, x: torch.Tensor) -> int:
    """FLOPs of `module(x)` (no gradients), counted by torch's FlopCounterMode.

    Runs the module as it is: put it in eval mode first if the count must not include
    training-only branches (GoogLeNet's auxiliary heads). Works on the 'meta' device.
    """
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter, torch.no_grad():
        module(x)
    return int(counter.get_total_flops())


def count_flops_by_module(module: nn.Module, x: torch.Tensor) -> dict[str, int]:
    """FLOPs of `module(x)` per submodule, counted by FlopCounterMode (no gradients).

    Keys are the submodules' paths as `module.named_modules()` gives them ('inception3a.branch3x3.reduce');
    '' is `module` itself (the total). A submodule that did no counted work is absent.
    """
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    root = type(module).__name__
    with FlopCounterMode(display=False, depth=None) as counter, torch.no_grad():
        module(x)
    out = {}
    for key, per_op in counter.get_flop_counts().items():
        if key == root or key.startswith(root + "."):
            out[key[len(root) + 1:]] = int(sum(per_op.values()))
    return out


# The closed form of a convolution's cost, checked against count_flops and nn.Conv2d in the tests.
def conv_macs(height: int, width: int, ch_in: int, ch_out: int, k: int) -> int:
    """Multiply-adds of a k×k 'same' convolution on an H×W map: every one of the H·W·C_out outputs is a
    dot product of length k·k·C_in (padding zeros included, as the hardware and FlopCounterMode count them)."""
    return height * width * ch_out * k * k * ch_in


def conv_weights(ch_in: int, ch_out: int, k: int, bias: bool = False) -> int:
    """Learned numbers of a k×k convolution: k·k·C_in per filter, C_out filters (+ C_out biases)."""
    return k * k * ch_in * ch_out + (ch_out if bias else 0)
