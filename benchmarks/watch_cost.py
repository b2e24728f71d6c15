"""Benchmark 3: the cost of watching. Epoch time of the lesson's default run with the dashboard's
live updates (its real callback: events kept, charts redrawn at most 4x/s through ui.Throttle)
against the same run with no callback. Goal: at most 5% slower.

    python benchmarks/watch_cost.py             # lesson default, 3 pairs of runs, 2 threads
    python benchmarks/watch_cost.py --smoke     # seconds: checks the script

The dashboard is built headless (no browser attached), so this measures the kernel's side:
building the events, the plotly trace updates and the widget messages' serialisation. Runs
alternate (watched, unwatched, watched, ...) so that a change in the machine's load hits both.
Also reported: the time spent inside the callback itself, which the machine's load barely moves.
Writes benchmarks/results/watch_cost.{json,md} (smoke: benchmarks/results/tmp/).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from widgets import data as D  # noqa: E402
from widgets import train as T  # noqa: E402
from widgets.views.live_training import LiveTraining  # noqa: E402


def epoch_times(result: T.TrainResult) -> list[float]:
    return [e["epoch_seconds"] for e in result.history if e["event"] == "epoch"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=3, help="pairs of runs (watched, unwatched)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    cfg = dataclasses.replace(T.lesson_default("digits"), threads=args.threads)
    if args.smoke:
        cfg = dataclasses.replace(cfg, width=0.0625, epochs=2, train_subset=256)
        args.pairs = 1
    data = D.load_digits_data()
    page = LiveTraining()  # the dashboard, headless
    info = T.machine_info()
    rows = []
    for k in range(args.pairs):
        for watched in (True, False):
            inside = [0.0, 0]
            cb = None
            if watched:
                run = page.charts.new_run(cfg.label(), 1)
                real = page.event_callback(run, "", page.task._progress)   # the page's own callback

                def cb(ev, real=real):
                    t0 = time.perf_counter()
                    real(ev)
                    inside[0] += time.perf_counter() - t0
                    inside[1] += 1

            result = T.train(cfg, cb, data=data)
            if watched:
                page.throttle.flush()
            et = epoch_times(result)
            rows.append({"pair": k + 1, "watched": watched, "epoch_seconds": [round(x, 3) for x in et],
                         "median_epoch_s": statistics.median(et[1:] or et), "callback_s": round(inside[0], 4),
                         "callback_calls": inside[1], "run_s": round(result.seconds, 2),
                         "load_after": [round(v, 2) for v in os.getloadavg()]})
            print(json.dumps(rows[-1]), flush=True)
    w = statistics.median([r["median_epoch_s"] for r in rows if r["watched"]])
    u = statistics.median([r["median_epoch_s"] for r in rows if not r["watched"]])
    cb_share = statistics.median([r["callback_s"] / r["run_s"] for r in rows if r["watched"]])
    overhead = w / u - 1
    report = {"benchmark": "watch_cost", "smoke": args.smoke, "machine": info, "config": cfg.to_dict(),
              "median_epoch_s_watched": w, "median_epoch_s_unwatched": u, "overhead": overhead,
              "callback_share_of_run": cb_share, "goal": "at most 5% slower", "goal_met": overhead <= 0.05,
              "rows": rows}
    out = Path(args.out) / ("tmp" if args.smoke else "")
    out.mkdir(parents=True, exist_ok=True)
    (out / "watch_cost.json").write_text(json.dumps(report, indent=1))
    lines = ["# The cost of watching: live dashboard updates vs none", "",
             f"- date: {info['date']}; device: {info['device_reason']}; {args.threads} threads; "
             f"load average before {info.get('load_average_1_5_15min')}",
             f"- run: {cfg.label()}, {cfg.epochs} epochs; {args.pairs} pair(s), alternating",
             f"- median epoch time: watched {w:.3f} s, unwatched {u:.3f} s -> **{100 * overhead:+.1f}%** "
             f"(goal: at most +5%: {'met' if overhead <= 0.05 else 'NOT met'})",
             f"- time inside the dashboard's callback: {100 * cb_share:.2f}% of the run "
             "(the direct cost on the kernel side; the wall-clock comparison above is only meaningful on a quiet machine: compare the load averages)", "",
             "| pair | watched | epoch seconds | callback s (calls) | run s |", "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['pair']} | {'yes' if r['watched'] else 'no'} | {r['epoch_seconds']} | "
                     f"{r['callback_s']} ({r['callback_calls']}) | {r['run_s']} |")
    (out / "watch_cost.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
