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
