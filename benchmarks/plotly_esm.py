"""plotly 5.24.1 against plotly 7's anywidget FigureWidget, its ES module sent with every figure or
fetched once from a URL (issue 12, the last of its "ways"): which opens a page sooner?

    python benchmarks/plotly_esm.py [--repeats 5] [--smoke]

The course pins plotly 5.24.1, whose FigureWidget front end is a JupyterLab extension (plotly.js comes
with it, once per page). plotly 6/7's FigureWidget is an anywidget: each figure's model carries the 5 MB
`widgetbundle.js` as its `_esm` string, which anywidget turns into a module per figure. An `_esm` that
is an http(s) URL is imported by the browser instead, once per page: here the bundle is a file the
same Voila serves (`/voila/files/`, allowed by `file_allowlist`), its absolute URL given to the kernel.
(A course page would need a loader that finds the server's base URL in the browser: Binder and
JupyterHub put the page under a prefix the kernel does not know.)

Two environments that differ only in plotly (build/plotly-<version>-venv, made once with pip: voila,
ipywidgets, jupyterlab_widgets, anywidget, ipykernel, jupyter_server, numpy at the versions this
environment has), each serving the same notebooks with plain `voila --preheat_kernel=True`. Pages:
the bare ipywidgets page of benchmarks/dashboards.py; a slider and 1 or 4 FigureWidgets it redraws;
on plotly 7 also the same with `_esm` set to the URL. Time-to-interactive as dashboards.py measures it
(first figure drawn and a first slider press answered, cold browser cache), the two servers' pages
alternated page by page so that both see the same load. Then the slider of the 1- and 4-figure pages,
plotly 5.24.1 against plotly 7 with the URL, pressed --moves times each, slider by slider alternately:
key press to the complete redraw, measured in the page as dashboards.py measures it. The 1-figure page
(one 200-point line) is a floor under what a lesson slider that redraws a figure costs on this machine.

Writes plotly_esm.{json,md} into --out (default benchmarks/results/; --smoke: one round, 1 figure,
into --out/tmp).
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
from importlib import metadata
from pathlib import Path

import dashboards as D
from playwright.sync_api import sync_playwright

from widgets.devtools.serving import CHROMIUM_ARGS, REPO, free_port, stop, wait_http

NEW = "7.1.0"                      # the plotly of ../shared/STACK.md
SAME = ("voila", "ipywidgets", "jupyterlab_widgets", "anywidget", "ipykernel", "jupyter_server", "numpy")
BUNDLE = "widgetbundle.js"


def pins() -> list[str]:
    return [f"{name}=={metadata.version(name)}" for name in SAME]


def environment(plotly: str, log) -> Path:
    """A venv with `plotly` and this environment's versions of SAME (made once, kept in build/)."""
    venv = REPO / "build" / f"plotly-{plotly}-venv"
    want = "\n".join([*pins(), f"plotly=={plotly}"])
    stamp = venv / "pins.txt"
    if stamp.exists() and stamp.read_text() == want:
        return venv
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *want.split("\n")],
                   check=True, stdout=log, stderr=subprocess.STDOUT)
    stamp.write_text(want)
    return venv


def figures_notebook(n: int, esm_from_url: bool):
    from nbformat.v4 import new_code_cell, new_notebook

    url = "import os\ngo.FigureWidget._esm = os.environ['ESM_URL']   # fetched once by the browser\n"
    code = ("import ipywidgets as ipw, numpy as np, plotly.graph_objects as go\n" + (url if esm_from_url else "")
            + "x = np.linspace(-3, 3, 200)\n"
            f"figs = [go.FigureWidget(go.Scatter(x=x, y=np.tanh(x))) for _ in range({n})]\n"
            "s = ipw.FloatSlider(1, min=0, max=3, step=0.1)\n"
            "def redraw(change):\n    for f in figs:\n        with f.batch_update():\n"
            "            f.data[0].y = np.tanh(s.value * x)\n"
            "s.observe(redraw, 'value')\nbox = ipw.VBox([s, *figs])\nbox.add_class('lesson-section')\nbox")
    return new_notebook(cells=[new_code_cell(code)])


