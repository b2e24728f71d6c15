"""Dashboard speed in headless Chromium (issue 12): time-to-interactive on two serving routes, each
against a bare ipywidgets page served the same way in the same run, and slider latency to the
complete redraw for every slider on every lesson.

    python benchmarks/dashboards.py [--moves 10] [--repeats 2] [--smoke]

- Time-to-interactive (cold browser cache, a fresh context per page): from navigation until the
  first section's figure is drawn AND a first slider press has changed a figure (the kernel answered).
  The bare page: an IntSlider whose value a kernel-side observer copies into a label.
  Routes: `preheated` = standalone Voila with `make serve`'s settings (pre-heated pool, waited for);
  `jupyter_server` = Jupyter Server's /voila/render route (as on Binder: no pre-heat).
- Slider latency, measured inside the page by a MutationObserver over the whole document: from the
  key press to the last DOM mutation before 300 ms of quiet (`complete`), and to the first mutation in
  a figure (`first_change`, the earlier method). The driver presses a key, then awaits one in-page
  promise that resolves when the page has been quiet for 300 ms: it never polls while the page redraws.

Writes dashboards.{json,md} into --out (default benchmarks/results/), with the load average at start and end.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from widgets.devtools.serving import CHROMIUM_ARGS, NOTEBOOKS, REPO, course_env, free_port, start_voila, stop, wait_http

LESSONS = ["01_feature_scaling", "02_batch_norm", "03_bottleneck", "04_inception", "05_live_training"]
INDEX = "00_index"
BARE = "bare_ipywidgets"
QUIET_MS = 300
FIGURE = ".js-plotly-plot .main-svg"
VIEWPORT = {"width": 1400, "height": 1000}

# One observer over the whole document. A key press arms a record; every mutation stamps it; 300 ms
# with no mutation closes it (complete = the last stamp). `__quiet()` is the promise the driver awaits.
WATCH = """(quietMs) => {
  if (window.__watch) return;
  window.__watch = true; window.__rec = null; window.__done = [];
  let timer = null, resolveQuiet = null;
  const close = () => {
    const r = window.__rec; window.__rec = null; timer = null;
    if (r) window.__done.push(r);
    if (resolveQuiet) { const f = resolveQuiet; resolveQuiet = null; f(r); }
  };
  const arm = () => { clearTimeout(timer); timer = setTimeout(close, quietMs); };
  document.addEventListener('keydown', () => {
    if (window.__rec) close();
    window.__rec = {t0: performance.now(), first: null, first_fig: null, last: null, n: 0, n_fig: 0};
    arm();
  }, true);
  new MutationObserver((muts) => {
    const r = window.__rec; if (!r) return;
    const t = performance.now() - r.t0;
    r.n += muts.length; if (r.first === null) r.first = t; r.last = t;
    if (muts.some(m => m.target.closest && m.target.closest('.js-plotly-plot') ||
                       m.target.parentElement && m.target.parentElement.closest('.js-plotly-plot'))) {
      r.n_fig += 1; if (r.first_fig === null) r.first_fig = t;
    }
    arm();
  }).observe(document.documentElement, {subtree: true, childList: true, attributes: true, characterData: true});
  window.__quiet = (maxMs) => new Promise(res => {
    if (!window.__rec) { res(window.__done[window.__done.length - 1] || null); return; }
    resolveQuiet = res;
    setTimeout(() => { if (resolveQuiet === res) { resolveQuiet = null; res({timeout: true}); } }, maxMs);
  });
}"""

# For time-to-interactive: `{answer}`, a promise that resolves at the first mutation inside `scope` (not
# in a slider) after the next key press. Wrapped in an object so that evaluate_handle does not await it.
ANSWER = """([scope, maxMs]) => ({answer: new Promise(res => {
  let t0 = null;
  const obs = new MutationObserver((muts) => {
    if (t0 === null) return;
    if (muts.some(m => { const e = m.target.nodeType === 1 ? m.target : m.target.parentElement;
                         return e && e.closest(scope) && !e.closest('.widget-slider'); })) {
      obs.disconnect(); res(performance.now() - t0); }
  });
  obs.observe(document.documentElement, {subtree: true, childList: true, attributes: true, characterData: true});
  document.addEventListener('keydown', () => { if (t0 === null) t0 = performance.now(); }, {capture: true, once: true});
  setTimeout(() => { obs.disconnect(); res(null); }, maxMs);
})})"""


def bare_notebook(folder: Path) -> None:
    """The bare page: one slider whose kernel-side observer writes its value into a label."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    code = ("import ipywidgets as ipw\ns = ipw.IntSlider(description='bare')\nout = ipw.Label('0')\n"
            "out.add_class('bare-answer')\ns.observe(lambda ch: setattr(out, 'value', str(ch['new'])), 'value')\n"
            "ipw.VBox([s, out])")
    nbformat.write(new_notebook(cells=[new_code_cell(code)]), str(folder / f"{BARE}.ipynb"))


