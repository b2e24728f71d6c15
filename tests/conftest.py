"""Fixtures: a Voila server over notebooks/ and a headless Chromium (Debian's, via Playwright).

In CI (CI=true) a missing chromium is an error; elsewhere browser tests skip with one line.
"""
from __future__ import annotations

import os
import shutil

import pytest

# The serving harness lives in the package so that benchmarks/ and tools/ share it; these names
# stay importable from conftest for the tests that use them.
from widgets.devtools.serving import (  # noqa: F401
    CHROMIUM_ARGS, NOTEBOOKS, REPO, OffHostRequests, free_port, serve_ready, start_voila, stop, wait_http,
)

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        if IN_CI:
            pytest.fail("chromium is not installed (CI=true): run `make test`, which installs it")
        pytest.skip("chromium not installed: `apt-get install -y chromium` (make test does it)")
    return path


@pytest.fixture(scope="session")
def voila_url(tmp_path_factory, chromium_path):
    """Base URL of one Voila server shared by the browser tests of the session."""
    log_path = tmp_path_factory.mktemp("voila") / "voila.log"
    proc, url, _ = serve_ready(log_path, 60, extra=["--MappingKernelManager.cull_idle_timeout=120",
                                                    "--MappingKernelManager.cull_interval=30"])
    yield url
    stop(proc)


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def dashboard(browser, voila_url):
    """`dashboard("01_feature_scaling.ipynb", ready=..., count=...)` -> an opened page; closed after.

    Each page is watched from its first request: the test fails if the page asked any host other
    than the Voila server for anything (the course must work offline). Every lesson is opened
    through here by its browser test, so this is the offline check of the Voila door.
    """
    from browser import close, open_dashboard

    pages, watches = [], []

    def _open(notebook: str, **kw):
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        watches.append((notebook, OffHostRequests(context, voila_url)))
        page = open_dashboard(browser, voila_url, notebook, page=context.new_page(), **kw)
        pages.append(page)
        return page

    yield _open
    for p in pages:
        context = p.context
        close(p)
        context.close()
    for notebook, watch in watches:
        watch.assert_none(notebook)
