"""Lesson 5's prose against what the code computes, the paper's table, and the result files
(issue 11 items 1-6, and the guard: no measured figure is typed into the prose)."""
from __future__ import annotations

import dataclasses
import json
import math
import re
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn

from claims import Claim, check, markdown
from widgets import data as D
from widgets import history as H
from widgets import run_results as R
from widgets import train as T
from widgets.googlenet import GoogLeNet
from widgets.views import live_training as L
from widgets.views.live_training.words import say

NB = "05_live_training.ipynb"
ROOT = Path(__file__).resolve().parents[1]
DEFAULT = T.lesson_default("digits")
PAPER_TABLE3 = {1: 10.07, 10: 9.15, 144: 7.89}   # GoogLeNet, Table 3: one model, top-5 error (%) by crops


def stem_side(small_input: bool, size: int = 16) -> int:
    """The side of the feature map that reaches inception (3a) from a size x size digit."""
    seen = {}
    m = GoogLeNet(num_classes=10, in_channels=1, small_input=small_input, width=0.25, batch_norm=True).eval()
    m.inception3a.register_forward_pre_hook(lambda _m, inp: seen.update(shape=inp[0].shape))
    with torch.no_grad():
        m(torch.zeros(1, 1, size, size))
    return int(seen["shape"][-1])


def flops(width: float) -> int:
    c = dataclasses.replace(DEFAULT, width=width)
    return T.forward_flops(T.build_model(c, 1, 10), 1, c.image_size)


def bn_momentum() -> float:
    moms = {m.momentum for m in T.build_model(DEFAULT, 1, 10).modules() if isinstance(m, nn.BatchNorm2d)}
    assert len(moms) == 1
    return moms.pop()


def crop_sides() -> list[float]:
    return sorted({round(box[2], 6) for box, _mirrored in D.ten_crop_boxes(mirror=False)})


def lr_ratio(step_fraction: float) -> float:
    spe = T.describe_run(DEFAULT)["steps_per_epoch"]
    total = spe * DEFAULT.epochs
    return T.lr_at(DEFAULT, round(step_fraction * (total - 1)), spe) / DEFAULT.lr