def pct(samples: list[float], q: float) -> float:
    s = sorted(samples)
    return round(s[min(len(s) - 1, max(0, round(q * len(s) + 0.5) - 1))], 1)


def new_page(browser):
    ctx = browser.new_context(viewport=VIEWPORT)
    return ctx, ctx.new_page()


def _direction(handle) -> str:
    """Right, unless the slider is at its maximum."""
    now, top = handle.get_attribute("aria-valuenow"), handle.get_attribute("aria-valuemax")
    try:
        return "ArrowLeft" if float(now) >= float(top) else "ArrowRight"
    except (TypeError, ValueError):
        return "ArrowRight"


def time_to_interactive(browser, url: str, name: str, slider: int | None) -> dict:
    """Seconds from navigation to the first figure drawn (`drawn_s`) and to the kernel's answer to a
    press on slider `slider` (`s`: the time-to-interactive). The landing page: its five cards."""
    ctx, page = new_page(browser)
    try:
        t0 = time.perf_counter()
        page.goto(url, wait_until="commit", timeout=300_000)
        if name == INDEX:
            page.wait_for_function("document.querySelectorAll('.lesson-card').length >= 5", timeout=300_000)
            s = time.perf_counter() - t0
            return {"s": round(s, 2), "drawn_s": round(s, 2)}
        page.wait_for_selector(".bare-answer" if name == BARE else FIGURE, timeout=300_000, state="attached")
        drawn = time.perf_counter() - t0
        if slider is None:  # no slider on this page redraws a figure: interactive = its figure drawn
            return {"s": round(drawn, 2), "drawn_s": round(drawn, 2), "answer_ms": None, "no_figure_slider": True}
        handle = page.locator(".widget-slider .noUi-handle").nth(slider)
        handle.wait_for(state="visible", timeout=60_000)
        scope = ".bare-answer" if name == BARE else ".js-plotly-plot"
        answer = page.evaluate_handle(ANSWER, [scope, 120_000])
        handle.focus()
        handle.press(_direction(handle))
        answered = answer.evaluate("o => o.answer")
        s = time.perf_counter() - t0
        return {"s": round(s, 2), "drawn_s": round(drawn, 2),
                "answer_ms": None if answered is None else round(answered, 1)}
    finally:
        page.close(run_before_unload=True)
        ctx.close()


