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
from server_watch import ServerWatch

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
_WATCH: list[ServerWatch] = []   # the shared server's watch (one per session)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        if IN_CI:
            pytest.fail("chromium is not installed (CI=true): run `make test`, which installs it")
        pytest.skip("chromium not installed: `apt-get install -y chromium` (make test does it)")
    return path


@pytest.fixture(scope="session")
def voila_server(tmp_path_factory, chromium_path):
    """One Voila server shared by the browser tests of the session, watched (tests/server_watch.py)."""
    log_path = tmp_path_factory.mktemp("voila") / "voila.log"
    proc, url, _ = serve_ready(log_path, 60, extra=["--MappingKernelManager.cull_idle_timeout=120",
                                                    "--MappingKernelManager.cull_interval=30"])
    _WATCH.append(ServerWatch(proc, log_path))
    yield proc, url
    _WATCH[-1].finish()
    stop(proc)


@pytest.fixture(scope="module")
def voila_url(voila_server):
    """Base URL of the shared server, checked before each module that uses it: a server that has exited
    or does not answer within a minute fails that module at once, with what the watch saw, rather than
    each page of it waiting three minutes."""
    proc, url = voila_server
    try:
        wait_http(url + "/", 60, proc)
    except RuntimeError as exc:
        pytest.fail(f"the shared Voila server is not serving ({exc}):\n{_WATCH[-1].report(3000)}")
    return url


def pytest_terminal_summary(terminalreporter, exitstatus):
    """A failed session ends with what the shared server did: how it ended, memory, its log's end."""
    if _WATCH and exitstatus != 0:
        terminalreporter.write_sep("-", "the shared Voila server")
        terminalreporter.write_line(_WATCH[-1].report())


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
