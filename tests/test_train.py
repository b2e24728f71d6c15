"""widgets.train: schedule and averaging against torch's own, the loss against googlenet_loss,
the engine on digits (accuracy, determinism, stop, resume, divergence, checkpoints), the CLI's
errors, and the DDP path under torchrun with gloo. Small widths and subsets keep it to seconds."""
from __future__ import annotations

import dataclasses
import json
import os
import pickle
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import torch
import torch.nn as nn

from widgets import data as D
from widgets import train as T
from widgets.googlenet import AUX_LOSS_WEIGHT, GoogLeNet, googlenet_loss

REPO = Path(__file__).resolve().parents[1]
REPLAY = REPO / "widgets" / "recordings" / "replay_cpu_digits.json"

torch.set_num_threads(1)  # 2 shared cores: one thread each is faster than oversubscribing


@pytest.fixture(scope="module")
def digits():
    return D.load_digits_data()


def tiny(**kw) -> T.TrainConfig:
    """A seconds-long run: width 1/16, 256 training images, 16x16 inputs, one thread."""
    base = dict(width=0.0625, epochs=2, batch_size=32, train_subset=256, threads=1, lr=0.1)
    base.update(kw)
    return T.TrainConfig(**base)


# ----------------------------------------------------------------------------- schedule, averaging, loss

def test_onecycle_matches_torch_onecyclelr():
    cfg = T.TrainConfig(lr=0.3, epochs=3, schedule="onecycle")
    spe = 7
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.3)
    ref = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.3, total_steps=21, pct_start=cfg.warmup_fraction,
                                              cycle_momentum=False)
    for step in range(21):
        assert T.lr_at(cfg, step, spe) == pytest.approx(opt.param_groups[0]["lr"], rel=1e-9, abs=1e-12), step
        opt.step()
        ref.step()


def test_step_schedule_is_the_papers():
    cfg = T.TrainConfig(lr=0.01, schedule="step", epochs=40)
    spe = 10
    for epoch in (0, 7, 8, 15, 16, 33):
        assert T.lr_at(cfg, epoch * spe + 3, spe) == pytest.approx(0.01 * 0.96 ** (epoch // 8))
    assert T.lr_at(cfg, 8 * spe, spe) == pytest.approx(0.0096)  # "decreasing the learning rate by 4% every 8 epochs"


def test_averaging_is_an_ema_with_warmup():
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    fn = T._EmaUpdate(0.9)
    avg = torch.optim.swa_utils.AveragedModel(model, multi_avg_fn=fn)
    manual = [p.detach().clone() for p in model.parameters()]
    for n in range(1, 40):
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn_like(p))
        avg.update_parameters(model)
        if n == 1:  # AveragedModel copies on its first update
            continue
        d = min(0.9, (1 + (n - 1)) / (10 + (n - 1)))
        manual = [d * m + (1 - d) * p.detach() for m, p in zip(manual, model.parameters())]
    for m, a in zip(manual, avg.module.parameters()):
        assert torch.allclose(m, a, atol=1e-6)
    assert T.ema_decay_at(0.99, 0) == pytest.approx(0.1) and T.ema_decay_at(0.99, 10_000) == 0.99


def test_loss_is_googlenet_loss_with_weight_0_3():
    assert T.AUX_LOSS_WEIGHT == AUX_LOSS_WEIGHT == 0.3
    torch.manual_seed(0)
    net = GoogLeNet(num_classes=10, small_input=True, width=0.0625, in_channels=1, batch_norm=True).train()
    x, y = torch.randn(4, 1, 16, 16), torch.tensor([1, 2, 3, 4])
    out = net(x)
    total, main, aux = T.inception_loss(out, y)
    assert torch.allclose(total, googlenet_loss(out, y))
    assert torch.allclose(main, nn.functional.cross_entropy(out.logits, y))
    assert torch.allclose(aux, nn.functional.cross_entropy(out.aux1, y) + nn.functional.cross_entropy(out.aux2, y))
    logits = net.eval()(x)
    assert torch.allclose(T.inception_loss(logits, y)[0], googlenet_loss(logits, y))


def test_topk_confusion_and_mistakes_first():
    logits = torch.tensor([[3.0, 2.0, 1.0, 0.0], [0.0, 1.0, 3.0, 2.0], [1.0, 0.0, 0.0, 0.0]])
    y = torch.tensor([1, 2, 3])
    assert int(T.topk_correct(logits, y, 1)) == 1 and int(T.topk_correct(logits, y, 2)) == 2
    assert int(T.topk_correct(logits, y, 10)) == 3  # k larger than the class count
    from sklearn.metrics import confusion_matrix

    gen = torch.Generator().manual_seed(1)
    t, p = torch.randint(0, 5, (200,), generator=gen), torch.randint(0, 5, (200,), generator=gen)
    assert T.confusion_matrix(t, p, 5).numpy().tolist() == confusion_matrix(t, p, labels=range(5)).tolist()
    order = T.mistakes_first([0, 1, 2, 3], [0, 2, 2, 0], [0.9, 0.6, 0.5, 0.95])
    assert order == [3, 1, 2, 0]  # wrong ones (most confident first), then right ones (least confident first)


def test_flop_count_of_a_conv_is_the_closed_form():
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1))
    assert T.forward_flops(net, 3, 10) == 2 * 3 * 8 * 9 * 10 * 10


