"""Dashboard speed in headless Chromium (issue 12): time-to-interactive on two serving routes, each
against a bare ipywidgets page served the same way in the same run, and slider latency to the
complete redraw for every slider on every lesson.

    python benchmarks/dashboards.py [--moves 10] [--repeats 2] [--smoke]
    python benchmarks/dashboards.py --only latency --lessons 1,2 [--slider "batch size"] [--ref HEAD~3]

- Time-to-interactive (cold browser cache, a fresh context per page): from navigation until the
  first section's figure is drawn AND a first slider press has changed a figure (the kernel answered).
  The bare page: an IntSlider whose value a kernel-side observer copies into a label.
  Routes: `preheated` = standalone Voila with `make serve`'s settings (pre-heated pool, waited for);
  `jupyter_server` = Jupyter Server's /voila/render route (as on Binder: no pre-heat).
- Slider latency, measured inside the page by one MutationObserver (WATCH below). Sections are visited
  in page order, each scrolled into view and left to settle first (a lazy section is built then).
  `complete`: from the key press to the last mutation inside a figure the press redrew, the record
  closing only after 300 ms with no figure mutation *once a figure has changed* (the handle and its
  readout, which move at once, cannot close it); a slider whose first press changed its section but no
  figure is timed to its section's status/numbers instead (`timed` = section). A press that changed no
  figure within --timeout-ms is counted as `no change`, never as a fast press. `first_change`: the first
  mutation in a figure (the earlier method), kept beside it. The driver presses a key, then awaits one
  in-page promise per press: it never polls while the page redraws.
- `--ref REF` measures the same sliders on a second Voila server running git REF's code (exported
  with `git archive`, imported through PYTHONPATH): both pages open, each slider measured on one page
  then the other, in alternating order: before/after under the same load.

Writes dashboards.{json,md} into --out (default benchmarks/results/), with the load average at start
and end; a limited run (--only, --lessons, --slider, --ref) writes dashboards_<only>.{json,md} instead.
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

# One observer over the whole document. A key press on a slider arms a record; mutations stamp it by
# where they fall: inside a figure (`.js-plotly-plot`), elsewhere in the pressed slider's section (its
# status, numbers and other controls: the `section` scope), or anywhere (the pressed slider's own
# handle and readout included). The quiet window counts only once a figure has changed (or, in
# `section` mode, for sliders that draw no figure, once the section outside the slider has changed):
# the handle moving and its readout changing never close the record. `complete` (`last`) is the last
# mutation inside a figure (section mode: in the section) before `quietMs` with none. A press that
# changed no figure (nor, in section mode, the section) within the driver's timeout is closed as
# `nothing` (or `no_figure`): reported as such, never as a fast press. `__quiet(maxMs)` is the one
# promise the driver awaits per press; `__settle(quietMs, maxMs)` waits for any quiet (after a scroll).
WATCH = """(quietMs) => {
  if (window.__watch) return;
  window.__watch = true; window.__rec = null; window.__done = []; window.__mode = 'figure';
  let timer = null, resolveQuiet = null, settle = null;
  const el = n => n && (n.nodeType === 1 ? n : n.parentElement);
  const close = (end) => {
    const r = window.__rec; window.__rec = null; clearTimeout(timer); timer = null;
    if (r) {
      r.end = end;
      r.last = r.first_fig !== null ? r.last_fig : (r.mode === 'section' ? r.last_section : null);
      r.scope = r.first_fig !== null ? 'figure' : (r.last_section !== null ? 'section' : 'nothing');
      delete r._slider; delete r._section; r.figures = r._figs.size; delete r._figs;
      window.__done.push(r);
    }
    if (resolveQuiet) { const f = resolveQuiet; resolveQuiet = null; f(r); }
  };
  const arm = () => { clearTimeout(timer); timer = setTimeout(() => close('quiet'), quietMs); };
  document.addEventListener('keydown', (ev) => {
    if (window.__rec) close('next_press');
    const h = el(ev.target);
    window.__rec = {t0: performance.now(), mode: window.__mode, first: null, last_any: null,
                    first_fig: null, last_fig: null, first_section: null, last_section: null, last: null,
                    n: 0, n_fig: 0, _slider: h && h.closest('.widget-slider'),
                    _section: h && h.closest('.lesson-section'), _figs: new Set()};
  }, true);
  new MutationObserver((muts) => {
    if (settle) settle.arm();
    const r = window.__rec; if (!r) return;
    const t = performance.now() - r.t0;
    r.n += muts.length; if (r.first === null) r.first = t; r.last_any = t;
    let counts = false;
    for (const m of muts) {
      const e = el(m.target); if (!e) continue;
      const fig = e.closest('.js-plotly-plot');
      if (fig) {
        r.n_fig += 1; r._figs.add(fig); counts = true;
        if (r.first_fig === null) r.first_fig = t;
        r.last_fig = t;
      } else if (r._section && r._section.contains(e) && !(r._slider && r._slider.contains(e))) {
        if (r.first_section === null) r.first_section = t;
        r.last_section = t;
        if (r.mode === 'section' || r.first_fig !== null) counts = true;
      }
    }
    if (counts) arm();
  }).observe(document.documentElement, {subtree: true, childList: true, attributes: true, characterData: true});
  window.__quiet = (maxMs) => new Promise(res => {
    if (!window.__rec) { res(window.__done[window.__done.length - 1] || null); return; }
    resolveQuiet = res;
    setTimeout(() => { if (resolveQuiet === res) close('timeout'); }, maxMs);
  });
  window.__settle = (qMs, maxMs) => new Promise(res => {
    const t0 = performance.now(); let tq = null;
    const done = (ok) => { clearTimeout(tq); clearTimeout(tmax); settle = null; res({quiet: ok, ms: performance.now() - t0}); };
    settle = {arm: () => { clearTimeout(tq); tq = setTimeout(() => done(true), qMs); }};
    settle.arm();
    const tmax = setTimeout(() => done(false), maxMs);
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
    """Towards the far end of the slider's range: left from its upper half, right from its lower half. So
    3 presses one way stay inside the range (a press at a bound moves nothing and would be timed as "no
    change": lesson 3's weight, 2 in [-3, 3] by 0.5, reached 3 on the second press right)."""
    now, low, top = (handle.get_attribute(f"aria-value{a}") for a in ("now", "min", "max"))
    try:
        return "ArrowLeft" if float(now) > (float(low) + float(top)) / 2 else "ArrowRight"
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
        if slider is not None and name != BARE:  # only a slider of the first section (the others are lazy)
            first = page.locator(".lesson-section").first
            first.wait_for(state="attached", timeout=60_000)
            if slider >= first.locator(".widget-slider .noUi-handle").count():
                slider = None
        if slider is None:  # no slider of the first section redraws a figure: interactive = its figure drawn
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
    """`moves` presses, 3 one way then 3 back, each followed by one in-page await of its record
    (closed by 300 ms of quiet after a figure changed, or by `max_ms`). A slider whose first press
    changed its section but no figure is pressed on in `section` mode (its status/readout is timed)."""
    records = []
    first = _direction(handle)
    back = "ArrowLeft" if first == "ArrowRight" else "ArrowRight"
    page.evaluate("window.__mode = 'figure'")
    for k in range(moves):
        handle.focus()
        handle.press(first if (k // 3) % 2 == 0 else back)
        r = page.evaluate(f"window.__quiet({max_ms})") or {}
        records.append(r)
        if k == 0 and r.get("scope") == "section":
            page.evaluate("window.__mode = 'section'")
            records[0] = {**r, "last": r.get("last_section"), "mode": "section"}
    page.evaluate("window.__mode = 'figure'")
    return records


# A lazy section (widgets/views/lazy.py) shows a placeholder until it has been built: resolves when the
# section `el` holds none (one MutationObserver, no polling), or after `maxMs`.
BUILT = """(el, maxMs) => new Promise(res => {
  if (!el.querySelector('.lazy-placeholder')) { res(true); return; }
  const obs = new MutationObserver(() => {
    if (!el.querySelector('.lazy-placeholder')) { obs.disconnect(); res(true); } });
  obs.observe(el, {subtree: true, childList: true});
  setTimeout(() => { obs.disconnect(); res(false); }, maxMs);
})"""


def sections_in_view(page, settle_ms: int = 30_000):
    """Each `.lesson-section` in page order, scrolled into view and settled (a lazy section is built
    when it comes into view): yields (section index, its name, its locator)."""
    sections = page.locator(".lesson-section")
    j = 0
    while j < sections.count():
        sec = sections.nth(j)
        sec.scroll_into_view_if_needed()
        sec.evaluate(BUILT, settle_ms)          # a lazy section: until its placeholder has gone
        page.evaluate(f"window.__settle(600, {settle_ms})")
        cls = sec.get_attribute("class") or ""
        name = next((c[len("section-"):] for c in cls.split() if c.startswith("section-")), str(j))
        yield j, name, sec
        j += 1


def open_lesson(browser, url: str, max_sliders: int = 1000, only: str | None = None):
    """Open `url`, install the watcher, visit each section (a lazy one is built when seen) and list
    its sliders: (context, page, [(index, section, label, handle or None if skipped)])."""
    ctx, page = new_page(browser)
    page.goto(url, wait_until="commit", timeout=300_000)
    page.wait_for_selector(FIGURE, timeout=300_000, state="attached")
    page.evaluate(WATCH, QUIET_MS)
    page.evaluate("window.__settle(1000, 30000)")
    found, i = [], 0
    for _j, section, sec in sections_in_view(page):
        handles = sec.locator(".widget-slider .noUi-handle")
        for k in range(handles.count()):
            if i >= max_sliders:
                return ctx, page, found
            label = sec.locator(".widget-slider").nth(k).locator(".widget-label").inner_text().strip()
            if not only or only.lower() in f"{section} {label}".lower():
                found.append((i, section, label, handles.nth(k)))
            i += 1
    return ctx, page, found


def measure_one(page, i: int, section: str, label: str, handle, moves: int, max_ms: int) -> dict:
    if not handle.is_visible():
        return {"slider": i, "section": section, "label": label, "skipped": "not visible"}
    handle.scroll_into_view_if_needed()
    page.evaluate("window.__settle(300, 3000)")   # whatever the scroll set off has settled
    return summarise(i, label, move_slider(page, handle, moves, max_ms), section)


def slider_latencies(browser, urls: list[str], moves: int, max_sliders: int = 1000, only: str | None = None,
                     max_ms: int = 5000) -> list[list[dict]]:
    """Complete-redraw and first-change latency for every slider, section by section (each scrolled
    into view first), on one page per url: with two (before/after), the same slider is measured on
    both pages one after the other, in alternating order, so that both see the same load."""
    opened = []
    try:
        for url in urls:
            opened.append(open_lesson(browser, url, max_sliders, only))
        out: list[list[dict]] = [[] for _ in urls]
        n = max(len(found) for _, _, found in opened)
        for k in range(n):
            order = list(range(len(urls)))[::-1] if k % 2 else list(range(len(urls)))
            for u in order:
                found = opened[u][2]
                if k < len(found):
                    out[u].append(measure_one(opened[u][1], *found[k], moves, max_ms))
        return out
    finally:
        for ctx, page, _ in opened:
            page.close(run_before_unload=True)
            ctx.close()


def summarise(i: int, label: str, recs: list[dict], section: str = "") -> dict:
    """Per slider: `complete` over the presses that redrew a figure (or, for a slider that draws no
    figure, changed its section: `timed` says which), `first_change` (first mutation in a figure)
    beside it, and the presses that changed nothing within the timeout, counted apart."""
    moved = [r for r in recs if r.get("first") is not None]
    drew = [r for r in recs if r.get("first_fig") is not None]
    by_section = [r for r in recs if r.get("first_fig") is None and r.get("last_section") is not None
                  and r.get("mode") == "section"]
    row = {"slider": i, "section": section, "label": label, "moves": len(recs), "changed_page": len(moved),
           "changed_figure": len(drew), "changed_section_only": len(by_section),
           "changed_nothing": sum(1 for r in recs if r.get("scope") == "nothing"),
           "never_quiet": sum(1 for r in recs if r.get("end") == "timeout" and r.get("first_fig") is not None),
           "figures_per_press": max((r.get("figures", 0) for r in drew), default=0),
           "timed": "figure" if drew else ("section" if by_section else "nothing")}
    timed = drew or by_section
    if timed:
        complete = [r["last"] for r in timed if r.get("last") is not None]
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


def export_ref(ref: str, tmp: Path) -> Path:
    """The course's code at git `ref` (widgets/, notebooks/, etc/, share/) in a folder of its own,
    without touching the working tree or the git index: `git archive | tar -x`."""
    dest = tmp / f"ref-{ref.replace('/', '_')}"
    dest.mkdir()
    arch = subprocess.run(["git", "archive", ref, "widgets", "notebooks", "etc", "share"], cwd=REPO,
                          check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=arch, check=True)
    return dest


def start_voila_at(root: Path, port: int, log_path: Path) -> subprocess.Popen:
    """start_voila's server, over `root`'s notebooks and importing `root`'s widgets package."""
    cmd = [str(Path(sys.executable).parent / "voila"), str(root / "notebooks"), "--no-browser",
           f"--port={port}", "--Voila.ip=127.0.0.1"]
    env = course_env(LESSONS_PREHEAT="0", PYTHONPATH=str(root))
    return subprocess.Popen(cmd, cwd=root, stdout=open(log_path, "w"), stderr=subprocess.STDOUT, env=env)


def run_latency(browser, names: list[str], moves: int, tmp: Path, max_sliders: int, only: str | None = None,
                ref: str | None = None, max_ms: int = 5000) -> tuple[dict[str, list[dict]], dict[str, list[dict]] | None]:
    """Every slider of each lesson on a Voila server of the working tree and, with `ref`, on one of
    that git ref's code: both pages open, each slider measured on one then the other, alternately."""
    servers = []
    try:
        port = free_port()
        servers.append(("now", start_voila(port, tmp / "voila-latency.log"), f"http://127.0.0.1:{port}"))
        if ref:
            root = Path(ref) if Path(ref).is_dir() else export_ref(ref, tmp)   # a folder: used as it is
            port = free_port()
            servers.append(("ref", start_voila_at(root, port, tmp / "voila-ref.log"), f"http://127.0.0.1:{port}"))
        for _, proc, url in servers:
            wait_http(url + "/", 60, proc)
        out: dict[str, dict[str, list[dict]]] = {tag: {} for tag, _, _ in servers}
        for n in names:
            rows = slider_latencies(browser, [f"{url}/voila/render/{n}.ipynb" for _, _, url in servers], moves,
                                    max_sliders, only, max_ms)
            for (tag, _, _), r in zip(servers, rows):
                out[tag][n] = r
        return out["now"], out.get("ref")
    finally:
        for _, proc, _ in servers:
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


def lesson_names(spec: str | None) -> list[str]:
    """`--lessons 1,02_batch_norm` → the lessons named (by number or name), in course order."""
    if not spec:
        return LESSONS
    want = [w.strip() for w in spec.split(",") if w.strip()]
    picked = [n for n in LESSONS if any(n == w or n.split("_")[0].lstrip("0") == w.lstrip("0") for w in want)]
    if len(picked) != len(want):
        raise SystemExit(f"--lessons {spec!r}: choose from {', '.join(LESSONS)} (or their numbers)")
    return picked


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--moves", type=int, default=10, help="key presses per slider")
    ap.add_argument("--repeats", type=int, default=2, help="time-to-interactive rounds per route")
    ap.add_argument("--smoke", action="store_true", help="lesson 1 and the bare page only, few moves, one round")
    ap.add_argument("--only", choices=["all", "latency", "tti"], default="all",
                    help="latency: slider latency only; tti: time-to-interactive only")
    ap.add_argument("--lessons", help="comma-separated lessons, by number or name (default: all)")
    ap.add_argument("--slider", help="only sliders whose section name or label contains this text")
    ap.add_argument("--ref", help="also measure every slider on a second server running this git ref's code "
                                  "(or a folder holding widgets/, notebooks/, etc/, share/) "
                                  "(e.g. HEAD~3), slider by slider alternately: before/after in one run")
    ap.add_argument("--timeout-ms", type=int, default=5000, help="a press that changed no figure by then changed nothing")
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results"), help="folder for the report")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    lessons = LESSONS[:1] if args.smoke else lesson_names(args.lessons)
    names = lessons if args.smoke else [INDEX, *lessons]
    moves, repeats = (3, 1) if args.smoke else (args.moves, args.repeats)
    limited = args.only != "all" or args.lessons or args.slider or args.ref
    stem = "dashboards" if not limited else f"dashboards_{args.only}"   # a limited run never replaces the full report
    report = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                         f"{psutil.virtual_memory().total / 2**30:.0f} GiB; headless Debian chromium",
              "load_average_start": load(), "smoke": args.smoke, "moves_per_slider": moves,
              "repeats": repeats, "quiet_ms": QUIET_MS, "press_timeout_ms": args.timeout_ms,
              "only": args.only, "lessons": lessons, "slider_filter": args.slider, "ref": args.ref,
              "goals": {"tti_preheated_ratio": 1.5, "tti_jupyter_server_ratio": 2.5, "complete_p95_ms": 50}}
    tmp = Path(tempfile.mkdtemp())
    bare_dir = tmp / "bare"
    bare_dir.mkdir()
    bare_notebook(bare_dir)
    t0 = time.monotonic()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        try:
            first: dict = {BARE: 0}
            if args.only in ("all", "latency"):
                sliders, before = run_latency(browser, lessons, moves, tmp, 2 if args.smoke else 1000,
                                              args.slider, args.ref, args.timeout_ms)
                first.update({n: first_figure_slider(rows) for n, rows in sliders.items()})
                report["sliders"] = sliders
                if before is not None:
                    report["sliders_ref"] = before
                partial(report, Path(args.out))
            if args.only in ("all", "tti"):
                first.update({n: first.get(n, 0) for n in lessons})
                report["tti_jupyter_server"] = run_jupyter_server(browser, names, bare_dir, tmp, repeats, first)
                report["tti_preheated"] = run_preheated(browser, names, bare_dir, tmp, repeats, first,
                                                        60 if args.smoke else 420)
        finally:
            browser.close()
    report["load_average_end"] = load()
    report["minutes"] = round((time.monotonic() - t0) / 60, 1)
    report["verdict"] = verdict(report)
    write(report, Path(args.out), stem)


def partial(report: dict, out: Path) -> None:
    """What has been measured so far, in case a later phase fails."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "dashboards.partial.json").write_text(json.dumps(report, indent=2) + "\n")


def verdict(r: dict) -> dict:
    g = r["goals"]
    ratio = lambda k: [v.get("ratio_to_bare", 99) for n, v in r.get(k, {}).items() if not n.startswith("_") and n != BARE]  # noqa: E731
    p95 = [s["complete_p95_ms"] for rows in r.get("sliders", {}).values() for s in rows if "complete_p95_ms" in s]
    return {"tti_preheated_met": bool(ratio("tti_preheated")) and max(ratio("tti_preheated")) <= g["tti_preheated_ratio"],
            "tti_jupyter_server_met": bool(ratio("tti_jupyter_server"))
            and max(ratio("tti_jupyter_server")) <= g["tti_jupyter_server_ratio"],
            "complete_p95_met": bool(p95) and max(p95) <= g["complete_p95_ms"],
            "quiet_machine": r["load_average_start"][0] < 1.0}


def tti_lines(r: dict) -> list[str]:
    v = r["verdict"]
    lines = ["## Time-to-interactive (first figure drawn and a first slider press answered; median of "
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
    return lines + ["", f"Targets: pre-heated {'met' if v['tti_preheated_met'] else 'NOT met'}; Jupyter Server route "
                    f"{'met' if v['tti_jupyter_server_met'] else 'NOT met'}.", ""]


def _cell(s: dict | None, key: str) -> str:
    return "–" if not s or key not in s else str(s[key])


def _by_name(rows: list[dict]) -> dict:
    """Rows by (section, label, how many rows before had both): the same slider on two pages, even if
    one page showed a slider the other did not."""
    out, seen = {}, {}
    for s in rows:
        key = (s.get("section"), s["label"])
        seen[key] = seen.get(key, -1) + 1
        out[(*key, seen[key])] = s
    return out


def slider_lines(r: dict) -> list[str]:
    ref = r.get("sliders_ref")
    before = (f" | before ({r['ref']}) p50 | before p95" if ref else "")
    lines = [f"## Slider latency, every slider ({r['moves_per_slider']} presses each, measured in the page)", "",
             "`complete`: from the key press to the last DOM mutation inside a figure the press redrew, once "
             f"{r['quiet_ms']} ms have passed with no mutation in a figure (the slider's own handle and readout "
             "never close the window). A slider that draws no figure is timed to the last change in its section "
             "(status, numbers) outside the slider (`timed` = section). A press that changed no figure within "
             f"{r['press_timeout_ms']} ms is counted under `no change`, not timed. `first change`: the first "
             "mutation in a figure (the earlier method), for continuity."
             + (f" `before`: the same sliders on a second server running git `{r['ref']}`, both pages open, each "
                "slider measured on one then the other (alternating which goes first)." if ref else ""), "",
             "| lesson | section | slider | label | timed | complete p50 (ms) | complete p95 (ms) | first change p50 | "
             "first change p95 | presses that drew a figure | no change" + before + " |",
             "|---|---|---|---|---|---|---|---|---|---|---" + ("|---|---" if ref else "") + "|"]
    for n, rows in r.get("sliders", {}).items():
        old = _by_name(ref.get(n, [])) if ref else {}
        for k, key in zip(range(len(rows)), _by_name(rows)):
            s = rows[k]
            head = f"| {n} | {s.get('section', '')} | {s['slider']} | {s['label'].replace('|', chr(92) + '|')} |"
            if "skipped" in s:
                lines.append(f"{head} skipped: {s['skipped']} | | | | | | |" + (" | |" if ref else ""))
                continue
            b = old.get(key)
            lines.append(f"{head} {s.get('timed', '')} | {_cell(s, 'complete_p50_ms')} | {_cell(s, 'complete_p95_ms')} | "
                         f"{_cell(s, 'first_change_p50_ms')} | {_cell(s, 'first_change_p95_ms')} | "
                         f"{s['changed_figure']}/{s['moves']} | {s.get('changed_nothing', 0)}"
                         + (f" | {_cell(b, 'complete_p50_ms')} | {_cell(b, 'complete_p95_ms')}" if ref else "") + " |")
    v = r["verdict"]
    return lines + ["", f"Target complete-redraw p95 <= 50 ms on every slider: {'met' if v['complete_p95_met'] else 'NOT met'}."]


def write(r: dict, out: Path, stem: str = "dashboards") -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{stem}.json").write_text(json.dumps(r, indent=2) + "\n")
    (out / "dashboards.partial.json").unlink(missing_ok=True)
    v = r["verdict"]
    lines = [f"# Dashboard speed ({r['date']})", "",
             f"Machine: {r['machine']}. Load average (1/5/15 min) {r['load_average_start']} at the start, "
             f"{r['load_average_end']} at the end ({r['minutes']} min)."
             + ("" if v["quiet_machine"] else " **Not a quiet machine** (1-min load >= 1 at the start): the "
                "issue's targets are to be judged on a quiet machine; these numbers are an upper bound."), ""]
    if r["only"] != "all" or r.get("slider_filter") or r["lessons"] != LESSONS:
        lines += [f"A limited run: --only {r['only']}, lessons {', '.join(r['lessons'])}"
                  + (f", sliders matching {r['slider_filter']!r}" if r.get("slider_filter") else "") + ".", ""]
    if "tti_preheated" in r:
        lines += tti_lines(r)
    if "sliders" in r:
        lines += slider_lines(r)
    (out / f"{stem}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
