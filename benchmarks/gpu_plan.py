"""The plan for the first GPU run: what lesson 5's CIFAR-10 model should cost on an H100, computed from
the FLOP counts, and (on a CUDA machine) the measurement to hold against it.

    python benchmarks/gpu_plan.py            # on a CUDA machine: measure (train_throughput.py, batch 512,
                                             # 32x32, with torch.compile rows) and write it beside the estimate
    python benchmarks/gpu_plan.py            # on a CPU: writes the estimate only
    python benchmarks/gpu_plan.py --smoke --out DIR

The estimate, a chain of named quantities (nanoGPT's estimate_mfu style):
  forward FLOPs per image  widgets.flops.count_flops (torch's FlopCounterMode) on the lesson's GPU model
                           (lesson_default("cifar10"): width 1, 32x32, small-input stem, BN, aux heads),
                           in training mode (aux heads counted), on the meta device (nothing computed)
  FLOPs per step           3 x forward x batch (backward = 2 x forward: a gradient for the inputs and one
                           for the weights of every layer; tests/test_accel.py checks it against a counted
                           forward + backward step)
  ms per step              FLOPs per step / (MFU x peak), at the goal's MFU of 30% of the H100's dense
                           bf16 peak, 989 TFLOP/s (NVIDIA's H100 SXM data sheet; train_throughput's table)
  CIFAR-10 epoch           50,000 // batch steps (the engine drops the last partial batch) plus one pass of
                           the 10,000 test images (eval mode: aux heads off) at the same MFU
Writes benchmarks/results/gpu_plan.{json,md}; the README quotes the Markdown's numbers (a test checks).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import torch  # noqa: E402

from widgets import train as T  # noqa: E402
from widgets.flops import count_flops  # noqa: E402

H100_BF16_DENSE_TFLOPS = 989.0
TARGET_MFU = 0.30
CIFAR10_TRAIN, CIFAR10_TEST = 50_000, 10_000
BATCHES = (512, 256)  # the benchmark's batch (>= 512, the MFU goal's) and the lesson's CIFAR-10 default


def forward_flops_per_image(config: T.TrainConfig, training: bool) -> int:
    """FLOPs of one image's forward pass, counted by FlopCounterMode on the meta device (batch 2:
    BatchNorm in training mode needs two images; the count is halved)."""
    with torch.device("meta"):
        model = T.build_model(config, 3, 10).train(training)
        x = torch.zeros(2, 3, config.image_size, config.image_size)
    return count_flops(model, x) // 2


def estimate(config: T.TrainConfig, batch: int, peak_tflops: float = H100_BF16_DENSE_TFLOPS,
             mfu: float = TARGET_MFU) -> dict:
    """The expected cost of `config` at `batch` on a GPU of `peak_tflops` running at `mfu`."""
    fwd_train = forward_flops_per_image(config, training=True)
    fwd_eval = forward_flops_per_image(config, training=False)
    step_flops = 3 * fwd_train * batch
    flops_per_s = mfu * peak_tflops * 1e12
    ms_per_step = step_flops / flops_per_s * 1e3
    steps = CIFAR10_TRAIN // batch
    test_s = CIFAR10_TEST * fwd_eval / flops_per_s
    return {"batch_size": batch, "image_size": config.image_size, "width": config.width,
            "forward_flops_per_image_train": fwd_train, "forward_flops_per_image_eval": fwd_eval,
            "flops_per_step": step_flops, "peak_tflops": peak_tflops, "mfu": mfu, "ms_per_step": ms_per_step,
            "images_per_s": batch / (ms_per_step / 1e3), "steps_per_epoch": steps,
            "epoch_train_s": steps * ms_per_step / 1e3, "epoch_test_s": test_s,
            "epoch_s": steps * ms_per_step / 1e3 + test_s}


def estimate_line(e: dict) -> str:
    """The estimate in one line (the Markdown's and the README's words)."""
    return (f"batch {e['batch_size']}, {e['image_size']}x{e['image_size']}, width {e['width']:g}: "
            f"{e['flops_per_step'] / 1e9:,.1f} GFLOP per step; at {100 * e['mfu']:.0f}% MFU of "
            f"{e['peak_tflops']:.0f} TFLOP/s: {e['ms_per_step']:.2f} ms per step, "
            f"{e['images_per_s']:,.0f} images/s, CIFAR-10 epoch {e['epoch_s']:.2f} s "
            f"({e['steps_per_epoch']} steps {e['epoch_train_s']:.2f} s + test pass {e['epoch_test_s']:.3f} s)")


def measure(out: Path, smoke: bool) -> dict | None:
    """On CUDA: train_throughput.py at batch 512, 32x32, with the compiled rows; its report. None elsewhere."""
    if not torch.cuda.is_available() or smoke:
        return None
    import train_throughput

    train_throughput.main(["--batch-size", "512", "--image-size", "32", "--compile", "--out", str(out)])
    return json.loads((out / "train_throughput.json").read_text())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true", help="estimate only, into --out (CI checks the script)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    lesson = T.lesson_default("cifar10")
    rows = [estimate(dataclasses.replace(lesson, batch_size=b), b) for b in BATCHES]
    measured = measure(out, args.smoke)
    report = {"benchmark": "gpu_plan", "machine": T.machine_info(), "model": lesson.label(),
              "source_of_peak": "NVIDIA H100 SXM data sheet, dense bf16 tensor-core peak",
              "estimate": rows, "measured": measured,
              "command": "python benchmarks/gpu_plan.py  (on a CUDA machine with torchvision installed)"}
    (out / "gpu_plan.json").write_text(json.dumps(report, indent=1))
    lines = ["# The first GPU run: estimate" + (" and measurement" if measured else ""), "",
             f"- date: {report['machine']['date']}; computed on: {report['machine']['device_reason']}",
             f"- model: GoogLeNet {report['model']} (lesson_default('cifar10'))", ""]
    lines += [f"- {estimate_line(e)}" for e in rows]
    if measured:
        lines += ["", "Measured (train_throughput.md):", ""]
        lines += [f"- {r['name']}: {r.get('ms_per_step', float('nan')):.2f} ms per step, MFU "
                  f"{100 * (r.get('mfu') or 0):.1f}%" for r in measured["rows"] if "ms_per_step" in r]
    else:
        lines += ["", "Not measured: no CUDA GPU here (the estimate is all this machine can give)."]
    (out / "gpu_plan.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
