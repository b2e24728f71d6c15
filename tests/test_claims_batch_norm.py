"""Lesson 2's prose and builder messages, against what its maths computes (issue 11's guard).

The table holds the numbers the markdown states about the default page; the tests below it hold
the sentences builders write (items 7-10 of issue 11) and the claims about the default training
runs, which are run here once each (seeded, so the page shows the same)."""
from __future__ import annotations

import math
from contextlib import contextmanager
from functools import lru_cache

import numpy as np
import pytest

from claims import Claim, check, markdown
from widgets import batchnorm as bn
from widgets.bn_analysis import grad_ratio
from widgets.views import batch_norm as V
from widgets.views.batch_norm.common import say

NB = "02_batch_norm.ipynb"


@lru_cache(maxsize=None)
def _rescaling(k: float) -> dict:
    return bn.rescaling(bn.digits_inputs()[:V.rescaling.BATCH], *bn.unit_weights(), k)


def _undo_gap() -> float:
    s = V.ForwardPass(undo=True)
    return float(np.max(np.abs(np.asarray(s.tr("hist", "z_tilde").x) - np.asarray(s.tr("hist", "z").x))))


def _autograd_gap() -> float:
    s = V.Backprop()
    return float(np.max(np.abs(np.asarray(s.tr("terms", "sum").y) - np.asarray(s.tr("terms", "autograd").y))))


@lru_cache(maxsize=None)
def _training_run(**changes):
    """Section f's run at the page's defaults (with `changes`), as the Train button runs it."""
    from widgets import bn_training as bt

    cfg = V.Training(**changes).config()
    with _as_on_the_page():
        return bt.compare(cfg, variants=("plain", "BN"))


@contextmanager
def _as_on_the_page():
    """The page's torch settings (one thread, denormals flushed) for one run, then this process's again."""
    import torch

    threads = torch.get_num_threads()
    V.common.setup_torch()
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        torch.set_flush_denormal(False)


@lru_cache(maxsize=None)
def _sweep(key: str):
    """One sweep at the page's defaults, as its button runs it."""
    from widgets import bn_training as bt

    sw = next(sw for sw in V.sweeps.SWEEPS if sw.key == key)
    with _as_on_the_page():
        return getattr(bt, sw.fn)(V.Sweeps().config(sw), list(sw.values))


def _first_failing_above_trained(res, name: str) -> float:
    best = res.largest_training(name)
    return min(v for v, t in zip(res.values, res.trains[name]) if not t and v > best)


def _bn_still_trains(res) -> float:
    """The first rate at which the plain network fails and the BN network trains."""
    return min(v for v, p, b in zip(res.values, res.trains["plain"], res.trains["BN"]) if not p and b)


def _trained(res, name: str) -> list[float]:
    return [v for v, t in zip(res.values, res.trains[name]) if t]


@lru_cache(maxsize=None)
def _shift_run():
    """Section g's three runs at the page's defaults, as its button runs them."""
    from widgets import bn_training as bt

    s = V.CovariateShift()
    with _as_on_the_page():
        return bt.compare(s.config(), noise=s.controls["noise"].value)


def _sat_threshold() -> float:
    from widgets.bn_training import SATURATION

    return SATURATION[_config().activation]


def _max_multiplier() -> float:
    from widgets.bn_training import STEP_MULTIPLIERS

    assert STEP_MULTIPLIERS[:3] == (0.5, 1.0, 2.0)
    return max(STEP_MULTIPLIERS)


def _trains_below() -> float:
    from widgets.bn_training import TRAINS_BELOW

    return TRAINS_BELOW


def _config():
    return V.Training().config()


def _exponent(v: float) -> float:
    return math.floor(math.log10(v))


