"""The landing page: a card per lesson, the device, and links that open the dashboards."""
import pytest

from browser import assert_no_error, body_text, wait_until




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
    wait_until(page, lambda: page.locator(".js-plotly-plot").count() >= 5, 120, "lesson 1 to render")
    assert "0.0997" in body_text(page)
    assert_no_error(page)


def test_card_promises_carry_the_lessons_numbers():
    from widgets.views.index import _promises

    text = " ".join(p for _, _, p in _promises())
    assert "0.964" in text and "0.071" in text  # tanh(2) and 1 - tanh(2)^2
    assert "120,422,400" in text and "12,443,648" in text  # 28·28·32·5·5·192; 2,408,448 + 10,035,200
