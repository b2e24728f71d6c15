"""widgets.bn_training: the deep sigmoid/tanh MLP on digits, with and without BN (fixed seeds, small runs)."""
from __future__ import annotations

import math
import threading
from dataclasses import replace

import numpy as np
import pytest
import torch

from widgets import bn_training as bt

torch.set_num_threads(1)
torch.set_flush_denormal(True)


def test_digits_split_is_real_and_standardised():
    X, y, Xt, yt = bt.digits_split()
    assert X.shape == (1437, 64) and Xt.shape == (360, 64)
    assert set(y.tolist()) == set(range(10))
    assert float(X.mean(0).abs().max()) < 1e-5


def test_model_layers_and_bn_forward():
    cfg = bt.Config(depth=3, width=16, bn=True)
    model = bt.MLP(cfg)
    x = torch.randn(32, 64)
    logits = model(x)
    assert logits.shape == (32, 10)
    assert len(model.inputs) == 3 and len(model.activations) == 3
    # the first hidden activation is sigmoid(BatchNorm1d(Linear(x))) in train mode
    ref = torch.sigmoid(torch.nn.functional.batch_norm(model.linears[0](x), None, None, training=True, eps=1e-5))
    torch.testing.assert_close(model.activations[0], ref)
    w = model.linears[1].weight
    assert float(w.detach().std()) == pytest.approx(1 / math.sqrt(16), rel=0.15)


def test_saturated_fraction_closed_form():
    a = torch.tensor([0.5, 0.999, 0.001, 0.9])
    # sigmoid' / 0.25 = 4 a (1 - a): 1, 0.004, 0.004, 0.36 -> two of four below 0.02
    assert bt.saturated_fraction(a, "sigmoid") == pytest.approx(0.5)
    t = torch.tensor([0.0, 0.995, -0.999, 0.5])   # 1 - t^2: 1, 0.00998, 0.002, 0.75
    assert bt.saturated_fraction(t, "tanh") == pytest.approx(0.5)


def test_bn_trains_at_a_learning_rate_where_plain_fails():
    cfg = bt.Config(activation="tanh", steps=200, smoothness=False)
    sweep = bt.lr_sweep(cfg, [0.1, 1.0])
    assert sweep.trains["plain"] == [True, False], sweep.final_loss
    assert sweep.trains["BN"] == [True, True], sweep.final_loss
    assert sweep.largest_training("BN") > sweep.largest_training("plain")


def test_sigmoid_gradients_vanish_without_bn():
    cfg = bt.Config(activation="sigmoid", steps=150, lr=0.5, smoothness=False)
    plain = bt.train_run(cfg)
    with_bn = bt.train_run(replace(cfg, bn=True))
    g = plain.grad_norm_init
    assert g[0] < 1e-3 * g[-1]                      # the first layer gets a thousandth of the last's gradient
    gb = with_bn.grad_norm_init
    assert min(gb) > 0.3 * max(gb)                  # with BN every layer gets a comparable gradient
    assert not plain.trains and with_bn.trains
    assert plain.final_train_loss > 2.0 and with_bn.final_train_loss < 0.5
    assert with_bn.test_accuracy > 0.9


def test_init_scale_insensitive_with_bn():
    cfg = bt.Config(activation="tanh", steps=150, lr=0.1, smoothness=False)
    sweep = bt.init_scale_sweep(cfg, [0.25, 1.0, 8.0])
    assert all(sweep.trains["BN"]), sweep.final_loss
    assert sweep.trains["plain"] == [False, True, False], sweep.final_loss


def test_noise_injection_shifts_more_but_trains():
    cfg = bt.Config(activation="sigmoid", steps=200, lr=0.5, smoothness=False)
    out = bt.compare(cfg, noise=1.0)
    plain, b, noisy = out["plain"], out["BN"], out["BN + noise"]
    assert noisy.jitter > 5 * b.jitter and noisy.drift > 2 * b.drift
    assert noisy.recent_loss < 0.5 and b.recent_loss < 0.5 and plain.recent_loss > 2.0


