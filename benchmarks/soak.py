"""Soak (issue 18, item 4): many page opens and reloads across the lessons on one server started as
`make serve` starts it, some with Train pressed, then every tab closed. Do the kernels and the
server's memory come back to the pre-heated baseline, and is no training thread left running?

    python benchmarks/soak.py [--opens 30] [--tabs 3] [--train-every 4] [--settle 30] [--smoke]

`--opens` page loads are spread over `--tabs` tabs open at once, cycling through the lessons; every
other load of a tab is a reload of the page it shows. Lesson 5 is opened with 40 epochs and every
`--train-every`-th load of it presses Train, so a run is going when its page is reloaded or closed.
Then all tabs are closed (as a learner closes them: the page is told) and the server is watched for
`--settle` seconds (and on, up to 120 s, to say when it got there): kernels, their memory and CPU.
Writes soak.{json,md} into --out (default benchmarks/results/).
"""
from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from class_load import kernels, rss  # noqa: E402
from dashboards import FIGURE, _cmd, load, pool_size, wait_pool  # noqa: E402

from widgets.devtools.serving import CHROMIUM_ARGS, NOTEBOOKS, REPO, free_port, start_voila, stop, wait_http  # noqa: E402

LESSONS = ["01_feature_scaling", "02_batch_norm", "03_bottleneck", "04_inception", "05_live_training"]
TRAINING = "05_live_training"
TRAIN_QUERY = "?epochs=40"      # a run that outlasts the soak unless its page's end stops it
MEMORY_SLACK_MIB = 300          # "back to baseline": within this of the pre-heated total
IDLE_CPU_PERCENT = 20           # a kernel above this (over 1 s) is still working


def schedule(opens: int, tabs: int, lessons: list[str], train_every: int) -> list[list[dict]]:
    """Each tab's loads: a lesson, then its reload; the next pair goes to the next tab."""
    plan: list[list[dict]] = [[] for _ in range(tabs)]
    trains = 0
    for i in range(opens):
        pair = i // 2
        lesson = lessons[pair % len(lessons)]
        load_ = {"lesson": lesson, "reload": i % 2 == 1, "train": False}
        if lesson == TRAINING:
            trains += 1
            load_["train"] = (trains - 1) % train_every == 0
        plan[pair % tabs].append(load_)
    return plan


async def press_train(page) -> bool:
    """Press Train and give the worker two seconds to start: the page may be reloaded or closed any time now."""
    button = page.locator(".lesson-live-training button", has_text="Train").first
    await button.wait_for(state="visible", timeout=120_000)
    await button.click()
    await page.wait_for_timeout(2000)
    return True


