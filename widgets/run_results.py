"""What lesson 5 says about measured runs, read from the files the measurements wrote. No UI code.

Times, accuracies, load averages and throughputs are never typed into the lesson's prose: they
change with the machine and the day. The page reads them here, from `benchmarks/results/*.json`
(written by `benchmarks/cpu_default.py`, `train_throughput.py`, `watch_cost.py`) and from the
shipped recording (a checked `history.History`), and each function returns plain sentences that
quote the file, with the date and the load it was measured at. A missing or malformed file gives
a sentence saying so, never a number from elsewhere.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from widgets.history import History

RESULTS_DIR = Path(__file__).resolve().parents[1] / "benchmarks" / "results"


def read_result(name: str, directory: Path | None = None) -> dict | None:
    """benchmarks/results/<name>.json as a dict, or None when it is absent or not a JSON object."""
    try:
        d = json.loads(((directory or RESULTS_DIR) / f"{name}.json").read_text())
    except (OSError, ValueError):
        return None
    return d if isinstance(d, dict) else None


def missing(name: str) -> str:
    return f"No measurement: benchmarks/results/{name}.json is not here (python benchmarks/{name}.py writes it)."


def _num(v) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None


def _load(v) -> float | None:
    """The 1-minute load average of a [1, 5, 15] list."""
    return _num(v[0]) if isinstance(v, list) and v else None


def _machine(result: dict) -> str:
    """Where and when: date, cores, torch, and the load average when the measurement began."""
    m = result.get("machine") if isinstance(result.get("machine"), dict) else {}
    load = _load(m.get("load_average_1_5_15min"))
    return (f"{m.get('date', 'undated')}, {m.get('cpu_count', '?')} cores, torch {m.get('torch', '?')}, "
            + (f"load average {load:.2f} at the start" if load is not None else "load not recorded"))


# --------------------------------------------------------------------------- the CPU default
@dataclass(frozen=True)
class CpuRun:
    threads: int
    seconds: float
    top1: float
    epoch_97: int | None
    seconds_97: float | None
    load_before: float | None


def cpu_runs(result: dict | None) -> list[CpuRun]:
    """The runs of benchmarks/results/cpu_default.json with every number they need (others skipped)."""
    runs, rows = [], (result or {}).get("runs")
    for r in rows if isinstance(rows, list) else []:
        if not isinstance(r, dict):
            continue
        threads, seconds, top1 = _num(r.get("threads")), _num(r.get("seconds")), _num(r.get("final_test_top1"))
        if threads is None or seconds is None or top1 is None:
            continue
        e97 = _num(r.get("first_epoch_at_97"))
        runs.append(CpuRun(int(threads), seconds, top1, int(e97) if e97 is not None else None,
                           _num(r.get("seconds_to_97")), _load(r.get("load_average_before"))))
    return runs


def cores(result: dict | None) -> int | None:
    c = _num(((result or {}).get("machine") or {}).get("cpu_count"))
    return int(c) if c else None


def busy(load: float | None, n_cores: int | None) -> bool:
    """The engine's rule for a busy CPU (widgets.train.suggest_threads): load >= cores - 0.5."""
    return load is not None and n_cores is not None and load >= n_cores - 0.5


def banner_timing(result: dict | None) -> str:
    """One clause for the device banner: how long the default took when it was measured."""
    runs = cpu_runs(result)
    if not runs:
        return ""
    best = min(runs, key=lambda r: r.seconds)
    return (f"measured on a {cores(result) or '?'}-core CPU ({(result.get('machine') or {}).get('date', 'undated')}), "
            f"a run took {best.seconds:.1f} s with {best.threads} thread{'s' if best.threads != 1 else ''}")


def cpu_default_sentences(result: dict | None) -> list[str]:
    """The CPU default as measured: one sentence per run, then what the thread counts compare."""
    runs = cpu_runs(result)
    if not runs:
        return [missing("cpu_default")]
    out = [f"Measured by benchmarks/cpu_default.py ({_machine(result)}):"]
    for r in runs:
        reach = (f"97% first reached after epoch {r.epoch_97} ({r.seconds_97:.2f} s)" if r.epoch_97 is not None
                 and r.seconds_97 is not None else "97% not reached")
        load = f"load average {r.load_before:.2f} before the run" if r.load_before is not None else "load not recorded"
        out.append(f"{r.threads} thread{'s' if r.threads != 1 else ''}: final test top-1 {r.top1:.2%} in "
                   f"{r.seconds:.2f} s; {reach}; {load}.")
    out += thread_verdict(runs, cores(result))
    return out


