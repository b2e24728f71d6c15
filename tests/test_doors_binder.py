"""Binder's door: a Jupyter Server with the voila extension, started as repo2docker starts it
(binder/start wrapping `jupyter notebook`, in the repository root, under a /user/<name>/ base URL
and a token like Binder's), opened in headless Chromium.

The landing page and every lesson render at /voila/render/notebooks/..., with no error and no
request to any host but the server; Voila's settings are in force there: no tracebacks, sources
stripped, idle kernels culled, execute_request dropped. The server's root is a folder holding a link
to notebooks/ (same URLs as Binder's) and two small notebooks of the test's own.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from browser import LESSON_READY, assert_no_error, body_text, wait_until
from test_voila_security import assert_code_not_run, probe
from widgets.devtools.serving import (
    LESSONS, NOTEBOOKS, REPO, OffHostRequests, close, free_port, stop, wait_http, wait_rendered,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TOKEN = "binder-door-test"
BASE = "/user/learner/"
CULL_S = 15
SECRET = "binder-door-secret-7261"


def write_own_notebooks(root: Path) -> None:
    boom = new_notebook(cells=[new_code_cell(f"# {SECRET}\nraise RuntimeError('{SECRET}')")])
    nbformat.write(boom, str(root / "boom.ipynb"))
    tiny = new_notebook(cells=[new_code_cell("import ipywidgets\nipywidgets.IntSlider(description='tiny')")])
    nbformat.write(tiny, str(root / "tiny.ipynb"))


@pytest.fixture(scope="module")
def binder(tmp_path_factory, chromium_path):
    """(server URL with Binder's base URL, log path) of binder/start + jupyter notebook."""
    root = tmp_path_factory.mktemp("binder-root")
    (root / "notebooks").symlink_to(NOTEBOOKS)
    write_own_notebooks(root)
    log_path = root.parent / "binder-server.log"
    port = free_port()
    cmd = [str(REPO / "binder" / "start"), str(Path(sys.executable).parent / "jupyter"), "notebook",
           "--no-browser", "--ip=127.0.0.1", f"--port={port}", f"--ServerApp.base_url={BASE}",
           f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={root}", "--allow-root"]
    env = {k: v for k, v in os.environ.items() if k != "JUPYTER_CONFIG_PATH"}  # binder/start sets it
    env.update(PYTHONUNBUFFERED="1", LESSONS_CULL_IDLE_S=str(CULL_S))
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}{BASE.rstrip('/')}"
    try:
        wait_http(f"{url}/api/status?token={TOKEN}", 90, proc)
    except RuntimeError as exc:
        stop(proc)
        pytest.fail(f"the Binder-style server did not start: {exc}\n{log_path.read_text()[-3000:]}")
    yield url, log_path
    stop(proc)


def api(url: str, path: str, method: str = "GET"):
    req = urllib.request.Request(f"{url}/api/{path}?token={TOKEN}", method=method,
                                 data=b"{}" if method == "POST" else None)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"null")


def render_url(url: str, name: str) -> str:
    return f"{url}/voila/render/{name}?token={TOKEN}"


def test_landing_and_every_lesson(binder, browser):
    url, _ = binder
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    watch = OffHostRequests(context, url)
    try:
        page = context.new_page()
        page.goto(render_url(url, "notebooks/00_index.ipynb"), wait_until="commit", timeout=180_000)
        wait_rendered(page, "Binder: the landing page", *LESSON_READY["00_index"])
        assert_no_error(page)
        page.locator("a.lesson-link", has_text="Open lesson 1").click()  # relative links under /user/<name>/
        wait_until(page, lambda: page.url.endswith(f"{BASE}voila/render/notebooks/01_feature_scaling.ipynb"),
                   30, "the link to lesson 1")
        for name in LESSONS[1:]:
            if name != "01_feature_scaling":
                close(page)
                page = context.new_page()
                page.goto(render_url(url, f"notebooks/{name}.ipynb"), wait_until="commit", timeout=180_000)
            wait_rendered(page, f"Binder: {name}", *LESSON_READY[name], timeout_ms=300_000)
            drawn = page.locator(".js-plotly-plot:has(.main-svg)").count()
            assert drawn == LESSON_READY[name][1], f"{name}: {drawn} of {LESSON_READY[name][1]} figures drawn"
            assert_no_error(page)
            assert "from widgets.views" not in page.content(), f"{name}: the notebook's source is on the page"
        close(page)
    finally:
        context.close()
    watch.assert_none("Binder's route")


def test_no_traceback_and_no_source(binder, browser):
    url, _ = binder
    page = browser.new_page()
    try:
        page.goto(render_url(url, "boom.ipynb"), wait_until="commit")
        wait_until(page, lambda: "There was an error when executing cell" in body_text(page), 120,
                   "Voila's error banner")
        text, html = body_text(page), page.content()
        assert "Traceback" not in text and "RuntimeError" not in text, text[-1500:]
        assert SECRET not in html, "the failing cell's source or message reached the page"
    finally:
        close(page)


def test_execute_request_is_dropped(binder, browser, tmp_path):
    url, _ = binder
    page = browser.new_page()
    sockets = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    try:
        page.goto(render_url(url, "tiny.ipynb"), wait_until="commit")
        wait_rendered(page, "tiny", ".widget-slider", 1, timeout_ms=120_000)
        chans = [u for u in sockets if "/api/kernels/" in u and "/channels" in u]
        assert chans, f"no kernel websocket seen: {sockets}"
        marker = tmp_path / "pwned"
        assert_code_not_run(probe(f"{chans[0].split('?')[0]}?token={TOKEN}", marker)[0], marker)
    finally:
        close(page)


def test_idle_kernels_are_culled(binder):
    url, log_path = binder
    kernel = api(url, "kernels", "POST")["id"]  # nobody connects to it: idle from the start
    assert kernel in [k["id"] for k in api(url, "kernels")]
    deadline = time.monotonic() + CULL_S + 60
    while kernel in [k["id"] for k in api(url, "kernels")] and time.monotonic() < deadline:
        time.sleep(2)
    assert kernel not in [k["id"] for k in api(url, "kernels")], \
        f"an idle kernel was not culled\n{log_path.read_text()[-2000:]}"
    assert f"({kernel}) with 0 connections due to" in log_path.read_text(), "gone, but not by the culler"
