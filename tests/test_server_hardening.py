"""Issue 18, items 1 and 3, through both doors: standalone Voilà as `make serve` runs it
(`python -m widgets.serve`, via start_voila) and a Jupyter Server with the voila extension as binder/start
runs it (Binder's /voila/render route, with a token).

- A reloaded or closed tab ends its kernel within seconds, with XSRF checks on: Voilà's shutdown call
  carries the `_xsrf` cookie the page now gets, and the same call without it is still refused.
- A request whose Host is not the server's own name (DNS rebinding) is refused on every route: the page,
  a static file, the kernel websocket, the shutdown call; and no kernel starts. 127.0.0.1, localhost and
  [::1] are answered.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from browser import LESSON_READY
from widgets.devtools.serving import (
    NOTEBOOKS, REPO, close, course_env, free_port, serve_ready, stop, wait_http, wait_rendered,
)
from widgets.serve import host_allowed

EVIL = "evil.example"
TOKEN = "hardening-test"
GONE_S = 10  # a closed page's kernel must be gone within this (measured: 0.5–1.5 s)
INDEX = "00_index.ipynb"


def http(url: str, host: str | None = None, method: str = "GET", data: bytes | None = None,
         headers: dict | None = None) -> tuple[int, object, bytes]:
    """(status, headers, body) of one request; `host` replaces the Host header."""
    req = urllib.request.Request(url, method=method, data=data,
                                 headers={**({"Host": host} if host else {}), **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def ws_status(ws_url: str, host: str) -> int:
    """101 if the websocket opens with this Host header, else the HTTP status it was refused with."""
    from tornado.httpclient import HTTPClientError, HTTPRequest
    from tornado.websocket import websocket_connect

    async def probe():
        try:
            conn = await websocket_connect(HTTPRequest(ws_url, headers={"Host": host}, connect_timeout=30))
        except HTTPClientError as e:
            return e.code
        conn.close()
        return 101

    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API may own this thread's event loop
        return pool.submit(asyncio.run, probe()).result(timeout=60)


def kernel_id_in(html: str) -> str:
    m = re.search(r'"kernelId":\s*"([0-9a-f-]{36})"', html)
    assert m, "no kernel id in the page"
    return m.group(1)


def page_kernel_id(page) -> str:
    return page.evaluate("JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId")


def wait_for(predicate, timeout_s: float, what: str) -> float:
    """Seconds until `predicate()` held; fails after `timeout_s`."""
    start = time.monotonic()
    while not predicate():
        assert time.monotonic() - start < timeout_s, f"{what} after {timeout_s} s"
        time.sleep(0.1)
    return time.monotonic() - start


def shutdown_refusals(log_text: str) -> list[str]:
    return [line for line in log_text.splitlines() if "403 POST" in line and "/voila/api/shutdown/" in line]


def reload_then_close(page, alive, log: Path) -> dict[str, float]:
    """Reload the rendered page, then close it; each time its kernel must go within GONE_S, and no
    shutdown call may be refused. Between the two, a shutdown call without the page's token is refused
    (XSRF checks on) and leaves the kernel running. Returns the seconds each kernel took to go."""
    first = page_kernel_id(page)
    assert alive(first), "the page's kernel is not running"
    page.reload(wait_until="commit")
    reload_s = wait_for(lambda: not alive(first), GONE_S, "the reloaded page's kernel still runs")
    assert any(c["name"] == "_xsrf" for c in page.context.cookies()), "the page came without an _xsrf cookie"
    wait_rendered(page, "the reloaded page", *LESSON_READY["00_index"])
    second = page_kernel_id(page)
    assert second != first and alive(second)
    assert not shutdown_refusals(log.read_text()), "the page's shutdown call was refused"

    base = page.url.split("/voila/render/")[0]
    status, _, _ = http(f"{base}/voila/api/shutdown/{second}", method="POST", data=b"_xsrf=forged",
                        headers={"Cookie": "_xsrf=another"})
    assert status == 403 and alive(second), "a shutdown call without the page's token was accepted"
    seen = len(log.read_text())

    close(page)
    close_s = wait_for(lambda: not alive(second), GONE_S, "the closed page's kernel still runs")
    assert not shutdown_refusals(log.read_text()[seen:]), "the closed page's shutdown call was refused"
    return {"reload_s": round(reload_s, 2), "close_s": round(close_s, 2)}


def assert_refused_everywhere(url: str, port: int, kernel: str, page_path: str, query: str = "") -> None:
    """Host: evil.example gets 403 from the page, two static files, the kernel's websocket and the
    shutdown call (sent with a matching `_xsrf` pair, so only the Host can refuse it)."""
    for path in (page_path, "/voila/static/voila.js", "/voila/templates/lab/static/voila.js"):
        status, _, _ = http(f"{url}{path}{query}", host=EVIL)
        assert status == 403, f"{path} answered {status} to Host: {EVIL}"
    assert ws_status(f"ws://127.0.0.1:{port}/api/kernels/{kernel}/channels{query}", EVIL) == 403
    status, _, _ = http(f"{url}/voila/api/shutdown/{kernel}{query}", host=EVIL, method="POST",
                        data=b"_xsrf=2|00|00|0", headers={"Cookie": "_xsrf=2|00|00|0"})
    assert status == 403, f"the shutdown call answered {status} to Host: {EVIL}"


# --- the rule, and its configuration ------------------------------------------------------------------

def test_host_names_answered():
    names = ["localhost"]
    for host in ("127.0.0.1:8866", "localhost:8866", "localhost", "[::1]:8866", "127.0.0.2"):
        assert host_allowed(host, names), host
    for host in ("evil.example", "evil.example:8866", "localhost.evil.example", "192.168.1.20:8866",
                 "[::ffff:c0a8:114]:8866", "", "::1"):
        assert not host_allowed(host, names), host
    assert host_allowed("course.lan:8866", [*names, "course.lan"])  # listed names and addresses
    assert host_allowed("192.168.1.20:8866", [*names, "192.168.1.20"])


def test_lessons_hosts_adds_names():
    code = ("from widgets.serve import CourseVoila; app = CourseVoila(); app.initialize(['notebooks']); "
            "print(','.join(app.local_hostnames))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120,
                          env=course_env(LESSONS_PREHEAT="0", LESSONS_HOSTS=" course.lan, 192.168.1.20 ,"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "localhost,course.lan,192.168.1.20"


# --- standalone Voilà, as `make serve` runs it -------------------------------------------------------

@pytest.fixture(scope="module")
def voila(tmp_path_factory, chromium_path):
    log = tmp_path_factory.mktemp("hardening") / "voila.log"
    proc, url, port = serve_ready(log, 90)
    yield url, port, log
    stop(proc)


def voila_kernel_alive(url: str):
    return lambda kernel: http(f"{url}/api/kernels/{kernel}")[0] == 200


@pytest.mark.browser
@pytest.mark.slow
def test_standalone_closing_or_reloading_a_tab_ends_its_kernel(voila, browser):
    url, _, log = voila
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.goto(f"{url}/voila/render/{INDEX}", wait_until="commit", timeout=180_000)
        wait_rendered(page, "the landing page", *LESSON_READY["00_index"])
        print("standalone Voilà, kernel gone after", reload_then_close(page, voila_kernel_alive(url), log))
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.slow
def test_standalone_refuses_other_host_names(voila):
    url, port, log = voila
    started = log.read_text().count("Kernel started")
    status, headers, html = http(f"{url}/voila/render/{INDEX}")  # a kernel to aim at, through a good name
    assert status == 200
    kernel = kernel_id_in(html.decode())
    assert log.read_text().count("Kernel started") == started + 1

    assert_refused_everywhere(url, port, kernel, f"/voila/render/{INDEX}")
    for host in (EVIL, f"{EVIL}:{port}"):
        assert http(f"{url}/", host=host)[0] == 403  # the course's root (Voilà's file list)
    assert log.read_text().count("Kernel started") == started + 1, "a foreign Host started a kernel"
    assert voila_kernel_alive(url)(kernel), "a foreign Host's shutdown call ended the kernel"

    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"):
        assert http(f"{url}/voila/static/voila.js", host=host)[0] == 200, host
        assert http(f"{url}/", host=host)[0] == 200, host
        assert ws_status(f"ws://127.0.0.1:{port}/api/kernels/{kernel}/channels", host) == 101, host

    # the page's own token pair ends its kernel: XSRF is on, and satisfied the way the page does it
    xsrf = re.search(r"\b_xsrf=([^;]+)", " ".join(headers.get_all("Set-Cookie") or []))
    assert xsrf, "the page came without an _xsrf cookie"
    status, _, _ = http(f"{url}/voila/api/shutdown/{kernel}", method="POST",
                        data=f"_xsrf={xsrf.group(1)}".encode(), headers={"Cookie": f"_xsrf={xsrf.group(1)}"})
    assert status == 204 and not voila_kernel_alive(url)(kernel)


# --- a Jupyter Server with the voila extension, as binder/start runs it (Binder's route) ------------

@pytest.fixture(scope="module")
def server(tmp_path_factory, chromium_path):
    root = tmp_path_factory.mktemp("server-root")
    (root / "notebooks").symlink_to(NOTEBOOKS)
    log = root.parent / "jupyter-server.log"
    port = free_port()
    cmd = [str(REPO / "binder" / "start"), str(Path(sys.executable).parent / "jupyter"), "server",
           "--no-browser", "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={TOKEN}",
           f"--ServerApp.root_dir={root}", "--allow-root"]
    env = {k: v for k, v in os.environ.items() if k != "JUPYTER_CONFIG_PATH"}  # binder/start sets it
    env.update(PYTHONUNBUFFERED="1")
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/api/status?token={TOKEN}", 90, proc)
    except RuntimeError as exc:
        stop(proc)
        pytest.fail(f"the Jupyter Server did not start: {exc}\n{log.read_text()[-3000:]}")
    yield url, port, log
    stop(proc)


def server_kernels(url: str) -> set[str]:
    status, _, body = http(f"{url}/api/kernels?token={TOKEN}")
    assert status == 200
    return {k["id"] for k in json.loads(body)}


@pytest.mark.browser
@pytest.mark.slow
def test_jupyter_server_closing_or_reloading_a_tab_ends_its_kernel(server, browser):
    url, _, log = server
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.goto(f"{url}/voila/render/notebooks/{INDEX}?token={TOKEN}", wait_until="commit", timeout=180_000)
        wait_rendered(page, "the landing page", *LESSON_READY["00_index"])
        alive = lambda kernel: kernel in server_kernels(url)  # noqa: E731
        print("Jupyter Server route, kernel gone after", reload_then_close(page, alive, log))
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.slow
def test_jupyter_server_refuses_other_host_names(server):
    url, port, _ = server
    status, _, body = http(f"{url}/api/kernels?token={TOKEN}", method="POST", data=b"{}")
    assert status == 201
    kernel = json.loads(body)["id"]
    before = server_kernels(url)

    query = f"?token={TOKEN}"
    assert_refused_everywhere(url, port, kernel, f"/voila/render/notebooks/{INDEX}", query)
    assert server_kernels(url) == before, "a foreign Host started or ended a kernel"

    for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
        assert http(f"{url}/voila/static/voila.js", host=host)[0] == 200, host
        assert ws_status(f"ws://127.0.0.1:{port}/api/kernels/{kernel}/channels{query}", host) == 101, host
    assert http(f"{url}/api/kernels/{kernel}{query}", method="DELETE")[0] == 204
