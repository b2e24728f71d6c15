"""The GPU's path on the CPU (issue 16): bf16 autocast, channels_last and torch.compile run on every
device, only their defaults differ; the on-device augmentation is the one path; the CUDA-only calls
sit in widgets/train_device.py and its CUDA branches are run with torch.cuda mocked as available.

torch.compile of the whole GoogLeNet takes minutes on 2 shared cores, so the compiled runs here use a
small stand-in model (`model_factory`, conv + BN + ReLU + aux-free head) through the same engine;
GoogLeNet itself runs the same step with bf16 + channels_last uncompiled."""
from __future__ import annotations

import dataclasses
import json
import re
import threading
from pathlib import Path

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from widgets import data as D
from widgets import train as T
from widgets import train_device as TD
from widgets import train_run as TR

REPO = Path(__file__).resolve().parents[1]
ACCEL_ON = "bf16 autocast, channels_last, torch.compile"

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def digits():
    return D.load_digits_data()


class Small(nn.Module):
    """A stand-in that compiles in seconds: two convs with BN, a linear head on the flattened map."""

    def __init__(self, cin: int, classes: int, size: int = 16):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(cin, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(inplace=True),
                                      nn.Conv2d(8, 16, 3, padding=1, stride=2), nn.BatchNorm2d(16), nn.ReLU(inplace=True))
        self.fc = nn.Linear(16 * (size // 2) ** 2, classes)

    def forward(self, x):
        return self.fc(self.features(x).flatten(1))


def small(config, cin, classes):
    return Small(cin, classes, config.image_size)


def accel(**kw) -> T.TrainConfig:
    base = dict(width=0.0625, epochs=2, batch_size=32, train_subset=256, threads=1, lr=0.1, seed=0,
                bf16=True, channels_last=True, compile=True, device="cpu")
    base.update(kw)
    return T.TrainConfig(**base)


# ----------------------------------------------------------------------------- the options and their defaults

def test_only_the_defaults_differ_by_device():
    c = T.TrainConfig()
    assert (c.bf16, c.channels_last, c.compile) == (None, None, None)  # unset: the device decides
    on = T.resolve_accel(c, "cuda")
    assert (on.bf16, on.channels_last, on.compile) == (True, True, True)
    for dev in ("cpu", "mps"):
        off = T.resolve_accel(c, dev)
        assert (off.bf16, off.channels_last, off.compile) == (False, False, False)
    asked = T.TrainConfig(bf16=True, channels_last=False, compile=True)
    for dev in ("cuda", "cpu"):  # what is asked is kept on every device
        r = T.resolve_accel(asked, dev)
        assert (r.bf16, r.channels_last, r.compile) == (True, False, True)
    assert T.accel_label(c, "cpu") == "float32, NCHW" and T.accel_label(c, "cuda") == ACCEL_ON


def test_the_cli_help_no_longer_says_cuda_only(capsys):
    with pytest.raises(SystemExit):
        T.main(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "CUDA only" not in out
    for flag in ("--bf16", "--no-bf16", "--channels-last", "--no-channels-last", "--compile", "--no-compile"):
        assert flag in out
    assert out.count("default: on for CUDA, off for the CPU and MPS") == 3
    from widgets import train_cli as C

    args = C.make_parser().parse_args(["--bf16", "--no-channels-last"])
    cfg = C.config_from_args(args)
    assert (cfg.bf16, cfg.channels_last, cfg.compile) == (True, False, None)


# ----------------------------------------------------------------------------- the step under autocast and NHWC

def test_the_step_runs_in_bf16_autocast_with_channels_last_on_the_cpu():
    torch.manual_seed(0)
    from widgets.googlenet import GoogLeNet

    model = GoogLeNet(num_classes=10, small_input=True, width=0.0625, in_channels=3).to(
        memory_format=torch.channels_last)
    seen = {}
    model.conv1.conv.register_forward_hook(  # the first conv: its input layout and output dtype
        lambda m, i, o: seen.update(nhwc=i[0].is_contiguous(memory_format=torch.channels_last), dtype=o.dtype))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    cfg = T.TrainConfig(dataset="cifar10", image_size=16, augment=True, flip=True)
    x = torch.randint(0, 256, (8, 3, 32, 32), dtype=torch.uint8)
    data = D.ImageData("t", [str(i) for i in range(10)], x, torch.arange(8) % 10, x[:2], torch.arange(2),
                       D.CIFAR10_MEAN, D.CIFAR10_STD, "test")
    xb, yb = T.make_batch(cfg, data, x, data.y_train, None, torch.arange(8), torch.Generator().manual_seed(0), True)
    assert xb.is_contiguous(memory_format=torch.channels_last) and xb.shape == (8, 3, 16, 16)
    outputs, loss, main, aux = T.train_step(model, opt, xb, yb, bf16=True)
    assert seen == {"nhwc": True, "dtype": torch.bfloat16}
    assert outputs.logits.dtype == torch.bfloat16 and loss.dtype == torch.float32  # cross-entropy autocasts up
    assert all(p.dtype == torch.float32 for p in model.parameters())  # the weights stay float32
    T.train_step(model, opt, xb, yb, bf16=False)
    assert seen["dtype"] == torch.float32
    logits = T.predict_logits(model, xb, bf16=True, channels_last=True)
    assert logits.dtype == torch.float32 and logits.shape == (8, 10) and seen["dtype"] == torch.bfloat16


def test_compiled_bf16_channels_last_run_learns_round_trips_and_says_so(tmp_path, digits, capsys):
    """The engine (the CLI's own main) with all three on: the header says so, the loss falls, and the
    checkpoint and history carry the settings in effect and read back."""
    ck, hist = tmp_path / "run.pt", tmp_path / "run.json"
    events = []
    r = T.train(accel(epochs=3, save=str(ck), lr=0.1), callback=events.append, data=digits, model_factory=small)
    start = events[0]
    assert start["event"] == "start" and start["reason"].endswith("; " + ACCEL_ON), start["reason"]
    assert start["config"]["bf16"] is True and start["config"]["compile"] is True
    losses = [e["loss"] for e in r.history if e["event"] == "step"]
    assert len(losses) == 3 * (256 // 32)
    assert sum(losses[-4:]) / 4 < 0.8 * sum(losses[:4]) / 4, losses
    assert not r.diverged and r.final["test_top1"] > 0.3
    assert next(r.model.parameters()).is_contiguous(memory_format=torch.channels_last) or \
        next(r.model.parameters()).dim() != 4
    # checkpoint: plain weights (no torch.compile prefix), the settings in effect
    state = T.load_checkpoint(ck)
    assert state["epoch"] == 3 and state["config"]["bf16"] is True and state["config"]["channels_last"] is True
    Small(1, 10).load_state_dict(state["model"])
    # history: strict JSON with the reason line and the config in effect
    T.save_history(r, hist)
    h = T.load_history(hist)
    assert h["device_reason"].endswith(ACCEL_ON) and h["config"]["compile"] is True
    assert [e["loss"] for e in h["events"] if e["event"] == "step"] == losses


def test_compiled_resume_continues(tmp_path, digits):
    cfg = accel(epochs=2)
    ck = tmp_path / "c.pt"
    stop = threading.Event()
    first = T.train(dataclasses.replace(cfg, save=str(ck)), data=digits, model_factory=small, stop_event=stop,
                    callback=lambda ev: stop.set() if ev["event"] == "epoch" else None)
    assert first.stopped and first.epochs_done == 1
    rest = T.train(dataclasses.replace(cfg, resume=str(ck)), data=digits, model_factory=small)
    assert rest.epochs_done == 2 and rest.steps_done == 2 * (256 // 32) and not rest.diverged


def test_divergence_is_caught_under_bf16_channels_last_and_compile(digits):
    r = T.train(accel(lr=1e6, epochs=1, schedule="step", averaging=False), data=digits,
                model_factory=lambda c, i, k: nn.Sequential(nn.Conv2d(i, 8, 3), nn.AdaptiveAvgPool2d(1),
                                                             nn.Flatten(), nn.Linear(8, k)))
    assert r.diverged and r.message.startswith("Diverged") and "Lower the learning rate" in r.message
    assert r.epochs_done == 0


def test_googlenet_trains_in_bf16_channels_last_on_the_cpu(digits):
    """GoogLeNet with both auxiliary heads learns 64 digits seen 12 times (constant learning rate, no
    dropout): the last steps' loss is well under half the first steps' (about 3.7 = 1.6 ln 10 at the start,
    the main and the two 0.3-weighted auxiliary losses). Its first step's loss is fp32's within bf16's
    precision. (16 steps at lr 0.1 with dropout moved the loss by less than its noise on 2 AVX2 cores.)"""
    kw = dict(compile=False, epochs=12, train_subset=64, width=0.125, lr=0.2, schedule="step",
              dropout=0.0, aux_dropout=0.0, averaging=False)
    r = T.train(accel(**kw), data=digits)
    losses = [e["loss"] for e in r.history if e["event"] == "step"]
    assert len(losses) == 24 and not r.diverged
    assert sum(losses[-4:]) < 0.5 * sum(losses[:4]), losses
    fp32 = T.train(accel(**{**kw, "epochs": 1}, bf16=False, channels_last=False), data=digits)
    first = next(e["loss"] for e in fp32.history if e["event"] == "step")
    assert abs(losses[0] - first) < 0.02 * first, (losses[0], first)
    assert r.device_reason.endswith("bf16 autocast, channels_last")


# ----------------------------------------------------------------------------- one augmentation path

def test_augmentation_shapes_ranges_and_seed():
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (64, 3, 32, 32), dtype=torch.uint8, generator=g)
    out = D.random_resized_crop(x, 24, torch.Generator().manual_seed(7), scale=(0.08, 1.0))
    assert out.shape == (64, 3, 24, 24) and out.dtype == torch.float32
    xf = x.float() / 255
    # bilinear sampling with border padding: every value lies within its own image's range
    lo, hi = xf.amin((1, 2, 3)), xf.amax((1, 2, 3))
    assert (out.amin((1, 2, 3)) >= lo - 1e-6).all() and (out.amax((1, 2, 3)) <= hi + 1e-6).all()
    again = D.random_resized_crop(x, 24, torch.Generator().manual_seed(7), scale=(0.08, 1.0))
    other = D.random_resized_crop(x, 24, torch.Generator().manual_seed(8), scale=(0.08, 1.0))
    assert torch.equal(out, again) and not torch.equal(out, other)
    # the same pixels from a channels_last batch
    nhwc = D.random_resized_crop(x.contiguous(memory_format=torch.channels_last), 24,
                                 torch.Generator().manual_seed(7), scale=(0.08, 1.0))
    assert torch.allclose(out, nhwc, atol=1e-6)


def test_crop_boxes_keep_the_papers_area_and_aspect():
    boxes = D.random_crop_boxes(4000, 32, 32, torch.Generator().manual_seed(1), scale=(0.08, 1.0))
    x0, y0, w, h = boxes.unbind(1)
    assert (x0 >= 0).all() and (y0 >= 0).all() and (x0 + w <= 1 + 1e-6).all() and (y0 + h <= 1 + 1e-6).all()
    area, aspect = w * h, w / h
    fits = ~((w == 1) & (h == 1))  # the whole-image fallback aside
    assert (area[fits] >= 0.08 - 1e-6).all() and (area <= 1 + 1e-6).all()
    assert (aspect[fits] >= 3 / 4 - 1e-5).all() and (aspect[fits] <= 4 / 3 + 1e-5).all()
    assert fits.float().mean() > 0.95


def test_whole_box_is_interpolate_and_flip_mirrors():
    x = torch.rand(5, 3, 20, 20)
    whole = torch.tensor([[0.0, 0.0, 1.0, 1.0]]).expand(5, 4)
    plain = D.crop_resize(x, whole, 12)
    assert torch.allclose(plain, F.interpolate(x, size=(12, 12), mode="bilinear", align_corners=False), atol=1e-5)
    flipped = D.crop_resize(x, whole, 12, torch.ones(5, dtype=torch.bool))
    assert torch.allclose(flipped, plain.flip(3), atol=1e-5)


def test_the_engine_batch_is_the_augmentation_path(digits):
    """make_batch (what every device's step uses) = random_resized_crop + normalize, drawn from the run's generator."""
    cfg = T.TrainConfig(augment=True, crop_min_area=0.3, image_size=16)
    idx = torch.arange(10)
    xb, yb = T.make_batch(cfg, digits, digits.x_train, digits.y_train, None, idx, torch.Generator().manual_seed(3),
                          False)
    ref = D.normalize(D.random_resized_crop(digits.x_train[idx], 16, torch.Generator().manual_seed(3),
                                            scale=(0.3, 1.0), flip=False), digits.mean, digits.std)
    assert torch.equal(xb, ref) and torch.equal(yb, digits.y_train[idx])


# ----------------------------------------------------------------------------- CUDA's branches, mocked

@pytest.fixture
def fake_cuda(monkeypatch):
    """torch.cuda as on a machine with 2 GPUs; records the CUDA-only calls made."""
    calls = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda dev=None: "NVIDIA H100 80GB HBM3")
    monkeypatch.setattr(torch.cuda, "set_device", lambda dev: calls.append(("set_device", str(dev))))
    monkeypatch.setattr(torch.cuda, "synchronize", lambda dev=None: calls.append(("synchronize", str(dev))))
    monkeypatch.setattr(torch.cuda, "get_rng_state", lambda dev=None: torch.tensor([7], dtype=torch.uint8))
    monkeypatch.setattr(torch.cuda, "set_rng_state", lambda s, dev=None: calls.append(("set_rng_state", str(dev))))
    flags = [(torch.backends.cudnn, "benchmark"), (torch.backends.cudnn, "allow_tf32"),
             (torch.backends.cuda.matmul, "allow_tf32")]
    before = [getattr(obj, name) for obj, name in flags]  # torch's setters, put back by hand after
    for obj, name in flags:
        setattr(obj, name, False)
    yield calls
    for (obj, name), value in zip(flags, before):
        setattr(obj, name, value)


def test_select_device_with_cuda(fake_cuda):
    dev, why = T.select_device("auto")
    assert dev == torch.device("cuda", 0) and why == "CUDA GPU: NVIDIA H100 80GB HBM3 (data in GPU memory)"
    assert T.select_device("cuda", local_rank=1)[0] == torch.device("cuda", 1)
    assert T.select_device("auto", local_rank=3)[0] == torch.device("cuda", 1)  # 4 ranks on 2 GPUs share them
    cpu, why = T.select_device("cpu")
    assert cpu.type == "cpu" and why.startswith("CPU, as asked")


def test_select_device_without_cuda_says_why(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    monkeypatch.setattr(torch.version, "cuda", "12.4")
    assert "no CUDA GPU is visible" in T.select_device("auto")[1]
    monkeypatch.setattr(torch.version, "cuda", None)
    assert "CPU-only build" in T.select_device("auto")[1]
    with pytest.raises(T.ConfigError, match="device cuda asked for, but no CUDA GPU is visible"):
        T.select_device("cuda")


def test_torchrun_on_gpus_joins_with_nccl_and_takes_local_rank(fake_cuda, monkeypatch):
    import torch.distributed as dist

    joined = []
    monkeypatch.setattr(dist, "is_initialized", lambda: False)
    monkeypatch.setattr(dist, "init_process_group", lambda backend: joined.append(backend))
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("LOCAL_RANK", "1")
    d = T.dist_from_env("auto")
    assert (d.rank, d.world_size, d.local_rank, d.owns_group) == (3, 4, 1, True) and joined == ["nccl"]
    assert T.dist_from_env("cpu") and joined[-1] == "gloo"  # CPU ranks reduce with gloo even beside GPUs
    device, why = TR.open_device(T.TrainConfig(), d)
    assert device == torch.device("cuda", 1) and "H100" in why
    assert fake_cuda == [("set_device", "cuda:1")]
    assert torch.backends.cudnn.benchmark and torch.backends.cudnn.allow_tf32 and torch.backends.cuda.matmul.allow_tf32
    assert d.local_batch_of(256) == 64


def test_cuda_only_calls_do_nothing_elsewhere(fake_cuda):
    cpu = torch.device("cpu")
    TD.claim_gpu(cpu)
    TD.synchronize(cpu)
    TD.set_cuda_rng_state(torch.tensor([1], dtype=torch.uint8), cpu)
    assert TD.cuda_rng_state(cpu) is None and fake_cuda == []
    gpu = torch.device("cuda", 1)
    TD.synchronize(gpu)
    TD.set_cuda_rng_state(TD.cuda_rng_state(gpu), gpu)
    TD.set_cuda_rng_state(None, gpu)  # a checkpoint made on the CPU has none
    assert fake_cuda == [("synchronize", "cuda:1"), ("set_rng_state", "cuda:1")]
    assert TD.process_group_backend("cuda") == "nccl" and TD.process_group_backend("cpu") == "gloo"


def test_cuda_only_calls_sit_in_train_device():
    """No module of the engine but train_device calls torch.cuda or sets TF32/NCCL itself."""
    pattern = re.compile(r"torch\.cuda\.|allow_tf32|cudnn\.benchmark|\"nccl\"")
    for path in sorted((REPO / "widgets").glob("train*.py")):
        if path.name == "train_device.py":
            continue
        hits = [line for line in path.read_text().splitlines() if pattern.search(line)]
        assert not hits, (path.name, hits)


# ----------------------------------------------------------------------------- the plan for the first GPU run

def _plan():
    import importlib.util

    spec = importlib.util.spec_from_file_location("gpu_plan", REPO / "benchmarks" / "gpu_plan.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_readme_quotes_the_plan_the_script_wrote():
    plan, P = json.loads((REPO / "benchmarks" / "results" / "gpu_plan.json").read_text()), _plan()
    lines = [f"- {P.estimate_line(e)}" for e in plan["estimate"]]
    readme = (REPO / "benchmarks" / "README.md").read_text()
    block = readme.split("<!-- gpu_plan:begin -->")[1].split("<!-- gpu_plan:end -->")[0].strip().splitlines()
    assert block == lines
    assert all(line in (REPO / "benchmarks" / "results" / "gpu_plan.md").read_text() for line in lines)
    # the file is current: the same counts from today's model, and the arithmetic of each row
    for e in plan["estimate"]:
        now = P.estimate(dataclasses.replace(T.lesson_default("cifar10"), batch_size=e["batch_size"]), e["batch_size"])
        assert now == pytest.approx(e)
        assert e["peak_tflops"] == 989.0 and e["mfu"] == 0.3 and e["batch_size"] >= 256
        assert e["ms_per_step"] == pytest.approx(e["flops_per_step"] / (0.3 * 989e12) * 1e3)
        assert e["steps_per_epoch"] == 50_000 // e["batch_size"]
        assert e["epoch_s"] == pytest.approx(e["steps_per_epoch"] * e["ms_per_step"] / 1e3
                                             + 10_000 * e["forward_flops_per_image_eval"] / (0.3 * 989e12))
    assert max(e["batch_size"] for e in plan["estimate"]) >= 512


def test_a_step_costs_three_forward_passes():
    """The plan's 3 x forward against a counted forward + backward of the lesson's GPU model (meta device)."""
    from torch.utils.flop_counter import FlopCounterMode

    P, cfg, batch = _plan(), T.lesson_default("cifar10"), 4
    with torch.device("meta"):
        model = T.build_model(cfg, 3, 10).train()
        x, y = torch.zeros(batch, 3, 32, 32), torch.zeros(batch, dtype=torch.long)
    with FlopCounterMode(display=False) as counter:
        T.inception_loss(model(x), y)[0].backward()
    counted = counter.get_total_flops()
    planned = 3 * P.forward_flops_per_image(cfg, training=True) * batch
    assert 0.97 < counted / planned <= 1.0  # the first conv needs no gradient for its input


def _fake_cifar(folder: Path, n: int = 6) -> None:
    """CIFAR-10's binary batches (label byte, then R, G, B planes), n random records each."""
    import numpy as np

    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [*D.CIFAR10_TRAIN_FILES, D.CIFAR10_TEST_FILE]:
        images = rng.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        (folder / name).write_bytes(b"".join(bytes([labels[i]]) + images[i].tobytes() for i in range(n)))


def test_the_lessons_gpu_defaults_run_on_the_cpu(tmp_path):
    """CIFAR-10, full width, 32x32 (lesson_default("cifar10")) on a tiny subset: shapes, messages, estimate line."""
    _fake_cifar(tmp_path / D.CIFAR10_FOLDER)
    data = D.load_cifar10(tmp_path, download=False, records_per_file=6)
    assert data.x_train.shape == (30, 3, 32, 32) and data.x_train.dtype == torch.uint8
    cfg = dataclasses.replace(T.lesson_default("cifar10"), train_subset=16, batch_size=8, epochs=1, threads=1,
                              device="cpu")
    assert (cfg.width, cfg.image_size, cfg.augment, cfg.flip) == (1.0, 32, True, True)
    events = []
    r = T.train(cfg, callback=events.append, data=data)
    start = events[0]
    assert start["reason"] == "CPU, as asked (1 thread); float32, NCHW"  # the CPU's defaults: all three off
    assert start["steps_per_epoch"] == 2 and start["config"]["bf16"] is False
    assert start["label"] == "cifar10, w1, BN, aux, lr 0.2, onecycle, crops"
    assert not r.diverged and r.epochs_done == 1 and "Finished 1 epoch" in r.message
    assert len(r.final["predictions"]) == 6 and all(0 <= p < 10 for p in r.final["predictions"])
    assert T.describe_run(cfg)["forward_flops"] == _plan().forward_flops_per_image(cfg, training=False)
    line = _plan().estimate_line(_plan().estimate(cfg, 512))
    assert line.startswith("batch 512, 32x32, width 1: 1,493.1 GFLOP per step; at 30% MFU of 989 TFLOP/s: ")


# ----------------------------------------------------------------------------- lesson 5's settings line

def test_the_lessons_settings_line_says_the_accelerator_settings(tmp_path, monkeypatch):
    from widgets.views import live_training as L

    monkeypatch.setenv("WIDGETS_HISTORY_DIR", str(tmp_path))
    for lang in ("en", "zh"):
        s = L.LiveTraining(lang=lang)
        assert not s.on_gpu and "float32, NCHW" in s.summary.value  # the CPU's defaults
        s.base = dataclasses.replace(s.base, bf16=True, channels_last=True)
        s.controls["seed"].set(3)  # any change redraws the line from the settings
        assert "bf16 autocast, channels_last" in s.summary.value and "torch.compile" not in s.summary.value


def test_the_throughput_benchmark_takes_the_settings_in_effect():
    """train_throughput's rows follow the same options: asked-for bf16 + NHWC run so on the CPU too, and unset
    ones take the device's default (before, an unset bf16 would have run fp32 on a GPU)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("train_throughput", REPO / "benchmarks" / "train_throughput.py")
    tt = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tt)
    cpu = torch.device("cpu")
    base = T.TrainConfig(dataset="cifar10", width=0.0625, augment=True, flip=True)
    asked = tt.ours_row("asked", dataclasses.replace(base, bf16=True, channels_last=True), 4, 16, cpu, 0, 1, False)
    assert (asked["precision"], asked["layout"]) == ("bf16 autocast", "channels_last") and asked["ms_per_step"] > 0
    unset = tt.ours_row("unset", base, 4, 16, cpu, 0, 1, False)
    assert (unset["precision"], unset["layout"]) == ("fp32", "NCHW")
