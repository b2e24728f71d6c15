"""Benchmark 1: training throughput (images/s) of our step against torchvision's GoogLeNet,
and the model FLOP utilisation (MFU) against the GPU's bf16 dense peak.

    python benchmarks/train_throughput.py                       # batch 512, 32x32, on CUDA if present
    python benchmarks/train_throughput.py --compile             # also with torch.compile
    python benchmarks/train_throughput.py --smoke               # seconds, on the CPU: CI checks the script

Rows, all at the same batch size and resolution, in the same process:
* torchvision.models.googlenet: eager, fp32, NCHW, aux heads off, batch from memory (only where
  torchvision is importable: it is on the GPU machines, never on the CPU ones).
* ours, same architecture (ImageNet stem, BN, aux heads off): bf16 autocast + channels_last on CUDA,
  data resident on the device, random-sized crops + flips done on the device inside the step.
* ours, the lesson's CIFAR model (small-input stem, BN, aux heads on, weight 0.3).
FLOPs per training step are counted by torch.utils.flop_counter.FlopCounterMode on one real step
(forward + backward); MFU = counted FLOPs/s / the GPU's dense bf16 peak (table below, from the
vendors' data sheets). Goals: ours >= 2x torchvision's eager step; MFU >= 30% at batch >= 512 on 32x32.
Writes benchmarks/results/train_throughput.{json,md} (smoke: benchmarks/results/tmp/).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

from widgets import data as D  # noqa: E402
from widgets import train as T  # noqa: E402
from widgets.googlenet import GoogLeNet  # noqa: E402

# Dense (no sparsity) bf16 tensor-core peaks, TFLOP/s, from NVIDIA's data sheets.
BF16_PEAK_TFLOPS = {"H100 SXM": 989.0, "H100 NVL": 835.0, "H100 PCIe": 756.0, "H100": 989.0, "H200": 989.0,
                    "GH200": 989.0, "A100": 312.0, "L40S": 362.0, "L4": 121.0, "A10": 125.0}


def bf16_peak(name: str) -> float | None:
    for key in sorted(BF16_PEAK_TFLOPS, key=len, reverse=True):
        if key.lower() in name.lower():
            return BF16_PEAK_TFLOPS[key] * 1e12
    return None


sync = T.synchronize  # waits for CUDA's queued kernels; nothing elsewhere (widgets.train_device)


def step_flops(fn) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        fn()
    return int(counter.get_total_flops())


def time_steps(fn, device, warmup: int, steps: int) -> float:
    for _ in range(warmup):
        fn()
    sync(device)
    t0 = time.perf_counter()
    for _ in range(steps):
        fn()
    sync(device)
    return (time.perf_counter() - t0) / steps


def torchvision_row(batch, size, device, warmup, steps):
    try:
        import torchvision
    except Exception as exc:  # noqa: BLE001 - absent on CPU machines
        return {"name": "torchvision googlenet (eager fp32 NCHW, no aux)", "skipped": f"torchvision not importable ({exc.__class__.__name__})"}
    model = torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=True, num_classes=10).to(device)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(batch, 3, size, size, device=device)
    y = torch.randint(0, 10, (batch,), device=device)

    def step():
        out = model(x)
        out = out.logits if hasattr(out, "logits") else out
        loss = nn.functional.cross_entropy(out, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    flops = step_flops(step)
    dt = time_steps(step, device, warmup, steps)
    return {"name": "torchvision googlenet (eager fp32 NCHW, no aux)", "images_per_s": batch / dt,
            "ms_per_step": dt * 1e3, "flops_per_step": flops, "torchvision": torchvision.__version__}


def ours_row(name, cfg: T.TrainConfig, batch, size, device, warmup, steps, compile_: bool):
    cfg = T.resolve_accel(cfg, device.type)  # unset options: the device's defaults (all on for CUDA)
    bf16, cl = cfg.bf16, cfg.channels_last
    # a CIFAR-shaped data set resident on the device (uint8, as the real one is kept)
    n = max(4 * batch, 2048)
    g = torch.Generator().manual_seed(0)
    data = D.ImageData("synthetic", [str(i) for i in range(10)],
                       torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=g),
                       torch.randint(0, 10, (n,), generator=g), torch.zeros(1, 3, 32, 32, dtype=torch.uint8),
                       torch.zeros(1, dtype=torch.long), D.CIFAR10_MEAN, D.CIFAR10_STD, "random bytes").to(device)
    model = T.build_model(cfg, 3, 10).to(device)
    if cl:
        model = model.to(memory_format=torch.channels_last)
    model.train()
    step_model = torch.compile(model) if compile_ else model
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=cfg.weight_decay)
    gen = torch.Generator(device=device).manual_seed(0)
    cfg = dataclasses.replace(cfg, image_size=size, batch_size=batch)

    def step():
        idx = torch.randint(0, n, (batch,), device=device, generator=gen)
        xb, yb = T.make_batch(cfg, data, data.x_train, data.y_train, None, idx, gen, cl)
        T.train_step(step_model, opt, xb, yb, bf16)

    flops = step_flops(lambda: T.train_step(model, opt, *T.make_batch(
        cfg, data, data.x_train, data.y_train, None, torch.arange(batch, device=device), gen, cl), bf16))
    dt = time_steps(step, device, warmup, steps)
    return {"name": name + (" + torch.compile" if compile_ else ""), "images_per_s": batch / dt,
            "ms_per_step": dt * 1e3, "flops_per_step": flops,
            "precision": "bf16 autocast" if bf16 else "fp32", "layout": "channels_last" if cl else "NCHW"}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch-size", type=int, default=512)
    ap.add_argument("--image-size", type=int, default=32)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--device", default="auto", choices=T.DEVICES)
    ap.add_argument("--compile", action="store_true", help="add rows with torch.compile")
    ap.add_argument("--threads", type=int, default=None, help="CPU threads")
    ap.add_argument("--smoke", action="store_true", help="batch 8, 2 steps: checks the script, measures nothing")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.smoke:
        args.batch_size, args.steps, args.warmup = 8, 2, 1
    device, reason = T.select_device(args.device)
    T.claim_gpu(device)  # cuDNN autotuning and TF32 on CUDA, as the engine has them
    info = T.machine_info(device)
    b, s = args.batch_size, args.image_size
    same = T.TrainConfig(dataset="cifar10", width=1.0, image_size=s, small_input=False, bn=True, aux=False,
                         augment=True, flip=True, crop_min_area=0.08)
    lesson = dataclasses.replace(T.lesson_default("cifar10"), image_size=s)
    rows = [torchvision_row(b, s, device, args.warmup, args.steps)]
    for compile_ in ([False, True] if args.compile else [False]):
        rows.append(ours_row("ours, same architecture (ImageNet stem, BN, no aux)", same, b, s, device,
                             args.warmup, args.steps, compile_))
        rows.append(ours_row("ours, lesson CIFAR model (small-input stem, BN, aux 0.3)", lesson, b, s, device,
                             args.warmup, args.steps, compile_))
    peak = bf16_peak(info.get("gpu", "")) if device.type == "cuda" else None
    for r in rows:
        if "images_per_s" in r:
            r["achieved_tflops"] = r["flops_per_step"] / (r["ms_per_step"] / 1e3) / 1e12
            r["mfu"] = (r["achieved_tflops"] * 1e12 / peak) if peak else None
    tv = rows[0].get("images_per_s")
    for r in rows[1:]:
        r["speedup_vs_torchvision"] = (r["images_per_s"] / tv) if tv else None
    report = {"benchmark": "train_throughput", "smoke": args.smoke, "machine": info, "device_reason": reason,
              "batch_size": b, "image_size": s, "steps": args.steps, "bf16_peak_tflops": peak / 1e12 if peak else None,
              "goals": "ours >= 2x torchvision eager; MFU >= 30% at batch >= 512, 32x32", "rows": rows}
    out = Path(args.out) / ("tmp" if args.smoke else "")
    out.mkdir(parents=True, exist_ok=True)
    (out / "train_throughput.json").write_text(json.dumps(report, indent=1))
    lines = [f"# Training throughput, batch {b}, {s}x{s} inputs", "",
             f"- date: {info['date']}; device: {reason}; torch {info['torch']}; load average {info.get('load_average_1_5_15min')}",
             f"- bf16 dense peak: {f'{peak / 1e12:.0f} TFLOP/s' if peak else 'n/a (not a known CUDA GPU: no MFU)'}",
             f"- goals: {report['goals']}", "",
             "| step | images/s | ms/step | GFLOP/step (counted) | TFLOP/s | MFU | vs torchvision |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        if "skipped" in r:
            lines.append(f"| {r['name']} | skipped: {r['skipped']} | | | | | |")
            continue
        mfu = f"{100 * r['mfu']:.1f}%" if r.get("mfu") else "n/a"
        sp = f"{r['speedup_vs_torchvision']:.2f}x" if r.get("speedup_vs_torchvision") else "n/a"
        lines.append(f"| {r['name']} | {r['images_per_s']:,.0f} | {r['ms_per_step']:.1f} | {r['flops_per_step'] / 1e9:,.1f} | "
                     f"{r['achieved_tflops']:.2f} | {mfu} | {sp} |")
    (out / "train_throughput.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
