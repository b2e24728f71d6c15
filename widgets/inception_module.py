"""The Inception module in closed form, for any sizes the learner types (lesson 4's explorer).

Checked in the tests against FlopCounterMode on real `Inception`/`NaiveInception` modules.
"""
from __future__ import annotations

from dataclasses import dataclass

from widgets.flops import conv_macs, conv_weights


# ----------------------------------------------------------------------------------------------
# The module explorer: closed forms for any sizes (checked against FlopCounterMode in the tests)
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BranchCost:
    branch: str
    out_channels: int
    weights: int
    macs: int
    reduce_weights: int = 0   # the 1x1 reduction in front of it (included in weights/macs)
    reduce_macs: int = 0


def _conv(in_ch: int, out_ch: int, k: int, side: int) -> tuple[int, int]:
    """(weights, multiply-adds) of a k x k 'same' convolution on a side x side map, without bias
    (the one closed form, widgets.flops, shared with lesson 3)."""
    return conv_weights(in_ch, out_ch, k), conv_macs(side, side, in_ch, out_ch, k)


def _check_sizes(**sizes: int) -> None:
    for name, v in sizes.items():
        if int(v) != v or v < 1:
            raise ValueError(f"{name} must be a whole number of at least 1, got {v}")


def naive_module_costs(in_channels: int, side: int, ch1x1: int, ch3x3: int, ch5x5: int) -> list[BranchCost]:
    """Figure 2(a): every convolution sees all `in_channels`; the max pool passes them all through."""
    _check_sizes(in_channels=in_channels, side=side, ch1x1=ch1x1, ch3x3=ch3x3, ch5x5=ch5x5)
    b1, b3, b5 = _conv(in_channels, ch1x1, 1, side), _conv(in_channels, ch3x3, 3, side), _conv(in_channels, ch5x5, 5, side)
    return [BranchCost("1x1", ch1x1, *b1), BranchCost("3x3", ch3x3, *b3), BranchCost("5x5", ch5x5, *b5),
            BranchCost("pool", in_channels, 0, 0)]


def reduced_module_costs(in_channels: int, side: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int,
                         ch5x5: int, pool_proj: int) -> list[BranchCost]:
    """Figure 2(b): 1x1 reductions before the 3x3 and 5x5, a 1x1 projection after the pool."""
    _check_sizes(in_channels=in_channels, side=side, ch1x1=ch1x1, ch3x3red=ch3x3red, ch3x3=ch3x3,
                 ch5x5red=ch5x5red, ch5x5=ch5x5, pool_proj=pool_proj)
    r3, c3 = _conv(in_channels, ch3x3red, 1, side), _conv(ch3x3red, ch3x3, 3, side)
    r5, c5 = _conv(in_channels, ch5x5red, 1, side), _conv(ch5x5red, ch5x5, 5, side)
    return [
        BranchCost("1x1", ch1x1, *_conv(in_channels, ch1x1, 1, side)),
        BranchCost("3x3", ch3x3, r3[0] + c3[0], r3[1] + c3[1], *r3),
        BranchCost("5x5", ch5x5, r5[0] + c5[0], r5[1] + c5[1], *r5),
        BranchCost("pool", pool_proj, *_conv(in_channels, pool_proj, 1, side)),
    ]


def module_summary(branches: list[BranchCost]) -> dict[str, int]:
    return dict(out_channels=sum(b.out_channels for b in branches),
                weights=sum(b.weights for b in branches), macs=sum(b.macs for b in branches))


def stack_costs(n: int, in_channels: int, side: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int,
                ch5x5: int, pool_proj: int) -> dict[str, list[int]]:
    """N modules of the same spec stacked at the same resolution, naive against reduced.

    Naive: each module gets the previous one's output (which includes all its input channels, passed
    through by the pool), so channels grow by ch1x1 + ch3x3 + ch5x5 per stage and the cost with them.
    Reduced: the output is ch1x1 + ch3x3 + ch5x5 + pool_proj every time.
    """
    _check_sizes(n=n)
    out = {k: [] for k in ("stage", "naive_in", "naive_out", "naive_macs", "naive_weights",
                           "reduced_in", "reduced_out", "reduced_macs", "reduced_weights")}
    c_naive = c_red = in_channels
    for stage in range(1, n + 1):
        nb = module_summary(naive_module_costs(c_naive, side, ch1x1, ch3x3, ch5x5))
        rb = module_summary(reduced_module_costs(c_red, side, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj))
        out["stage"].append(stage)
        out["naive_in"].append(c_naive)
        out["naive_out"].append(nb["out_channels"])
        out["naive_macs"].append(nb["macs"])
        out["naive_weights"].append(nb["weights"])
        out["reduced_in"].append(c_red)
        out["reduced_out"].append(rb["out_channels"])
        out["reduced_macs"].append(rb["macs"])
        out["reduced_weights"].append(rb["weights"])
        c_naive, c_red = nb["out_channels"], rb["out_channels"]
    return out