CLAIMS = [
    # a. Undo BN gives z~ = z to rounding
    Claim(NB, r"at rounding level ~\$10\^\{(-\d+)\}\$", lambda: _exponent(_undo_gap()), tol=1),
    # b. the gap is eps's, and tends to eps/(2 var) max|z_norm| (issue 11, item 7)
    Claim(NB, r"over a batch of (\d+) digits", lambda: V.rescaling.BATCH),
    Claim(NB, r"\\approx ([0-9.]+)\\times10\^\{-5\}\$ on this batch", lambda: _rescaling(100.0)["gap_limit"] / 1e-5,
          tol=0.05),
    # c. the hand-derived three terms against autograd
    # d. batch size and noise (issue 11, item 8: m = 2 gives +-1 only up to eps)
    Claim(NB, r"\(markers, ([0-9,]+) batches per \$m\$\)", lambda: V.noise.CURVE_TRIALS),
    Claim(NB, r"through ([0-9,]+) different batches", lambda: V.noise.TRIALS),
    Claim(NB, r"\$z\$ over all ([0-9,]+) digits", lambda: len(bn.digits_inputs("all"))),
    Claim(NB, r"two values closer than ([0-9.]+) give", lambda: bn.pair_gap(0.99), tol=5e-4),
    Claim(NB, r"give \$\|z_\\text\{norm\}\|<([0-9.]+)\$", lambda: V.noise.NEAR_ONE),
    Claim(NB, r"([0-9]+) % too small at \$m=2\$", lambda: 100 * (1 - (2 - 1) / 2)),
    # e. statistics for inference
    Claim(NB, r"over ([0-9]+) training steps", lambda: V.inference.STEPS),
    Claim(NB, r"with momentum ([0-9.]+) by default", lambda: V.InferenceStats().controls["momentum"].default),
    Claim(NB, r"for the default momentum (\d\.\d+)", lambda: V.InferenceStats().controls["momentum"].default),
    # f. the training set-up at its defaults
    Claim(NB, r"\(([0-9]+) hidden layers of \d+ units", lambda: _config().depth),
    Claim(NB, r"hidden layers of ([0-9]+) units", lambda: _config().width),
    Claim(NB, r"from ([0-9,]+) training images", lambda: len(bn.digits_inputs("train"))),
    Claim(NB, r"mini-batches of ([0-9]+);", lambda: _config().batch_size),
    Claim(NB, r"([0-9,]+) images are held out", lambda: len(bn.digits_inputs("test"))),
    Claim(NB, r"with the defaults \(sigmoid, learning rate ([0-9.]+)\)", lambda: _config().lr),
    Claim(NB, r"\$\\ln 10 = ([0-9.]+)\$ \(chance\); with BN", lambda: math.log(10), tol=5e-3),
    Claim(NB, r"more than \$10\^(\d)\$ times smaller",
          lambda: _exponent(1 / grad_ratio(_training_run()["plain"].grad_norm_init))),
    Claim(NB, r"derivative below ([0-9]+) % of its maximum", lambda: 100 * _sat_threshold()),
    # f. the sweeps at their defaults
    Claim(NB, r"both networks \(same seed, ([0-9]+) steps\)", lambda: V.sweeps.STEPS),
    Claim(NB, r"final training loss is below ([0-9.]+) \(chance", lambda: _trains_below()),
    Claim(NB, r"\(chance is \$\\ln 10 = ([0-9.]+)\$", lambda: math.log(10), tol=5e-3),
    Claim(NB, r"the plain network trains up to ([0-9.]+) and", lambda: _sweep("lr").largest_training("plain")),
    Claim(NB, r"and fails from ([0-9.]+) on", lambda: _first_failing_above_trained(_sweep("lr"), "plain")),
    # "still": at the plain network's first failing rate. Not "the largest rate at which BN trains": at 3.0 the
    # BN run ends at a loss of 0.45 on an AMD EPYC with AVX2 and failed on the machine before it, so that is
    # not a number the page can promise.
    Claim(NB, r"the BN network still trains at ([0-9.]+)\.", lambda: _bn_still_trains(_sweep("lr"))),
    Claim(NB, r"the learning rate is fixed \(([0-9.]+)\)", lambda: V.Sweeps().config(V.sweeps.SWEEPS[1]).lr),
    Claim(NB, r"multiplied by ([0-9.]+) … \d", lambda: min(V.sweeps.SWEEPS[1].values)),
    Claim(NB, r"multiplied by [0-9.]+ … ([0-9.]+)\.", lambda: max(V.sweeps.SWEEPS[1].values)),
    Claim(NB, r"\(([0-9.]+) and [0-9.]+ with the defaults\)", lambda: min(_trained(_sweep("scale"), "plain"))),
    Claim(NB, r"\([0-9.]+ and ([0-9.]+) with the defaults\)", lambda: max(_trained(_sweep("scale"), "plain"))),
    # g. covariate shift
    Claim(NB, r"the median of the input of hidden layer (\d)", lambda: V.CovariateShift().config().probe_layer),
    Claim(NB, r"Every (\d+) steps we probe it", lambda: V.CovariateShift().config().record_every),
    Claim(NB, r"\\eta\\in\\\{\\tfrac12,1,2,(\d)\\\}", lambda: _max_multiplier()),
    Claim(NB, r"the table gives the largest difference \(~\$10\^\{(-\d+)\}\$\)", lambda: _exponent(_autograd_gap()), tol=1),
]


@pytest.mark.parametrize("claim", CLAIMS, ids=str)
def test_claim(claim):
    check(claim)


# --------------------------------------------------------------------------- issue 11, item 7
def test_b_never_calls_the_eps_gap_rounding():
    text = markdown(NB)
    assert "rounding level ($10^{-16}$…$10^{-13}$)" not in text
    for k in (2.0, 10.0, 100.0):
        s = V.Rescaling(k=k)
        r = _rescaling(s.controls["k"].value)    # the value the slider holds (k = 2 sits at 10^0.3 on its grid)
        assert "up to rounding" not in s.stats.value and "not rounding" in s.stats.value
        assert r["max_diff_z_norm"] > 1e-6                                # far above rounding
        assert r["max_diff_closed_form"] == pytest.approx(r["max_diff_z_norm"], rel=1e-6)
        assert f"closed form {bn_num(r['max_diff_closed_form'])}" in s.stats.value


