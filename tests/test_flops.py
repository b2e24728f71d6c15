"""widgets.flops: the one FLOP-counting helper, against the closed form of a convolution and a matmul."""
import torch
from torch import nn

from widgets.flops import count_flops


def test_conv_flops_are_twice_the_multiply_adds():
    conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)
    assert count_flops(conv, torch.zeros(2, 3, 10, 10)) == 2 * (2 * 3 * 8 * 9 * 10 * 10)


def test_linear_flops_and_meta_device():
    lin = nn.Linear(64, 10, device="meta")
    assert count_flops(lin, torch.zeros(5, 64, device="meta")) == 2 * 5 * 64 * 10


def test_counting_leaves_no_gradient_graph():
    lin = nn.Linear(4, 2)
    count_flops(lin, torch.randn(3, 4))
    assert lin.weight.grad is None