async def tab(browser, base: str, loads: list[dict], log: list[dict], t0: float) -> None:
    ctx = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await ctx.new_page()
    for ld in loads:
        url = f"{base}/voila/render/{ld['lesson']}.ipynb" + (TRAIN_QUERY if ld["lesson"] == TRAINING else "")
        rec = {**ld, "at_s": round(time.monotonic() - t0, 1), "error": None, "trained": False}
        try:
            if ld["reload"]:
                await page.reload(wait_until="commit", timeout=600_000)
            else:
                await page.goto(url, wait_until="commit", timeout=600_000)
            await page.wait_for_selector(FIGURE, timeout=600_000, state="attached")
            rec["kernel_id"] = await page.evaluate(
                "() => JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId")
            if ld["train"]:
                rec["trained"] = await press_train(page)
        except Exception as exc:  # reported in the results, the soak goes on
            rec["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
        rec["ready_s"] = round(time.monotonic() - t0, 1)
        log.append(rec)
    await page.close(run_before_unload=True)   # the learner closes the tab
    await ctx.close()


async def soak(base: str, plan: list[list[dict]]) -> tuple[list[dict], float]:
    from playwright.async_api import async_playwright

    log: list[dict] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        t0 = time.monotonic()
        await asyncio.gather(*(tab(browser, base, loads, log, t0) for loads in plan))
        closed_at = time.monotonic()
        await browser.close()
    return log, closed_at


def snapshot(server: psutil.Process) -> dict:
    ks = kernels(server)
    for k in ks:
        try:
            k.cpu_percent(None)
        except psutil.Error:
            pass
    time.sleep(1.0)
    cpu = []
    for k in ks:
        try:
            cpu.append(k.cpu_percent(None))
        except psutil.Error:
            pass
    return {"kernels": len(ks), "cmdlines": [" ".join(_cmd(k)) for k in ks], "rss_mib": round(sum(rss([server, *ks]))),
            "busy_kernels": sum(c > IDLE_CPU_PERCENT for c in cpu), "max_kernel_cpu": round(max(cpu, default=0))}


def alive(snap: dict, page_ids: set[str]) -> int:
    """How many of the pages' kernels still run: a kernel's connection file names its id."""
    return sum(any(f"kernel-{k}" in c for c in snap["cmdlines"]) for k in page_ids)


def settle(server: psutil.Process, base: dict, closed_at: float, settle_s: float, page_ids: set[str],
           horizon_s: float = 120) -> dict:
    """Watch from the last close until back at the baseline (or the horizon); keep the trace. Back: no
    page's kernel left (so no run of theirs), no more kernels than the pool, memory back. A pool kernel
    being pre-heated anew may be busy: that is reported, not counted against."""
    trace, back_at = [], None
    while time.monotonic() - closed_at < horizon_s:
        s = snapshot(server)
        s["t_s"] = round(time.monotonic() - closed_at, 1)
        s["page_kernels"] = alive(s, page_ids)
        trace.append({k: v for k, v in s.items() if k != "cmdlines"})
        at_base = (s["kernels"] <= base["kernels"] and s["rss_mib"] <= base["rss_mib"] + MEMORY_SLACK_MIB
                   and s["page_kernels"] == 0)
        if at_base and back_at is None:
            back_at = s["t_s"]
        if back_at is not None and s["t_s"] >= settle_s:
            break
    final = snapshot(server)
    at = next((t for t in trace if t["t_s"] >= settle_s), trace[-1])
    return {"back_at_s": back_at, "within_settle": back_at is not None and back_at <= settle_s,
            "at_settle": at, "final": final, "trace": trace}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--opens", type=int, default=30, help="page loads in all (a reload counts as one)")
    ap.add_argument("--tabs", type=int, default=3, help="tabs open at once")
    ap.add_argument("--train-every", type=int, default=1, help="press Train on every n-th load of lesson 5")
    ap.add_argument("--settle", type=float, default=30.0, help="seconds after the last close to be back")
    ap.add_argument("--smoke", action="store_true", help="lessons 1 and 5 only, 6 loads in 2 tabs")
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results"), help="folder for soak.{json,md}")
    args = ap.parse_args()
    lessons = ["01_feature_scaling", TRAINING] if args.smoke else LESSONS
    opens, tabs = (8, 2) if args.smoke else (args.opens, args.tabs)
    start_load, tmp = load(), Path(tempfile.mkdtemp())
    folder = NOTEBOOKS
    if args.smoke:  # two notebooks served (and pre-heated), not twelve: spares 2 cores
        folder = tmp / "notebooks"
        folder.mkdir()
        for name in lessons:
            shutil.copy(NOTEBOOKS / f"{name}.ipynb", folder)
    port = free_port()
    proc = start_voila(port, tmp / "voila.log", preheat=True, folder=folder)  # as `make serve` runs it
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_http(base_url + "/", 120, proc)
        server = psutil.Process(proc.pid)
        notebooks = sum(1 for _ in folder.rglob("*.ipynb"))
        pool = wait_pool(proc, expected=notebooks * pool_size(), timeout_s=420)
        base = snapshot(server)
        t0 = time.monotonic()
        log, closed_at = asyncio.run(soak(base_url, schedule(opens, tabs, lessons, args.train_every)))
        after = settle(server, base, closed_at, args.settle, {r["kernel_id"] for r in log if r.get("kernel_id")})
        after["soak_s"] = round(closed_at - t0, 1)
    finally:
        stop(proc)
    report = summary(log, base, after, pool, args, opens, tabs, lessons)
    report["load_average_start"], report["load_average_end"] = start_load, load()
    write(report, Path(args.out))
    print(f"the server's log: {tmp / 'voila.log'}")


def load_error(rec: dict) -> str:
    """A failed load, named: which lesson, opened or reloaded, when, and what went wrong."""
    how = "reload" if rec["reload"] else "open"
    return f"{rec['lesson']} ({how} at {rec['at_s']} s): {rec['error']}"


def summary(log, base, after, pool, args, opens, tabs, lessons) -> dict:
    page_kernels = {r["kernel_id"] for r in log if r.get("kernel_id")}
    mem = psutil.virtual_memory().total / 2**30
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {mem:.0f} GiB",
        "smoke": args.smoke, "lessons": lessons, "opens": opens, "tabs_at_once": tabs,
        "loads_ok": sum(r["error"] is None for r in log), "errors": [load_error(r) for r in log if r["error"]][:5],
        "train_pressed": sum(r["trained"] for r in log), "distinct_page_kernels": len(page_kernels),
        "soak_s": after["soak_s"], "settle_s": args.settle,
        "baseline": {k: base[k] for k in ("kernels", "rss_mib", "busy_kernels")},
        "pool_filled_in_s": pool["waited_s"],
        "back_at_s": after["back_at_s"], "back_within_settle": after["within_settle"],
        "at_settle": after["at_settle"], "final": {k: v for k, v in after["final"].items() if k != "cmdlines"},
        "page_kernels_left": alive(after["final"], page_kernels),
        "memory_slack_mib": MEMORY_SLACK_MIB, "trace": after["trace"],
    }


