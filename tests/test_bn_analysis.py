"""widgets.bn_analysis: the sentences lesson 2 prints say only what the numbers show.

The maths decides which sentence and which numbers (a Said: kind, fields); the words are the
catalogue's. `said(prefix, s)` renders one in English as the page does, so these tests read the
English page's sentences; tests/test_zh_batch_norm.py checks the Chinese ones quote the same numbers."""
from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from widgets import bn_analysis as A
from widgets.bn_training import CHANCE_LOSS
from widgets.views.batch_norm.common import say


def said(prefix: str, s) -> str:
    return say("en", prefix, s)


def test_num_formats():
    assert A.num(None) == "—" and A.num(float("nan")) == "diverged" and A.num(float("inf")) == "inf"
    assert A.num(1.23456) == "1.2346" and A.num(1.5e-5) == "1.500e-05" and A.num(0.0) == "0.0000"


def test_num_fields_format_as_num_does():
    x = A.Num(1.5e-5)
    assert f"{x}" == A.num(1.5e-5) and f"{A.Num(2.34567):3}" == "2.346" and f"{A.Num(0.123):.1%}" == "12.3%"
    assert x == 1.5e-5                                            # still the number, for tests and comparisons


def test_smooth_curve_is_a_trailing_moving_average():
    y = np.arange(20.0)
    xs, ys = A.smooth_curve(y, window=10)
    assert xs[0] == 9 and len(xs) == len(ys) == 11
    np.testing.assert_allclose(ys, [np.mean(y[i - 9:i + 1]) for i in range(9, 20)])
    xs, ys = A.smooth_curve([3.0, 1.0], window=10)
    assert xs == [0, 1] and list(ys) == [3.0, 1.0]


def test_undo_verdict():
    assert "z̃ = z exactly" in said("forward", A.undo_verdict(2e-16))
    assert "differs" in said("forward", A.undo_verdict(1e-3))


def test_rescaling_message_never_says_rounding_for_the_eps_gap():
    r = dict(k=10.0, var_k=80.0, max_diff_z_norm=1.5e-5, max_diff_closed_form=1.5e-5, gap_limit=1.51e-5)
    msg = said("rescaling", A.rescaling_message(r, 1e-5))
    assert "not rounding" in msg and "1.500e-05" in msg and "1.510e-05" in msg
    assert "ε is visible" in said("rescaling", A.rescaling_message(dict(r, var_k=1e-4), 1e-5))
    assert "k = 1" in said("rescaling", A.rescaling_message(dict(r, k=1.0, var_k=0.8), 1e-5))


def test_term_sums():
    from widgets import batchnorm as bn

    x = np.random.default_rng(0).normal(size=(7, 1))
    _, cache = bn.batch_norm_forward(x, 1.3, 0.1)
    s = A.term_sums(bn.three_terms(np.random.default_rng(1).normal(size=(7, 1)), cache))
    assert abs(s["var"]) < 1e-12 and s["mean"] == pytest.approx(-s["norm"], abs=1e-12) and abs(s["total"]) < 1e-12


def test_small_batch_note():
    assert A.small_batch_note(16, 0.2, 0.044, 3.87) is None
    two = said("noise", A.small_batch_note(2, 0.974, 0.0444, 1.0))
    assert "97.4%" in two and "0.044" in two and "exactly" not in two
    assert "±1.414" in said("noise", A.small_batch_note(3, 0.5, 0.0444, math.sqrt(2)))


def test_trained_values_never_hides_a_gap():
    v = [0.03, 0.1, 0.3, 1.0, 3.0]
    tv = lambda trains: said("sweeps", A.trained_values(v, trains))  # noqa: E731
    assert tv([True, True, True, False, False]) == "0.03 … 0.3"
    assert tv([True, False, True, False, False]) == "0.03, 0.3"
    assert tv([False] * 5) == "none of those tried"
    assert tv([False, False, False, True, False]) == "1"


def _run(**kw):
    base = dict(loss=[2.3] * 10, final_train_loss=2.3, diverged=False, stopped=False, grad_norm_init=[1e-5, 1.0],
                saturation_final=[0.0], drift=0.001, jitter=1e-5, recent_loss=2.3, loss_range=[0.1],
                grad_change_rel=[2.0], taylor_ratio=[1.0])
    base.update(kw)
    return SimpleNamespace(**base)


