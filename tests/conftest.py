"""Fixtures: a Voila server over notebooks/ and a headless Chromium (Debian's, via Playwright).

In CI (CI=true) a missing chromium is an error; elsewhere browser tests skip with one line.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout_s: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except Exception:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer in {timeout_s} s")


def start_voila(port: int, log_path: Path, extra: list[str] | None = None, preheat: bool = False,
                folder: Path = NOTEBOOKS) -> subprocess.Popen:
    """Start Voila over notebooks/ with the repo's settings (voila.py) on a loopback port.

    Pre-heating is off unless asked for: it runs every notebook in advance, which the
    browser tests (one page at a time, on 2 cores) do not need.
    """
    cmd = [
        # the console script, not `python -m voila`: the repo's voila.py (config) would shadow the package
        str(Path(sys.executable).parent / "voila"), str(folder), "--no-browser", f"--port={port}",
        "--Voila.ip=127.0.0.1", *(extra or []),
    ]
    env = dict(os.environ, PYTHONUNBUFFERED="1", LESSONS_PREHEAT="1" if preheat else "0")
    log = open(log_path, "w")
    return subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


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
    port = free_port()
    log_path = tmp_path_factory.mktemp("voila") / "voila.log"
    proc = start_voila(port, log_path, ["--MappingKernelManager.cull_idle_timeout=120",
                                        "--MappingKernelManager.cull_interval=30"])
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/", 60, proc)
    except RuntimeError as exc:
        stop(proc)
        pytest.fail(f"Voila did not start: {exc}\n{log_path.read_text()[-3000:]}")
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
    """`dashboard("01_feature_scaling.ipynb", ready=..., count=...)` -> an opened page; closed after."""
    from browser import close, open_dashboard

    pages = []

    def _open(notebook: str, **kw):
        page = open_dashboard(browser, voila_url, notebook, **kw)
        pages.append(page)
        return page

    yield _open
    for p in pages:
        close(p)
