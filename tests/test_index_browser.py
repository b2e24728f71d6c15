"""The landing page: a card per lesson, the device, and links that open the dashboards; the server's
front page opens it, and the file list stays reachable."""
import pytest

from browser import assert_no_error, body_text, wait_until
from widgets.devtools.serving import LESSONS, OffHostRequests, wait_rendered


@pytest.mark.browser
def test_front_page_opens_the_course_and_the_file_list_stays(browser, voila_url):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    watch = OffHostRequests(context, voila_url)
    page = context.new_page()
    try:
        page.goto(voila_url + "/", wait_until="commit", timeout=180_000)  # what `make serve` prints
        # the URL changes once the rendered page commits: as long as open_dashboard allows a page under load
        wait_until(page, lambda: page.url == voila_url + "/voila/render/00_index.ipynb", 180, "the redirect")
        wait_rendered(page, "the front page", ".lesson-card", 5)
        hrefs = page.eval_on_selector_all("a.lesson-link", "links => links.map(a => a.getAttribute('href'))")
        missing = [n for n in LESSONS[1:] if f"./{n}.ipynb" not in hrefs]
        assert not missing, f"lessons not linked from the front page: {missing} (links: {hrefs})"
        assert_no_error(page)
        page.goto(voila_url + "/voila/tree", wait_until="commit")  # the file list: no redirect there
        wait_until(page, lambda: all(f"{n}.ipynb" in body_text(page) for n in LESSONS), 120, "the file list")
        assert page.url == voila_url + "/voila/tree"
        page.close(run_before_unload=True)
    finally:
        context.close()
    watch.assert_none("the front page and the file list")


@pytest.mark.browser
def test_landing_page_links_open_the_lessons(dashboard):
    page = dashboard("00_index.ipynb", ready=".lesson-card", count=5)
    assert_no_error(page)
    text = body_text(page)
    assert "Device:" in text and ("CPU" in text or "GPU" in text)
    for title in ("Feature scaling", "Batch Normalization", "1×1 convolutions", "Inception module", "Train an Inception"):
        assert title in text
    links = page.locator("a.lesson-link")
    assert links.count() >= 1
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert "./01_feature_scaling.ipynb" in hrefs
    page.locator("a.lesson-link", has_text="Open lesson 1").click()
    wait_until(page, lambda: page.url.endswith("/voila/render/01_feature_scaling.ipynb"), 30, "navigation")
    wait_rendered(page, "lesson 1", ".js-plotly-plot", 5, 120_000)   # its lower sections scrolled to (lazy)
    assert "0.0997" in body_text(page)
    assert_no_error(page)


def test_card_promises_carry_the_lessons_numbers():
    from widgets.views.index import _promises

    text = " ".join(p for _, _, p in _promises())
    assert "0.964" in text and "0.071" in text  # tanh(2) and 1 - tanh(2)^2
    assert "120,422,400" in text and "12,443,648" in text  # 28·28·32·5·5·192; 2,408,448 + 10,035,200
