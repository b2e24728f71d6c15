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


def test_flops_by_module_are_keyed_by_path_and_add_up():
    from widgets.flops import count_flops_by_module

    net = nn.Sequential(nn.Conv2d(3, 4, 3, bias=False), nn.Sequential(nn.ReLU(), nn.Conv2d(4, 2, 1, bias=False)))
    x = torch.zeros(1, 3, 8, 8)
    by = count_flops_by_module(net, x)
    assert by[""] == count_flops(net, x) == by["0"] + by["1"]
    assert by["0"] == 2 * (6 * 6 * 4 * 3 * 3 * 3) and by["1"] == by["1.1"] == 2 * (6 * 6 * 2 * 4)
    assert "1.0" not in by                                       # the ReLU does no counted work


def test_conv_closed_form_against_the_counter_and_the_parameters():
    from widgets.flops import conv_macs, conv_weights

    for h, w, c_in, c_out, k in [(7, 5, 3, 4, 3), (28, 28, 192, 32, 5), (1, 1, 2, 3, 1)]:
        conv = nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=True, device="meta")
        assert count_flops(conv, torch.zeros(1, c_in, h, w, device="meta")) == 2 * conv_macs(h, w, c_in, c_out, k)
        assert sum(p.numel() for p in conv.parameters()) == conv_weights(c_in, c_out, k, bias=True)
        assert conv_weights(c_in, c_out, k) == conv.weight.numel()
