"""A class at once (issue 12): N learners open lesson 1 within 10 s on one Voila server started as
`make serve` starts it (pre-heated pool, etc/jupyter settings), each page renders and answers a slider.

    python benchmarks/class_load.py [--learners 30] [--spread 10] [--smoke]

Reports time-to-interactive p50/p95 (navigation to the first figure drawn and a first slider press
answered by the kernel), slider latency under that load (each learner's further presses, key press to
the last DOM mutation before 300 ms of quiet, measured in the page), the memory of each kernel
(RSS) and the server's peak memory (server + its kernels, sampled every 0.5 s), into
class_load.{json,md} in --out (default benchmarks/results/).
"""
from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dashboards import ANSWER, FIGURE, QUIET_MS, WATCH, load, pct, pool_size, wait_pool  # noqa: E402

from widgets.devtools.serving import CHROMIUM_ARGS, NOTEBOOKS, REPO, free_port, start_voila, stop, wait_http  # noqa: E402

LESSON = "01_feature_scaling"
SLIDER = 1  # lesson 1's slider that redraws the first figure (tests/test_load.py presses the same)


def kernels(server: psutil.Process) -> list[psutil.Process]:
    out = []
    for p in server.children(recursive=True):
        try:
            if p.status() != psutil.STATUS_ZOMBIE and "ipykernel" in " ".join(p.cmdline()):
                out.append(p)
        except psutil.Error:
            pass
    return out


def rss(procs) -> list[float]:
    out = []
    for p in procs:
        try:
            out.append(p.memory_info().rss / 2**20)
        except psutil.Error:
            pass
    return out


class PeakMemory(threading.Thread):
    """The server's memory (itself and every kernel under it), sampled until stopped; the peak kept."""

    def __init__(self, server: psutil.Process):
        super().__init__(daemon=True)
        self.server, self.peak_mib, self.peak_kernels, self.halt = server, 0.0, 0, threading.Event()

    def run(self):
        while not self.halt.wait(0.5):
            ks = kernels(self.server)
            total = sum(rss([self.server, *ks]))
            if total > self.peak_mib:
                self.peak_mib, self.peak_kernels = total, len(ks)


