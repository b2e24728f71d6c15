"""widgets.googlenet against the paper's Table 1 and section 5, checked by closed forms and torch itself."""
from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from widgets.googlenet import (
    AUX_LOSS_WEIGHT, GoogLeNet, GoogLeNetOutputs, Inception, NaiveInception, TABLE1_INCEPTION,
    count_parameters, count_weights, googlenet_loss,
)

torch.set_num_threads(2)


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return GoogLeNet()


@pytest.fixture(scope="module")
def meta_net():
    """The same network on the meta device: shapes and FLOPs without arithmetic."""
    with torch.device("meta"):
        return GoogLeNet()


def test_api_keywords_and_submodule_names(net):
    GoogLeNet(num_classes=10, aux_logits=False, batch_norm=True, small_input=True, width=0.25,
              dropout=0.4, aux_dropout=0.7, in_channels=1)
    names = {n for n, _ in net.named_children()}
    expected = {"conv1", "conv2", "conv3", "aux1", "aux2", "fc"} | set(TABLE1_INCEPTION)
    assert expected <= names
    assert net.dropout.p == 0.4 and net.aux1.dropout.p == 0.7
    assert AUX_LOSS_WEIGHT == 0.3


def test_inception_arguments_are_table1_columns():
    m = Inception(192, 64, 96, 128, 16, 32, 32)
    assert m.branch1x1.conv.weight.shape == (64, 192, 1, 1)
    assert m.branch3x3.reduce.conv.weight.shape == (96, 192, 1, 1)
    assert m.branch3x3.conv.conv.weight.shape == (128, 96, 3, 3)
    assert m.branch5x5.reduce.conv.weight.shape == (16, 192, 1, 1)
    assert m.branch5x5.conv.conv.weight.shape == (32, 16, 5, 5)
    assert m.branch_pool.proj.conv.weight.shape == (32, 192, 1, 1)
    assert m.out_channels == 256


def test_every_5x5_branch_is_really_5x5(net):
    # torchvision's googlenet has 3x3 kernels here (a known bug kept for its weights); ours must not.
    for name in TABLE1_INCEPTION:
        conv = getattr(net, name).branch5x5.conv.conv
        assert conv.kernel_size == (5, 5) and conv.padding == (2, 2), name


def test_relu_after_every_convolution(net):
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    blocks = [m for m in net.modules() if hasattr(m, "conv") and isinstance(getattr(m, "conv"), nn.Conv2d)]
    assert len(convs) == len(blocks) == 57 + 2  # 3 stem + 9 x 6 in the modules, + 1 per aux head
    assert all(isinstance(b.relu, nn.ReLU) for b in blocks)


def table1_weights(in_ch, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
    """Closed form: the product of Table 1's columns, branch by branch."""
    return (in_ch * ch1x1 + in_ch * ch3x3red + 9 * ch3x3red * ch3x3 + in_ch * ch5x5red
            + 25 * ch5x5red * ch5x5 + in_ch * pool_proj)


def test_each_row_weights_equal_product_of_columns(net):
    in_ch = 192
    for name, cols in TABLE1_INCEPTION.items():
        assert count_weights(getattr(net, name)) == table1_weights(in_ch, *cols), name
        in_ch = cols[0] + cols[2] + cols[4] + cols[5]
    assert count_weights(net.conv1) == 7 * 7 * 3 * 64
    assert count_weights(net.conv2) + count_weights(net.conv3) == 64 * 64 + 9 * 64 * 192
    assert count_weights(net.fc) == 1024 * 1000


def test_total_weights_and_parameters(net):
    body = count_weights(net) - count_weights(net.aux1) - count_weights(net.aux2)
    assert body == 6_990_272  # the sum of the closed forms above
    assert count_weights(net.aux1) == 512 * 128 + 2048 * 1024 + 1024 * 1000
    assert count_weights(net.aux2) == 528 * 128 + 2048 * 1024 + 1024 * 1000
    n_bias = sum(m.bias.numel() for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear)))
    assert count_parameters(net) == count_weights(net) + n_bias


def test_shapes_at_224(meta_net):
    shapes = {}
    hooks = [getattr(meta_net, n).register_forward_hook(lambda m, i, o, n=n: shapes.__setitem__(n, tuple(o.shape)))
             for n in ["conv1", "maxpool1", "conv3", "maxpool2", *TABLE1_INCEPTION, "maxpool4"]]
    meta_net.eval()
    out = meta_net(torch.empty(2, 3, 224, 224, device="meta"))
    for h in hooks:
        h.remove()
    assert out.shape == (2, 1000)
    assert shapes["conv1"] == (2, 64, 112, 112)
    assert shapes["maxpool1"] == (2, 64, 56, 56)
    assert shapes["conv3"] == (2, 192, 56, 56)
    assert shapes["maxpool2"] == (2, 192, 28, 28)
    assert shapes["inception3a"] == (2, 256, 28, 28) and shapes["inception3b"] == (2, 480, 28, 28)
    assert [shapes[f"inception4{c}"][1] for c in "abcde"] == [512, 512, 512, 528, 832]
    assert shapes["inception4e"][2:] == (14, 14)
    assert shapes["maxpool4"] == (2, 832, 7, 7)
    assert shapes["inception5b"] == (2, 1024, 7, 7)


