"""Lesson 3's sections, built without a browser: names, defaults, what each control changes,
bad values refused with a message, and the background work drawn under the section's lock."""
from __future__ import annotations

import numpy as np
import pytest

from widgets import conv1x1 as C
from widgets.views import bottleneck as V


# --------------------------------------------------------------------------- a1. one channel
def test_single_channel_defaults_and_weight():
    s = V.SingleChannel()
    assert s.name == "single" and "lesson-single-channel" in s.widget._dom_classes
    np.testing.assert_array_equal(s.tr("images", "output").z, 2 * C.demo_image(6))
    assert "multiplied by the same number 2:" in s.numbers.value
    s.controls["weight"].set(-1.5)
    np.testing.assert_array_equal(s.tr("images", "output").z, -1.5 * C.demo_image(6))
    assert "output = -1.5 × input" in s.figures["images"].layout.annotations[1].text
    assert "top-left 1 → -1.5" in s.numbers.value


@pytest.mark.parametrize("raw,why", [("abc", "not a number"), ("9", "from -3 to 3"), ("nan", "finite")])
def test_single_channel_bad_weight_keeps_the_default(raw, why):
    s = V.SingleChannel(weight=raw)
    assert s.controls["weight"].value == 2.0 and why in s.status.value
    np.testing.assert_array_equal(s.tr("images", "output").z, 2 * C.demo_image(6))


# --------------------------------------------------------------------------- a2. many channels
def test_many_channels_defaults_spell_out_one_output():
    s = V.ManyChannels()
    assert s.values() == {"row": 1, "col": 0, "n_filters": 4, "which": 1}
    dot = C.pixel_dot(C.demo_volume(), C.demo_filters()[:4], 1, 0, 0)
    assert "Output 1 at pixel (1, 0)" in s.numbers.value and dot.formula() in s.numbers.value
    assert "6×6×8 → 6×6×4 (compression)" in s.numbers.value
    np.testing.assert_array_equal(s.tr("pixel", "x").y, C.demo_volume()[1, 0])
    assert s.tr("pixel", "outputs").x == ("f1", "f2", "f3", "f4")


def test_many_channels_every_control_redraws():
    s = V.ManyChannels()
    s.controls["row"].set(2)
    assert s.tr("pixel", "box").y == (2,) and "Output 1 at pixel (2, 0)" in s.numbers.value
    s.controls["col"].set(3)
    assert s.tr("pixel", "box").x == (3,)
    np.testing.assert_array_equal(s.tr("pixel", "x").y, C.demo_volume()[2, 3])
    s.controls["which"].set(3)
    np.testing.assert_array_equal(s.tr("pixel", "w").y, C.demo_filters()[2])
    assert "output channel 3 (6×6)" in s.figures["pixel"].layout.annotations[2].text
    s.controls["n_filters"].set(12)
    assert len(s.tr("pixel", "outputs").x) == 12 and "6×6×8 → 6×6×12 (expansion)" in s.numbers.value


def test_fewer_filters_clamp_the_filter_shown():
    s = V.ManyChannels(which=4)
    s.controls["n_filters"].set(2)
    assert s.controls["which"].value == 2 and s.controls["which"].widget.max == 2
    assert "Output 2 at pixel" in s.numbers.value


def test_the_check_runs_the_real_layers_for_each_width():
    """Issue 11 item 13: the row shows nn.Conv2d(8, n, 1) against nn.Linear(8, n) at the current n,
    beside the rounding float64 allows, and says which it is."""
    vol, filt = C.demo_volume(), C.demo_filters()
    for n in (1, 4, 16):
        s = V.ManyChannels(n_filters=n)
        diff, bound = C.conv1x1_vs_linear(vol, filt[:n]), C.rounding_bound(vol, filt[:n])
        assert f"Conv2d(8, {n}, 1) − Linear(8, {n})" in s.numbers.value
        assert f"{diff:.1e} over all 36×{n} outputs" in s.numbers.value and f"{bound:.1e}" in s.numbers.value
        assert ("identical to the last bit" if diff == 0 else "float64 rounding, which allows") in s.numbers.value


def test_many_channels_bad_values_keep_the_defaults():
    s = V.ManyChannels(row="7", n_filters="x")
    assert s.values()["row"] == 1 and s.values()["n_filters"] == 4
    assert "row = 7" in s.status.value and "n_filters = x" in s.status.value
