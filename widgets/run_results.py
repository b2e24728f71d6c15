"""What lesson 5 says about measured runs, read from the files the measurements wrote. No UI code.

Times, accuracies, load averages and throughputs are never typed into the lesson's prose: they
change with the machine and the day. The page reads them here, from `benchmarks/results/*.json`
(written by `benchmarks/cpu_default.py`, `train_throughput.py`, `watch_cost.py`) and from the
shipped recording (a checked `history.History`), and each function returns the sentences that
quote the file, with the date and the load it was measured at. A missing or malformed file gives
a sentence saying so, never a number from elsewhere.

A sentence is a `Said`: (kind, fields). The kind is its key in lesson 5's catalogue
(widgets/views/locales/<lang>/live_training.json, `live.<kind>`); the fields are the numbers it
quotes, text from the file, nested Saids (a phrase) or lists of Saids. The words, in every
language, are the catalogue's; widgets.views.live_training.words.say formats a Said.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from widgets.history import History, Said

RESULTS_DIR = Path(__file__).resolve().parents[1] / "benchmarks" / "results"


def read_result(name: str, directory: Path | None = None) -> dict | None:
    """benchmarks/results/<name>.json as a dict, or None when it is absent or not a JSON object."""
    try:
        d = json.loads(((directory or RESULTS_DIR) / f"{name}.json").read_text())
    except (OSError, ValueError):
        return None
    return d if isinstance(d, dict) else None


def missing(name: str) -> Said:
    return ("missing", {"name": name})


def _num(v) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None


def _load(v) -> float | None:
    """The 1-minute load average of a [1, 5, 15] list."""
    return _num(v[0]) if isinstance(v, list) and v else None


def threads(n: int) -> Said:
    return ("one_thread" if n == 1 else "threads", {"n": n})


def _date(m: dict) -> Said:
    return ("text", {"text": m["date"]}) if "date" in m else ("undated", {})


def _machine(result: dict) -> Said:
    """Where and when: date, cores, torch, and the load average when the measurement began."""
    m = result.get("machine") if isinstance(result.get("machine"), dict) else {}
    load = _load(m.get("load_average_1_5_15min"))
    return ("machine", {"date": _date(m), "cores": m.get("cpu_count", "?"), "torch": m.get("torch", "?"),
                        "load": ("load_start", {"load": load}) if load is not None else ("load_unrecorded", {})})


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
        n, seconds, top1 = _num(r.get("threads")), _num(r.get("seconds")), _num(r.get("final_test_top1"))
        if n is None or seconds is None or top1 is None:
            continue
        e97 = _num(r.get("first_epoch_at_97"))
        runs.append(CpuRun(int(n), seconds, top1, int(e97) if e97 is not None else None,
                           _num(r.get("seconds_to_97")), _load(r.get("load_average_before"))))
    return runs


def cores(result: dict | None) -> int | None:
    c = _num(((result or {}).get("machine") or {}).get("cpu_count"))
    return int(c) if c else None


def busy(load: float | None, n_cores: int | None) -> bool:
    """The engine's rule for a busy CPU (widgets.train.suggest_threads): load >= cores - 0.5."""
    return load is not None and n_cores is not None and load >= n_cores - 0.5


def banner_timing(result: dict | None) -> Said | None:
    """One clause for the device banner: how long the default took when it was measured (None: no measurement)."""
    runs = cpu_runs(result)
    if not runs:
        return None
    best = min(runs, key=lambda r: r.seconds)
    return ("banner_timing", {"cores": cores(result) or "?", "date": _date(result.get("machine") or {}),
                              "seconds": best.seconds, "threads": threads(best.threads)})


def cpu_default_sentences(result: dict | None) -> list[Said]:
    """The CPU default as measured: one sentence per run, then what the thread counts compare."""
    runs = cpu_runs(result)
    if not runs:
        return [missing("cpu_default")]
    out = [("cpu_head", {"machine": _machine(result)})]
    for r in runs:
        reach = (("reach_97", {"epoch": r.epoch_97, "seconds": r.seconds_97})
                 if r.epoch_97 is not None and r.seconds_97 is not None else ("no_97", {}))
        load = ("load_before", {"load": r.load_before}) if r.load_before is not None else ("load_unrecorded", {})
        out.append(("cpu_run", {"threads": threads(r.threads), "top1": r.top1, "seconds": r.seconds,
                                "reach": reach, "load": load}))
    out += thread_verdict(runs, cores(result))
    return out


