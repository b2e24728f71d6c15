"""Serve the course and open its pages in headless Chromium: one harness for tests, benchmarks
and tools (`from widgets.devtools.serving import start_voila, open_dashboard, ...`).

Servers run from the repository root with JUPYTER_CONFIG_PATH naming etc/jupyter, the way
`make serve`, binder/start and the JupyterHub snippet run them. Playwright is imported lazily
(it is a test extra).
"""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
CONFIG_DIR = REPO / "etc" / "jupyter"  # voila.py and jupyter_server_config.py
LESSONS = ["00_index", "01_feature_scaling", "02_batch_norm", "03_bottleneck", "04_inception",
           "05_live_training"]

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

# Text that must never be on a dashboard: a traceback or Voila's error banner.
ERROR_PATTERNS = re.compile(
    r"Traceback \(most recent call last\)|There was an error when executing cell|"
    r"Error executing notebook|Kernel error|ModuleNotFoundError|NameError|Error displaying widget"
)


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


def course_env(**extra: str) -> dict[str, str]:
    """The environment a course server runs in: the course's Jupyter config folder first."""
    path = os.pathsep.join(p for p in (str(CONFIG_DIR), os.environ.get("JUPYTER_CONFIG_PATH")) if p)
    return dict(os.environ, PYTHONUNBUFFERED="1", JUPYTER_CONFIG_PATH=path, **extra)


