"""widgets.bn_analysis: the sentences lesson 2 prints say only what the numbers show."""
from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from widgets import bn_analysis as A
from widgets.bn_training import CHANCE_LOSS


def test_num_formats():
    assert A.num(None) == "—" and A.num(float("nan")) == "diverged" and A.num(float("inf")) == "inf"
    assert A.num(1.23456) == "1.2346" and A.num(1.5e-5) == "1.500e-05" and A.num(0.0) == "0.0000"


def test_smooth_curve_is_a_trailing_moving_average():
    y = np.arange(20.0)
    xs, ys = A.smooth_curve(y, window=10)
    assert xs[0] == 9 and len(xs) == len(ys) == 11
    np.testing.assert_allclose(ys, [np.mean(y[i - 9:i + 1]) for i in range(9, 20)])
    xs, ys = A.smooth_curve([3.0, 1.0], window=10)
    assert xs == [0, 1] and list(ys) == [3.0, 1.0]


def test_undo_verdict():
    assert "z̃ = z exactly" in A.undo_verdict(2e-16)
    assert "differs" in A.undo_verdict(1e-3)


def test_rescaling_message_never_says_rounding_for_the_eps_gap():
    r = dict(k=10.0, var_k=80.0, max_diff_z_norm=1.5e-5, max_diff_closed_form=1.5e-5, gap_limit=1.51e-5)
    msg = A.rescaling_message(r, 1e-5)
    assert "not rounding" in msg and "1.500e-05" in msg and "1.510e-05" in msg
    assert "ε is visible" in A.rescaling_message(dict(r, var_k=1e-4), 1e-5)
    assert "k = 1" in A.rescaling_message(dict(r, k=1.0, var_k=0.8), 1e-5)


def test_term_sums():
    from widgets import batchnorm as bn

    x = np.random.default_rng(0).normal(size=(7, 1))
    _, cache = bn.batch_norm_forward(x, 1.3, 0.1)
    s = A.term_sums(bn.three_terms(np.random.default_rng(1).normal(size=(7, 1)), cache))
    assert abs(s["var"]) < 1e-12 and s["mean"] == pytest.approx(-s["norm"], abs=1e-12) and abs(s["total"]) < 1e-12


def test_small_batch_note():
    assert A.small_batch_note(16, 0.2, 0.044, 3.87) == ""
    two = A.small_batch_note(2, 0.974, 0.0444, 1.0)
    assert "97.4%" in two and "0.044" in two and "exactly" not in two
    assert "±1.414" in A.small_batch_note(3, 0.5, 0.0444, math.sqrt(2))


def test_trained_values_never_hides_a_gap():
    v = [0.03, 0.1, 0.3, 1.0, 3.0]
    assert A.trained_values(v, [True, True, True, False, False]) == "0.03 … 0.3"
    assert A.trained_values(v, [True, False, True, False, False]) == "0.03, 0.3"
    assert A.trained_values(v, [False] * 5) == "none of those tried"
    assert A.trained_values(v, [False, False, False, True, False]) == "1"


def _run(**kw):
    base = dict(loss=[2.3] * 10, final_train_loss=2.3, diverged=False, stopped=False, grad_norm_init=[1e-5, 1.0],
                saturation_final=[0.0], drift=0.001, jitter=1e-5, recent_loss=2.3, loss_range=[0.1],
                grad_change_rel=[2.0], taylor_ratio=[1.0])
    base.update(kw)
    return SimpleNamespace(**base)


def test_training_sentences_follow_the_run():
    out = {"plain": _run(), "BN": _run(final_train_loss=0.05, grad_norm_init=[1.0, 1.1])}
    said = " ".join(A.training_sentences(out, "sigmoid"))
    assert "Without BN the network stayed at chance" in said and "with BN it trained" in said
    assert "100,000 times smaller" in said and "sigmoid′ ≤ ¼" in said
    said = " ".join(A.training_sentences(out, "tanh"))
    assert "sigmoid′" not in said                     # the sigmoid reason is not given for a tanh run
    out["plain"] = _run(final_train_loss=float("nan"), diverged=True, grad_norm_init=[1.0, 1.0])
    said = " ".join(A.training_sentences(out, "sigmoid"))
    assert "diverged" in said and "vanishes" not in said
    assert "Stopped" in A.training_sentences({"plain": _run(stopped=True), "BN": _run()}, "sigmoid")[0]


def _three(plain=None, bn=None, noisy=None):
    """Three runs shaped like the default page's (numbers rounded from a default run)."""
    bn_ = dict(drift=0.01, jitter=5e-4, recent_loss=0.08, loss_range=[0.5], grad_change_rel=[2.7])
    noisy_ = dict(drift=0.05, jitter=0.016, recent_loss=0.09)
    return {"plain": _run(**(plain or {})), "BN": _run(**{**bn_, **(bn or {})}),
            "BN + noise": _run(**{**noisy_, **(noisy or {})})}


def test_shift_verdict_at_the_default_shape():
    said = " ".join(A.shift_verdict(_three()))
    assert "jump 32.0× more" in said and "trained about as well as BN" in said
    assert "drifted 0.0010 without BN, 0.0100 with BN" in said and "hardly learns" in said   # issue 11, item 10
    assert "do **not** both favour BN" in said


def test_drift_sentence_follows_the_measured_drift():
    said = " ".join(A.shift_verdict(_three(plain={"drift": 0.2, "recent_loss": 0.5})))
    assert "With BN it moved less than without." in said and "hardly learns" not in said
    said = " ".join(A.shift_verdict(_three(plain={"recent_loss": 0.5})))
    assert "did not make layer 5's input move less" in said


def test_shift_verdict_without_extra_jumps_draws_no_conclusion():
    """n = 0: the noisy network is plain BN; the page must not conclude anything about covariate shift."""
    said = " ".join(A.shift_verdict(_three(noisy={"jitter": 5e-4})))
    assert "says nothing about covariate shift" in said and "not** what made BN work" not in said


def test_shift_verdict_when_noise_hurts_and_when_bn_is_smoother():
    said = " ".join(A.shift_verdict(_three(noisy={"recent_loss": 1.5}, bn={"loss_range": [0.01],
                                                                          "grad_change_rel": [0.5]})))
    assert "trained worse than BN" in said and "as Santurkar et al. report" in said
    assert A.shift_verdict({"plain": _run()}) == ["*Stopped before all three networks ran: no verdict.*"]


def test_loss_phrase_uses_the_course_thresholds():
    assert "stayed at chance" in A.loss_phrase(_run(final_train_loss=CHANCE_LOSS))
    assert "trained only partly" in A.loss_phrase(_run(final_train_loss=1.5))
    assert A.loss_phrase(_run(final_train_loss=0.2)).startswith("trained (")
