"""Issue 18, items 5-8: the training CLI and engine never end in a traceback. Paths are checked
before a run and written atomically; a checkpoint is checked before it is resumed; every option is
bounded (seed, weight decay, threads, memory, feature maps, BN batches); a diverged run's history
is strict JSON that replays."""
from __future__ import annotations

import dataclasses
import json
import math
import os
from pathlib import Path

import pytest
import torch

from widgets import data as D
from widgets import train as T
from widgets import train_device

torch.set_num_threads(1)
QUICK = ["--epochs", "1", "--width", "0.0625", "--train-subset", "64", "--batch-size", "32", "--threads", "1",
         "--no-progress"]


@pytest.fixture(scope="module")
def digits():
    return D.load_digits_data()


def tiny(**kw) -> T.TrainConfig:
    base = dict(width=0.0625, epochs=1, batch_size=32, train_subset=128, threads=1, lr=0.1)
    base.update(kw)
    return T.TrainConfig(**base)


def cli(args, capsys) -> tuple[int, str, str]:
    try:
        code = T.main(args)
    except SystemExit as e:
        code = e.code
    c = capsys.readouterr()
    return code, c.out, c.err


def one_line(err: str) -> bool:
    return err.count("\n") == 1 and "Traceback" not in err


# ----------------------------------------------------------------------------- 5. --save, --history

def test_save_and_history_paths_are_checked_before_training(tmp_path, capsys):
    a_file = tmp_path / "f"
    a_file.write_text("x")
    cases = [(["--save", str(tmp_path / "no" / "c.pt")], "does not exist"),
             (["--save", str(tmp_path)], "is a directory"),
             (["--save", str(a_file / "c.pt")], "not a directory"),
             (["--history", str(tmp_path / "no" / "h.json")], "does not exist"),
             (["--history", str(tmp_path)], "is a directory")]
    for args, fragment in cases:
        code, out, err = cli(QUICK + args, capsys)
        assert code == 2 and fragment in err and one_line(err), (args, err)
        assert "device:" not in out, "the run started before its output path was checked"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]


def test_history_and_checkpoint_are_written_atomically(tmp_path, monkeypatch):
    r = T.TrainResult(config={}, device="cpu", device_reason="test", history=[{"event": "epoch", "epoch": 1}])
    target = tmp_path / "h.json"
    target.write_text("the old history")

    def no_rename(*_a, **_k):
        raise OSError("rename refused")

    with monkeypatch.context() as m:
        m.setattr(os, "replace", no_rename)
        with pytest.raises(OSError):
            T.save_history(r, target)
    assert target.read_text() == "the old history" and [p.name for p in tmp_path.iterdir()] == ["h.json"]

    def half_save(obj, f, *a, **k):
        Path(f).write_bytes(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", half_save)
    with pytest.raises(OSError):
        T.save_checkpoint(tmp_path / "c.pt", {"epoch": 1})
    assert [p.name for p in tmp_path.iterdir()] == ["h.json"]


# ----------------------------------------------------------------------------- 6. --resume

@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, digits):
    path = tmp_path_factory.mktemp("ck") / "good.pt"
    T.train(tiny(save=str(path)), data=digits)
    return T.load_checkpoint(path)


def _shrunk(state):
    k = next(k for k, v in state["model"].items() if v.ndim == 4)
    return {**state, "model": {**state["model"], k: state["model"][k][:1]}}


@pytest.mark.parametrize("make, fragment", [
    (lambda s: [1, 2, 3], "not a checkpoint (a list"),
    (lambda s: torch.zeros(3), "not a checkpoint (a Tensor"),
    (lambda s: {k: v for k, v in s.items() if k != "model"}, "has no 'model'"),
    (lambda s: {**s, "epoch": "1"}, "'epoch' must be a whole number"),
    (lambda s: {**s, "model": [1]}, "'model' must be"),
    (_shrunk, "has shape"),
    (lambda s: {**s, "model": {**s["model"], "extra.weight": torch.zeros(2)}}, "extra.weight"),
], ids=["list", "tensor", "no-model", "string-epoch", "model-list", "shapes", "unknown-weight"])
def test_a_bad_checkpoint_is_refused_in_one_line(make, fragment, checkpoint, tmp_path, digits):
    path = tmp_path / "bad.pt"
    torch.save(make(checkpoint), path)
    with pytest.raises(T.ConfigError) as e:
        T.train(tiny(epochs=2, resume=str(path)), data=digits)
    assert fragment in str(e.value) and "\n" not in str(e.value), str(e.value)


def test_resume_of_a_finished_run_says_raise_epochs(checkpoint, tmp_path, digits, capsys):
    path = tmp_path / "done.pt"
    torch.save(checkpoint, path)
    with pytest.raises(T.ConfigError, match=r"already trained 1 epoch; raise --epochs"):
        T.train(tiny(epochs=1, resume=str(path)), data=digits)
    code, _out, err = cli(QUICK + ["--train-subset", "128", "--resume", str(path)], capsys)
    assert code == 2 and "already trained 1 epoch" in err and one_line(err)


class _Foreign:
    pass


