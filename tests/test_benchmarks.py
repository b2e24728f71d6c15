"""Every benchmark script runs on the CPU (--smoke) and writes a report with its device and date.
The numbers are not checked here: benchmarks measure, tests don't time."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((REPO / "benchmarks").glob("*.py"))

pytestmark = pytest.mark.slow


def test_there_are_benchmarks():
    names = {p.stem for p in SCRIPTS}
    assert {"bottleneck_timing", "cpu_default", "train_throughput", "watch_cost", "dashboards", "class_load",
            "soak"} <= names


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_smoke_run_writes_a_report(script, tmp_path, request):
    if script.stem in BROWSER_CHECKS:
        request.getfixturevalue("chromium_path")  # needs the browser; fails in CI without it
    proc = subprocess.run([sys.executable, str(script), "--smoke", "--out", str(tmp_path)], cwd=REPO,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    reports = list(tmp_path.rglob("*.json"))
    assert reports, f"{script.name} wrote no JSON report into --out"
    for r in reports:
        text = r.read_text()
        data = json.loads(text)
        assert "date" in text and data, r
    assert list(tmp_path.rglob("*.md")), f"{script.name} wrote no Markdown report"
    if script.stem in BROWSER_CHECKS:
        report = next(tmp_path.rglob(f"{script.stem}.json"))     # plotly_esm's smoke run writes into --out/tmp
        BROWSER_CHECKS[script.stem](json.loads(report.read_text()))


def check_dashboards(r: dict) -> None:
    """Issue 12's fields: complete-redraw and first-change latency per slider, TTI on both routes
    against the bare page, the load at start and end."""
    assert len(r["load_average_start"]) == 3 and len(r["load_average_end"]) == 3
    rows = r["sliders"]["01_feature_scaling"]
    assert len(rows) >= 2, rows                            # every slider, not only the first
    for s in rows:
        assert s["changed_page"] == s["moves"] > 0, s      # each press changed the page ...
        assert 0 < s["first_change_p50_ms"] <= s["complete_p50_ms"], s   # ... and the redraw ends after it starts
        assert s["complete_p50_ms"] <= s["complete_p95_ms"], s
    for route in ("tti_preheated", "tti_jupyter_server"):
        bare, lesson = r[route]["bare_ipywidgets"], r[route]["01_feature_scaling"]
        assert bare["answered"] and lesson["answered"], r[route]    # a first slider press was answered
        assert 0 < lesson["drawn_s"] <= lesson["tti_s"]
        assert lesson["ratio_to_bare"] == round(lesson["tti_s"] / bare["tti_s"], 2)
    assert set(r["verdict"]) >= {"tti_preheated_met", "tti_jupyter_server_met", "complete_p95_met", "quiet_machine"}


def check_plotly_esm(r: dict) -> None:
    """Both plotly versions opened the bare page and the 1-figure page, and their slider redrew the figure."""
    for plotly in (r["plotly_old"], r["plotly_new"]):
        assert r["rows"][plotly]["bare_ipywidgets"]["tti_s"] > 0 and r["rows"][plotly]["figures_1"]["tti_s"] > 0
    for row in r["latency"]["figures_1"].values():
        assert row["changed_figure"] == row["moves"] > 0, row
        assert 0 < row["first_change_p50_ms"] <= row["complete_p50_ms"] <= row["complete_p95_ms"], row


def check_class_load(r: dict) -> None:
    assert r["rendered_and_answered"] == r["learners"] > 0, r["errors"]
    assert 0 < r["tti_s"]["p50"] <= r["tti_s"]["p95"]
    assert r["slider_complete_ms"]["presses"] > 0 and r["slider_complete_ms"]["p95"] > 0
    assert r["kernel_rss_mib"]["kernels"] >= r["learners"] and r["kernel_rss_mib"]["median"] > 0
    assert r["server_peak_mib"] >= r["kernel_rss_mib"]["median"] * r["learners"]


def check_soak(r: dict) -> None:
    """Issue 18, item 4: after opens, reloads and Train, then every tab closed, the server is back at its
    pre-heated baseline within the settle time: no page's kernel left, memory back, no run going."""
    assert r["loads_ok"] == r["opens"] > 0, r["errors"]
    assert r["train_pressed"] > 0 and r["distinct_page_kernels"] >= r["opens"] // 2
    assert r["back_within_settle"], {k: r[k] for k in ("baseline", "at_settle", "final", "back_at_s")}
    assert r["at_settle"]["kernels"] <= r["baseline"]["kernels"] and r["at_settle"]["page_kernels"] == 0
    assert r["page_kernels_left"] == 0


BROWSER_CHECKS = {"dashboards": check_dashboards, "plotly_esm": check_plotly_esm, "class_load": check_class_load,
                  "soak": check_soak}


class _Handle:
    """A noUi slider handle's aria attributes, as Playwright reads them."""

    def __init__(self, now: str, low: str, top: str):
        self.aria = {"aria-valuenow": now, "aria-valuemin": low, "aria-valuemax": top}

    def get_attribute(self, name: str) -> str:
        return self.aria[name]


@pytest.mark.parametrize("now,low,top,key", [("2", "-3", "3", "ArrowLeft"), ("8", "2", "10", "ArrowLeft"),
                                             ("3", "-3", "3", "ArrowLeft"), ("-2", "-3", "3", "ArrowRight"),
                                             ("-3", "-3", "3", "ArrowRight"), ("0.1", "-8", "0.5", "ArrowLeft")])
def test_the_latency_benchmark_presses_towards_the_far_end_of_the_range(now, low, top, key):
    """Three presses one way stay inside the range: none is at a bound (where it moves nothing)."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import dashboards
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    assert dashboards._direction(_Handle(now, low, top)) == key
