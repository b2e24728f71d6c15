"""Lesson 5 in a real browser: the defaults are on the page, every control changes it, Train makes
the charts grow, Stop stops them within a second or two, and misuse gets messages, not tracebacks."""
from __future__ import annotations

import time

import pytest
from browser import assert_no_error, body_text, click_button, plot_signature, type_into, wait_until

from widgets import train as T

NB = "05_live_training.ipynb"


def select(page, label: str, option_label: str) -> None:
    box = page.locator(".widget-dropdown", has=page.locator("label", has_text=label)).first
    box.locator("select").select_option(label=option_label)


def checkbox(page, label: str):
    return page.locator(".widget-checkbox", has_text=label).first.locator("input")


def summary(page) -> str:
    return page.locator(".lesson-summary").first.inner_text()


def status(page) -> str:
    return page.locator(".widget-hbox", has=page.locator("button", has_text="Train")).first.inner_text()


def charts(page) -> str:
    return plot_signature(page, ".lesson-live-charts")


def changes_summary(page, action, what: str) -> None:
    before = summary(page)
    action()
    wait_until(page, lambda: page.locator(".lesson-summary").count() and summary(page) != before, 30, what)


@pytest.mark.browser
def test_live_training_dashboard(dashboard):
    page = dashboard(NB, ready=".js-plotly-plot", count=6)
    assert_no_error(page)
    text = body_text(page)
    # the banner names the device; the default's numbers come from widgets.train.describe_run
    assert "CPU: reduced model" in text or "GPU:" in text
    d = T.describe_run(T.lesson_default("digits"))
    assert f"{d['params']:,}" in text and f"{d['forward_flops'] / 1e6:,.1f} MFLOPs" in text
    assert f"{d['total_steps']}" in text
    # the recorded run is on the charts and its results are shown
    assert "Recorded" in text and "Results of the recorded run" in text and "Confusion matrix" in text

    # Stop before Train: a message, not an error
    click_button(page, "Stop")
    wait_until(page, lambda: "Nothing is running" in status(page), 10, "the 'nothing is running' message")

    # every setting changes what the page says about the run
    changes_summary(page, lambda: select(page, "Width", "1/8"), "width")
    changes_summary(page, lambda: select(page, "Input px", "24"), "input size")
    changes_summary(page, lambda: select(page, "Schedule", "paper: x0.96 / 8 epochs"), "schedule")
    changes_summary(page, lambda: select(page, "Data", "CIFAR-10 (binary archive)"), "data set")
    changes_summary(page, lambda: select(page, "Data", "digits (embedded, 8x8)"), "data set back")
    for label in ("BatchNorm", "aux heads", "Polyak averaging", "random crops"):
        changes_summary(page, lambda: checkbox(page, label).click(), label)
        changes_summary(page, lambda: checkbox(page, label).click(), label + " back")
    changes_summary(page, lambda: type_into(page, "Learning rate", "0.05"), "learning rate")
    changes_summary(page, lambda: type_into(page, "Batch", "32"), "batch")
    changes_summary(page, lambda: type_into(page, "Epochs", "3"), "epochs")
    changes_summary(page, lambda: type_into(page, "Seed", "3"), "seed")
    # bad values: a message beside the field, the last good value stays
    good = summary(page)
    type_into(page, "Learning rate", "abc")
    wait_until(page, lambda: "is not a number" in body_text(page), 10, "the bad-number message")
    type_into(page, "Batch", "0")
    wait_until(page, lambda: "Enter a value from 2" in body_text(page), 10, "the range message")
    assert summary(page) == good
    assert_no_error(page)

    # a tiny run: width 1/16, 16 px, one-cycle, 6 epochs -> Train makes the charts grow
    select(page, "Width", "1/16")
    select(page, "Input px", "16")
    select(page, "Schedule", "one-cycle (short runs)")
    type_into(page, "Learning rate", "0.1")
    type_into(page, "Epochs", "6")
    page.wait_for_timeout(300)
    sig0 = charts(page)
    click_button(page, "Train")
    wait_until(page, lambda: charts(page) != sig0, 60, "the charts to grow")
    wait_until(page, lambda: "step " in page.locator(".lesson-live").first.inner_text(), 30, "live numbers")
    sig1 = charts(page)
    wait_until(page, lambda: charts(page) != sig1, 30, "the charts to keep growing")
    # Train again while running: refused with a message
    click_button(page, "Train")
    wait_until(page, lambda: "Already running" in status(page), 10, "the already-running message")
    # Stop: stops within a second or two, and the curves stop moving
    t0 = time.monotonic()
    click_button(page, "Stop")
    wait_until(page, lambda: "Stopped" in status(page), 10, "the stopped message")
    assert time.monotonic() - t0 < 3.0, f"Stop took {time.monotonic() - t0:.1f} s"
    page.wait_for_timeout(700)
    frozen = charts(page)
    page.wait_for_timeout(1500)
    assert charts(page) == frozen, "the charts still change after Stop"
    assert_no_error(page)

    # Train again: a new run finishes, results appear for it
    type_into(page, "Epochs", "1")
    page.wait_for_timeout(300)
    click_button(page, "Train")
    wait_until(page, lambda: "Finished 1 epoch in" in status(page), 120, "the run to finish")
    wait_until(page, lambda: "Results of this run" in body_text(page), 20, "the results of the run")
    assert "10 crops" in body_text(page)

    # divergence: BN off and a huge learning rate -> a clear message, the page stays usable
    checkbox(page, "BatchNorm").click()
    type_into(page, "Learning rate", "10")
    page.wait_for_timeout(300)
    click_button(page, "Train")
    wait_until(page, lambda: "Diverged" in status(page), 120, "the divergence message")
    assert "Lower the learning rate" in status(page)

    # replay: a bad path gets a message; the shipped recording plays back into the charts
    type_into(page, "Path", "/no/such/run.json")
    click_button(page, "Replay")
    wait_until(page, lambda: "Cannot replay: no file /no/such/run.json" in status(page), 10, "the bad-path message")
    type_into(page, "Path", "")
    sig2 = charts(page)
    click_button(page, "Replay")
    wait_until(page, lambda: charts(page) != sig2, 20, "the replay to draw")
    wait_until(page, lambda: "Replay finished" in status(page), 30, "the replay to finish")
    assert_no_error(page)
