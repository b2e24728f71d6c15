"""describe_run counts a setting's FLOPs on the 'meta' device (lesson 5's start: no convolution computed).
The count must be the one FlopCounterMode gives on the real CPU model, parameter for parameter."""
from __future__ import annotations

import dataclasses

import pytest
import torch

from widgets import train_recipe as R
from widgets.train_config import lesson_default
from widgets.train_eval import forward_flops

CONFIGS = {
    "digits default": lesson_default("digits"),
    "no aux, no BN, width 0.5, 24 px": dataclasses.replace(lesson_default("digits"), aux=False, bn=False,
                                                            width=0.5, image_size=24),
    "cifar10 default (32 px, width 1)": lesson_default("cifar10"),
}


def on_cpu(config) -> tuple[int, int]:
    """(forward FLOPs per image, parameters) of the model built and run for real on the CPU."""
    cin, classes, _ = R.DATASET_SHAPES[config.dataset]
    torch.manual_seed(0)
    model = R.build_model(config, cin, classes)
    assert next(model.parameters()).device.type == "cpu"
    return forward_flops(model, cin, config.image_size), sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name", list(CONFIGS))
def test_meta_count_is_the_cpu_count(name):
    config = CONFIGS[name]
    flops, params = on_cpu(config)
    d = R.describe_run(config)
    assert (d["forward_flops"], d["params"]) == (flops, params)
    assert flops > 0 and d["train_flops_per_epoch"] == 3 * flops * d["steps_per_epoch"] * config.batch_size


def test_describe_run_builds_and_counts_on_meta(monkeypatch):
    """No arithmetic at describe time: the model it counts lives on the meta device."""
    seen = []

    def spy(model, cin, size):
        seen.append(next(model.parameters()).device.type)
        return forward_flops(model, cin, size)

    monkeypatch.setattr(R, "forward_flops", spy)
    R.describe_run(lesson_default("digits"))
    assert seen == ["meta"]
    assert all(p.is_meta for p in R.build_on_meta(lesson_default("digits"), 1, 10).parameters())
