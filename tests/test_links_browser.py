"""Links that open a state, in the browser: on the plain route (the kernel reads QUERY_STRING) and on a
pre-heated server (the notebook ran before the request; the page bridge brings the query to the kernel)."""
import shutil
import time

import pytest

from browser import assert_no_error, close, open_dashboard, press_slider, wait_until
from widgets.devtools.serving import free_port, start_voila, stop, wait_http, wait_rendered

pytestmark = pytest.mark.browser
READY = ".js-plotly-plot .main-svg"


def text(page, css):
    return page.locator(css).first.inner_text()


def readouts(page):
    return page.locator(".widget-slider .widget-readout").all_inner_texts()


def test_lesson1_opens_with_the_values_of_its_link(dashboard):
    page = dashboard("01_feature_scaling.ipynb?w=0.3&x=7", ready=READY)
    wait_until(page, lambda: "0.9705" in text(page, ".tanh-numbers"), 60, "tanh(2.1) on the page")
    assert "2.1" in text(page, ".tanh-numbers")
    assert text(page, ".page-message") == ""
    assert_no_error(page)


def test_lesson3_takes_its_sizes_and_scrolls_to_its_section(dashboard):
    page = dashboard("03_bottleneck.ipynb?ch_in=64#cost", ready=READY)
    wait_until(page, lambda: "40,140,800" in text(page, ".section-cost"), 60, "28·28·32·5·5·64 on the page")
    wait_until(page, lambda: abs(page.evaluate(
        "document.querySelector('.section-cost').getBoundingClientRect().top")) < 150, 30, "the section at the top")
    assert_no_error(page)


def test_lesson2_prefixed_name_and_bad_values_say_what_was_ignored(dashboard):
    page = dashboard("02_batch_norm.ipynb?noise.m=2&m=abc&x=%3Cb%3Ebold%3C%2Fb%3E", ready=READY)
    wait_until(page, lambda: "ignored" in text(page, ".page-message").lower(), 60, "the message at the top")
    msg = text(page, ".page-message")
    assert "several sections have it" in msg and "x (no control" in msg
    assert page.locator(".page-message b").count() == 0          # the payload shows as text, not as markup
    wait_until(page, lambda: "2" == page.locator(".section-noise .widget-readout").first.inner_text().strip(),
               60, "noise.m = 2")
    assert_no_error(page)


def test_the_link_button_round_trips(browser, dashboard):
    page = dashboard("01_feature_scaling.ipynb", ready=READY, count=4)
    press_slider(page, 0, "ArrowRight", times=5)       # w: 0.10 -> 0.15
    press_slider(page, 3, "ArrowLeft", times=4)        # input scale: 100 -> 10^1.8
    wait_until(page, lambda: readouts(page)[0] == "0.15", 30, "w = 0.15")
    page.wait_for_timeout(1500)                         # let the kernel take the last value
    page.locator(".page-header button", has_text="Link to this view").click()
    wait_until(page, lambda: page.locator("a.view-link").count() == 1, 30, "the link")
    href = page.locator("a.view-link").get_attribute("href")
    assert "w=0.15" in href and "scale=" in href
    shown = readouts(page)
    again = browser.new_page(viewport={"width": 1400, "height": 1000})
    again.goto(href, wait_until="commit")
    wait_rendered(again, "the link", READY, 1)          # scrolls to each section (built when seen: lazy.py)
    wait_until(again, lambda: readouts(again) == shown, 60, "the same control values")
    assert text(again, ".page-message") == ""
    close(again)


@pytest.fixture(scope="module")
def preheated(tmp_path_factory, chromium_path):
    """A pre-heated Voilà over a folder holding lesson 1 only (pre-heating every lesson would take minutes)."""
    from widgets.devtools.serving import NOTEBOOKS

    folder = tmp_path_factory.mktemp("preheated")
    shutil.copy(NOTEBOOKS / "01_feature_scaling.ipynb", folder)
    port = free_port()
    proc = start_voila(port, folder / "voila.log", preheat=True, folder=folder,
                       extra=["--VoilaConfiguration.default_pool_size=1"])
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/", 120, proc)
    log = folder / "voila.log"
    deadline = time.monotonic() + 300
    while "is filled" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(1)   # until the pool's kernel has run the notebook: the request must find it pre-heated
    assert "is filled" in log.read_text(), log.read_text()[-2000:]
    yield url, log
    stop(proc)


def test_a_preheated_page_still_takes_its_link(browser, preheated):
    url, log = preheated
    page = open_dashboard(browser, url, "01_feature_scaling.ipynb?w=0.3&x=7", ready=READY)
    assert "Using pre-heated kernel" in log.read_text()
    wait_until(page, lambda: "0.9705" in text(page, ".tanh-numbers"), 60, "tanh(2.1) on the pre-heated page")
    assert_no_error(page)
    close(page)