CLAIMS = [
    # data
    Claim(NB, r"([0-9,]+) real handwritten digits", lambda: len(D.digits("all")[1])),
    Claim(NB, r"with ([0-9]+) grey levels", lambda: len(np.unique(D.digits("all")[0]))),
    Claim(NB, r"keeps ([0-9,]+) for training", lambda: len(D.digits("train")[1])),
    Claim(NB, r"and ([0-9,]+) for testing", lambda: len(D.digits("test")[1])),
    # the recipe
    Claim(NB, r"SGD with momentum ([0-9.]+)", lambda: DEFAULT.momentum),
    Claim(NB, r"1/\(1-0\.9\) = ([0-9]+)", lambda: 1 / (1 - DEFAULT.momentum), tol=1e-9),
    Claim(NB, r"learning rate by ([0-9]+)% every", lambda: 100 * (1 - DEFAULT.step_gamma), tol=1e-9),
    Claim(NB, r"by 4% every ([0-9]+) epochs", lambda: DEFAULT.step_epochs),
    Claim(NB, r"0\.96\^\{12\} = ([0-9.]+)", lambda: T.lr_at(dataclasses.replace(DEFAULT, schedule="step"),
                                                             100 * 22, 22) / DEFAULT.lr, tol=5e-3),
    Claim(NB, r"from \$\\eta/([0-9]+)\$ to", lambda: 1 / lr_ratio(0.0), rel=1e-9),
    Claim(NB, r"to \$\\eta/([0-9]+)\{,\}000\$", lambda: 1 / lr_ratio(1.0) / 1000, rel=1e-6),
    Claim(NB, r"added with weight ([0-9.]+)", lambda: T.AUX_LOSS_WEIGHT),
    Claim(NB, r"\\min\\!\\left\(([0-9.]+), \\frac", lambda: DEFAULT.ema_decay),
    Claim(NB, r"Random-sized crops\*\*: ([0-9]+)% to", lambda: 100 * DEFAULT.crop_min_area, tol=1e-9),
    Claim(NB, r"% to ([0-9]+)% of the image area", lambda: 100.0),   # D.random_crop_boxes: scale up to 1.0
    Claim(NB, r"an ([0-9]+)% crop of an 8×8 digit", lambda: 100 * DEFAULT.crop_min_area, tol=1e-9),
    Claim(NB, r"8×8 digit is about ([0-9])×", lambda: 8 * math.sqrt(DEFAULT.crop_min_area), tol=0.3),
    Claim(NB, r"reaches inception \(3a\) at ([0-9]+)×", lambda: stem_side(True)),
    Claim(NB, r"instead of the ([0-9]+)×[0-9]+ the paper's stem", lambda: stem_side(False)),
    Claim(NB, r"width 1/4 has about 1/([0-9]+) of the multiply-adds", lambda: flops(1.0) / flops(0.25), tol=0.5),
    # the defaults
    Claim(NB, r"\*\*reduced model\*\*: width 1/([0-9]+)", lambda: 1 / DEFAULT.width),
    Claim(NB, r"width 1/4, ([0-9]+)×[0-9]+ inputs", lambda: DEFAULT.image_size),
    Claim(NB, r"([0-9]+) epochs of batch", lambda: DEFAULT.epochs),
    Claim(NB, r"epochs of batch ([0-9]+)", lambda: DEFAULT.batch_size),
    Claim(NB, r"\(([0-9]+) steps an epoch\)", lambda: T.describe_run(DEFAULT)["steps_per_epoch"]),
    Claim(NB, r"one-cycle up to \$\\eta = ([0-9.]+)\$", lambda: DEFAULT.lr),
    # reading the curves
    Claim(NB, r"\$\\ln 10 = ([0-9.]+)\$", lambda: math.log(10), tol=5e-3),
    Claim(NB, r"roughly the last ([0-9]+) steps", lambda: 1 / bn_momentum(), tol=1e-9),
    Claim(NB, r"steps \(momentum ([0-9.]+)\)", bn_momentum, tol=1e-9),
    Claim(NB, r"a learning rate of ([0-9.]+) changes the weights", lambda: DEFAULT.lr),
    Claim(NB, r"can sit near ([0-9]+)%", lambda: 100 / 10),        # chance on 10 classes
    # multi-crop (items 2 and 5)
    Claim(NB, r"top-5 error of ([0-9.]+)% with 1 crop", lambda: PAPER_TABLE3[1]),
    Claim(NB, r"([0-9.]+)% with 10 crops", lambda: PAPER_TABLE3[10]),
    Claim(NB, r"([0-9.]+)% with 144 crops", lambda: PAPER_TABLE3[144]),
    Claim(NB, r"averaged the softmax over ([0-9]+) crops", lambda: 4 * 3 * 6 * 2),  # scales x squares x crops x mirrors
    Claim(NB, r"The first gain costs ([0-9.]+) times the compute", lambda: 10 / 1),
    Claim(NB, r"the second ([0-9.]+) times more", lambda: 144 / 10, tol=1e-9),
    Claim(NB, r"We compare 1 view \(the whole image\) with ([0-9]+):", lambda: len(D.ten_crop_boxes(mirror=False))),
    Claim(NB, r"at two sizes, ([0-9.]+)% and", lambda: 100 * crop_sides()[0], tol=1e-9),
    Claim(NB, r"% and ([0-9.]+)% of the side", lambda: 100 * crop_sides()[1], tol=1e-9),
    Claim(NB, r"five crops at ([0-9.]+)% and their mirror images", lambda: 100 * D.ten_crop_boxes(mirror=True)[0][0][2],
          tol=1e-9),
    # replay
    Claim(NB, r"in ([0-9]+) s whatever the run's length", lambda: H.REPLAY_SECONDS),
    Claim(NB, r"at most ([0-9,]+) points", lambda: H.MAX_POINTS),
    Claim(NB, r"a file over ([0-9]+) MB", lambda: H.MAX_BYTES / 2**20),
    Claim(NB, r"with over ([0-9,]+) events", lambda: H.MAX_EVENTS),
]


@pytest.mark.parametrize("claim", CLAIMS, ids=str)
def test_claim(claim):
    check(claim)


# ---------------------------------------------------------------- the guard: measured figures are never typed
MEASURED = [r"\d[\d,]*(?:\.\d+)?\s*(?:s|sec|seconds|ms|min|minutes)\b", r"\bload(?: average)?\s+(?:of\s+)?~?\d",
            r"\d[\d,.]*\s*(?:img|images)/s", r"\d+(?:\.\d+)?\s*%", r"(?:half|a quarter of) a minute"]


def test_no_measured_figure_is_typed_into_the_prose():
    """Every number that reads like a time, a load, a throughput or an accuracy is a claim of the table above
    (computed, or the paper's); anything else is a measured figure typed by hand."""
    text = markdown(NB)
    claimed = [m.span(1) for c in CLAIMS for m in re.finditer(c.pattern, text)]
    typed = [m.group(0) for p in MEASURED for m in re.finditer(p, text, flags=re.I)
             if not any(a <= m.start() < b or m.start() <= a < m.end() for a, b in claimed)]
    assert not typed, f"figures typed into the prose: {typed}"


