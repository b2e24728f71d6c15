"""Dashboard speed in headless Chromium: time-to-interactive (cold browser cache, with and without
pre-heated kernels, against a bare ipywidgets page measured in the same run) and slider-to-plot
latency (median and p95 over many moves, measured inside the page).

    python benchmarks/dashboards.py [--moves 40] [--smoke]

Writes dashboards.{json,md} into --out (default benchmarks/results/).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from widgets.devtools.serving import CHROMIUM_ARGS, REPO, free_port, start_voila, stop, wait_http

DASHBOARDS = ["00_index", "01_feature_scaling", "02_batch_norm", "03_bottleneck", "04_inception", "05_live_training"]
BARE = "bare_ipywidgets"
# what "interactive" means on each page: its first control and first drawn figure are there
READY = {
    BARE: ".widget-slider .noUi-handle",
    "00_index": ".lesson-card",
}
READY_DEFAULT = ".js-plotly-plot .main-svg"

WATCH = """() => {
  window.__lat = []; window.__t0 = null;
  document.addEventListener('keydown', () => { window.__t0 = performance.now(); }, true);
  const obs = new MutationObserver(() => {
    if (window.__t0 !== null) { window.__lat.push(performance.now() - window.__t0); window.__t0 = null; }
  });
  document.querySelectorAll('.js-plotly-plot').forEach(p =>
    obs.observe(p, {subtree: true, childList: true, attributes: true, characterData: true}));
}"""


def bare_notebook(folder: Path) -> None:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[new_code_cell("import ipywidgets as ipw\nipw.IntSlider(description='bare')")])
    nbformat.write(nb, str(folder / f"{BARE}.ipynb"))


def time_to_interactive(browser, url: str, name: str) -> float:
    """Seconds from navigation to the page's first control/figure, in a fresh context (cold cache)."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    t0 = time.perf_counter()
    page.goto(f"{url}/voila/render/{name}.ipynb", wait_until="commit", timeout=300_000)
    page.wait_for_selector(READY.get(name, READY_DEFAULT), timeout=300_000, state="attached")
    tti = time.perf_counter() - t0
    page.close(run_before_unload=True)
    ctx.close()
    return tti


def slider_latency(browser, url: str, name: str, moves: int) -> dict | None:
    """Median/p95 ms from a key press on a slider to the first change in any figure, measured in the page.

    The page records both times itself; between presses the script only sleeps (polling the page
    from Playwright while it redraws would slow the redraw it measures).
    """
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    page.goto(f"{url}/voila/render/{name}.ipynb", wait_until="commit", timeout=300_000)
    page.wait_for_selector(READY_DEFAULT, timeout=300_000, state="attached")
    page.wait_for_timeout(3000)
    page.evaluate(WATCH)
    handles = page.locator(".widget-slider .noUi-handle")
    result = None
    for i in range(min(handles.count(), 6)):  # the first slider that moves a figure
        h = handles.nth(i)
        h.scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        page.evaluate("() => { window.__lat = []; window.__t0 = null; }")
        for k in range(moves):
            h.focus()
            h.press("ArrowRight" if (k // 3) % 2 == 0 else "ArrowLeft")
            page.wait_for_timeout(300)
            if k == 2 and not page.evaluate("window.__lat.length"):
                break  # this slider moves no figure
        samples = sorted(page.evaluate("window.__lat"))
        if len(samples) >= max(3, moves // 2):
            result = {"slider": i, "moves": moves, "samples": len(samples),
                      "median_ms": round(statistics.median(samples), 1),
                      "p95_ms": round(samples[max(0, int(0.95 * len(samples)) - 1)], 1)}
            break
    page.close(run_before_unload=True)
    ctx.close()
    return result


def serve(folder: Path, preheat: bool, log: Path):
    port = free_port()
    proc = start_voila(port, log, preheat=preheat, folder=folder)
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/", 60, proc)
    return proc, url


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--moves", type=int, default=40)
    ap.add_argument("--smoke", action="store_true", help="lesson 1 and the bare page only, few moves")
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results"), help="folder for dashboards.{json,md}")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    names = ["01_feature_scaling"] if args.smoke else DASHBOARDS
    moves = 6 if args.smoke else args.moves
    rows: dict[str, dict] = {n: {} for n in [BARE, *names]}
    tmp = Path(tempfile.mkdtemp())
    bare_dir = tmp / "bare"
    bare_dir.mkdir()
    bare_notebook(bare_dir)  # served by its own Voila, with the same settings
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        for preheat in (False, True):
            key = "tti_preheated_s" if preheat else "tti_cold_s"
            for folder, pages in ((bare_dir, [BARE]), (REPO / "notebooks", names)):
                proc, url = serve(folder, preheat, tmp / f"voila-{preheat}-{folder.name}.log")
                try:
                    if preheat:  # wait for the pool to fill: every notebook has run once in advance
                        time.sleep(10 if folder == bare_dir else (25 if args.smoke else 90))
                    for n in pages:
                        rows[n][key] = round(time_to_interactive(browser, url, n), 2)
                        if preheat:
                            time.sleep(2 if args.smoke else 10)  # let the pool refill before the next page
                    if not preheat and folder != bare_dir:
                        for n in pages:
                            if n != "00_index":
                                rows[n]["slider"] = slider_latency(browser, url, n, moves)
                finally:
                    stop(proc)
        browser.close()
    for n in names:
        for key in ("tti_cold_s", "tti_preheated_s"):
            rows[n][key.replace("_s", "_ratio_to_bare")] = round(rows[n][key] / rows[BARE][key], 2)
    report = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores; headless Debian chromium; load average "
                   f"{os.getloadavg()[0]:.1f} at the end",
        "goals": "TTI preheated <= 1.5x the bare page; slider p95 <= 50 ms",
        "smoke": args.smoke, "dashboards": rows,
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "dashboards.json").write_text(json.dumps(report, indent=2))
    lines = [f"# Dashboard speed ({report['date']})", "", f"Machine: {report['machine']}.", "",
             f"Goals: {report['goals']}.", "",
             "| page | TTI cold (s) | ratio to bare | TTI preheated (s) | ratio to bare | slider median (ms) | slider p95 (ms) |",
             "|---|---|---|---|---|---|---|"]
    for n, r in rows.items():
        s = r.get("slider") or {}
        lines.append(f"| {n} | {r['tti_cold_s']} | {r.get('tti_cold_ratio_to_bare', '')} | {r['tti_preheated_s']} | "
                     f"{r.get('tti_preheated_ratio_to_bare', '')} | {s.get('median_ms', '–')} | {s.get('p95_ms', '–')} |")
    (out / "dashboards.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
