"""describe_run counts a setting's FLOPs on the 'meta' device (no convolution computed), or reads the count
for the settings lesson 5's page opens with from widgets/recordings/model_cost.json (no FlopCounterMode, which
imports torch._dynamo). Either must be the count FlopCounterMode gives on the real CPU model."""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

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
    assert R.count_on_meta(config) == (flops, params)
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
    R.describe_run(CONFIGS["no aux, no BN, width 0.5, 24 px"])   # a shape not in the record
    assert seen == ["meta"]
    assert all(p.is_meta for p in R.build_on_meta(lesson_default("digits"), 1, 10).parameters())


def test_the_recorded_costs_are_the_cpu_counts():
    """Every entry of the record, counted again on the CPU; the page's starting settings are in it.
    If widgets/googlenet.py changed, rewrite the record: python -m widgets.train_recipe"""
    from widgets.views.live_training import settings as S

    record = json.loads(R.COST_RECORD.read_text())
    assert set(record) == {R.shape_key(c) for c in R.RECORDED_CONFIGS}
    for c in R.RECORDED_CONFIGS:
        flops, params = on_cpu(c)
        assert record[R.shape_key(c)] == {"forward_flops": flops, "params": params}, "stale record: python -m widgets.train_recipe"
        assert R.model_cost(c) == (flops, params)
    for on_gpu in (False, True):
        assert R.shape_key(S.base_config(on_gpu)) in record


def test_lesson_5_opens_without_dynamo_and_offers_only_runs_to_replay():
    """The first section built in a fresh process: no FlopCounterMode (torch._dynamo) at start, and the
    replay picker lists only run histories (the recordings folder also holds Table 1's and the costs)."""
    code = ("import sys\n"
            "from widgets.views.live_training import LiveTraining, replay_files\n"
            "from widgets import history as H\n"
            "s = LiveTraining()\n"
            "print('torch._dynamo' in sys.modules, s.replay_pick.options == tuple(p.name for p in replay_files()))\n"
            "for p in replay_files(): H.read_history(p)\n"
            "print(sorted(p.name for p in replay_files()))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.returncode == 0, out.stderr[-2000:]
    first, names = out.stdout.strip().splitlines()[-2:]
    assert first == "False True"
    assert "replay_cpu_digits.json" in names and "googlenet_table1_224.json" not in names and "model_cost.json" not in names
