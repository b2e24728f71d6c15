"""Benchmark 2: the lesson's CPU default on digits. Goal: >= 97% test accuracy in <= 30 s on 2 cores.

    python benchmarks/cpu_default.py                 # the lesson default, 2 threads
    python benchmarks/cpu_default.py --record widgets/recordings/replay_cpu_digits.json
    python benchmarks/cpu_default.py --smoke         # seconds; CI checks the script runs

Times the whole `train()` call (model build, training, per-epoch test evaluation, BN refresh of
the averaged model, final evaluation); the data set is loaded before the clock starts (it is
embedded, 0.1 s). The machine's load average is recorded beside the time: on a shared machine
the same run is slower when other processes want the cores.
Writes benchmarks/results/cpu_default.{json,md} (smoke: benchmarks/results/tmp/).
"""
from __future__ import annotations

import argparse
import os
import dataclasses
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from widgets import data as D  # noqa: E402
from widgets import train as T  # noqa: E402

GOAL_ACC, GOAL_SECONDS = 0.97, 30.0


def run_once(cfg: T.TrainConfig, data: D.ImageData) -> tuple[T.TrainResult, dict]:
    t0 = time.perf_counter()
    result = T.train(cfg, data=data)
    wall = time.perf_counter() - t0
    epochs = [e for e in result.history if e["event"] == "epoch"]
    reach = next((e for e in epochs if e["test_top1"] >= GOAL_ACC), None)
    return result, {
        "seconds": round(wall, 2),
        "final_test_top1": result.final.get("test_top1"),
        "final_test_top5": result.final.get("test_top5"),
        "raw_test_top1": result.final.get("raw_test_top1"),
        "first_epoch_at_97": reach["epoch"] if reach else None,
        "seconds_to_97": round(reach["elapsed"], 2) if reach else None,
        "per_epoch_test_top1": [round(e["test_top1"], 4) for e in epochs],
        "per_epoch_seconds": [round(e["epoch_seconds"], 2) for e in epochs],
        "mean_images_per_s": round(result.final.get("images_per_s", float("nan")), 1),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, nargs="+", default=[2, 1],
                    help="torch CPU threads, one run series each (default: 2 then 1; on a loaded 2-core machine "
                         "one thread can beat two, whose threads wait on each other)")
    ap.add_argument("--repeats", type=int, default=1, help="runs with the same seed (timing spread)")
    ap.add_argument("--smoke", action="store_true", help="tiny run: checks the script, measures nothing")
    ap.add_argument("--record", help="also write the run's history JSON here (for the dashboard's replay)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    args = ap.parse_args(argv)

    data = D.load_digits_data()
    info = T.machine_info("cpu")
    runs, last, last_threads = [], None, None
    for threads in args.threads:
        torch.set_num_threads(threads)
        cfg = dataclasses.replace(T.lesson_default("digits"), threads=threads, device="cpu")
        if args.smoke:
            cfg = dataclasses.replace(cfg, width=0.0625, epochs=1, train_subset=256)
        for _ in range(max(1, args.repeats)):
            load_before = [round(v, 2) for v in os.getloadavg()]
            result, row = run_once(cfg, data)
            row.update(threads=threads, load_average_before=load_before,
                       load_average_after=[round(v, 2) for v in os.getloadavg()])
            runs.append(row)
            print(json.dumps(row), flush=True)
            if last is None or row["seconds"] <= min(r["seconds"] for r in runs):
                last, last_threads = result, threads
    best = min(runs, key=lambda r: r["seconds"])
    cfg = dataclasses.replace(cfg, threads=best["threads"])
    ok = (best["final_test_top1"] or 0) >= GOAL_ACC and best["seconds"] <= GOAL_SECONDS
    report = {"benchmark": "cpu_default", "smoke": args.smoke, "machine": info, "config": cfg.to_dict(),
              "threads_tried": args.threads,
              "goal": f"test top-1 >= {GOAL_ACC} in <= {GOAL_SECONDS:.0f} s on 2 cores", "goal_met": ok,
              "runs": runs}
    out = Path(args.out) / ("tmp" if args.smoke else "")
    out.mkdir(parents=True, exist_ok=True)
    (out / "cpu_default.json").write_text(json.dumps(report, indent=1))
    lines = [
        "# CPU default: digits, GoogLeNet small-input stem, width 1/4, BN, aux heads, averaging",
        "",
        f"- date: {info['date']}; device: {info['device']} ({info['processor']}, {info['cpu_count']} cores visible); "
        f"torch {info['torch']}",
        f"- load average before (1/5/15 min): {info.get('load_average_1_5_15min')}",
        f"- settings: {cfg.label()}, {cfg.epochs} epochs, batch {cfg.batch_size}, {cfg.image_size}x{cfg.image_size} inputs",
        f"- goal: {report['goal']} -> **{'met' if ok else 'NOT met'}** (best of {len(runs)} run(s))",
        "",
        "| run | threads | seconds | final top-1 | top-5 | first epoch >= 97% | s to 97% | img/s | load before | load after |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for i, r in enumerate(runs, 1):
        lines.append(f"| {i} | {r['threads']} | {r['seconds']} | {r['final_test_top1']:.4f} | {r['final_test_top5']:.4f} | "
                     f"{r['first_epoch_at_97']} | {r['seconds_to_97']} | {r['mean_images_per_s']} | "
                     f"{r['load_average_before']} | {r['load_average_after']} |")
    lines += ["", "Load average: processes wanting a core, over 1/5/15 minutes; this machine has "
              f"{info['cpu_count']} cores, so above {info['cpu_count']} other work was competing for them.",
              "", f"Per-epoch test top-1 (fastest run): {best['per_epoch_test_top1']}",
              f"Per-epoch seconds (fastest run): {best['per_epoch_seconds']}"]
    (out / "cpu_default.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    if args.record:
        crops = T.evaluate_crops(last.model, data, cfg) if last.model is not None else []
        T.save_history(last, args.record, note=(f"Lesson CPU default, recorded by benchmarks/cpu_default.py with "
                                                f"{last_threads} thread(s) on a shared 2-core machine; load average "
                                                f"before {info.get('load_average_1_5_15min')}. No GPU was available "
                                                f"for this recording."),
                       extras={"crops": crops, "machine": info})
        print(f"history written to {args.record}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