def thread_verdict(runs: list[CpuRun], n_cores: int | None) -> list[Said]:
    """What the runs say about one thread against several, and what they cannot say."""
    by_threads = {}
    for r in runs:
        if r.threads not in by_threads or r.seconds < by_threads[r.threads].seconds:
            by_threads[r.threads] = r
    out = []
    if len(by_threads) >= 2:
        fast = min(by_threads.values(), key=lambda r: r.seconds)
        slow = max(by_threads.values(), key=lambda r: r.seconds)
        out.append(("faster_one" if fast.threads == 1 else "faster_many",
                    {"fast": fast.threads, "ratio": slow.seconds / fast.seconds, "slow": slow.threads}))
    if n_cores and not any(busy(r.load_before, n_cores) for r in runs):
        out.append(("not_busy", {"mark": n_cores - 0.5, "cores": n_cores}))
    return out


# --------------------------------------------------------------------------- the other benchmarks
def throughput_sentences(result: dict | None) -> list[Said]:
    if result is None or not isinstance(result.get("rows"), list):
        return [missing("train_throughput")]
    out = [("throughput_head", {"batch": result.get("batch_size", "?"), "size": result.get("image_size", "?"),
                                "machine": _machine(result)})]
    for r in result["rows"]:
        if not isinstance(r, dict):
            continue
        name = str(r.get("name", "?"))
        ips, ms = _num(r.get("images_per_s")), _num(r.get("ms_per_step"))
        if r.get("skipped"):  # the reason without the exception's class name
            out.append(("throughput_skipped", {"name": name, "reason": str(r["skipped"]).split(" (")[0]}))
        elif ips is not None and ms is not None:
            out.append(("throughput_row", {"name": name, "ips": ips, "ms": ms}))
    return out


def watch_sentences(result: dict | None) -> list[Said]:
    w, u = (_num((result or {}).get(k)) for k in ("median_epoch_s_watched", "median_epoch_s_unwatched"))
    share = _num((result or {}).get("callback_share_of_run"))
    if w is None or u is None or share is None:
        return [missing("watch_cost")]
    return [("watch", {"machine": _machine(result), "watched": w, "unwatched": u, "change": w / u - 1,
                       "share": share})]


# --------------------------------------------------------------------------- the shipped recording
def loss_sentences(h: History) -> list[Said]:
    """The recorded run's first batch loss and its test loss and accuracy after each epoch."""
    steps = [e for e in h.events if e["event"] == "step"]
    epochs = [e for e in h.events if e["event"] == "epoch"]
    out = []
    if steps:
        out.append(("first_loss", {"step": steps[0]["step"], "loss": steps[0]["main_loss"]}))
    if epochs:
        each = [("epoch_loss", {"epoch": e["epoch"], "loss": _loss(e["test_loss"]), "top1": e["test_top1"]})
                for e in epochs]
        out.append(("test_losses", {"each": each}))
    return out


def _loss(v: float) -> str:
    return f"{v:,.0f}" if v >= 100 else f"{v:.3g}"


def crop_sentences(h: History) -> list[Said]:
    """The recorded run's multi-crop rows, and whether more views helped it."""
    if not h.crops:
        return [("no_crops", {})]
    rows = [("crop_view" if r["crops"] == 1 else "crop_views",
             {"n": r["crops"], "top1": r["top1"], "mflops": r["flops_per_image"] / 1e6}) for r in h.crops]
    out = [("crop_rows", {"rows": rows})]
    one = next((r for r in h.crops if r["crops"] == 1), None)
    many = max(h.crops, key=lambda r: r["crops"])
    if one is not None and many["crops"] > 1:
        kind = "crops_better" if many["top1"] > one["top1"] else "crops_worse" if many["top1"] < one["top1"] else "crops_same"
        out.append((kind, {"n": many["crops"]}))
    return out