def move_slider(page, handle, moves: int, max_ms: int = 5000) -> list[dict]:
    """`moves` presses, 3 one way then 3 back, each followed by waiting in the page for 300 ms of quiet."""
    records = []
    first = _direction(handle)
    back = "ArrowLeft" if first == "ArrowRight" else "ArrowRight"
    for k in range(moves):
        handle.focus()
        handle.press(first if (k // 3) % 2 == 0 else back)
        r = page.evaluate(f"window.__quiet({max_ms})")
        records.append(r or {})
    return records


def slider_latencies(browser, url: str, moves: int, max_sliders: int = 1000) -> list[dict]:
    """Complete-redraw and first-change latency for every visible slider on the page."""
    ctx, page = new_page(browser)
    out = []
    try:
        page.goto(url, wait_until="commit", timeout=300_000)
        page.wait_for_selector(FIGURE, timeout=300_000, state="attached")
        page.wait_for_timeout(3000)
        page.evaluate(WATCH, QUIET_MS)
        handles = page.locator(".widget-slider .noUi-handle")
        for i in range(min(handles.count(), max_sliders)):
            h = handles.nth(i)
            label = page.locator(".widget-slider").nth(i).locator(".widget-label").inner_text().strip()
            if not h.is_visible():
                out.append({"slider": i, "label": label, "skipped": "not visible"})
                continue
            h.scroll_into_view_if_needed()
            page.wait_for_timeout(600)
            page.evaluate(f"window.__quiet({3000})")   # whatever the scroll set off has settled
            recs = move_slider(page, h, moves)
            out.append(summarise(i, label, recs))
    finally:
        page.close(run_before_unload=True)
        ctx.close()
    return out


def summarise(i: int, label: str, recs: list[dict]) -> dict:
    moved = [r for r in recs if r.get("first") is not None]
    drew = [r for r in moved if r.get("first_fig") is not None]
    row = {"slider": i, "label": label, "moves": len(recs), "changed_page": len(moved),
           "changed_figure": len(drew), "never_quiet": sum(1 for r in recs if r.get("timeout"))}
    if moved:
        complete = [r["last"] for r in moved]
        row.update(complete_p50_ms=pct(complete, 0.5), complete_p95_ms=pct(complete, 0.95))
    if drew:
        first = [r["first_fig"] for r in drew]
        row.update(first_change_p50_ms=pct(first, 0.5), first_change_p95_ms=pct(first, 0.95))
    return row


def wait_pool(proc: subprocess.Popen, expected: int, timeout_s: float = 420) -> dict:
    """Wait until `expected` kernels run under the server and they are idle (the pool has filled)."""
    server, t0 = psutil.Process(proc.pid), time.monotonic()
    n = 0
    while time.monotonic() - t0 < timeout_s:
        ks = [p for p in server.children(recursive=True) if "ipykernel" in " ".join(_cmd(p))]
        n = len(ks)
        busy = sum(_cpu(p) for p in ks + [server])
        if n >= expected and busy < 15:
            break
        time.sleep(2)
    return {"kernels": n, "waited_s": round(time.monotonic() - t0)}


def _cmd(p) -> list[str]:
    try:
        return p.cmdline()
    except psutil.Error:
        return []


def _cpu(p) -> float:
    try:
        return p.cpu_percent(interval=0.2)
    except psutil.Error:
        return 0.0


def start_jupyter_server(root: Path, log: Path) -> tuple[subprocess.Popen, str]:
    """Jupyter Server with the voila extension over `root`, with the course's settings (etc/jupyter),
    as binder/start runs it: /voila/render/... starts a kernel per request, no pre-heat."""
    port = free_port()
    cmd = [str(Path(sys.executable).parent / "jupyter"), "server", "--no-browser", "--ip=127.0.0.1",
           f"--port={port}", "--IdentityProvider.token=", f"--ServerApp.root_dir={root}", "--allow-root"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=open(log, "w"), stderr=subprocess.STDOUT, env=course_env())
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/api/status", 90, proc)
    return proc, url


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def tti_round(browser, pages: list[tuple[str, str]], first_slider: dict, between=None) -> dict[str, dict]:
    out = {}
    for name, url in pages:
        if between:
            between()
        try:
            out[name] = time_to_interactive(browser, url, name, first_slider.get(name))
        except Exception as exc:  # reported in the row, the run goes on
            out[name] = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"}
    return out


def measure_tti(browser, route: str, serve_pages, repeats: int, first_slider: dict, between=None) -> dict:
    """`repeats` rounds over the bare page then every page; the median per page, and its ratio to the bare page's."""
    samples: dict[str, list[dict]] = {}
    for _ in range(repeats):
        for name, r in tti_round(browser, serve_pages, first_slider, between).items():
            samples.setdefault(name, []).append(r)
    rows = {}
    for name, all_rs in samples.items():
        rs = [r for r in all_rs if "s" in r]
        if not rs:
            rows[name] = {"error": all_rs[0]["error"]}
            continue
        rows[name] = {"errors": [r["error"] for r in all_rs if "error" in r],"tti_s": round(statistics.median(r["s"] for r in rs), 2), "samples_s": [r["s"] for r in rs],
                      "drawn_s": round(statistics.median(r["drawn_s"] for r in rs), 2),
                      "answered": all(r.get("answer_ms") is not None or name == INDEX for r in rs),
                      "no_figure_slider": any(r.get("no_figure_slider") for r in rs)}
    bare = rows[BARE].get("tti_s")
    for name, row in rows.items():
        if name != BARE and bare and "tti_s" in row:
            row["ratio_to_bare"] = round(row["tti_s"] / bare, 2)
    return rows


def run_latency(browser, names: list[str], moves: int, tmp: Path, max_sliders: int) -> dict[str, list[dict]]:
    port = free_port()
    proc = start_voila(port, tmp / "voila-latency.log")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/", 60, proc)
        return {n: slider_latencies(browser, f"{url}/voila/render/{n}.ipynb", moves, max_sliders) for n in names}
    finally:
        stop(proc)


def run_jupyter_server(browser, names, bare_dir: Path, tmp: Path, repeats: int, first_slider: dict) -> dict:
    root = tmp / "server-root"
    root.mkdir()
    (root / "notebooks").symlink_to(NOTEBOOKS)
    shutil.copy(bare_dir / f"{BARE}.ipynb", root / f"{BARE}.ipynb")
    proc, url = start_jupyter_server(root, tmp / "jupyter-server.log")
    try:
        pages = [(BARE, f"{url}/voila/render/{BARE}.ipynb")] + [
            (n, f"{url}/voila/render/notebooks/{n}.ipynb") for n in names]
        return measure_tti(browser, "jupyter_server", pages, repeats, first_slider)
    finally:
        stop(proc)


def run_preheated(browser, names, bare_dir: Path, tmp: Path, repeats: int, first_slider: dict,
                  pool_wait_s: float = 420) -> dict:
    course_nbs = sum(1 for _ in NOTEBOOKS.rglob("*.ipynb"))
    servers = []
    try:
        for folder, n_nb in ((bare_dir, 1), (NOTEBOOKS, course_nbs)):
            port = free_port()
            proc = start_voila(port, tmp / f"voila-preheat-{folder.name}.log", preheat=True, folder=folder)
            wait_http(f"http://127.0.0.1:{port}/", 120, proc)
            servers.append((proc, f"http://127.0.0.1:{port}", n_nb))
        pool = {}
        for proc, url, n_nb in servers:
            pool[url] = wait_pool(proc, expected=n_nb * pool_size(), timeout_s=pool_wait_s)
        (bproc, burl, _), (cproc, curl, cn) = servers
        pages = [(BARE, f"{burl}/voila/render/{BARE}.ipynb")] + [(n, f"{curl}/voila/render/{n}.ipynb") for n in names]
        # before each page, let the pool refill (the previous page took a pre-heated kernel)
        refill = lambda: wait_pool(cproc, expected=cn * pool_size(), timeout_s=min(120, pool_wait_s))  # noqa: E731
        rows = measure_tti(browser, "preheated", pages, repeats, first_slider, between=refill)
        rows["_pool"] = {"pool_size_per_notebook": pool_size(), "notebooks": course_nbs,
                         "first_fill": list(pool.values())}
        return rows
    finally:
        for proc, _, _ in servers:
            stop(proc)


def pool_size() -> int:
    """The pool size etc/jupyter/voila.py gives each notebook on this machine."""
    ns = {"c": type("C", (), {"__getattr__": lambda s, k: s.__dict__.setdefault(k, type("X", (), {})())})(),
          "load_subconfig": lambda *a: None, "__file__": str(REPO / "etc" / "jupyter" / "voila.py")}
    exec(compile((REPO / "etc" / "jupyter" / "voila.py").read_text(), "voila.py", "exec"), ns)
    return ns["_pool_size"]()


def first_figure_slider(rows: list[dict]) -> int | None:
    """The first slider whose moves changed a figure: the press that time-to-interactive waits on."""
    return next((r["slider"] for r in rows if r.get("changed_figure")), None)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--moves", type=int, default=10, help="key presses per slider")
    ap.add_argument("--repeats", type=int, default=2, help="time-to-interactive rounds per route")
    ap.add_argument("--smoke", action="store_true", help="lesson 1 and the bare page only, few moves, one round")
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results"), help="folder for dashboards.{json,md}")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    lessons = LESSONS[:1] if args.smoke else LESSONS
    names = lessons if args.smoke else [INDEX, *lessons]
    moves, repeats = (3, 1) if args.smoke else (args.moves, args.repeats)
    report = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                         f"{psutil.virtual_memory().total / 2**30:.0f} GiB; headless Debian chromium",
              "load_average_start": load(), "smoke": args.smoke, "moves_per_slider": moves,
              "repeats": repeats, "quiet_ms": QUIET_MS,
              "goals": {"tti_preheated_ratio": 1.5, "tti_jupyter_server_ratio": 2.5, "complete_p95_ms": 50}}
    tmp = Path(tempfile.mkdtemp())
    bare_dir = tmp / "bare"
    bare_dir.mkdir()
    bare_notebook(bare_dir)
    t0 = time.monotonic()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        try:
            sliders = run_latency(browser, lessons, moves, tmp, 2 if args.smoke else 1000)
            first = {BARE: 0, **{n: first_figure_slider(rows) for n, rows in sliders.items()}}
            report["sliders"] = sliders
            partial(report, Path(args.out))
            report["tti_jupyter_server"] = run_jupyter_server(browser, names, bare_dir, tmp, repeats, first)
            report["tti_preheated"] = run_preheated(browser, names, bare_dir, tmp, repeats, first,
                                                    60 if args.smoke else 420)
        finally:
            browser.close()
    report["load_average_end"] = load()
    report["minutes"] = round((time.monotonic() - t0) / 60, 1)
    report["verdict"] = verdict(report)
    write(report, Path(args.out))


def partial(report: dict, out: Path) -> None:
    """What has been measured so far, in case a later phase fails."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "dashboards.partial.json").write_text(json.dumps(report, indent=2) + "\n")


def verdict(r: dict) -> dict:
    g = r["goals"]
    ratio = lambda k: [v.get("ratio_to_bare", 99) for n, v in r[k].items() if not n.startswith("_") and n != BARE]  # noqa: E731
    p95 = [s["complete_p95_ms"] for rows in r["sliders"].values() for s in rows if "complete_p95_ms" in s]
    return {"tti_preheated_met": bool(ratio("tti_preheated")) and max(ratio("tti_preheated")) <= g["tti_preheated_ratio"],
            "tti_jupyter_server_met": bool(ratio("tti_jupyter_server"))
            and max(ratio("tti_jupyter_server")) <= g["tti_jupyter_server_ratio"],
            "complete_p95_met": bool(p95) and max(p95) <= g["complete_p95_ms"],
            "quiet_machine": r["load_average_start"][0] < 1.0}


def write(r: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "dashboards.json").write_text(json.dumps(r, indent=2) + "\n")
    (out / "dashboards.partial.json").unlink(missing_ok=True)
    v = r["verdict"]
    lines = [f"# Dashboard speed ({r['date']})", "",
             f"Machine: {r['machine']}. Load average (1/5/15 min) {r['load_average_start']} at the start, "
             f"{r['load_average_end']} at the end ({r['minutes']} min)."
             + ("" if v["quiet_machine"] else " **Not a quiet machine** (1-min load >= 1 at the start): the "
                "issue's targets are to be judged on a quiet machine; these numbers are an upper bound."), "",
             "## Time-to-interactive (first figure drawn and a first slider press answered; median of "
             f"{r['repeats']} rounds, cold browser cache)", "",
             "| page | pre-heated (s) | ratio to bare (goal <= 1.5) | Jupyter Server /voila/render (s) | ratio to bare (goal <= 2.5) |",
             "|---|---|---|---|---|"]
    pre, js = r["tti_preheated"], r["tti_jupyter_server"]
    for n in [k for k in js if not k.startswith("_")]:
        a, b = pre.get(n, {}), js[n]
        if "error" in b or "error" in a:
            lines.append(f"| {n} | {a.get('tti_s', a.get('error'))} | | {b.get('tti_s', b.get('error'))} | |")
            continue
        lines.append(f"| {n} | {a.get('tti_s', '–')} | {a.get('ratio_to_bare', '')} | {b['tti_s']} | {b.get('ratio_to_bare', '')} |")
    lines += ["", f"Targets: pre-heated {'met' if v['tti_preheated_met'] else 'NOT met'}; Jupyter Server route "
              f"{'met' if v['tti_jupyter_server_met'] else 'NOT met'}.", "",
              f"## Slider latency, every slider ({r['moves_per_slider']} presses each; in the page: key press to the "
              f"last DOM mutation before {r['quiet_ms']} ms of quiet, and to the first change in a figure)", "",
              "| lesson | slider | label | complete p50 (ms) | complete p95 (ms) | first change p50 | first change p95 | presses that drew a figure |",
              "|---|---|---|---|---|---|---|---|"]
    for n, rows in r["sliders"].items():
        for s in rows:
            if "skipped" in s:
                lines.append(f"| {n} | {s['slider']} | {s['label']} | skipped: {s['skipped']} | | | | |")
                continue
            lines.append(f"| {n} | {s['slider']} | {s['label']} | {s.get('complete_p50_ms', '–')} | "
                         f"{s.get('complete_p95_ms', '–')} | {s.get('first_change_p50_ms', '–')} | "
                         f"{s.get('first_change_p95_ms', '–')} | {s['changed_figure']}/{s['moves']} |")
    lines += ["", f"Target complete-redraw p95 <= 50 ms on every slider: {'met' if v['complete_p95_met'] else 'NOT met'}."]
    (out / "dashboards.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
