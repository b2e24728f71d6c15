"""Eight learners at once on one Voila server (2 cores): every page renders and answers, none shows an
error, and the kernels of closed tabs are reclaimed. What it saw is written beside its server's log (a record,
not a benchmark: benchmarks/class_load.py measures a whole class)."""
from __future__ import annotations

import datetime
import json
import os
import platform
import time

import psutil
import pytest

from browser import assert_no_error, close, plot_signature, press_slider, wait_for_change
from widgets.devtools.serving import free_port, start_voila, stop, wait_http

pytestmark = [pytest.mark.browser, pytest.mark.slow]
LEARNERS = int(os.environ.get("LOAD_LEARNERS", "8"))
CULL_S = 60


def kernels(server: psutil.Process) -> list[psutil.Process]:
    """The live kernel processes under the Voila server (a culled kernel may linger as a zombie)."""
    out = []
    for p in server.children(recursive=True):
        try:
            if p.status() != psutil.STATUS_ZOMBIE and "ipykernel" in " ".join(p.cmdline()):
                out.append(p)
        except psutil.Error:  # gone between listing and looking
            pass
    return out


def rss_mib(procs: list[psutil.Process]) -> list[float]:
    out = []
    for p in procs:
        try:
            out.append(p.memory_info().rss / 2**20)
        except psutil.Error:
            pass
    return out


def test_eight_learners_at_once(browser, tmp_path):
    port = free_port()
    # cull soon, so the test can watch closed tabs' kernels go; not sooner than a loaded machine takes
    # to load a page's JavaScript after its kernel ran the notebook: a kernel with no connection yet
    # is idle, and at 15 s all eight were culled before their pages connected (load average 8-20)
    proc = start_voila(port, tmp_path / "voila.log", [f"--MappingKernelManager.cull_idle_timeout={CULL_S}",
                                                      "--MappingKernelManager.cull_interval=5"])
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/", 60, proc)
        server = psutil.Process(proc.pid)
        t0 = time.monotonic()
        # open all eight at once: each goto returns at once, the kernels start together
        contexts = [browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in range(LEARNERS)]
        pages = [c.new_page() for c in contexts]
        for p in pages:
            p.goto(f"{url}/voila/render/01_feature_scaling.ipynb", wait_until="commit", timeout=120_000)
        for p in pages:
            p.wait_for_selector(".js-plotly-plot .scatterlayer path.js-line", timeout=300_000)
        all_rendered_s = time.monotonic() - t0
        rss = rss_mib(kernels(server))
        assert len(rss) >= LEARNERS
        for i, p in enumerate(pages):  # every page answers its controls, none shows an error
            before = plot_signature(p, ".lesson-tanh")
            press_slider(p, 1, "ArrowLeft" if i % 2 else "ArrowRight", times=2)
            wait_for_change(p, lambda p=p: plot_signature(p, ".lesson-tanh"), before, timeout_s=60,
                            what=f"learner {i}'s plot")
            assert_no_error(p)
        for p, c in zip(pages, contexts):
            close(p)
            c.close()
        t_closed = time.monotonic()
        while kernels(server) and time.monotonic() - t_closed < CULL_S + 90:
            time.sleep(2)
        left = len(kernels(server))
        reclaimed_s = time.monotonic() - t_closed
        # a record of this run beside its server's log (the class's figures: benchmarks/class_load.py)
        (tmp_path / "load_test.json").write_text(json.dumps({
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "machine": f"{platform.machine()}, {psutil.cpu_count()} cores, "
                       f"{psutil.virtual_memory().total / 2**30:.0f} GiB",
            "learners": LEARNERS, "dashboard": "01_feature_scaling",
            "all_rendered_s": round(all_rendered_s, 1),
            "kernel_rss_mib": {"min": round(min(rss)), "max": round(max(rss)), "mean": round(sum(rss) / len(rss))},
            "kernels_left_after_close": left, "reclaimed_within_s": round(reclaimed_s, 1),
        }, indent=2))
        assert left == 0, f"{left} kernels of closed tabs still running after {reclaimed_s:.0f} s"
    finally:
        stop(proc)