def test_the_stale_item_1_figures_are_gone():
    text = markdown(NB)
    for stale in ("15.5 s", "10.4 s", "70 s", "98.1%", "load average 7.8", "several times faster", "half a minute"):
        assert stale not in text


def test_the_cpu_benchmark_note_quotes_its_result_file():
    result = json.loads((ROOT / "benchmarks/results/cpu_default.json").read_text())
    text = L.cpu_benchmark().children[0].value
    for r in result["runs"]:
        assert f"{r['seconds']:.2f} s" in text and f"{r['final_test_top1']:.2%}" in text
        assert f"load average {r['load_average_before'][0]:.2f}" in text
    assert result["machine"]["date"] in text


def test_the_banner_quotes_the_fastest_measured_run():
    result = json.loads((ROOT / "benchmarks/results/cpu_default.json").read_text())
    best = min(result["runs"], key=lambda r: r["seconds"])
    assert f"a run took {best['seconds']:.1f} s" in say("en", R.banner_timing(result))


def test_thread_sentences_follow_the_measurements():
    quiet = R.CpuRun(2, 9.0, 0.98, 5, 8.0, 0.3), R.CpuRun(1, 18.0, 0.98, 5, 16.0, 0.4)
    out = [say("en", s) for s in R.thread_verdict(list(quiet), 2)]
    assert out[0] == "2 threads were 2.00 times as fast as 1." and "not busy" in out[1]
    busy = R.CpuRun(2, 70.0, 0.98, 5, 60.0, 7.8), R.CpuRun(1, 15.5, 0.98, 5, 10.4, 7.8)
    assert [say("en", s) for s in R.thread_verdict(list(busy), 2)] == ["1 thread was 4.52 times as fast as 2."]


def test_missing_or_broken_result_files_say_so(tmp_path):
    (tmp_path / "cpu_default.json").write_text("{ nope")
    assert R.read_result("cpu_default", tmp_path) is None and R.read_result("absent", tmp_path) is None
    assert R.cpu_default_sentences(None) == [R.missing("cpu_default")] and R.banner_timing(None) is None
    assert R.cpu_runs({"runs": [{"threads": 2, "seconds": float("nan"), "final_test_top1": 0.9}, "x"]}) == []


def test_the_one_thread_rule_the_prose_states(monkeypatch):
    """'a load average of at least the number of cores minus one half': one thread."""
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    monkeypatch.setattr("os.getloadavg", lambda: (1.5, 1.0, 1.0))
    assert T.suggest_threads()[0] == 1
    monkeypatch.setattr("os.getloadavg", lambda: (1.4, 1.0, 1.0))
    assert T.suggest_threads()[0] != 1 or torch.get_num_threads() == 1
    assert "number of cores minus one half" in markdown(NB)


# ---------------------------------------------------------------- item 2: the multi-crop paragraph
def test_digits_views_are_five_crops_at_two_sizes_without_mirrors():
    views = D.ten_crop_boxes(mirror=False)
    assert len(views) == 10 and not any(m for _box, m in views) and len(crop_sides()) == 2
    assert sum(1 for box, _m in views if round(box[2], 6) == crop_sides()[0]) == 5
    text = markdown(NB)
    assert "On digits none of them is mirrored" in text and "and their mirror images), and plot" not in text
    assert not T.lesson_default("digits").flip and T.lesson_default("cifar10").flip


def test_the_recorded_crops_note_quotes_the_recording():
    h = H.read_history(L.page.SHIPPED)
    text = L.recorded_crops().children[0].value
    for r in h.crops:
        assert f"top-1 {r['top1']:.2%}" in text and f"{r['flops_per_image'] / 1e6:,.1f} MFLOPs" in text
    assert not any(r["mirrored"] for r in h.crops)


# ---------------------------------------------------------------- item 3: the two losses at the start
def test_only_the_batch_loss_starts_near_ln_10():
    h = H.read_history(L.page.SHIPPED)
    first_step = next(e for e in h.events if e["event"] == "step")
    first_epoch = next(e for e in h.events if e["event"] == "epoch")
    assert abs(first_step["main_loss"] - math.log(10)) < 0.1
    assert first_epoch["test_loss"] > 100 * math.log(10)          # far above: "worse than guessing"
    text = L.recorded_losses().children[0].value
    assert f"{first_step['main_loss']:.2f}" in text and f"{first_epoch['test_loss']:,.0f}" in text
    assert "both are near" not in markdown(NB)


