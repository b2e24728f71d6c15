"""Lesson 1 through Voila in headless Chromium: defaults on the page, every control answers."""
import pytest

from browser import (assert_no_error, body_text, plot_signature, press_slider, sliders, wait_for_change,
                     wait_until)

pytestmark = pytest.mark.browser
NB = "01_feature_scaling.ipynb"

# slider order on the page
W, X, THRESH, SCALE, UNITS, X2RANGE, STEPS, LR_RAW, LR_STD = range(9)


@pytest.fixture(scope="module")
def page(browser, voila_url):
    from browser import close, open_dashboard

    p = open_dashboard(browser, voila_url, NB, ready=".js-plotly-plot .scatterlayer path.js-line", count=4)
    yield p
    close(p)


def section(page, css):
    return page.locator(f".{css}").first.inner_text()


def test_defaults_show_the_notes_example(page):
    assert_no_error(page)
    assert sliders(page).count() == 9
    tanh = section(page, "lesson-tanh")
    # both of the notes' cases, as text, at the default state
    assert "0.0997" in tanh and "0.9640" in tanh and "0.0707" in tanh
    assert "saturated" in tanh
    # every figure drew something
    assert page.locator(".js-plotly-plot").count() == 5
    assert page.locator(".lesson-regression .contour").count() == 2 or "Hessian" in section(page, "lesson-regression")
    numbers = section(page, "regression-numbers")
    assert "condition number" in numbers and "largest stable lr" in numbers


@pytest.mark.parametrize("index,css,key", [
    (W, "lesson-tanh", "ArrowRight"), (X, "lesson-tanh", "ArrowLeft"), (THRESH, "lesson-tanh", "ArrowLeft"),
    (SCALE, "lesson-layer", "ArrowLeft"), (UNITS, "lesson-layer", "ArrowRight"),
    (X2RANGE, "lesson-regression", "Home"), (STEPS, "lesson-regression", "ArrowRight"),
    (LR_RAW, "lesson-regression", "End"), (LR_STD, "lesson-regression", "ArrowLeft"),
])
def test_every_slider_changes_its_plot_and_numbers(page, index, css, key):
    scope = f".{css}"
    before_plot, before_text = plot_signature(page, scope), section(page, css)
    press_slider(page, index, key, times=3)
    wait_for_change(page, lambda: plot_signature(page, scope), before_plot, what=f"slider {index}: {css} figure")
    wait_for_change(page, lambda: section(page, css), before_text, what=f"slider {index}: {css} numbers")
    assert_no_error(page)


def test_standardise_toggle(page):
    before = section(page, "layer-numbers"), plot_signature(page, ".lesson-layer")
    page.locator(".lesson-layer button", has_text="standardised inputs").click()
    wait_for_change(page, lambda: (section(page, "layer-numbers"), plot_signature(page, ".lesson-layer")), before)
    page.locator(".lesson-layer button", has_text="raw inputs").click()
    assert_no_error(page)


def test_learning_rate_past_the_limit_diverges_with_a_message(page):
    press_slider(page, X2RANGE, "End")  # R = 1000: the raw limit 2/lambda_max is about 6e-6
    press_slider(page, LR_RAW, "End")
    wait_until(page, lambda: "Diverged at step" in section(page, "lesson-regression"), what="divergence message")
    text = section(page, "lesson-regression")
    assert "above the limit" in text and "nan" not in text.lower()
    assert_no_error(page)
    press_slider(page, LR_RAW, "Home")
    wait_until(page, lambda: "Diverged" not in section(page, "lesson-regression"), what="recovery")


def test_typed_nonsense_in_a_slider_readout_keeps_the_last_value(page):
    readout = page.locator(".widget-slider").nth(W).locator(".widget-readout")
    before = readout.inner_text()
    readout.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("abc")
    page.keyboard.press("Enter")
    page.wait_for_timeout(500)
    assert readout.inner_text() == before
    assert_no_error(page)
    assert "z = w·x" in body_text(page)