def write(r: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "soak.json").write_text(json.dumps(r, indent=2) + "\n")
    verdict = "back at the baseline" if r["back_within_settle"] else "NOT back at the baseline"
    lines = [f"# Soak: opens, reloads, Train, then every tab closed ({r['date']})", "",
             f"Machine: {r['machine']}; load average {r['load_average_start']} at the start, "
             f"{r['load_average_end']} at the end. One server started as `make serve` starts it "
             "(pre-heated pool); the browser ran on the same cores.", "",
             f"{r['loads_ok']}/{r['opens']} page loads of {', '.join(r['lessons'])} in {r['tabs_at_once']} tabs "
             f"over {r['soak_s']} s, every other one a reload; Train pressed {r['train_pressed']} times; "
             f"{r['distinct_page_kernels']} kernels served pages. "
             f"{r['settle_s']:.0f} s after the last tab closed: **{verdict}** "
             f"(reached at {r['back_at_s']} s).", "",
             "| | kernels | memory, server + kernels (MiB) | kernels busy |", "|---|---|---|---|",
             f"| pre-heated baseline | {r['baseline']['kernels']} | {r['baseline']['rss_mib']} | {r['baseline']['busy_kernels']} |",
             f"| {r['settle_s']:.0f} s after the last close | {r['at_settle']['kernels']} | {r['at_settle']['rss_mib']} "
             f"| {r['at_settle']['busy_kernels']} |",
             f"| end of the watch ({r['trace'][-1]['t_s']} s) | {r['final']['kernels']} | {r['final']['rss_mib']} "
             f"| {r['final']['busy_kernels']} |", "",
             f"Back means: none of the pages' kernels left (so none of their runs), no more kernels than "
             f"the baseline, memory within {r['memory_slack_mib']} MiB of it. Busy: a kernel above {IDLE_CPU_PERCENT}% "
             f"CPU over 1 s (a pool kernel being pre-heated anew, if any). Errors: {r['errors'] or 'none'}."]
    (out / "soak.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
