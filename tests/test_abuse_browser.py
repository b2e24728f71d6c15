"""Abuse: random sequences of interactions on every dashboard (sliders, nonsense typed into every
field, buttons mashed, Stop before Train, Train twice). Afterwards: no traceback or error on the
page, and the controls still answer. The sequence is seeded, so a failure can be replayed."""
from __future__ import annotations

import random

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from browser import assert_no_error, body_text, plot_signature, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DASHBOARDS = ["01_feature_scaling", "02_batch_norm", "03_bottleneck", "04_inception", "05_live_training"]
NONSENSE = ["", "-1", "0", "1e308", "abc", "NaN", "inf", "3.5", "99999999999", " ", "1,2", "½"]
KEYS = ["ArrowRight", "ArrowLeft", "PageUp", "PageDown", "Home", "End"]
ACTIONS = 30


def press_some_slider(page, rng) -> None:
    handles = page.locator(".widget-slider .noUi-handle")
    if handles.count():
        h = handles.nth(rng.randrange(handles.count()))
        h.scroll_into_view_if_needed()
        h.focus()
        for _ in range(rng.randint(1, 4)):
            h.press(rng.choice(KEYS))


def type_nonsense(page, rng) -> None:
    fields = page.locator(".widget-text input[type=text], .widget-text input:not([type])")
    if fields.count():
        f = fields.nth(rng.randrange(fields.count()))
        f.scroll_into_view_if_needed()
        f.fill(rng.choice(NONSENSE))
        f.press("Enter")


def mash_button(page, rng) -> None:
    # stable indices; disabled ones are skipped. Not the language switch: it leaves the page (its own tests
    # follow it), and not a hidden button (the switch is hidden where the other edition does not exist)
    buttons = page.locator("button.jupyter-button:visible:not(.language-switch)")
    if buttons.count():
        b = buttons.nth(rng.randrange(buttons.count()))
        b.scroll_into_view_if_needed()
        for _ in range(rng.randint(1, 3)):
            click_if_enabled(b)


def click_if_enabled(button) -> None:
    """Click unless the page disabled it (a running task disables its own Run button: that is
    the page refusing a second press, which is right, not a failure)."""
    try:
        if button.is_enabled():
            button.click(timeout=3000)
    except PlaywrightTimeout:
        pass  # disabled while we tried (it may be enabled again by now: the task it started ended)


def click_named(page, name: str) -> None:
    b = page.locator("button.jupyter-button", has_text=name)
    if b.count():
        b.first.scroll_into_view_if_needed()
        click_if_enabled(b.first)


def some_slider_still_answers(page) -> bool:
    """A slider moved to both ends (or a checkbox ticked) changes a plot or the numbers on the page."""
    handles = page.locator(".widget-slider .noUi-handle")

    def state():
        return plot_signature(page), body_text(page)

    for i in range(min(handles.count(), 8)):
        h = handles.nth(i)
        h.scroll_into_view_if_needed()
        before = state()
        h.focus()
        h.press("Home")
        h.press("End")
        try:
            wait_until(page, lambda: state() != before, 15, "the page to answer")
            return True
        except AssertionError:
            continue
    boxes = page.locator(".widget-checkbox input")  # pages whose settings are checkboxes and fields
    for i in range(min(boxes.count(), 4)):
        before = state()
        boxes.nth(i).scroll_into_view_if_needed()
        boxes.nth(i).click()
        try:
            wait_until(page, lambda: state() != before, 15, "the page to answer")
            return True
        except AssertionError:
            continue
    return False


@pytest.mark.parametrize("notebook", DASHBOARDS)
def test_random_abuse_leaves_a_working_page(dashboard, notebook):
    page = dashboard(f"{notebook}.ipynb", ready=".js-plotly-plot", count=1)
    rng = random.Random(f"abuse-{notebook}")
    click_named(page, "Stop")  # Stop before anything runs
    for _ in range(ACTIONS):
        rng.choice([press_some_slider, press_some_slider, type_nonsense, mash_button])(page, rng)
    click_named(page, "Train")
    click_named(page, "Train")  # twice
    click_named(page, "Stop")
    page.wait_for_timeout(2000)
    assert_no_error(page)
    assert some_slider_still_answers(page), f"{notebook}: no slider changes the page after the abuse"
    text = body_text(page)
    assert "Something went wrong" not in text, text[text.find("Something went wrong") - 300:][:800]
    assert_no_error(page)
