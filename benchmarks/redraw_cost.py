"""The kernel's side of every slider (issue 12), without a browser: for each slider of each lesson,
pressed as benchmarks/dashboards.py presses it (one step, 3 one way then 3 back), the time of the
section's `update(changed)` and the comm messages it sends: per figure, the bytes of plotly's
restyle / relayout / update messages (JSON + binary buffers) and which layout properties they set
(a layout change makes plotly.js redo the axes, shapes and annotations: far more work than a restyle
of data); to other widgets (numbers, status), their bytes. Insensitive to the browser's load.

    python benchmarks/redraw_cost.py [--lessons 1,2] [--moves 6] [--smoke] [--ref GIT_REF]

`--ref` also measures git REF's code (exported with `git archive`, run with it first on PYTHONPATH) in
the same run, lesson by lesson in alternating order, and writes its numbers beside these (before/after).

Writes redraw_cost.{json,md} into --out (default benchmarks/results/), with the load average.
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import ipywidgets as ipw

ROOT = Path(__file__).resolve().parents[1]
sys.path.append(str(ROOT))   # after PYTHONPATH: `PYTHONPATH=<an export of an older commit>` measures that code

LESSONS = ["01_feature_scaling", "02_batch_norm", "03_bottleneck", "04_inception"]
SLIDERS = (ipw.FloatLogSlider, ipw.FloatSlider, ipw.IntSlider)


class Wire:
    """Every message widgets send (ipywidgets' Widget._send), kept while `on`."""

    def __init__(self):
        self.on, self.sent = False, []
        original = ipw.Widget._send

        def send(widget, msg, buffers=None):
            if self.on:
                self.sent.append((widget, msg, buffers or []))
            return original(widget, msg, buffers)

        ipw.Widget._send = send

    def take(self) -> list:
        out, self.sent = self.sent, []
        return out


def size(msg: dict, buffers: list) -> int:
    return len(json.dumps(msg, default=str)) + sum(memoryview(b).nbytes for b in buffers)


def describe(sent: list, slider) -> dict:
    """Bytes to figures (by plotly message kind) and to other widgets; the layout keys set."""
    import plotly.graph_objects as go

    fig_bytes, other_bytes, kinds, layout_keys, figs = 0, 0, {}, set(), set()
    for widget, msg, buffers in sent:
        if widget is slider:
            continue
        n = size(msg, buffers)
        if isinstance(widget, go.FigureWidget):
            fig_bytes += n
            for key, value in msg.get("state", {}).items():
                if key.startswith("_py2js_") and value:
                    kinds[key[7:]] = kinds.get(key[7:], 0) + 1
                    figs.add(id(widget))
                    layout_keys |= set((value.get("layout_data") or value.get("relayout_data") or {}))
        else:
            other_bytes += n
    return {"figure_bytes": fig_bytes, "other_bytes": other_bytes, "kinds": kinds,
            "figures": len(figs), "layout_keys": sorted(layout_keys)}


def step(w, direction: int):
    """The slider's value one step from now, as the browser's arrow key moves it."""
    if isinstance(w, ipw.FloatLogSlider):
        e = math.log(w.value, w.base) + direction * w.step
        return float(f"{w.base ** min(w.max, max(w.min, e)):.12g}")
    v = min(w.max, max(w.min, w.value + direction * w.step))
    return int(v) if isinstance(w, ipw.IntSlider) else float(f"{v:.12g}")


def at_top(w) -> bool:
    if isinstance(w, ipw.FloatLogSlider):
        return math.log(w.value, w.base) >= w.max - 1e-9
    return w.value >= w.max


def build(lesson: str) -> list:
    """The lesson's sections, built as its notebook builds them (each code cell, in order)."""
    from widgets.views import page

    page.reset()
    cells = json.loads((ROOT / "notebooks" / f"{lesson}.ipynb").read_text())["cells"]
    for c in cells:
        if c["cell_type"] == "code":
            exec("".join(c["source"]), {})
    return list(page.sections())


def press(section, name: str, moves: int, wire: Wire) -> dict:
    w = section.controls[name].widget
    first = -1 if at_top(w) else 1
    times, msgs = [], []
    for k in range(moves):
        v = step(w, first if (k // 3) % 2 == 0 else -first)
        wire.take()
        wire.on = True
        t0 = time.perf_counter()
        w.value = v                                   # observe → section.update(name), under its lock
        times.append((time.perf_counter() - t0) * 1000)
        wire.on = False
        msgs.append(describe(wire.take(), w))
    fig = [m["figure_bytes"] for m in msgs]
    return {"section": section.name, "control": name, "label": w.description, "moves": moves,
            "update_ms_p50": round(statistics.median(times), 2), "update_ms_max": round(max(times), 2),
            "figure_bytes_p50": int(statistics.median(fig)), "figure_bytes_max": max(fig),
            "other_bytes_p50": int(statistics.median(m["other_bytes"] for m in msgs)),
            "figures_per_press": max(m["figures"] for m in msgs),
            "messages": {k: sum(m["kinds"].get(k, 0) for m in msgs) for k in sorted({k for m in msgs for k in m["kinds"]})},
            "layout_keys": sorted({k for m in msgs for k in m["layout_keys"]})}


def lesson_rows(lesson: str, moves: int, wire: Wire, smoke: bool) -> list[dict]:
    rows = []
    for section in build(lesson):
        for name, c in section.controls.items():
            if isinstance(c.widget, SLIDERS):
                rows.append(press(section, name, moves, wire))
                if smoke and len(rows) >= 2:
                    return rows
    return rows


def write(r: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "redraw_cost.json").write_text(json.dumps(r, indent=2) + "\n")
    lines = [f"# The kernel's side of each slider press ({r['date']})", "",
             f"Machine: {r['machine']}. Load average (1/5/15 min) {r['load_average_start']} at the start, "
             f"{r['load_average_end']} at the end. {r['moves']} presses per slider (3 one way, 3 back), no browser: "
             "`update` is the time from setting the slider's value to its section's `update(changed)` having "
             "returned (messages serialised); bytes are the comm messages sent (JSON + binary buffers), to "
             "figures and to other widgets (the slider's own echo left out); `layout keys` are the layout "
             "properties plotly's messages set (each makes plotly.js relayout, not only restyle)."
             + (f" `before`: {r.get('ref_note') or 'git `' + r['ref'] + '`' + chr(39) + 's code'}, measured in the same run, lesson by "
                f"lesson in alternating order (load at its start {r['ref_report']['load_average_start']})."
                if r.get("ref_report") else ""), "",
             "| lesson | section | control | label | update p50 (ms) | update max | figure bytes p50 | figure bytes max "
             "| other bytes p50 | figures | messages | layout keys |" + (" before: update p50 / max (ms) | before: figure bytes p50 |" if r.get("ref_report") else ""),
             "|---|---|---|---|---|---|---|---|---|---|---|---|" + ("---|---|" if r.get("ref_report") else "")]
    ref = (r.get("ref_report") or {}).get("lessons", {})
    for lesson, rows in r["lessons"].items():
        old = {(b["section"], b["control"]): b for b in ref.get(lesson, [])}
        for s in rows:
            msgs = ", ".join(f"{k} {v}" for k, v in s["messages"].items())
            keys = ", ".join(s["layout_keys"])[:120]
            b = old.get((s["section"], s["control"]))
            before = (f" {b['update_ms_p50']} / {b['update_ms_max']} | {b['figure_bytes_p50']:,} |" if b else " – | – |") if ref else ""
            lines.append(f"| {lesson} | {s['section']} | {s['control']} | {s['label'].replace('|', chr(92) + '|')} | "
                         f"{s['update_ms_p50']} | {s['update_ms_max']} | {s['figure_bytes_p50']:,} | "
                         f"{s['figure_bytes_max']:,} | {s['other_bytes_p50']:,} | {s['figures_per_press']} | {msgs} | {keys} |"
                         + before)
    (out / "redraw_cost.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def export(ref: str) -> Path:
    """git `ref`'s widgets/ in a folder of its own (`git archive`: the working tree is not touched)."""
    import subprocess
    import tempfile

    tmp = Path(tempfile.mkdtemp())
    arch = subprocess.run(["git", "archive", ref, "widgets"], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tmp)], input=arch, check=True)
    return tmp


def measure_ref(tree: Path, lesson: str, moves: int, smoke: bool) -> list[dict]:
    """This script over `tree`'s widgets (first on PYTHONPATH), for one lesson: its rows."""
    import subprocess

    out = tree / f"out-{lesson}"
    cmd = [sys.executable, __file__, "--out", str(out), "--moves", str(moves), "--lessons", lesson] + (
        ["--smoke"] if smoke else [])
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(tree)))
    if not (out / "redraw_cost.json").exists():
        raise RuntimeError(f"{ref_name(tree)} {lesson}: no report\n{proc.stderr[-2000:]}")
    return json.loads((out / "redraw_cost.json").read_text())["lessons"][lesson]


