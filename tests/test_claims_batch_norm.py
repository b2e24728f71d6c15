"""Lesson 2's prose and builder messages, against what its maths computes (issue 11's guard).

The table holds the numbers the markdown states about the default page; the tests below it hold
the sentences builders write (items 7-10 of issue 11) and the claims about the default training
runs, which are run here once each (seeded, so the page shows the same)."""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pytest

from claims import Claim, check, markdown
from widgets import batchnorm as bn
from widgets.views import batch_norm as V

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
        r = _rescaling(k)
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


def bn_num(v: float) -> str:
    from widgets.bn_analysis import num

    return num(v)
