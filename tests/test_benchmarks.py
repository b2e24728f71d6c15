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
    assert {"bottleneck_timing", "cpu_default", "train_throughput", "watch_cost", "dashboards"} <= names


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_smoke_run_writes_a_report(script, tmp_path, request):
    if script.stem == "dashboards":
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