def ref_name(tree: Path) -> str:
    return f"the ref's code in {tree}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lessons", help="comma-separated lessons, by number or name (default: 1-4)")
    ap.add_argument("--moves", type=int, default=6, help="presses per slider")
    ap.add_argument("--smoke", action="store_true", help="lesson 1's first two sliders, 3 presses")
    ap.add_argument("--ref", help="also measure this git ref's code (or a folder holding widgets/), in the same "
                                  "run (before/after)")
    ap.add_argument("--ref-note", help="what --ref is, in the report (e.g. for a folder)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    args = ap.parse_args()
    lessons = LESSONS[:1] if args.smoke else [
        n for n in LESSONS if not args.lessons or any(
            w.strip() in (n, n[:2], n[:2].lstrip("0")) for w in args.lessons.split(","))]
    moves = 3 if args.smoke else args.moves
    load = lambda: [round(x, 2) for x in os.getloadavg()]  # noqa: E731
    r = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
         "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
         "load_average_start": load(), "moves": moves, "smoke": args.smoke, "lessons": {}}
    wire, tree = Wire(), None
    if args.ref:      # a folder holding widgets/ is used as it is (e.g. this tree with some files put back)
        tree = Path(args.ref) if Path(args.ref).is_dir() else export(args.ref)
    if args.ref:
        r["ref"], r["ref_report"] = args.ref, {"load_average_start": load(), "lessons": {}}
        r["ref_note"] = args.ref_note
    for k, lesson in enumerate(lessons):        # lesson by lesson, ref and this tree in alternating order
        for which in (("ref", "now") if k % 2 == 0 else ("now", "ref")):
            if which == "now":
                r["lessons"][lesson] = lesson_rows(lesson, moves, wire, args.smoke)
            elif tree is not None:
                r["ref_report"]["lessons"][lesson] = measure_ref(tree, lesson, moves, args.smoke)
    r["load_average_end"] = load()
    write(r, Path(args.out))
    sys.stdout.flush()
    # lessons 3 and 4 start torch's worker threads, whose teardown can abort the interpreter's exit
    # ("terminate called without an active exception") after the report is written: exit at once
    os._exit(0)


if __name__ == "__main__":
    main()