def test_smoothness_probe_first_order_and_restores_model():
    cfg = bt.Config(depth=3, width=16, bn=True)
    model = bt.MLP(cfg)
    X, y, _, _ = bt.digits_split()
    before = [p.detach().clone() for p in model.parameters()]
    buffers = [b.clone() for b in model.buffers()]
    # tiny steps: the loss falls exactly as the gradient predicts (Taylor ratio -> 1)
    loss_range, gc, beta, rel, taylor = bt._smoothness(model, X[:64], y[:64], 1e-4)
    assert taylor == pytest.approx(1.0, abs=0.01)
    assert 0 < loss_range < 1e-2 and gc >= 0 and beta >= 0 and rel >= 0
    for p, q in zip(model.parameters(), before):
        torch.testing.assert_close(p, q)
    for b, c in zip(model.buffers(), buffers):  # BN's running statistics too
        torch.testing.assert_close(b, c)


def test_stop_returns_partial_result():
    ev = threading.Event()
    calls = []

    def progress(frac, text=""):
        calls.append(frac)
        if frac > 0.1:
            ev.set()

    r = bt.train_run(bt.Config(steps=400, smoothness=False), progress, ev)
    assert r.stopped and 0 < len(r.loss) < 400
    assert calls and all(0 <= c <= 1 for c in calls)
    s = bt.lr_sweep(bt.Config(steps=50, smoothness=False), [0.1, 0.2], stop=ev)
    assert s.stopped and s.values == []
    assert math.isnan(s.largest_training("BN"))


def test_diverged_run_is_flagged():
    r = bt.train_run(bt.Config(activation="tanh", steps=100, lr=30.0, smoothness=False))
    assert not r.trains
    assert np.isnan(r.final_train_loss) or r.final_train_loss > bt.TRAINS_BELOW


def test_recording_the_probe_leaves_the_model_alone():
    """Recording runs the probe batch in train mode; BN's running statistics (which the final
    evaluation uses) must not depend on how often that happens."""
    cfg = bt.Config(activation="sigmoid", bn=True, steps=60, smoothness=False)
    often, rarely = bt.train_run(replace(cfg, record_every=1)), bt.train_run(replace(cfg, record_every=10**9))
    assert len(often.record_steps) == 60 and len(rarely.record_steps) == 1
    assert often.loss == rarely.loss
    assert often.final_train_loss == rarely.final_train_loss
    assert often.test_accuracy == rarely.test_accuracy


def test_mlp_forward_takes_only_the_batch():
    import inspect

    assert list(inspect.signature(bt.MLP.forward).parameters) == ["self", "x"]


def test_reports_and_stops_like_the_training_engine():
    """The same protocol as widgets.train: callback(event) with "event"/"progress", stop_event between steps."""
    events = []
    bt.compare(bt.Config(steps=30, smoothness=False), callback=events.append, variants=("plain", "BN"))
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds.count("start") == 2 and kinds.count("end") == 2 and kinds[-1] == "end"
    prog = [e["progress"] for e in events]
    assert prog == sorted(prog) and prog[0] == 0.0 and prog[-1] == 1.0
    assert [e["progress"] for e in events if e["event"] == "end"] == [0.5, 1.0]  # each variant is half the work
    assert events[-1]["text"] == "BN: step 30/30" and not events[-1]["stopped"]
    stop = threading.Event()
    seen = []

    def cb(ev):
        seen.append(ev)
        if ev["event"] == "step":
            stop.set()

    r = bt.train_run(bt.Config(steps=200, smoothness=False), callback=cb, stop_event=stop)
    assert r.stopped and len(r.loss) == 1 and seen[-1]["event"] == "end" and seen[-1]["stopped"]


def test_results_do_not_depend_on_the_kernels_thread_count():
    """Lesson 5's engine and the machine set torch's thread count; lesson 2's numbers must not move with it."""
    cfg = bt.Config(activation="tanh", steps=40, lr=0.1, init_scale=4.0, smoothness=False)
    before = torch.get_num_threads()
    try:
        runs = []
        for n in (1, 2):
            torch.set_num_threads(n)
            runs.append(bt.train_run(cfg))
            assert torch.get_num_threads() == n  # and the kernel's setting is given back
    finally:
        torch.set_num_threads(before)
    assert runs[0].loss == runs[1].loss and runs[0].final_train_loss == runs[1].final_train_loss