# --------------------------------------------------------------------------- issue 11, item 9
@pytest.mark.parametrize("upstream", ["random", "target", "sum"])
def test_c_sums_say_what_the_terms_do(upstream):
    s = V.Backprop(upstream=upstream)
    assert "only move the batch as a whole" not in s.stats.value
    t = {k: np.asarray(s.tr("terms", k).y) for k in ("term_norm", "term_var", "term_mean", "sum")}
    assert abs(t["term_var"].sum()) < 1e-12                                  # ② sums to 0
    assert t["term_mean"].sum() == pytest.approx(-t["term_norm"].sum(), abs=1e-12)   # ③ cancels ①'s shift
    assert abs(t["sum"].sum()) < 1e-12                                       # sum of dL/dz is 0
    assert "it sums to 0" in s.stats.value and "Σᵢ dL/dzᵢ (0:" in s.stats.value
    assert "$\\sum_i ② = 0$" in markdown(NB)


# --------------------------------------------------------------------------- issue 11, item 8
def test_d_at_m_2_says_plus_minus_one_only_up_to_eps():
    assert "every output is exactly $\\pm1$" not in markdown(NB)
    s = V.BatchNoise(m=2)
    outs = np.abs(np.asarray(s.tr("noise", "out").x))
    near = float(np.mean(outs > 0.99))
    assert 0.5 < near < 1.0                                  # not all: two close values give less
    assert f"Here {near:.1%} of the batches" in s.stats.value
    assert outs.max() < 1.0                                  # eps keeps every output inside +-1


# --------------------------------------------------------------------------- f. the default run
def test_f_default_run_says_what_the_prose_says():
    from widgets.bn_training import CHANCE_LOSS

    out = _training_run()
    p, b = out["plain"], out["BN"]
    assert abs(p.recent_loss - CHANCE_LOSS) < 0.05 and abs(p.final_train_loss - CHANCE_LOSS) < 0.05  # sits at chance
    assert b.recent_loss < 0.1 and b.final_train_loss < 0.1                                          # falls below 0.1
    assert 0.5 < grad_ratio(b.grad_norm_init) < 2                                                    # about the same size


def test_f_tanh_at_init_scale_4_saturates_without_bn():
    out = _training_run(activation="tanh", init_scale=4.0)
    assert np.mean(out["plain"].saturation_final) > 0.5 > 10 * np.mean(out["BN"].saturation_final)


def test_f_sentences_follow_the_run():
    from widgets.bn_analysis import training_sentences

    said = " ".join(say("en", "training", s) for s in training_sentences(_training_run(), "sigmoid"))
    r = grad_ratio(_training_run()["plain"].grad_norm_init)
    assert "Without BN the network stayed at chance" in said and "with BN it trained" in said
    assert f"{1 / r:,.0f} times smaller" in said and "sigmoid′ ≤ ¼" in said and "Try *tanh*" in said


def test_sweeps_default_runs():
    """'only the middle of the range trains' without BN (exactly two values); 'With BN every scale trains'."""
    scale = _sweep("scale")
    assert len(_trained(scale, "plain")) == 2 and all(scale.trains["BN"])
    lr = _sweep("lr")
    assert _trained(lr, "plain") == [v for v in lr.values if v <= lr.largest_training("plain")]


# --------------------------------------------------------------------------- g. the default run; issue 11, item 10
def test_g_prose_no_longer_says_the_bn_band_barely_moves():
    assert "With BN the band barely moves" not in markdown(NB)


def test_g_drift_sentence_is_made_from_the_measured_drift():
    from widgets.bn_analysis import shift_verdict

    out = _shift_run()
    p, b, n = out["plain"], out["BN"], out["BN + noise"]
    said = " ".join(say("en", "shift", s) for s in shift_verdict(out))
    assert f"drifted {bn_num(p.drift)} without BN, {bn_num(b.drift)} with BN and {bn_num(n.drift)} with BN + noise" in said
    # the prose: "With the defaults the plain network's band moves least of all" (it does not learn)
    assert p.drift < b.drift and p.drift < n.drift and "hardly learns" in said


def test_g_default_run_says_what_the_prose_says():
    from widgets.bn_analysis import shift_verdict
    from widgets.bn_training import CHANCE_LOSS

    out = _shift_run()
    p, b, n = out["plain"], out["BN"], out["BN + noise"]
    assert n.jitter > 10 * b.jitter and n.jitter > 10 * p.jitter          # "jump around far more than in either"
    assert n.recent_loss < 2 * b.recent_loss + 0.05                        # "falls about as fast as plain BN's"
    assert abs(p.recent_loss - CHANCE_LOSS) < 0.05                          # "the plain network stays at chance"
    said = " ".join(say("en", "shift", s) for s in shift_verdict(out))
    assert "trained about as well as BN" in said and "do **not** both favour BN" in said   # "do not favour BN"


def bn_num(v: float) -> str:
    from widgets.bn_analysis import num

    return num(v)
