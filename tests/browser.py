"""Helpers for driving a Voila dashboard in headless Chromium (Playwright).

Shared by every lesson's browser test. The fixtures that start Voila and the browser
are in conftest.py; these functions act on a Playwright `Page`.
"""
from __future__ import annotations

import time

# Opening, closing and checking a page are shared with benchmarks/ and tools/.
from widgets.devtools.serving import (  # noqa: F401
    ERROR_PATTERNS, assert_no_error, body_text, close, open_dashboard,
)


def plot_signature(page, scope: str = "body") -> str:
    """A string that changes whenever any drawn trace, bar, marker or shape changes."""
    return page.evaluate(
        """(scope) => {
            const root = document.querySelector(scope) || document.body;
            const parts = [];
            root.querySelectorAll('.js-plotly-plot').forEach(p => {
              p.querySelectorAll('path, rect, text').forEach(e => {
                parts.push((e.getAttribute('d') || '') + (e.getAttribute('transform') || '') +
                           (e.getAttribute('x') || '') + (e.textContent || ''));
              });
            });
            return parts.join('|');
        }""",
        scope,
    )


def sliders(page):
    return page.locator(".widget-slider .noUi-handle")


def press_slider(page, index: int, key: str = "ArrowRight", times: int = 1) -> None:
    """Move the `index`-th slider on the page by keyboard steps."""
    handle = sliders(page).nth(index)
    handle.focus()
    for _ in range(times):
        handle.press(key)


def slider_label(page, index: int) -> str:
    return page.locator(".widget-slider").nth(index).locator(".widget-label").inner_text()


def wait_until(page, predicate, timeout_s: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def wait_for_change(page, read, before, timeout_s: float = 20.0, what: str = "the page to change"):
    """Wait until `read()` differs from `before`; return the new value."""
    box = {}

    def changed():
        box["v"] = read()
        return box["v"] != before

    wait_until(page, changed, timeout_s, what)
    return box["v"]


def settled(page, read, quiet_s: float = 1.0, timeout_s: float = 30.0, what: str = "the page"):
    """`read()` once it has stopped changing for `quiet_s` (a handler may redraw in several steps)."""
    last, since, deadline = read(), time.monotonic(), time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        page.wait_for_timeout(150)
        now = read()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return now
    raise AssertionError(f"{what} kept changing for {timeout_s} s")


def type_into(page, field_label: str, text: str) -> None:
    """Type into the text field whose description is `field_label` and commit with Enter."""
    box = page.locator(".widget-text", has=page.locator(".widget-label", has_text=field_label)).first
    inp = box.locator("input")
    inp.fill(text)
    inp.press("Enter")


def click_button(page, label: str) -> None:
    page.locator("button.jupyter-button", has_text=label).first.click()


# What each lesson shows once rendered, through any door: (selector, count). Every figure is counted:
# a lesson that adds or removes a figure updates its number here.
LESSON_READY = {
    "00_index": (".lesson-card", 5),
    "01_feature_scaling": (".js-plotly-plot", 5),
    "02_batch_norm": (".js-plotly-plot", 5),
    "03_bottleneck": (".js-plotly-plot", 5),
    "04_inception": (".js-plotly-plot", 7),
    "05_live_training": (".js-plotly-plot", 6),
}


def drag_slider(page, index: int, dx: float = 40) -> None:
    """Drag the `index`-th slider's handle `dx` pixels with the mouse (in Notebook 7 the notebook
    keeps arrow keys pressed on a handle, so press_slider does not move it there)."""
    handle = sliders(page).nth(index)
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx, y, steps=5)
    page.mouse.up()


def first_slider_that_moves_a_figure(page, scope: str = "body", tries: int = 3, timeout_s: float = 60):
    """Drag sliders in turn until one changes a drawn figure; its index. Fails if none does."""
    for i in range(min(tries, sliders(page).count())):
        before = plot_signature(page, scope)
        drag_slider(page, i)
        try:
            wait_for_change(page, lambda: plot_signature(page, scope), before, timeout_s, f"slider {i}")
            return i
        except AssertionError:
            continue
    raise AssertionError(f"none of the first {tries} sliders changed a figure")