def thread_verdict(runs: list[CpuRun], n_cores: int | None) -> list[str]:
    """What the runs say about one thread against several, and what they cannot say."""
    by_threads = {}
    for r in runs:
        if r.threads not in by_threads or r.seconds < by_threads[r.threads].seconds:
            by_threads[r.threads] = r
    out = []
    if len(by_threads) >= 2:
        fast = min(by_threads.values(), key=lambda r: r.seconds)
        slow = max(by_threads.values(), key=lambda r: r.seconds)
        out.append(f"{fast.threads} thread{'s were' if fast.threads != 1 else ' was'} {slow.seconds / fast.seconds:.2f}"
                   f" times as fast as {slow.threads}.")
    if n_cores and not any(busy(r.load_before, n_cores) for r in runs):
        out.append(f"The machine was not busy during these runs (load average under {n_cores - 0.5:g}, the engine's "
                   f"mark of a busy {n_cores}-core machine), so they do not show how threads compare when other "
                   "work competes for the cores.")
    return out


# --------------------------------------------------------------------------- the other benchmarks
def throughput_sentences(result: dict | None) -> list[str]:
    if result is None or not isinstance(result.get("rows"), list):
        return [missing("train_throughput")]
    out = [f"Training throughput, batch {result.get('batch_size', '?')}, {result.get('image_size', '?')}x"
           f"{result.get('image_size', '?')} inputs ({_machine(result)}):"]
    for r in result["rows"]:
        if not isinstance(r, dict):
            continue
        name = str(r.get("name", "?"))
        ips, ms = _num(r.get("images_per_s")), _num(r.get("ms_per_step"))
        if r.get("skipped"):  # the reason without the exception's class name
            out.append(f"{name}: skipped ({str(r['skipped']).split(' (')[0]}).")
        elif ips is not None and ms is not None:
            out.append(f"{name}: {ips:,.0f} images/s ({ms:,.0f} ms a step).")
    return out


def watch_sentences(result: dict | None) -> list[str]:
    w, u = (_num((result or {}).get(k)) for k in ("median_epoch_s_watched", "median_epoch_s_unwatched"))
    share = _num((result or {}).get("callback_share_of_run"))
    if w is None or u is None or share is None:
        return [missing("watch_cost")]
    return [f"The cost of watching ({_machine(result)}): median epoch {w:.3f} s with the live charts, {u:.3f} s "
            f"without ({w / u - 1:+.1%}); the page's callback took {share:.2%} of the run."]


# --------------------------------------------------------------------------- the shipped recording
def loss_sentences(h: History) -> list[str]:
    """The recorded run's first batch loss and its test loss and accuracy after each epoch."""
    steps = [e for e in h.events if e["event"] == "step"]
    epochs = [e for e in h.events if e["event"] == "epoch"]
    out = []
    if steps:
        out.append(f"In the recorded run the batch loss of step {steps[0]['step']} was {steps[0]['main_loss']:.2f}.")
    if epochs:
        each = "; ".join(f"epoch {e['epoch']}: {_loss(e['test_loss'])} ({e['test_top1']:.1%})" for e in epochs)
        out.append(f"Its test loss (and test top-1) after each epoch: {each}.")
    return out


def _loss(v: float) -> str:
    return f"{v:,.0f}" if v >= 100 else f"{v:.3g}"


def crop_sentences(h: History) -> list[str]:
    """The recorded run's multi-crop rows, and whether more views helped it."""
    if not h.crops:
        return ["The recorded run has no multi-crop evaluation."]
    rows = ", ".join(f"{r['crops']} view{'s' if r['crops'] != 1 else ''}: top-1 {r['top1']:.2%} at "
                     f"{r['flops_per_image'] / 1e6:,.1f} MFLOPs an image" for r in h.crops)
    out = [f"In the recorded run: {rows}."]
    one = next((r for r in h.crops if r["crops"] == 1), None)
    many = max(h.crops, key=lambda r: r["crops"])
    if one is not None and many["crops"] > 1:
        verb = "better than" if many["top1"] > one["top1"] else "worse than" if many["top1"] < one["top1"] else "the same as"
        out.append(f"Here the {many['crops']}-view average was {verb} the single view.")
    return out
