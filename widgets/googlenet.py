"""GoogLeNet (Szegedy et al., "Going deeper with convolutions", 2014), faithful to Table 1 and section 5.

The file reads from the smallest block to the whole network:

* `BasicConv2d`  - convolution -> (BatchNorm) -> ReLU. The paper puts a ReLU after every convolution,
  "including those inside the Inception modules".
* `Inception`    - the module with dimension reduction (Figure 2b). Its arguments are Table 1's columns:
  `Inception(in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj)`.
* `NaiveInception` - Figure 2a: 1x1, 3x3 and 5x5 convolutions and a 3x3 max pool side by side, no reduction.
  Not part of GoogLeNet; the lesson uses it to show why the reductions are needed.
* `InceptionAux` - the auxiliary classifier of section 5.
* `GoogLeNet`    - one line per row of Table 1.

Deviations from the paper, each also stated where it is made:

* The "5x5" branch really is 5x5. torchvision's `googlenet` uses a 3x3 there (a known bug kept so that its
  pretrained weights still load); ours follows the paper.
* Table 1 lists no local response normalisation, but Figure 3 draws two LocalRespNorm layers (after the
  first max pool and after the 3x3 convolution). They have no weights and no multiply-adds, so Table 1
  is unchanged either way; `lrn=True` puts them in (off by default, as in torchvision).
* The 7x7 average pool is an adaptive average pool to 1x1: identical at 224x224 (the map is 7x7 there),
  and it lets the same network run on other input sizes.
* `batch_norm=True` (conv -> BN -> ReLU, convolutions without bias) is not in the paper: it is what
  Inception-v2 (Ioffe & Szegedy, 2015) added, and it makes the network trainable from scratch on a CPU.
* `small_input=True` replaces the 224x224 stem (7x7/2 conv, two 3x3/2 max pools: /8 before inception 3a)
  by a 32x32 one (3x3/1 conv, no first max pool: /2 before 3a), keeping every Inception module, and lets
  the auxiliary heads pool adaptively to 4x4 (the paper's 5x5/3 pool gives 4x4 from 14x14 only).
* `width` multiplies every channel count (a CPU-sized network), not in the paper.
* Weight initialisation is not given in the paper (it was trained with DistBelief); we use He
  initialisation (fan-in, so activations keep their scale through the concatenations) for convolutions and N(0, 0.01) for linear layers.
"""
from __future__ import annotations

from collections import OrderedDict, namedtuple
from typing import Iterable

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "AUX_LOSS_WEIGHT", "BasicConv2d", "GoogLeNet", "GoogLeNetOutputs", "Inception", "InceptionAux",
    "NaiveInception", "TABLE1_INCEPTION", "googlenet_loss", "googlenet_loss_terms", "count_weights", "count_parameters",
]

# Section 5: "the losses of the auxiliary classifiers were weighted by 0.3" (kept with the paper's numbers in
# widgets/inception_paper.py, torch-free, so that lesson 4's page can say it without loading torch).
from widgets.inception_paper import AUX_LOSS_WEIGHT  # noqa: E402

GoogLeNetOutputs = namedtuple("GoogLeNetOutputs", ["logits", "aux1", "aux2"])
GoogLeNetOutputs.__doc__ = "What GoogLeNet returns in training mode with auxiliary heads."

# Table 1, the Inception rows: name -> (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj).
TABLE1_INCEPTION: dict[str, tuple[int, int, int, int, int, int]] = {
    "inception3a": (64, 96, 128, 16, 32, 32),
    "inception3b": (128, 128, 192, 32, 96, 64),
    "inception4a": (192, 96, 208, 16, 48, 64),
    "inception4b": (160, 112, 224, 24, 64, 64),
    "inception4c": (128, 128, 256, 24, 64, 64),
    "inception4d": (112, 144, 288, 32, 64, 64),
    "inception4e": (256, 160, 320, 32, 128, 128),
    "inception5a": (256, 160, 320, 32, 128, 128),
    "inception5b": (384, 192, 384, 48, 128, 128),
}