def _training(out, activation) -> list[str]:
    return [said("training", s) for s in A.training_sentences(out, activation)]


def test_training_sentences_follow_the_run():
    out = {"plain": _run(), "BN": _run(final_train_loss=0.05, grad_norm_init=[1.0, 1.1])}
    text = " ".join(_training(out, "sigmoid"))
    assert "Without BN the network stayed at chance" in text and "with BN it trained" in text
    assert "100,000 times smaller" in text and "sigmoid′ ≤ ¼" in text
    text = " ".join(_training(out, "tanh"))
    assert "sigmoid′" not in text                     # the sigmoid reason is not given for a tanh run
    out["plain"] = _run(final_train_loss=float("nan"), diverged=True, grad_norm_init=[1.0, 1.0])
    text = " ".join(_training(out, "sigmoid"))
    assert "diverged" in text and "vanishes" not in text
    assert "Stopped" in _training({"plain": _run(stopped=True), "BN": _run()}, "sigmoid")[0]


def test_a_first_layer_gradient_of_exactly_zero_is_said_not_divided_by():
    """grad_norm_init[0] == 0 (every layer-1 gradient underflowed) used to raise ZeroDivisionError in 1 / ratio,
    so the run's summary never appeared."""
    out = {"plain": _run(grad_norm_init=[0.0, 1.0]), "BN": _run(final_train_loss=0.05, grad_norm_init=[1.0, 1.1])}
    text = " ".join(_training(out, "sigmoid"))
    assert "‖dL/dW₁‖ is 0" in text and "With BN the ratio is 0.909" in text


def _three(plain=None, bn=None, noisy=None):
    """Three runs shaped like the default page's (numbers rounded from a default run)."""
    bn_ = dict(drift=0.01, jitter=5e-4, recent_loss=0.08, loss_range=[0.5], grad_change_rel=[2.7])
    noisy_ = dict(drift=0.05, jitter=0.016, recent_loss=0.09)
    return {"plain": _run(**(plain or {})), "BN": _run(**{**bn_, **(bn or {})}),
            "BN + noise": _run(**{**noisy_, **(noisy or {})})}


def _shift(out) -> list[str]:
    return [said("shift", s) for s in A.shift_verdict(out)]


def test_shift_verdict_at_the_default_shape():
    text = " ".join(_shift(_three()))
    assert "jump 32.0× more" in text and "trained about as well as BN" in text
    assert "drifted 0.0010 without BN, 0.0100 with BN" in text and "hardly learns" in text   # issue 11, item 10
    assert "do **not** both favour BN" in text


def test_drift_sentence_follows_the_measured_drift():
    text = " ".join(_shift(_three(plain={"drift": 0.2, "recent_loss": 0.5})))
    assert "With BN it moved less than without." in text and "hardly learns" not in text
    text = " ".join(_shift(_three(plain={"recent_loss": 0.5})))
    assert "did not make layer 5's input move less" in text


def test_shift_verdict_without_extra_jumps_draws_no_conclusion():
    """n = 0: the noisy network is plain BN; the page must not conclude anything about covariate shift."""
    text = " ".join(_shift(_three(noisy={"jitter": 5e-4})))
    assert "says nothing about covariate shift" in text and "not** what made BN work" not in text


def test_shift_verdict_when_noise_hurts_and_when_bn_is_smoother():
    text = " ".join(_shift(_three(noisy={"recent_loss": 1.5}, bn={"loss_range": [0.01], "grad_change_rel": [0.5]})))
    assert "trained worse than BN" in text and "as Santurkar et al. report" in text
    assert _shift({"plain": _run()}) == ["*Stopped before all three networks ran: no verdict.*"]


def test_loss_phrase_uses_the_course_thresholds():
    phrase = lambda loss: said("training", A.loss_phrase(_run(final_train_loss=loss)))  # noqa: E731
    assert "stayed at chance" in phrase(CHANCE_LOSS)
    assert "trained only partly" in phrase(1.5)
    assert phrase(0.2).startswith("trained (")