def write_pages(folder: Path, venv: Path, counts: list[int], with_url: bool) -> list[str]:
    import nbformat

    folder.mkdir(parents=True)
    D.bare_notebook(folder)
    names = [D.BARE]
    for n in counts:
        for url in (False, True) if with_url else (False,):
            name = f"figures_{n}" + ("_esm_url" if url else "")
            nbformat.write(figures_notebook(n, url), str(folder / f"{name}.ipynb"))
            names.append(name)
    if with_url:
        shutil.copy(next(venv.glob(f"lib/python*/site-packages/plotly/package_data/{BUNDLE}")), folder / BUNDLE)
    return names


def serve(venv: Path, folder: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in ("JUPYTER_CONFIG_PATH", "PYTHONPATH")}
    env["ESM_URL"] = f"{url}/voila/files/{BUNDLE}"
    cmd = [str(venv / "bin" / "voila"), str(folder), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
           "--preheat_kernel=True", "--VoilaConfiguration.file_allowlist=['.*\\.js']"]
    proc = subprocess.Popen(cmd, cwd=folder, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    wait_http(url + "/", 120, proc)
    return proc, url


def measure(browser, servers: dict, repeats: int) -> dict:
    """{plotly: {page: [seconds, ...]}}: each round visits every page, alternating which server goes first."""
    samples = {p: {} for p in servers}
    names = max((s["pages"] for s in servers.values()), key=len)
    for r in range(repeats):
        for name in names:
            order = list(servers) if r % 2 == 0 else list(servers)[::-1]
            for plotly in order:
                s = servers[plotly]
                if name not in s["pages"]:
                    continue
                D.wait_pool(s["proc"], len(s["pages"]), 180)
                try:
                    t = D.time_to_interactive(browser, f"{s['url']}/voila/render/{name}.ipynb", name, 0)
                    ok = t.get("answer_ms") is not None
                    samples[plotly].setdefault(name, []).append(t["s"] if ok else None)
                except Exception as exc:   # reported in the row, the run goes on
                    print(plotly, name, type(exc).__name__, str(exc)[:200], flush=True)
                    samples[plotly].setdefault(name, []).append(None)
    return samples


def latency(browser, servers: dict, old: str, counts: list[int], moves: int) -> dict:
    """{figures_N: {plotly: the slider's complete-redraw summary}}: 5.24.1's page against plotly 7's with the
    URL, slider by slider alternately (dashboards.slider_latencies)."""
    out = {}
    for n in counts:
        urls = [f"{servers[old]['url']}/voila/render/figures_{n}.ipynb",
                f"{servers[NEW]['url']}/voila/render/figures_{n}_esm_url.ipynb"]
        rows = D.slider_latencies(browser, urls, moves)
        out[f"figures_{n}"] = {old: rows[0][0], f"{NEW} (URL)": rows[1][0]}
    return out


def summary(samples: dict) -> dict:
    out = {}
    for plotly, pages in samples.items():
        bare = statistics.median(v for v in pages[D.BARE] if v is not None)
        for name, vs in pages.items():
            ok = [v for v in vs if v is not None]
            med = round(statistics.median(ok), 2) if ok else None
            out.setdefault(plotly, {})[name] = {"tti_s": med, "samples_s": vs, "failed": len(vs) - len(ok),
                                                "ratio_to_bare": med and round(med / bare, 2)}
    return out


def verdict(rows: dict, old: str, counts: list[int]) -> dict:
    """Per figure count: is plotly 7 with its module from a URL sooner than 5.24.1, in seconds?"""
    out = {}
    for n in counts:
        a, b = rows[old].get(f"figures_{n}", {}).get("tti_s"), rows[NEW].get(f"figures_{n}_esm_url", {}).get("tti_s")
        out[f"figures_{n}"] = None if a is None or b is None else {"plotly7_url_sooner": b < a, "saved_s": round(a - b, 2)}
    return out


def markdown(report: dict) -> str:
    old, rows = report["plotly_old"], report["rows"]
    lines = [f"# plotly {old} against plotly {NEW}'s anywidget FigureWidget ({report['date']})", "",
             f"Machine: {report['machine']}. Load average (1/5/15 min) {report['load_average_start']} at the start, "
             f"{report.get('load_average_heated')} once both servers' kernels were pre-heated, "
             f"{report['load_average_end']} at the end.", "",
             "Time-to-interactive (first figure drawn and a first slider press answered; median of "
             f"{report['repeats']} rounds, cold browser cache; the two servers' pages alternated). Ratio: to the "
             "bare page of the same server.", "",
             f"| page | plotly {old} (s) | ratio | plotly {NEW} (s) | ratio |", "|---|---|---|---|---|"]
    for name in rows[NEW]:
        a, b = rows[old].get(name, {}), rows[NEW][name]
        cell = lambda r: (f"{r['tti_s']} | {r.get('ratio_to_bare') or ''}" if r else "– | –")  # noqa: E731
        fail = f" ({b['failed']} failed)" if b["failed"] else ""
        lines.append(f"| {name} | {cell(a)} | {cell(b)}{fail} |")
    lines += ["", "`figures_N_esm_url`: plotly 7 with `_esm` set to the URL of the bundle (the browser fetches it "
              "once); `figures_N`: as installed (the bundle travels in every figure's model).", ""]
    lines += ["", f"Slider to complete redraw ({report['moves']} presses, ms; the `dashboards.py` method):", "",
              "| page | plotly | complete p50 | complete p95 | first change p50 | presses that drew a figure |",
              "|---|---|---|---|---|---|"]
    for name, by in report["latency"].items():
        for plotly, r in by.items():
            lines.append(f"| {name} | {plotly} | {r.get('complete_p50_ms')} | {r.get('complete_p95_ms')} | "
                         f"{r.get('first_change_p50_ms')} | {r.get('changed_page')}/{r.get('moves')} |")
    lines.append("")
    for n, v in report["verdict"].items():
        if v:
            word = "sooner" if v["plotly7_url_sooner"] else "not sooner"
            lines.append(f"- {n}: plotly {NEW} with its module from a URL is {word} than plotly {old} "
                         f"({abs(v['saved_s'])} s {'saved' if v['saved_s'] > 0 else 'lost'}).")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=5, help="rounds over the pages")
    ap.add_argument("--moves", type=int, default=20, help="slider presses per page")
    ap.add_argument("--smoke", action="store_true", help="one round, 1 figure, 3 presses")
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results"), help="folder for the report")
    args = ap.parse_args()
    repeats, counts, moves = (1, [1], 3) if args.smoke else (args.repeats, [1, 4], args.moves)
    old = metadata.version("plotly")
    tmp = Path(tempfile.mkdtemp(prefix="plotly_esm-"))
    log = open(tmp / "pip.log", "w")
    report = {"benchmark": "plotly_esm", "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "machine": f"{platform.machine()}, {os.cpu_count()} cores", "smoke": args.smoke, "repeats": repeats, "moves": moves,
              "plotly_old": old, "plotly_new": NEW, "same": pins(), "load_average_start": D.load()}
    servers = {}
    try:
        for plotly, with_url in ((old, False), (NEW, True)):
            venv = environment(plotly, log)
            pages = write_pages(tmp / plotly, venv, counts, with_url)
            proc, url = serve(venv, tmp / plotly, tmp / f"voila-{plotly}.log")
            servers[plotly] = {"proc": proc, "url": url, "pages": pages}
        for s in servers.values():
            D.wait_pool(s["proc"], len(s["pages"]))
        report["load_average_heated"] = D.load()     # the two servers' pre-heated kernels have started
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS, headless=True)
            samples = measure(browser, servers, repeats)
            report["latency"] = latency(browser, servers, old, counts, moves)
            browser.close()
        report["load_average_end"] = D.load()
    finally:
        for s in servers.values():
            stop(s["proc"])
    report["rows"] = summary(samples)
    report["verdict"] = verdict(report["rows"], old, counts)
    out = Path(args.out) / ("tmp" if args.smoke else "")
    out.mkdir(parents=True, exist_ok=True)
    (out / "plotly_esm.json").write_text(json.dumps(report, indent=1))
    (out / "plotly_esm.md").write_text(markdown(report))
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