def test_a_blocked_pickle_is_named(tmp_path):
    bad = tmp_path / "evil.pt"
    torch.save({"model": {}, "x": _Foreign()}, bad)
    with pytest.raises(T.ConfigError, match="holds objects that are not plain weights and was refused"):
        T.load_checkpoint(bad)


# ----------------------------------------------------------------------------- 7. bounds

@pytest.mark.parametrize("kw, fragment", [
    (dict(seed=-1), "seed"), (dict(seed=2**63 - 1), "seed"),
    (dict(weight_decay=math.inf), "weight decay must be a finite number"), (dict(weight_decay=1.5), "weight decay"),
    (dict(threads=(os.cpu_count() or 1) + 1), "threads"),
    (dict(batch_size=1), "at least 2 images"),
    (dict(small_input=False, image_size=64), "209"),
    (dict(small_input=False, aux=False, image_size=16), "image size"),
])
def test_every_option_is_bounded(kw, fragment):
    with pytest.raises(T.ConfigError, match=fragment):
        T.validate(T.TrainConfig(**kw))


def test_bounds_that_hold_are_accepted():
    for kw in (dict(seed=2**63 - 2), dict(seed=0), dict(weight_decay=1.0), dict(threads=os.cpu_count() or 1),
               dict(batch_size=1, bn=False), dict(small_input=False, image_size=224),
               dict(small_input=False, aux=False, image_size=32)):
        T.validate(T.TrainConfig(**kw))


def test_the_feature_map_sizes_are_the_models(digits):
    from widgets.googlenet import GoogLeNet

    for small, size in ((True, 8), (True, 40), (False, 224), (False, 100)):
        net = GoogLeNet(num_classes=10, small_input=small, aux_logits=False, width=0.0625, in_channels=1)
        seen = {}
        for name in ("maxpool2", "inception4a", "inception5b"):
            getattr(net, name).register_forward_hook(lambda m, i, o, n=name: seen.__setitem__(n, o.shape[-1]))
        net.eval()(torch.zeros(1, 1, size, size))
        assert T.feature_map_sides(size, small) == seen


def test_memory_that_cannot_fit_is_refused(monkeypatch, capsys):
    monkeypatch.setattr(train_device, "available_bytes", lambda device=None: 2 * 2**30)  # Binder: 2 GB
    T.check_resources(T.TrainConfig())  # the lesson default fits
    with pytest.raises(T.ConfigError, match=r"needs about [\d,]+ MiB .* 2,048 MiB"):
        T.check_resources(T.TrainConfig(image_size=512))
    code, out, err = cli(["--image-size", "512", "--no-progress"], capsys)
    assert code == 2 and "MiB" in err and one_line(err) and "device:" not in out


def test_memory_estimate_counts_the_data_exactly():
    cfg = T.TrainConfig(image_size=32, augment=False)
    est = T.estimate_memory(cfg, in_channels=1, n_train=1437, n_test=360, native_bytes_per_image=8 * 8 * 4)
    assert est["data"] == (1437 + 360) * 8 * 8 * 4 + (1437 + 360) * 32 * 32 * 4
    bigger = T.estimate_memory(dataclasses.replace(cfg, batch_size=128), 1, 1437, 360, 8 * 8 * 4)
    assert bigger["training"] > 1.9 * est["training"] and bigger["data"] == est["data"]


def test_update_bn_never_sees_a_batch_of_one(digits):
    # 65 images in batches of 64 leave one image over; at 8x8 its last maps are 1x1
    r = T.train(tiny(image_size=8, train_subset=65, batch_size=32, eval_batch=64), data=digits)
    assert r.epochs_done == 1 and r.final["test_top1"] > 0
    assert [b.shape[0] for b in T.bn_batches(torch.zeros(65, 1), 64)] == [65]
    assert [b.shape[0] for b in T.bn_batches(torch.zeros(129, 1), 64)] == [64, 65]
    assert [b.shape[0] for b in T.bn_batches(torch.zeros(128, 1), 64)] == [64, 64]


@pytest.mark.parametrize("exc", [ValueError("bad\nvalue"), RuntimeError("boom"), OSError(28, "No space left"),
                                 MemoryError()])
def test_main_turns_errors_into_one_line(exc, monkeypatch, capsys):
    def fail(*_a, **_k):
        raise exc

    monkeypatch.setattr(T, "train", fail)
    code, _out, err = cli(QUICK, capsys)
    assert code == 2 and one_line(err) and err.startswith("python -m widgets.train: error:"), err


# ----------------------------------------------------------------------------- 8. a diverged run's history

def test_a_diverged_runs_history_is_strict_json_and_replays(tmp_path, digits):
    r = T.train(tiny(lr=1e6, bn=False, averaging=False, schedule="step"), data=digits)
    assert r.diverged
    path = tmp_path / "diverged.json"
    T.save_history(r, path)

    def refuse(name):
        raise ValueError(f"{name} is not JSON")

    h = json.loads(path.read_text(), parse_constant=refuse)
    assert h["diverged"] and h["message"].startswith("Diverged at step")
    assert T.load_history(path)["diverged"]
    from widgets import history as H  # lesson 5's replay reader

    replay = H.read_history(path)
    assert replay.diverged and replay.events