class BasicConv2d(nn.Sequential):
    """conv -> (BN) -> ReLU. With BN the convolution has no bias (BN's beta plays that role)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: int = 0, batch_norm: bool = False):
        layers = [("conv", nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride,
                                     padding=padding, bias=not batch_norm))]
        if batch_norm:
            layers.append(("bn", nn.BatchNorm2d(out_channels, eps=1e-3)))
        layers.append(("relu", nn.ReLU(inplace=True)))
        super().__init__(OrderedDict(layers))


class Inception(nn.Module):
    """Figure 2(b): four branches concatenated along channels; 1x1 reductions before the 3x3 and 5x5.

    Output channels = ch1x1 + ch3x3 + ch5x5 + pool_proj, whatever `in_channels` is.
    """

    def __init__(self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int,
                 ch5x5: int, pool_proj: int, batch_norm: bool = False):
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = ch1x1 + ch3x3 + ch5x5 + pool_proj
        self.branch1x1 = BasicConv2d(in_channels, ch1x1, 1, batch_norm=batch_norm)
        self.branch3x3 = nn.Sequential(OrderedDict(
            reduce=BasicConv2d(in_channels, ch3x3red, 1, batch_norm=batch_norm),
            conv=BasicConv2d(ch3x3red, ch3x3, 3, padding=1, batch_norm=batch_norm),
        ))
        # A real 5x5 (torchvision: 3x3 here, "known bug" kept for its weights).
        self.branch5x5 = nn.Sequential(OrderedDict(
            reduce=BasicConv2d(in_channels, ch5x5red, 1, batch_norm=batch_norm),
            conv=BasicConv2d(ch5x5red, ch5x5, 5, padding=2, batch_norm=batch_norm),
        ))
        self.branch_pool = nn.Sequential(OrderedDict(
            pool=nn.MaxPool2d(3, stride=1, padding=1),
            proj=BasicConv2d(in_channels, pool_proj, 1, batch_norm=batch_norm),
        ))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # N x in_channels x H x W  ->  N x (ch1x1 + ch3x3 + ch5x5 + pool_proj) x H x W
        branches = (self.branch1x1, self.branch3x3, self.branch5x5, self.branch_pool)
        return torch.cat([b(x) for b in branches], dim=1)


class NaiveInception(nn.Module):
    """Figure 2(a): 1x1, 3x3, 5x5 convolutions and a 3x3 max pool on the same input, concatenated.

    The pool branch passes all `in_channels` through, so the output has
    ch1x1 + ch3x3 + ch5x5 + in_channels channels: stacking these modules makes the width grow.
    """

    def __init__(self, in_channels: int, ch1x1: int, ch3x3: int, ch5x5: int, batch_norm: bool = False):
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = ch1x1 + ch3x3 + ch5x5 + in_channels
        self.branch1x1 = BasicConv2d(in_channels, ch1x1, 1, batch_norm=batch_norm)
        self.branch3x3 = BasicConv2d(in_channels, ch3x3, 3, padding=1, batch_norm=batch_norm)
        self.branch5x5 = BasicConv2d(in_channels, ch5x5, 5, padding=2, batch_norm=batch_norm)
        self.branch_pool = nn.MaxPool2d(3, stride=1, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = (self.branch1x1, self.branch3x3, self.branch5x5, self.branch_pool)
        return torch.cat([b(x) for b in branches], dim=1)


class InceptionAux(nn.Module):
    """Section 5's auxiliary classifier, on top of inception 4a and 4d.

    5x5/3 average pool (14x14 -> 4x4), 1x1 conv with 128 filters + ReLU, FC 1024 + ReLU,
    dropout 70%, linear to the classes (softmax is in the loss).
    """

    def __init__(self, in_channels: int, num_classes: int, batch_norm: bool = False,
                 adaptive_pool: bool = False, conv_channels: int = 128, fc_channels: int = 1024,
                 dropout: float = 0.7):
        super().__init__()
        # Paper: 5x5 filter, stride 3. Small-input variant: adaptive to 4x4 (maps smaller than 14x14).
        self.pool = nn.AdaptiveAvgPool2d(4) if adaptive_pool else nn.AvgPool2d(5, stride=3)
        self.conv = BasicConv2d(in_channels, conv_channels, 1, batch_norm=batch_norm)
        self.fc1 = nn.Linear(conv_channels * 4 * 4, fc_channels)
        self.dropout = nn.Dropout(dropout)
        self.fc2 = nn.Linear(fc_channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(x)                     # N x C x 4 x 4
        x = self.conv(x)                     # N x 128 x 4 x 4
        x = torch.flatten(x, 1)              # N x 2048
        x = F.relu(self.fc1(x), inplace=True)  # N x 1024
        x = self.dropout(x)
        return self.fc2(x)                   # N x num_classes


def _scaled(channels: int, width: float) -> int:
    """A channel count times the width multiplier, at least 1."""
    return max(1, int(round(channels * width)))


class GoogLeNet(nn.Module):
    """GoogLeNet, Table 1, one line per row.

    Training mode with `aux_logits=True`: returns GoogLeNetOutputs(logits, aux1, aux2).
    Eval mode (or `aux_logits=False`): returns the logits tensor; the auxiliary heads are not run.
    """

    def __init__(self, num_classes: int = 1000, aux_logits: bool = True, batch_norm: bool = False,
                 small_input: bool = False, width: float = 1.0, dropout: float = 0.4,
                 aux_dropout: float = 0.7, in_channels: int = 3, lrn: bool = False):
        super().__init__()
        if not width > 0:
            raise ValueError(f"width must be positive, got {width}")
        if num_classes < 1 or in_channels < 1:
            raise ValueError("num_classes and in_channels must be at least 1")
        self.num_classes, self.aux_logits = num_classes, aux_logits
        self.batch_norm, self.small_input, self.width = batch_norm, small_input, width
        c = lambda n: _scaled(n, width)  # noqa: E731 - one short name keeps each table row on one line
        bn = batch_norm

        # Stem. Paper (224x224): 7x7/2 conv 64 -> 3x3/2 max pool -> 1x1 conv 64 -> 3x3 conv 192 -> 3x3/2 max pool.
        if small_input:
            # Deviation: a 32x32 image would be 4x4 after the paper's /8 stem; keep /2 instead.
            self.conv1 = BasicConv2d(in_channels, c(64), 3, stride=1, padding=1, batch_norm=bn)
            self.maxpool1 = nn.Identity()
        else:
            self.conv1 = BasicConv2d(in_channels, c(64), 7, stride=2, padding=3, batch_norm=bn)
            self.maxpool1 = nn.MaxPool2d(3, stride=2, padding=1)
        self.lrn1 = nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0) if lrn else nn.Identity()
        self.conv2 = BasicConv2d(c(64), c(64), 1, batch_norm=bn)             # the 1x1 "reduce"
        self.conv3 = BasicConv2d(c(64), c(192), 3, padding=1, batch_norm=bn)  # the 3x3
        self.lrn2 = nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0) if lrn else nn.Identity()
        self.maxpool2 = nn.MaxPool2d(3, stride=2, padding=1)

        def inception(name: str, in_ch: int) -> Inception:
            return Inception(in_ch, *(c(n) for n in TABLE1_INCEPTION[name]), batch_norm=bn)

        self.inception3a = inception("inception3a", c(192))
        self.inception3b = inception("inception3b", self.inception3a.out_channels)
        self.maxpool3 = nn.MaxPool2d(3, stride=2, padding=1)
        self.inception4a = inception("inception4a", self.inception3b.out_channels)
        self.inception4b = inception("inception4b", self.inception4a.out_channels)
        self.inception4c = inception("inception4c", self.inception4b.out_channels)
        self.inception4d = inception("inception4d", self.inception4c.out_channels)
        self.inception4e = inception("inception4e", self.inception4d.out_channels)
        self.maxpool4 = nn.MaxPool2d(3, stride=2, padding=1)
        self.inception5a = inception("inception5a", self.inception4e.out_channels)
        self.inception5b = inception("inception5b", self.inception5a.out_channels)

        if aux_logits:
            aux = dict(batch_norm=bn, adaptive_pool=small_input, conv_channels=c(128),
                       fc_channels=c(1024), dropout=aux_dropout)
            self.aux1 = InceptionAux(self.inception4a.out_channels, num_classes, **aux)
            self.aux2 = InceptionAux(self.inception4d.out_channels, num_classes, **aux)
        else:
            self.aux1 = self.aux2 = None

        self.avgpool = nn.AdaptiveAvgPool2d(1)  # the paper's 7x7/1 average pool at 224x224
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(self.inception5b.out_channels, num_classes)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, 0.01)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor):
        # Shapes for a 224x224 input (small_input: 32x32 -> 32, 32, 16, 8, 4).
        x = self.lrn1(self.maxpool1(self.conv1(x)))   # N x 64 x 56 x 56
        x = self.lrn2(self.conv3(self.conv2(x)))      # N x 192 x 56 x 56
        x = self.maxpool2(x)                          # N x 192 x 28 x 28
        x = self.inception3b(self.inception3a(x))     # N x 480 x 28 x 28
        x = self.maxpool3(x)                          # N x 480 x 14 x 14
        x = self.inception4a(x)                       # N x 512 x 14 x 14
        run_aux = self.training and self.aux1 is not None
        aux1 = self.aux1(x) if run_aux else None
        x = self.inception4d(self.inception4c(self.inception4b(x)))  # N x 528 x 14 x 14
        aux2 = self.aux2(x) if run_aux else None
        x = self.inception4e(x)                       # N x 832 x 14 x 14
        x = self.maxpool4(x)                          # N x 832 x 7 x 7
        x = self.inception5b(self.inception5a(x))     # N x 1024 x 7 x 7
        x = torch.flatten(self.avgpool(x), 1)         # N x 1024
        logits = self.fc(self.dropout(x))             # N x num_classes
        if run_aux:
            return GoogLeNetOutputs(logits, aux1, aux2)
        return logits


def googlenet_loss_terms(outputs, target: torch.Tensor, aux_weight: float = AUX_LOSS_WEIGHT):
    """(total, main, aux): total = CE(logits) + aux_weight * aux, aux = CE(aux1) + CE(aux2) (section 5: 0.3).

    `outputs` is a GoogLeNetOutputs (training) or a logits tensor (eval, or no aux heads: aux = 0).
    Logits are taken in float32, so a bf16-autocast forward still gets a float32 loss.
    """
    if isinstance(outputs, torch.Tensor):
        logits, aux = outputs, []
    else:
        logits, *aux = outputs
    main = F.cross_entropy(logits.float(), target)
    aux_sum = sum((F.cross_entropy(a.float(), target) for a in aux if a is not None),
                  torch.zeros((), device=main.device))
    return main + aux_weight * aux_sum, main, aux_sum


def googlenet_loss(outputs, target: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the main head plus 0.3 x each auxiliary head's (section 5); see `googlenet_loss_terms`."""
    return googlenet_loss_terms(outputs, target)[0]


def count_weights(module: nn.Module) -> int:
    """Entries of convolution kernels and linear weight matrices: what Table 1's "params" counts.

    Biases and BatchNorm's gamma/beta are left out (see `count_parameters` for everything).
    """
    return sum(m.weight.numel() for m in module.modules() if isinstance(m, (nn.Conv2d, nn.Linear)))


def count_parameters(module: nn.Module | Iterable[nn.Parameter]) -> int:
    """Every trainable number, biases and BN included."""
    params = module.parameters() if isinstance(module, nn.Module) else module
    return sum(p.numel() for p in params if p.requires_grad)


if __name__ == "__main__":  # a quick look: python -m widgets.googlenet
    net = GoogLeNet().eval()
    print(f"weights (Table 1's count): {count_weights(net) - count_weights(net.aux1) - count_weights(net.aux2):,}")
    with torch.no_grad():
        print(net(torch.randn(1, 3, 224, 224)).shape)
