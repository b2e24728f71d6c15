"""What a page costs its kernel at start (issue 12), no browser: per notebook, a fresh kernel runs each code
cell in turn (nbclient) and after each cell reports, from inside, its CPU seconds (user + system, all its
threads), its memory (RSS) and whether torch and scikit-learn are loaded. Then what a class costs the
server's kernels: N learners opening lesson 1, each a fresh kernel (beyond Voilà's pre-heated pool).

    python benchmarks/kernel_start.py [--notebooks 00_index,01_feature_scaling] [--learners 30] [--smoke]

CPU seconds are the kernel's own, so they hold on a loaded machine better than wall times (both are
written, with the load average). The class estimate counts kernels only: Voilà's own work per page
(rendering the template, relaying messages) and the learners' browsers are not in it.
Writes kernel_start.{json,md} into --out (default benchmarks/results/).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
CLASS_LESSON = "01_feature_scaling"

PROBE = ("import resource as _r, sys as _s, os as _o\n"
         "_u = _r.getrusage(_r.RUSAGE_SELF)\n"
         "print('PROBE', _u.ru_utime + _u.ru_stime, "
         "int(open('/proc/self/statm').read().split()[1]) * _o.sysconf('SC_PAGE_SIZE') / 2**20, "
         "'torch' in _s.modules, 'sklearn' in _s.modules)")


def _probe(client, nbformat) -> dict:
    cell = nbformat.v4.new_code_cell(PROBE)
    client.execute_cell(cell, 0)
    text = next(o["text"] for o in cell.outputs if o.get("name") == "stdout" and "PROBE" in o.get("text", ""))
    _, cpu, rss, torch, sklearn = text.split()
    return {"cpu_s": round(float(cpu), 2), "rss_mib": round(float(rss)), "torch": torch == "True",
            "sklearn": sklearn == "True"}


def run_notebook(path: Path) -> list[dict]:
    """A fresh kernel; after its start and after each code cell: wall time, and the kernel's own probe."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]   # listed first: executing the probe may replace cell 0
    client = NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    rows, t0 = [], time.perf_counter()
    with client.setup_kernel():
        rows.append({"cell": "(kernel started)", "wall_s": round(time.perf_counter() - t0, 2), **_probe(client, nbformat)})
        for i, cell in enumerate(code):
            t = time.perf_counter()
            client.execute_cell(cell, i)
            rows.append({"cell": cell.source.strip().splitlines()[-1], "wall_s": round(time.perf_counter() - t, 2),
                         **_probe(client, nbformat)})
    return rows


def first_section(rows: list[dict]) -> dict:
    """The row of the page's first section (the first builder after page_header)."""
    return next((r for r in rows[1:] if "page_header" not in r["cell"]), rows[-1])


def class_estimate(rows: list[dict], learners: int, spread_s: float) -> dict:
    """N fresh kernels for one lesson: their CPU seconds on this machine's cores against the spread, and memory."""
    cores = os.cpu_count() or 1
    total_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu, rss = rows[-1]["cpu_s"], rows[-1]["rss_mib"]
    return {"lesson": CLASS_LESSON, "learners": learners, "cores": cores, "kernel_cpu_s": cpu, "kernel_rss_mib": rss,
            "cpu_s_per_core": round(learners * cpu / cores, 1), "opened_within_s": spread_s,
            "kernels_per_core_within_spread": int(spread_s / cpu) if cpu else None,
            "memory_gib": round(learners * rss / 1024, 1), "machine_gib": round(total_gib),
            "kernels_in_memory_2gib_free": int((total_gib - 2) * 1024 / rss) if rss else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--notebooks", default="", help="comma-separated stems (default: every English notebook)")
    ap.add_argument("--learners", type=int, default=30)
    ap.add_argument("--spread", type=float, default=10.0, help="seconds within which the class opens lesson 1")
    ap.add_argument("--smoke", action="store_true", help="lesson 1 only")
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results"))
    args = ap.parse_args()
    stems = [CLASS_LESSON] if args.smoke else (
        [s for s in args.notebooks.split(",") if s] or sorted(p.stem for p in NOTEBOOKS.glob("0*.ipynb")))
    load_start = [round(x, 2) for x in os.getloadavg()]
    results = {stem: run_notebook(NOTEBOOKS / f"{stem}.ipynb") for stem in stems}
    report = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "machine": f"{platform.machine()}, {os.cpu_count()} cores", "python": platform.python_version(),
              "load_average_start": load_start, "load_average_end": [round(x, 2) for x in os.getloadavg()],
              "notebooks": results,
              "class": class_estimate(results[CLASS_LESSON], args.learners, args.spread) if CLASS_LESSON in results else None}
    write(report, Path(args.out))


def write(r: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "kernel_start.json").write_text(json.dumps(r, indent=1) + "\n")
    lines = [f"# A page's cost in its kernel at start ({r['date']})", "",
             f"Machine: {r['machine']}, Python {r['python']}; load average {r['load_average_start']} at the start, "
             f"{r['load_average_end']} at the end. CPU s and RSS are the kernel's own, read inside it after each cell "
             "(cumulative from the kernel's start); wall s is the cell's time seen by the client.", "",
             "| notebook | cell | wall s | kernel CPU s | RSS MiB | torch | scikit-learn |", "|---|---|---|---|---|---|---|"]
    for stem, rows in r["notebooks"].items():
        for row in rows:
            lines.append(f"| {stem} | `{row['cell']}` | {row['wall_s']} | {row['cpu_s']} | {row['rss_mib']} | "
                         f"{'yes' if row['torch'] else 'no'} | {'yes' if row['sklearn'] else 'no'} |")
    lines += ["", "| notebook | first section ready (kernel CPU s) | RSS then (MiB) | whole page (kernel CPU s) | RSS (MiB) |",
              "|---|---|---|---|---|"]
    for stem, rows in r["notebooks"].items():
        f = first_section(rows)
        lines.append(f"| {stem} | {f['cpu_s']} | {f['rss_mib']} | {rows[-1]['cpu_s']} | {rows[-1]['rss_mib']} |")
    c = r["class"]
    if c:
        lines += ["", f"A class: {c['learners']} fresh kernels for {c['lesson']} cost {c['learners']} x {c['kernel_cpu_s']} CPU s "
                  f"= {c['cpu_s_per_core']} s on each of {c['cores']} cores (against {c['opened_within_s']} s: "
                  f"{c['kernels_per_core_within_spread']} kernels per core within it), and {c['memory_gib']} GiB "
                  f"({c['kernels_in_memory_2gib_free']} such kernels fit in {c['machine_gib']} GiB with 2 GiB kept free). "
                  "Kernels only: Voilà's own work per page and the browsers are not counted."]
    (out / "kernel_start.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
