"""Lesson 3 in a real browser: the notes' numbers at the defaults, every control changes the
page, bad sizes are refused with a message and the last good figures stay."""
from __future__ import annotations

import re

import pytest
from browser import (assert_no_error, body_text, click_button, plot_signature, press_slider, type_into,
                     wait_for_change, wait_until)

NOTEBOOK = "03_bottleneck.ipynb"
PLOTS = 5  # single channel, many channels, cost bars, timing, trade-off


def has(page, text: str):
    return lambda: text in body_text(page)


def open_page(dashboard):
    page = dashboard(NOTEBOOK, count=PLOTS)
    wait_until(page, has(page, "✓ equal"), 60, "the FlopCounterMode check")
    return page


def figure_text(page, scope: str) -> str:
    """Every label drawn in the plots under `scope` (bar totals, tick labels).

    `plot_signature` reads shapes and positions; the cost bars autoscale, so halving H
    draws the same picture with new numbers on it: read the numbers too.
    """
    return page.evaluate(
        "(scope) => [...document.querySelectorAll(scope + ' .js-plotly-plot text')].map(e => e.textContent).join('|')",
        scope)


def drawn(page, scope: str = "body") -> str:
    """Shapes and positions (plot_signature) plus the labels drawn in the plots under `scope`."""
    return plot_signature(page, scope) + "#" + figure_text(page, scope)


def field_message(page, label: str) -> str:
    """The message beside the NumberField labelled `label` ('' when there is none), read in one go
    so a message that is replaced while we read cannot stall the test."""
    return page.evaluate(
        """(label) => {
            for (const box of document.querySelectorAll('.lesson-number-field')) {
              const l = box.querySelector('.widget-label');
              if (l && l.textContent.includes(label)) {
                const m = box.querySelector('.lesson-msg');
                return m ? m.textContent : '';
              }
            }
            return null;
        }""",
        label)


