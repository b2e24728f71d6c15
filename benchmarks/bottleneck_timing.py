"""Benchmark: the clock against the count for lesson 3's bottleneck (the notes' 28×28×192 → 5×5, 32 filters,
16-channel 1×1 bottleneck).

    python benchmarks/bottleneck_timing.py                  # CPU here, or the GPU when there is one
    python benchmarks/bottleneck_timing.py --device cpu --repeats 101 --batch 1 8
    python benchmarks/bottleneck_timing.py --smoke          # seconds; writes into benchmarks/results/tmp/

Times a forward pass of each path (real `nn.Conv2d` modules, no bias, float32, inference mode), alternating
direct and bottleneck within each repeat so both see the same machine load, after warm-up runs; reports every
time, the median and the range, the measured speed-up (ratio of medians) beside the ratio of multiplications,
and PyTorch's FlopCounterMode count for both paths. The machine's load average is recorded: on a shared
machine the same run is slower when other processes want the cores.
Writes benchmarks/results/bottleneck_timing_<device>.{json,md}.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from widgets import bottleneck as B  # noqa: E402


def measure(shape: B.ConvShape, batch: int, repeats: int, warmup: int, device: str, threads: int) -> dict:
    torch.set_num_threads(threads)
    r = B.time_paths(shape, repeats=repeats, warmup=warmup, batch=batch, device=device,
                     max_bytes=8 * 2**30, max_macs=None)
    d, b = B.direct_cost(shape), B.bottleneck_cost(shape)
    return {
        "threads": threads,
        "batch": batch,
        "repeats": repeats,
        "direct_ms": [round(t * 1e3, 4) for t in r.direct.times],
        "bottleneck_ms": [round(t * 1e3, 4) for t in r.bottleneck.times],
        "direct_median_ms": round(r.direct.median * 1e3, 4),
        "bottleneck_median_ms": round(r.bottleneck.median * 1e3, 4),
        "direct_range_ms": [round(x * 1e3, 4) for x in r.direct.spread],
        "bottleneck_range_ms": [round(x * 1e3, 4) for x in r.bottleneck.spread],
        "measured_speedup": round(r.speedup, 3),
        "macs_ratio": round(r.macs_ratio, 3),
        "direct_gmacs_per_s": round(d.macs * batch / r.direct.median / 1e9, 2),
        "bottleneck_gmacs_per_s": round(b.macs * batch / r.bottleneck.median / 1e9, 2),
    }


def markdown(report: dict) -> str:
    s = report["shape"]
    lines = [
        "# Lesson 3: direct 5×5 convolution vs 1×1 bottleneck, timed",
        "",
        f"- date (UTC): {report['date_utc']}",
        f"- device: {report['device_name']} (`{report['device_kind']}`), torch {report['torch']}, "
        f"Python {report['python']}, {report['host_cpus']} CPU(s) on the host",
        f"- load average when started: {report['loadavg_before']}, when done: {report['loadavg_after']}",
        f"- shape: {s['height']}×{s['width']}×{s['ch_in']} → {s['k']}×{s['k']} conv, {s['ch_out']} filters; "
        f"bottleneck ch_red = {s['ch_red']}; 'same' padding, no bias, float32, forward pass in inference mode",
        f"- multiplications per image: direct {report['direct_macs']:,}, bottleneck {report['bottleneck_macs']:,} "
        f"(ratio {report['macs_ratio']:.2f}×)",
        f"- FlopCounterMode: direct {report['flopcounter']['direct_flops']:,} FLOPs, bottleneck "
        f"{report['flopcounter']['bottleneck_flops']:,} FLOPs (= 2 × multiply-adds: "
        f"{'matches' if report['flopcounter']['matches'] else 'DOES NOT MATCH'})",
        *([f"- **the machine was busy** (load average {report['loadavg_before'][0]:.1f} on {report['host_cpus']} CPUs): "
           "other processes took turns on the cores, so the times are inflated and spread out; the medians "
           "are the figures to read, and a quiet machine gives cleaner ones."]
          if report["loadavg_before"][0] > (report["host_cpus"] or 1) else []),
        "",
        "| torch threads | batch | repeats | direct median (range) ms | bottleneck median (range) ms | "
        "measured speed-up | ratio of multiplications | direct GMAC/s | bottleneck GMAC/s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["runs"]:
        lines.append(
            f"| {r['threads']} | {r['batch']} | {r['repeats']} | {r['direct_median_ms']:.3f} ({r['direct_range_ms'][0]:.3f}–"
            f"{r['direct_range_ms'][1]:.3f}) | {r['bottleneck_median_ms']:.3f} ({r['bottleneck_range_ms'][0]:.3f}–"
            f"{r['bottleneck_range_ms'][1]:.3f}) | {r['measured_speedup']:.2f}× | {r['macs_ratio']:.2f}× | "
            f"{r['direct_gmacs_per_s']:.1f} | {r['bottleneck_gmacs_per_s']:.1f} |")
    short = [r for r in report["runs"] if r["measured_speedup"] < r["macs_ratio"]]
    lines += [
        "",
        f"In {len(short)} of {len(report['runs'])} settings the measured speed-up falls short of the ratio of "
        "multiplications. It does when the bottleneck's two thin layers reach fewer multiply-adds per second than "
        "the one big convolution (compare the last two columns): a second layer's fixed cost, the intermediate "
        "tensor written and read back, and short dot products that keep the vector units (and the second thread) "
        "less busy. Where both paths run at the same rate, the clock follows the count. Every individual time is "
        "in the JSON file.",
        "",
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default=B.default_device())
    ap.add_argument("--repeats", type=int, default=51)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--batch", type=int, nargs="+", default=[1, 8])
    ap.add_argument("--threads", type=int, nargs="+", default=sorted({1, torch.get_num_threads()}),
                    help="torch thread counts to try (default: 1 and torch's choice)")
    ap.add_argument("--smoke", action="store_true", help="3 repeats, batch 1, results in benchmarks/results/tmp/")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    if args.smoke:
        args.repeats, args.warmup, args.batch, args.threads = 3, 1, [1], [1]
    out_dir = args.out or (ROOT / "benchmarks" / "results" / ("tmp" if args.smoke else ""))
    out_dir.mkdir(parents=True, exist_ok=True)

    shape = B.ConvShape.notes()
    fc = B.flop_check(shape)
    load_before = os.getloadavg()
    default_threads = torch.get_num_threads()
    runs = [measure(shape, b, args.repeats, args.warmup, args.device, t) for t in args.threads for b in args.batch]
    torch.set_num_threads(default_threads)
    report = {
        "benchmark": "bottleneck_timing",
        "date_utc": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
        "device_kind": args.device,
        "device_name": (torch.cuda.get_device_name(torch.device(args.device)) if args.device.startswith("cuda")
                        else B.device_name("cpu").split(",")[0]),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "host_cpus": os.cpu_count(),
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "shape": B.NOTES_SHAPE,
        "direct_macs": B.direct_cost(shape).macs,
        "bottleneck_macs": B.bottleneck_cost(shape).macs,
        "macs_ratio": B.cost_ratio(shape),
        "flopcounter": {"direct_flops": fc.direct_flops, "bottleneck_flops": fc.bottleneck_flops,
                        "matches": fc.direct_macs == B.direct_cost(shape).macs
                        and fc.bottleneck_macs == B.bottleneck_cost(shape).macs},
        "runs": runs,
    }
    stem = f"bottleneck_timing_{args.device.split(':')[0]}"
    (out_dir / f"{stem}.json").write_text(json.dumps(report, indent=1) + "\n")
    (out_dir / f"{stem}.md").write_text(markdown(report))
    print(markdown(report))
    print(f"wrote {out_dir / stem}.json and .md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