def start_voila(port: int, log_path: Path, extra: list[str] | None = None, preheat: bool = False,
                folder: Path = NOTEBOOKS, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start Voila over notebooks/ with the course's settings (etc/jupyter/voila.py) on a loopback port,
    through widgets.serve as `make serve` does.

    Pre-heating is off unless asked for: it runs every notebook in advance, which the
    browser tests (one page at a time, on 2 cores) do not need.
    """
    cmd = [sys.executable, "-m", "widgets.serve", str(folder), "--no-browser", f"--port={port}",
           "--Voila.ip=127.0.0.1", *(extra or [])]  # `voila` answering to its own names only
    env = course_env(LESSONS_PREHEAT="1" if preheat else "0", **(env or {}))
    log = open(log_path, "w")
    return subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env)


def serve_ready(log_path: Path, timeout_s: float = 90, **kw) -> tuple[subprocess.Popen, str, int]:
    """start_voila on a free port, answering; (process, url, port). A server that does not start is
    stopped and reported with the end of its log."""
    port = free_port()
    proc = start_voila(port, log_path, **kw)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/", timeout_s, proc)
    except RuntimeError as exc:
        stop(proc)
        raise RuntimeError(f"Voila did not start: {exc}\n{log_path.read_text()[-3000:]}") from None
    return proc, url, port


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def launch_chromium(playwright, executable: str | None = None):
    """Debian's chromium under Playwright (never `playwright install`: it cannot download here)."""
    import shutil

    return playwright.chromium.launch(executable_path=executable or shutil.which("chromium"),
                                      args=CHROMIUM_ARGS, headless=True)


def open_dashboard(browser, base_url: str, notebook: str, ready: str = ".js-plotly-plot",
                   count: int = 1, timeout_ms: int = 180_000, page=None):
    """Open `notebook` through Voila, wait until `count` elements match `ready`, return the page.

    `base_url` is the server's; the notebook's path is under /voila/render/ (on a Jupyter Server
    serving the repository, pass "notebooks/<name>"). `page`: use this page instead of a new one.
    """
    page = page or browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(30_000)
    page.goto(f"{base_url}/voila/render/{notebook}", timeout=timeout_ms, wait_until="commit")
    wait_rendered(page, notebook, ready, count, timeout_ms)
    return page


# A lesson page builds the sections after its first one, and lesson 5 its results figures, when they come
# into view (widgets/views/lazy.py): scroll the first placeholder still waiting to the middle of the
# screen, as a reader would. True if there was one.
SCROLL_TO_NEXT_LAZY = """() => {
  const p = document.querySelector('.lesson-section .lazy-placeholder');
  if (!p) return false;
  p.scrollIntoView({ block: 'center' });
  return true;
}"""
# Where every scrolled element of the page is, to come back to after building the sections.
SCROLL_POSITIONS = """() => [document.scrollingElement, ...document.querySelectorAll('*')]
  .filter(e => e && e.scrollTop > 0).map(e => { e.dataset.lazyScroll = String(e.scrollTop); return e.scrollTop; }).length"""
RESTORE_SCROLL = """() => { for (const e of [document.scrollingElement, ...document.querySelectorAll('*')]) {
  if (!e || !(e.scrollTop > 0 || e.dataset.lazyScroll)) continue;
  e.scrollTop = Number(e.dataset.lazyScroll || 0); delete e.dataset.lazyScroll; }
  const name = decodeURIComponent(location.hash.replace(/^#/, ''));   // a link's #section: where the page put it
  const target = name && document.querySelector('.section-' + CSS.escape(name));
  if (target) target.scrollIntoView({ block: 'start' }); }"""


def wait_rendered(page, what: str, ready: str, count: int, timeout_ms: int = 180_000) -> None:
    """Wait until `count` elements match `ready` and every section of the page is built, failing at once
    if an error shows meanwhile. Sections still waiting to be built (lazy.py) are scrolled to, one after
    the other, as a reader would; the page is then scrolled back to where it was."""
    deadline = time.monotonic() + timeout_ms / 1000
    page.evaluate(SCROLL_POSITIONS)
    scrolled = False
    while time.monotonic() < deadline:
        waiting = page.evaluate(SCROLL_TO_NEXT_LAZY)
        scrolled = scrolled or waiting
        if not waiting and page.locator(ready).count() >= count:
            break
        body = page.locator("body").inner_text(timeout=timeout_ms)
        assert not ERROR_PATTERNS.search(body), f"{what} shows an error while loading:\n{body[-2000:]}"
        page.wait_for_timeout(250)
    else:
        raise AssertionError(f"{what}: {count}× '{ready}' not rendered in {timeout_ms / 1000:.0f} s"
                             + (" (a section still waits to be built)" if page.evaluate(SCROLL_TO_NEXT_LAZY) else ""))
    if scrolled:
        page.wait_for_timeout(250)
        page.evaluate(RESTORE_SCROLL)
    page.wait_for_timeout(500)  # let the last widgets settle


def close(page) -> None:
    """Close so Voila is told (its kernel is then culled)."""
    page.close(run_before_unload=True)


def body_text(page) -> str:
    return page.locator("body").inner_text()


def assert_no_error(page) -> None:
    text = body_text(page)
    m = ERROR_PATTERNS.search(text)
    assert m is None, f"error on page: {m.group(0)!r}\n{text[max(0, m.start() - 500): m.end() + 500]}"
    stderr = page.locator('[data-mime-type="application/vnd.jupyter.stderr"]')
    assert stderr.count() == 0, f"stderr output on page: {stderr.first.inner_text()[:1000]}"


class OffHostRequests:
    """Every request, and every websocket, that pages in a browser context open to a host other than
    the server's: the course must work offline. `context.on` sees each page, popup and worker in it."""

    LOCAL_SCHEMES = ("data:", "blob:", "about:", "chrome:", "chrome-extension:")

    def __init__(self, context, server_url: str):
        from urllib.parse import urlsplit

        self._split = urlsplit
        self.host = urlsplit(server_url).netloc
        self.urls: list[str] = []
        context.on("request", lambda r: self._see(r.url))
        context.on("page", lambda p: p.on("websocket", lambda ws: self._see(ws.url)))
        for p in context.pages:
            p.on("websocket", lambda ws: self._see(ws.url))

    def _see(self, url: str) -> None:
        if not url.startswith(self.LOCAL_SCHEMES) and self._split(url).netloc != self.host:
            self.urls.append(url)

    def assert_none(self, where: str) -> None:
        assert not self.urls, f"{where}: requests to hosts other than {self.host}:\n" + "\n".join(self.urls[:20])
