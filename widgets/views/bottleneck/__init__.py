"""Lesson 3 sections: the 1×1 convolution, the cost calculator with its two checks, and the catch.

Each builder returns one widget (a `Section`); every number comes from the maths modules
`widgets.conv1x1`, `widgets.bottleneck` and `widgets.bottleneck_tradeoff`.
"""
from widgets.views.bottleneck.calculator import CostCalculator, cost_calculator
from widgets.views.bottleneck.channels import ManyChannels, SingleChannel, many_channels, single_channel
from widgets.views.bottleneck.tradeoff import Tradeoff, bottleneck_tradeoff

__all__ = ["SingleChannel", "ManyChannels", "CostCalculator", "Tradeoff",
           "single_channel", "many_channels", "cost_calculator", "bottleneck_tradeoff"]