def test_multiply_adds_at_224_match_torch_counter(meta_net):
    meta_net.eval()
    with FlopCounterMode(display=False) as counter:
        meta_net(torch.empty(1, 3, 224, 224, device="meta"))
    macs = counter.get_total_flops() // 2
    # closed form: each row's weights times its output positions
    in_ch, expected = 192, 9408 * 112 * 112 + (64 * 64 + 9 * 64 * 192) * 56 * 56 + 1024 * 1000
    for name, cols in TABLE1_INCEPTION.items():
        side = {"3": 28, "4": 14, "5": 7}[name[9]]
        expected += table1_weights(in_ch, *cols) * side * side
        in_ch = cols[0] + cols[2] + cols[4] + cols[5]
    assert macs == expected
    assert 1.57e9 < macs < 1.59e9


def test_aux_heads_only_in_training_mode(net):
    x = torch.randn(2, 3, 224, 224)
    net.train()
    with torch.no_grad():
        out = net(x)
    assert isinstance(out, GoogLeNetOutputs)
    assert [t.shape for t in out] == [(2, 1000)] * 3
    net.eval()
    calls = []
    h = net.aux1.register_forward_hook(lambda *a: calls.append(1))
    with torch.no_grad():
        out = net(x)
    h.remove()
    assert isinstance(out, torch.Tensor) and out.shape == (2, 1000) and not calls
    no_aux = GoogLeNet(aux_logits=False, width=0.25).train()
    assert isinstance(no_aux(torch.randn(2, 3, 64, 64)), torch.Tensor)
    assert no_aux.aux1 is None and no_aux.aux2 is None


def test_aux_head_is_section5():
    net = GoogLeNet(num_classes=7)
    aux = net.aux1
    assert isinstance(aux.pool, nn.AvgPool2d) and aux.pool.kernel_size == 5 and aux.pool.stride == 3
    assert aux.conv.conv.out_channels == 128 and aux.conv.conv.kernel_size == (1, 1)
    assert aux.fc1.out_features == 1024 and aux.fc2.out_features == 7 and aux.dropout.p == 0.7
    out = aux(torch.randn(1, 512, 14, 14))  # 14x14 -> 4x4 by the 5x5/3 pool
    assert out.shape == (1, 7)


@pytest.mark.parametrize("side", [32, 16])
def test_small_input_stem_keeps_every_module(side):
    torch.manual_seed(0)
    net = GoogLeNet(num_classes=10, small_input=True, width=0.25, in_channels=1, batch_norm=True)
    seen = []
    for name in TABLE1_INCEPTION:
        getattr(net, name).register_forward_hook(lambda m, i, o, n=name: seen.append((n, o.shape[-1])))
    out = net.train()(torch.randn(3, 1, side, side))
    assert [n for n, _ in seen] == list(TABLE1_INCEPTION)
    assert dict(seen)["inception3a"] == side // 2 and dict(seen)["inception5b"] == side // 8
    assert isinstance(out, GoogLeNetOutputs) and out.aux2.shape == (3, 10)
    assert net.eval()(torch.randn(3, 1, side, side)).shape == (3, 10)


def test_width_multiplier_scales_channels():
    net = GoogLeNet(width=0.5, aux_logits=False)
    assert net.conv1.conv.out_channels == 32
    assert net.inception3a.out_channels == 128 and net.inception5b.out_channels == 512
    assert net.fc.in_features == 512
    with pytest.raises(ValueError):
        GoogLeNet(width=0)


def test_batch_norm_option():
    net = GoogLeNet(batch_norm=True, aux_logits=False, width=0.25)
    assert net.conv1.conv.bias is None and isinstance(net.conv1.bn, nn.BatchNorm2d)
    assert isinstance(net.inception4c.branch5x5.conv.bn, nn.BatchNorm2d)


def test_loss_weights_aux_by_point_three():
    torch.manual_seed(0)
    out = GoogLeNetOutputs(torch.randn(4, 5), torch.randn(4, 5), torch.randn(4, 5))
    y = torch.tensor([0, 1, 2, 3])
    ce = nn.functional.cross_entropy
    expected = ce(out.logits, y) + 0.3 * ce(out.aux1, y) + 0.3 * ce(out.aux2, y)
    assert torch.allclose(googlenet_loss(out, y), expected)
    assert torch.allclose(googlenet_loss(out.logits, y), ce(out.logits, y))


def test_small_network_learns():
    """A few steps on a fixed batch lower the combined loss: gradients reach every head."""
    torch.manual_seed(0)
    net = GoogLeNet(num_classes=4, small_input=True, width=0.125, in_channels=1, batch_norm=True).train()
    x, y = torch.randn(16, 1, 16, 16), torch.arange(16) % 4
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    first = None
    for _ in range(15):
        opt.zero_grad()
        loss = googlenet_loss(net(x), y)
        loss.backward()
        first = first if first is not None else loss.item()
        opt.step()
    assert loss.item() < 0.7 * first
    assert net.aux1.fc2.weight.grad.abs().sum() > 0


def test_naive_module_output_channels():
    m = NaiveInception(192, 64, 128, 32)
    assert m(torch.randn(1, 192, 8, 8)).shape == (1, 64 + 128 + 32 + 192, 8, 8)
    assert m.out_channels == 416