async def learner(browser, url: str, delay: float, moves: int, t_start: float) -> dict:
    """One learner: opens the page at t_start + delay, waits for the figure, presses the slider; then
    `moves` more presses, each timed in the page to the complete redraw."""
    await asyncio.sleep(max(0.0, t_start + delay - time.monotonic()))
    result: dict = {"opened_at_s": round(time.monotonic() - t_start, 2)}
    ctx = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await ctx.new_page()
    result["ctx"], result["page"] = ctx, page
    try:
        t0 = time.perf_counter()
        await page.goto(url, wait_until="commit", timeout=600_000)
        await page.wait_for_selector(FIGURE, timeout=600_000, state="attached")
        result["drawn_s"] = time.perf_counter() - t0
        result["kernel_id"] = await page.evaluate(
            "() => JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId")
        handle = page.locator(".widget-slider .noUi-handle").nth(SLIDER)
        await handle.wait_for(state="visible", timeout=600_000)
        answer = await page.evaluate_handle(ANSWER, [".js-plotly-plot", 300_000])
        await handle.focus()
        await handle.press("ArrowRight")
        result["answered"] = (await answer.evaluate("o => o.answer")) is not None
        result["tti_s"] = time.perf_counter() - t0
        await page.evaluate(WATCH, QUIET_MS)
        lat = []
        for k in range(moves):
            await handle.focus()
            await handle.press("ArrowLeft" if k % 2 == 0 else "ArrowRight")
            r = await page.evaluate("window.__quiet(10000)") or {}
            if r.get("last") is not None:
                lat.append(r["last"])
        result["complete_ms"] = lat
        result["error"] = None
    except Exception as exc:  # a learner whose page failed is reported, not hidden
        result["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"  # one line: it goes into tables
    return result


async def run_class(url: str, learners: int, spread_s: float, moves: int, before_close) -> list[dict]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        t_start = time.monotonic()
        delays = [spread_s * i / max(1, learners - 1) for i in range(learners)]  # all opened within spread_s
        results = await asyncio.gather(*(learner(browser, url, d, moves, t_start) for d in delays))
        before_close(results)  # the learners' kernels are measured while their pages are open
        for r in results:  # close so Voila is told: their kernels are shut down
            try:
                await r.pop("page").close(run_before_unload=True)
                await r.pop("ctx").close()
            except Exception:
                pass
        await browser.close()
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--learners", type=int, default=30)
    ap.add_argument("--spread", type=float, default=10.0, help="seconds over which the learners open the page")
    ap.add_argument("--moves", type=int, default=10, help="slider presses per learner after the first")
    ap.add_argument("--smoke", action="store_true", help="3 learners, 3 presses, the pool not waited for")
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results"), help="folder for class_load.{json,md}")
    args = ap.parse_args()
    learners, moves = (3, 3) if args.smoke else (args.learners, args.moves)
    start_load = load()
    tmp = Path(tempfile.mkdtemp())
    port = free_port()
    proc = start_voila(port, tmp / "voila.log", preheat=True)  # as `make serve` runs it
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/", 120, proc)
        server = psutil.Process(proc.pid)
        notebooks = sum(1 for _ in NOTEBOOKS.rglob("*.ipynb"))
        pool = wait_pool(proc, expected=notebooks * pool_size(), timeout_s=30 if args.smoke else 420)
        idle_kernels = rss(kernels(server))
        peak = PeakMemory(server)
        peak.start()
        learners_kernels: dict = {}
        measure = lambda results: learners_kernels.update(learner_kernels(server, results))  # noqa: E731
        results = asyncio.run(run_class(f"{url}/voila/render/{LESSON}.ipynb", learners, args.spread, moves, measure))
        peak.halt.set()
        peak.join()
    finally:
        stop(proc)
    report = summary(results, learners, args, pool, idle_kernels, learners_kernels, peak)
    report["load_average_start"], report["load_average_end"] = start_load, load()
    write(report, Path(args.out))


def learner_kernels(server: psutil.Process, results: list[dict]) -> dict:
    """The memory and CPU time of the kernels that served the learners' pages (not the pre-heated pool's
    other lessons): a kernel is a learner's when its connection file names the page's kernel id."""
    ids = {r["kernel_id"] for r in results if r.get("kernel_id")}
    mine = [k for k in kernels(server) if any(f"kernel-{i}" in " ".join(k.cmdline()) for i in ids)]
    cpu = []
    for k in mine:
        try:
            t = k.cpu_times()
            cpu.append(t.user + t.system)
        except psutil.Error:
            pass
    return {"rss": rss(mine), "cpu_s": cpu}


def summary(results, learners, args, pool, idle_kernels, learners_kernels, peak) -> dict:
    busy_kernels, cpu_s = learners_kernels.get("rss", []), learners_kernels.get("cpu_s", [])
    ok = [r for r in results if r.get("error") is None and r.get("answered")]
    tti = [r["tti_s"] for r in ok]
    lat = [x for r in ok for x in r["complete_ms"]]
    mem = psutil.virtual_memory().total / 2**30
    kernel_mib = max(busy_kernels, default=0)  # the largest learner's kernel, its page open
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {mem:.0f} GiB",
        "smoke": args.smoke, "dashboard": LESSON, "learners": learners, "opened_within_s": args.spread,
        "rendered_and_answered": len(ok),
        "errors": [r["error"] for r in results if r.get("error")][:5],
        "tti_s": {"p50": pct(tti, 0.5) if tti else None, "p95": pct(tti, 0.95) if tti else None,
                  "max": round(max(tti), 1) if tti else None},
        "slider_complete_ms": {"presses": len(lat), "p50": pct(lat, 0.5) if lat else None,
                               "p95": pct(lat, 0.95) if lat else None},
        "kernel_rss_mib": {"median": round(statistics.median(busy_kernels)) if busy_kernels else 0,
                           "max": round(kernel_mib),
                           "kernels": len(busy_kernels)},
        "preheated_pool": {"kernels": len(idle_kernels), "rss_mib": round(sum(idle_kernels)), "filled_in_s": pool["waited_s"]},
        "server_peak_mib": round(peak.peak_mib), "server_peak_kernels": peak.peak_kernels,
        # memory only (2 GiB kept free, the largest kernel per learner); the cores are the tighter limit
        "learners_per_gib": round(1024 / kernel_mib, 1) if kernel_mib else None,
        "learners_in_memory": int((mem - 2) * 1024 / kernel_mib) if kernel_mib else None,
        # the cores: a learner's kernel's CPU seconds (start, the page, the presses), median
        "kernel_cpu_s_median": round(statistics.median(cpu_s), 2) if cpu_s else None,
        "learners_per_core_in_10_s": round(10 / statistics.median(cpu_s), 1) if cpu_s else None,
    }


def write(r: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "class_load.json").write_text(json.dumps(r, indent=2) + "\n")
    lines = [f"# A class at once ({r['date']})", "",
             f"Machine: {r['machine']}; load average {r['load_average_start']} at the start, "
             f"{r['load_average_end']} at the end. The learners' browsers (headless Chromium, one context each) "
             "ran on the same 2 cores as the server, so the times are pessimistic for a real class.", "",
             f"{r['learners']} learners opened {r['dashboard']} within {r['opened_within_s']} s on one server "
             "started as `make serve` starts it (pre-heated pool).", "",
             "| field | value |", "|---|---|"]
    for k, v in r.items():
        if k not in ("date", "machine"):
            lines.append(f"| {k} | {v} |")
    (out / "class_load.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