@pytest.mark.slow
def test_the_lag_is_in_the_running_statistics_not_the_weights():
    """After one epoch of the default, the same weights with BN statistics recomputed on the training
    set bring the test loss back below ln 10 (the running averages' loss is far above it)."""
    torch.set_num_threads(1)
    data = D.load_digits_data()
    cfg = dataclasses.replace(DEFAULT, averaging=False, threads=1, device="cpu")
    stop = threading.Event()
    r = T.train(cfg, lambda ev: stop.set() if ev["event"] == "epoch" else None, stop, data=data)
    model, x_test = r.model, D.normalize(D.resize(data.x_test, 16), data.mean, data.std)

    def test_loss() -> float:
        with torch.no_grad():
            return float(nn.functional.cross_entropy(model.eval()(x_test), data.y_test))

    lagging = test_loss()
    x_train = D.normalize(D.resize(data.x_train, 16), data.mean, data.std)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None                      # a plain average over the pass
    with torch.no_grad():
        model.train()(x_train)
    assert lagging > 10 * math.log(10) and test_loss() < math.log(10), (lagging, test_loss())


# ---------------------------------------------------------------- items 4-6
def test_the_stem_sentence_names_the_one_max_pool_removed():
    small = GoogLeNet(num_classes=10, in_channels=1, small_input=True)
    paper = GoogLeNet(num_classes=10, in_channels=1, small_input=False)
    assert isinstance(small.maxpool1, nn.Identity) and isinstance(small.maxpool2, nn.MaxPool2d)
    assert isinstance(paper.maxpool1, nn.MaxPool2d)
    assert "and no max pool after it; the second max pool stays" in markdown(NB)
    assert "and two max pools" not in markdown(NB)


def test_ten_times_the_compute_is_gone():
    assert "each gain costs ten times" not in markdown(NB).lower()


def test_torchvision_is_named_only_as_its_result_file_says():
    result = json.loads((ROOT / "benchmarks/results/train_throughput.json").read_text())
    tv = next(r for r in result["rows"] if r["name"].startswith("torchvision"))
    text = L.benchmarks().children[0].value
    assert ("skipped (torchvision not importable)" in text) == bool(tv.get("skipped"))
    assert "ModuleNotFoundError" not in text                      # the page's error detector would fire
    assert "training throughput against torchvision" not in markdown(NB)


def test_the_cli_options_the_prose_lists_exist():
    out = subprocess.run([sys.executable, "-m", "widgets.train", "--help"], capture_output=True, text=True,
                         cwd=ROOT, timeout=120).stdout
    for opt in re.findall(r"`(--[a-z-]+)", markdown(NB)) + ["--no-bn", "--no-aux", "--no-averaging"]:
        assert opt in out, opt


# ---------------------------------------------------------------- the truth pass: words the table cannot parse
class _Controls:
    """The settings' values at the page's defaults (what a section's `values()` gives)."""

    @staticmethod
    def values() -> dict:
        return {"dataset": "digits", "width": 0.25, "size": 16, "schedule": "onecycle", "bn": True, "aux": True,
                "averaging": True, "augment": False, "lr": 0.2, "batch": 64, "epochs": 5, "seed": 0}


def test_words_about_the_page_match_its_code():
    text = markdown(NB)
    assert "at most four times a second" in text and L.page.REDRAW_INTERVAL == 0.25
    assert "stay on the charts (up to four)" in text and L.charts.MAX_RUNS == 4
    assert "over the first quarter of the steps" in text and DEFAULT.warmup_fraction == 0.25
    assert "after each step (every fifth on a GPU)" in text
    assert [L.settings.config(_Controls(), DEFAULT, on_gpu).log_every for on_gpu in (False, True)] == [1, 5]
    assert "try BN off, aux heads off, or a ten-times larger learning rate" in text
    assert L.settings.bounds("lr")[1] >= 10 * DEFAULT.lr              # the field takes it


def test_in_a_run_of_5_epochs_the_step_schedule_never_changes():
    c = dataclasses.replace(DEFAULT, schedule="step")
    spe = T.describe_run(c)["steps_per_epoch"]
    assert {T.lr_at(c, s, spe) for s in range(c.epochs * spe)} == {c.lr}
    assert "In a run of 5 epochs it never changes" in markdown(NB)


def test_the_history_folder_the_prose_names_is_the_pages():
    text = markdown(NB)
    folder = re.search(r"mkdir -p (\S+)", text).group(1)
    assert Path(folder).expanduser() == H.default_history_dir()
    assert f"--history {folder}/my_run.json" in text and "`WIDGETS_HISTORY_DIR`" in text
