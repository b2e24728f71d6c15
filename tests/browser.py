"""Helpers for driving a Voila dashboard in headless Chromium (Playwright).

Shared by every lesson's browser test. The fixtures that start Voila and the browser
are in conftest.py; these functions act on a Playwright `Page`.
"""
from __future__ import annotations

import re
import time

# Text that must never be on a dashboard: a traceback or Voila's error banner.
ERROR_PATTERNS = re.compile(
    r"Traceback \(most recent call last\)|There was an error when executing cell|"
    r"Error executing notebook|Kernel error|ModuleNotFoundError|NameError|Error displaying widget"
)


def open_dashboard(browser, base_url: str, notebook: str, ready: str = ".js-plotly-plot",
                   count: int = 1, timeout_ms: int = 180_000):
    """Open `notebook` through Voila, wait until `count` elements match `ready`, return the page."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(30_000)
    page.goto(f"{base_url}/voila/render/{notebook}", timeout=timeout_ms, wait_until="commit")
    deadline = time.monotonic() + timeout_ms / 1000
    while time.monotonic() < deadline:
        if page.locator(ready).count() >= count:
            break
        body = page.locator("body").inner_text(timeout=timeout_ms)
        assert not ERROR_PATTERNS.search(body), f"{notebook} shows an error while loading:\n{body[-2000:]}"
        page.wait_for_timeout(250)
    else:
        raise AssertionError(f"{notebook}: {count}× '{ready}' not rendered in {timeout_ms / 1000:.0f} s")
    page.wait_for_timeout(500)  # let the last widgets settle
    return page


def close(page) -> None:
    """Close so Voila is told (its kernel is then culled)."""
    page.close(run_before_unload=True)


def body_text(page) -> str:
    return page.locator("body").inner_text()


def assert_no_error(page) -> None:
    text = body_text(page)
    m = ERROR_PATTERNS.search(text)
    assert m is None, f"error on page: {m.group(0)!r}\n{text[max(0, m.start() - 500): m.end() + 500]}"
    stderr = page.locator('[data-mime-type="application/vnd.jupyter.stderr"]')
    assert stderr.count() == 0, f"stderr output on page: {stderr.first.inner_text()[:1000]}"


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
