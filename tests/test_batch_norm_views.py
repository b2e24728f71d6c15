"""Lesson 2's sections, built without a browser: names, defaults, what each control changes, and
what a bad value does (kept default, a message in the section's status)."""
from __future__ import annotations

import ipywidgets as ipw
import numpy as np
import pytest

from widgets import batchnorm as bn
from widgets.views import batch_norm as V


def _walk(w):
    yield w
    for c in getattr(w, "children", ()) or ():
        yield from _walk(c)


def _data_line(s) -> str:
    return next(w.value for w in _walk(s.widget) if isinstance(w, ipw.HTML) and "bn-data" in w.value)


def _xs(handle) -> np.ndarray:
    return np.asarray(handle.x, dtype=float)


# --------------------------------------------------------------------------- a. forward pass
def test_forward_defaults_and_each_control():
    s = V.ForwardPass()
    assert "bn-sec-a" in s.widget._dom_classes and 'all 1,797 digits (split "all"' in _data_line(s)
    z = _xs(s.tr("hist", "z"))
    assert len(z) == 64 and "z̃ differs from z" in s.stats.value
    s.controls["m"].set(2)
    assert len(_xs(s.tr("hist", "z_norm"))) == 2
    s.controls["gamma"].set(2.0)
    s.controls["beta"].set(1.0)
    zt = _xs(s.tr("hist", "z_tilde"))
    assert np.mean(zt) == pytest.approx(1.0, abs=1e-12)
    s.controls["undo"].set(True)
    assert "z̃ = z exactly" in s.stats.value and s.controls["gamma"].widget.disabled
    np.testing.assert_allclose(_xs(s.tr("hist", "z_tilde")), _xs(s.tr("hist", "z")), atol=1e-12)


def test_forward_new_batch_changes_the_batch_not_the_standardisation():
    s = V.ForwardPass()
    before = _xs(s.tr("hist", "z"))
    s.buttons["new"].click()
    after = _xs(s.tr("hist", "z_norm"))
    assert not np.array_equal(before, _xs(s.tr("hist", "z")))
    assert abs(after.mean()) < 1e-12 and after.var() == pytest.approx(1.0, abs=1e-3)


def test_forward_bad_value_keeps_default_with_a_message():
    s = V.ForwardPass(m=1, gamma="abc")
    assert s.controls["m"].value == 64 and s.controls["gamma"].value == 1.0
    assert "Ignored" in s.status.value and "m = 1" in s.status.value