def test_device_is_named_with_a_reason():
    dev, why = T.select_device("auto")
    if not torch.cuda.is_available():
        assert dev.type in ("cpu", "mps") and why.startswith(("CPU", "Apple"))
        with pytest.raises(T.ConfigError, match="no CUDA GPU"):
            T.select_device("cuda")
    assert T.select_device("cpu")[0].type == "cpu"


@pytest.mark.parametrize("kw, msg", [
    (dict(dataset="imagenet"), "unknown data set"), (dict(lr=0), "learning rate"), (dict(lr=-1), "learning rate"),
    (dict(lr=float("nan")), "learning rate"), (dict(batch_size=0), "batch size"), (dict(epochs=0), "epochs"),
    (dict(data_dir="/no/such/dir"), "does not exist"), (dict(schedule="cosine"), "schedule"),
    (dict(width=0), "width"), (dict(crop_min_area=0), "crop"),
])
def test_validate_rejects_bad_settings(kw, msg):
    with pytest.raises(T.ConfigError, match=msg):
        T.validate(T.TrainConfig(**kw))


# ----------------------------------------------------------------------------- the engine

def test_reaches_high_accuracy_on_digits_in_a_few_cpu_epochs(digits):
    events = []
    r = T.train(T.TrainConfig(width=0.125, epochs=4, threads=1, seed=0), callback=events.append, data=digits)
    assert not r.stopped and not r.diverged
    assert r.final["test_top1"] >= 0.93, r.final
    assert r.final["test_top5"] >= 0.99
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "end" and kinds.count("epoch") == 4
    assert events[0]["steps_per_epoch"] == 1437 // 64 and "CPU" in events[0]["reason"]
    steps = [e for e in events if e["event"] == "step"]
    assert len(steps) == 4 * (1437 // 64) and all(e["images_per_s"] > 0 for e in steps)
    assert {"loss", "main_loss", "aux_loss", "train_top1", "lr", "epoch"} <= steps[0].keys()
    assert steps[-1]["lr"] < 1e-4  # onecycle anneals to ~0
    ep = [e for e in events if e["event"] == "epoch"]
    assert ep[-1]["test_top1"] > ep[0]["test_top1"]
    assert len(r.final["predictions"]) == 360
    acc = sum(p == int(t) for p, t in zip(r.final["predictions"], digits.y_test)) / 360
    assert acc == pytest.approx(r.final["test_top1"])


def test_same_seed_same_run_on_cpu(digits):
    cfg = tiny(seed=5, epochs=1, augment=True, crop_min_area=0.5)
    a = T.train(cfg, data=digits)
    b = T.train(cfg, data=digits)
    c = T.train(dataclasses.replace(cfg, seed=6), data=digits)
    la = [e["loss"] for e in a.history if e["event"] == "step"]
    assert la == [e["loss"] for e in b.history if e["event"] == "step"]
    assert la != [e["loss"] for e in c.history if e["event"] == "step"]
    for p, q in zip(a.model.state_dict().values(), b.model.state_dict().values()):
        assert torch.equal(p, q)


def test_stop_between_steps_and_the_engine_stays_usable(digits):
    stop = threading.Event()
    seen = []

    def cb(ev):
        seen.append(ev)
        if ev["event"] == "step" and ev["step"] == 3:
            stop.set()

    r = T.train(tiny(), callback=cb, stop_event=stop, data=digits)
    assert r.stopped and r.steps_done == 3 and "Stopped" in r.message
    assert seen[-1]["event"] == "end" and seen[-1]["stopped"]
    r2 = T.train(tiny(epochs=1), data=digits)
    assert not r2.stopped and r2.epochs_done == 1


def test_divergence_is_caught_with_a_clear_message(digits):
    r = T.train(tiny(lr=1e6, bn=False, averaging=False, epochs=1, schedule="step"), data=digits)
    assert r.diverged and r.message.startswith("Diverged at step") and "Lower the learning rate" in r.message
    assert r.epochs_done == 0 and not r.final.get("test_top1")
    ok = T.train(tiny(epochs=1), data=digits)
    assert not ok.diverged and ok.final["test_top1"] > 0


def test_resume_continues_exactly(tmp_path, digits):
    cfg = tiny(epochs=2, augment=True)
    whole = T.train(cfg, data=digits)
    stop = threading.Event()
    ck = tmp_path / "run.pt"

    def cb(ev):
        if ev["event"] == "epoch" and ev["epoch"] == 1:
            stop.set()

    first = T.train(dataclasses.replace(cfg, save=str(ck)), callback=cb, stop_event=stop, data=digits)
    assert first.stopped and first.epochs_done == 1 and str(ck) in first.message
    state = T.load_checkpoint(ck)
    assert state["epoch"] == 1 and set(state) >= {"model", "optimizer", "averaged", "g_perm", "config", "history"}
    rest = T.train(dataclasses.replace(cfg, resume=str(ck)), data=digits)
    assert rest.epochs_done == 2 and rest.steps_done == whole.steps_done
    for p, q in zip(whole.model.state_dict().values(), rest.model.state_dict().values()):
        assert torch.allclose(p.float(), q.float(), atol=1e-6)
    assert [e["loss"] for e in rest.history if e["event"] == "step"] == \
           [e["loss"] for e in whole.history if e["event"] == "step"]


def test_checkpoint_round_trips_and_refuses_foreign_objects(tmp_path, digits):
    ck = tmp_path / "c.pt"
    r = T.train(tiny(epochs=1, save=str(ck)), data=digits)
    state = T.load_checkpoint(ck)
    assert state["epoch"] == 1 and state["config"]["width"] == 0.0625
    # the raw weights load strictly into a fresh GoogLeNet; the averaged ones reproduce the test model
    make = lambda: GoogLeNet(num_classes=10, small_input=True, width=0.0625, in_channels=1, batch_norm=True)  # noqa: E731
    make().load_state_dict(state["model"])
    avg = torch.optim.swa_utils.AveragedModel(make())
    avg.load_state_dict(state["averaged"])
    x = torch.randn(3, 1, 16, 16)
    with torch.no_grad():
        assert torch.allclose(avg.module.eval()(x), r.model.eval()(x), atol=1e-6)
    # weights_only=True: a pickled object that is not tensors/containers is refused
    bad = tmp_path / "evil.pt"
    torch.save({"model": state["model"], "x": _Foreign()}, bad)
    with pytest.raises(T.ConfigError, match="could not be read"):
        T.load_checkpoint(bad)
    with pytest.raises(T.ConfigError, match="does not exist"):
        T.load_checkpoint(tmp_path / "missing.pt")
    # a checkpoint resumes only into the same model shape
    with pytest.raises(T.ConfigError, match="width"):
        T.train(tiny(width=0.125, resume=str(ck)), data=digits)


class _Foreign:
    pass


def test_history_round_trip_and_shipped_replay(tmp_path, digits):
    r = T.train(tiny(epochs=1), data=digits)
    p = tmp_path / "h.json"
    T.save_history(r, p, note="test")
    h = T.load_history(p)
    assert h["device"] == "cpu" and re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", h["recorded"])
    assert h["final"]["test_top1"] == r.final["test_top1"]
    with pytest.raises(ValueError, match="not a JSON"):
        T.load_history("{ nope")
    with pytest.raises(ValueError, match="format"):
        T.load_history('{"a": 1}')
    shipped = T.load_history(REPLAY)
    assert shipped["device"] and shipped["recorded"] and shipped["final"]["test_top1"] >= 0.97
    assert any(e["event"] == "epoch" for e in shipped["events"])


# ----------------------------------------------------------------------------- CLI

def run_cli(args, capsys):
    with pytest.raises(SystemExit) as e:
        T.main(args)
    return e.value.code, capsys.readouterr().err


@pytest.mark.parametrize("args, fragment", [
    (["--dataset", "imagenet"], "invalid choice: 'imagenet'"),
    (["--lr", "0"], "must be a positive number"),
    (["--lr", "-0.1"], "must be a positive number"),
    (["--lr", "abc"], "is not a number"),
    (["--batch-size", "0"], "must be at least 1"),
    (["--data-dir", "/no/such/dir"], "directory /no/such/dir does not exist"),
    (["--epochs", "1.5"], "not a whole number"),
    (["--schedule", "cosine"], "invalid choice"),
])
def test_cli_bad_options_exit_2_with_one_line(args, fragment, capsys):
    code, err = run_cli(args, capsys)
    assert code == 2
    assert fragment in err and err.count("\n") == 1 and "Traceback" not in err


def test_cli_cifar_absent_offline_is_one_line(tmp_path, capsys):
    code, err = run_cli(["--dataset", "cifar10", "--data-dir", str(tmp_path), "--no-download"], capsys)
    assert code == 2 and err.count("\n") == 1 and str(tmp_path) in err and D.CIFAR10_ARCHIVE in err


def test_cli_help_documents_every_option(capsys):
    with pytest.raises(SystemExit) as e:
        T.main(["--help"])
    out = capsys.readouterr().out
    assert e.value.code == 0
    for opt in ("--dataset", "--device", "--epochs", "--lr", "--batch-size", "--bn", "--no-bn", "--aux", "--no-aux",
                "--seed", "--data-dir", "--save", "--resume", "--averaging", "--augment", "--schedule", "--width"):
        assert opt in out, opt


def _env():
    return dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")


def test_cli_trains_and_prints_the_final_line(tmp_path):
    hist = tmp_path / "h.json"
    p = subprocess.run([sys.executable, "-m", "widgets.train", "--dataset", "digits", "--epochs", "1",
                        "--width", "0.0625", "--train-subset", "256", "--threads", "1", "--history", str(hist)],
                       cwd=REPO, env=_env(), capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert re.search(r"^final test accuracy: 0\.\d{4} \(top-5 [01]\.\d{4}\)$", p.stdout.strip().splitlines()[-1])
    assert "device: CPU" in p.stdout
    assert re.search(r"\b4/4\b", p.stderr), p.stderr[-500:]  # the progress bar reached 4 of 4 steps (256 // 64)
    assert T.load_history(hist)["config"]["width"] == 0.0625
    bad = subprocess.run([sys.executable, "-m", "widgets.train", "--lr", "0"], cwd=REPO, env=_env(),
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ddp_under_torchrun_with_gloo(tmp_path):
    ck = tmp_path / "ddp.pt"
    p = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--nnodes=1",
                        f"--master_port={_free_port()}", "-m", "widgets.train", "--dataset", "digits",
                        "--epochs", "1", "--width", "0.0625", "--train-subset", "256", "--batch-size", "32",
                        "--threads", "1", "--no-progress", "--save", str(ck)],
                       cwd=REPO, env=_env(), capture_output=True, text=True, timeout=180)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "2 processes (DDP)" in p.stdout
    assert p.stdout.count("final test accuracy:") == 1  # printed by rank 0 only
    state = T.load_checkpoint(ck)
    # 256 images / 2 ranks / 16 per rank = 8 steps, each over the global batch of 32
    assert state["step"] == 8 and state["config"]["batch_size"] == 32


# ----------------------------------------------------------------------------- threads

def test_a_run_gives_back_the_thread_count_it_found(digits):
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        T.train(tiny(epochs=1, threads=1), data=digits)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_suggest_threads_does_not_ratchet_down(monkeypatch):
    """After a run on a busy machine set one thread, a quiet machine gets its own count back."""
    from widgets import train_device

    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    monkeypatch.setattr(train_device, "_MACHINE_THREADS", 4)  # what torch had before any run
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)  # what an earlier run (or a test module) left behind
        assert T.suggest_threads() == (4, "4 threads") and T.machine_threads() == 4
    finally:
        torch.set_num_threads(before)