@pytest.mark.browser
def test_defaults_controls_and_bad_sizes(dashboard):
    page = open_page(dashboard)
    text = body_text(page)
    # b. the notes' example, exactly, with separators; c. FlopCounterMode's FLOPs beside them
    for s in ("28·28·32·5·5·192 = 120,422,400", "2,408,448 + 10,035,200 = 12,443,648", "153,600",
              "240,844,800 FLOPs ÷ 2 = 120,422,400", "≈ 9.68×", "“≈ 1.2B”", "about 120.4 million"):
        assert s in text, s
    assert text.count("✓ equal") == 2 and "✗" not in text
    # c2. the timing runs once by itself (it takes well under a second at these sizes)
    wait_until(page, has(page, "Done: 21 repeats"), 90, "the first timing")
    assert re.search(r"measured speed-up\s+\d+\.\d\d×", body_text(page))
    assert_no_error(page)

    # a. the single-channel weight redraws the output image
    sig = drawn(page, ".lesson-single-channel")
    press_slider(page, 0)
    wait_for_change(page, lambda: drawn(page, ".lesson-single-channel"), sig, what="the 1×1 weight to redraw")
    # the sentence is a second message after the figure's: wait for it too (seen to lag under load)
    wait_until(page, has(page, "multiplied by the same number 2.5"), 20, "the sentence for w = 2.5")

    # a. pixel row, pixel column, number of filters, filter shown
    for index, expect in [(1, "Output 1 at pixel (2, 0)"), (2, "Output 1 at pixel (2, 1)"),
                          (3, "6×6×8 → 6×6×5 (compression)"), (4, "Output 2 at pixel (2, 1)")]:
        sig = drawn(page, ".lesson-many-channels")
        press_slider(page, index)
        wait_until(page, has(page, expect), 20, expect)
        wait_for_change(page, lambda: drawn(page, ".lesson-many-channels"), sig, what=f"slider {index} to redraw")
    for _ in range(8):   # expand past 8 channels
        press_slider(page, 3)
    wait_until(page, has(page, "6×6×8 → 6×6×13 (expansion)"), 20, "expansion")

    # b. every size field changes the formulas and the bars
    for label, value, expect in [
        ("H (height)", "14", "14·28·32·5·5·192 = 60,211,200"),
        ("W (width)", "14", "14·14·32·5·5·192 = 30,105,600"),
        ("C_in (input channels)", "256", "14·14·32·5·5·256 = 40,140,800"),
        ("k (kernel k×k)", "3", "14·14·32·3·3·256 = 14,450,688"),
        ("C_out (filters)", "64", "14·14·64·3·3·256 = 28,901,376"),
        ("ch_red (1×1 bottleneck)", "32", "14·14·32·256 + 14·14·64·3·3·32 = 1,605,632 + 3,612,672 = 5,218,304"),
    ]:
        before = figure_text(page, ".lesson-cost-calculator")
        type_into(page, label, value)
        wait_until(page, has(page, expect), 20, expect)
        wait_for_change(page, lambda: figure_text(page, ".lesson-cost-calculator"), before,
                        what=f"{label} to redraw the bars")
    assert "28,901,376 multiply-adds, formula 28,901,376 ✓ equal" in body_text(page)
    assert "sizes changed since the last timing" in body_text(page)

    # bad sizes: a message beside the field, the last good figures stay
    good = "14·14·64·3·3·256 = 28,901,376"
    for bad, why in [("0", "from 1 to"), ("-5", "from 1 to"), ("2.5", "whole number"), ("abc", "not a number"),
                     ("1e12", "from 1 to"), ("", "Enter a number")]:
        type_into(page, "H (height)", bad)
        wait_until(page, lambda: why in field_message(page, "H (height)"), 20, f"a message for {bad!r}")
        assert "Keeping 14" in field_message(page, "H (height)")
        assert good in body_text(page)
    type_into(page, "k (kernel k×k)", "4")
    wait_until(page, lambda: "odd kernel" in field_message(page, "k (kernel k×k)"), 20, "the odd-kernel message")
    assert good in body_text(page)
    type_into(page, "H (height)", "14")   # a good value clears the message
    wait_until(page, lambda: field_message(page, "H (height)") == "", 20, "the message to clear")

    # the optional bottleneck: off hides its path, on brings it back
    sig = drawn(page, ".lesson-cost-calculator")
    page.locator(".widget-checkbox input").first.click()
    wait_until(page, lambda: "bottleneck path: multiplications" not in body_text(page), 20, "bottleneck off")
    wait_for_change(page, lambda: drawn(page, ".lesson-cost-calculator"), sig, what="the bars without the bottleneck")
    page.locator(".widget-checkbox input").first.click()
    wait_until(page, has(page, "bottleneck path: multiplications"), 20, "bottleneck on")

    # c2. time the new sizes on the button
    click_button(page, "Time both paths")
    wait_until(page, has(page, "14×14×256, 3×3 conv, 64 filters, ch_red 32"), 90, "the timing of the new sizes")
    wait_until(page, has(page, "Done: 21 repeats"), 90, "the timing to finish")
    # sizes too big to run: refused with a message, no run started
    type_into(page, "H (height)", "5000")
    type_into(page, "W (width)", "5000")
    wait_until(page, has(page, "5000·5000·64·3·3·256"), 20, "the big sizes")
    click_button(page, "Time both paths")
    wait_until(page, has(page, "would need about"), 20, "the memory refusal")
    assert "14×14×256, 3×3 conv, 64 filters" in body_text(page)   # last measurement stays
    assert body_text(page).count("✓ equal") == 2                   # the meta-device counter still agrees
    assert_no_error(page)


@pytest.mark.browser
def test_tradeoff_training_and_stop(dashboard):
    page = open_page(dashboard)
    assert "ch_red = 4 (narrower than the input's 6 underlying signals): at best 21.0 %" in body_text(page)
    sig = drawn(page, ".lesson-tradeoff")
    press_slider(page, 5)                                   # the input's true dimension 6 -> 7
    wait_until(page, has(page, "mixtures of 7 underlying signals"), 20, "the new input")
    sig = wait_for_change(page, lambda: drawn(page, ".lesson-tradeoff"), sig, what="the closed-form curve to move")

    click_button(page, "Train the bottlenecked layers")
    wait_until(page, has(page, "Trained 10 widths"), 120, "training to finish")
    wait_for_change(page, lambda: drawn(page, ".lesson-tradeoff"), sig, what="the trained points to appear")
    gap = float(re.search(r"largest gap to the best possible is (-?\d+\.\d+)", body_text(page)).group(1))
    assert gap < 2.0, gap

    # Stop during a second run
    click_button(page, "Train the bottlenecked layers")
    wait_until(page, has(page, "training ch_red"), 20, "the second run to start")
    page.locator("button.jupyter-button", has_text="Stop").nth(1).click()
    wait_until(page, has(page, "Stopped"), 20, "Stop to be acknowledged")
    assert_no_error(page)
