"""Voilà's settings live in etc/jupyter/, where both doors read them: `voila` (`make serve`) and
Jupyter Server's voila extension (Binder's /voila/render route). Nothing in the repository root
shadows an installed package."""
from __future__ import annotations

import json
import subprocess
import sys

from widgets.devtools.serving import REPO, course_env

READ_STANDALONE = """
import json
from voila.app import Voila
app = Voila()
app.initialize(["notebooks"])
vc, km = app.voila_configuration, app.config.MappingKernelManager
print(json.dumps({"template": vc.template, "tracebacks": vc.show_tracebacks, "strip": vc.strip_sources,
                  "preheat": vc.preheat_kernel, "pool": vc.default_pool_size, "ip": app.ip,
                  "cull": km.cull_idle_timeout, "interval": km.cull_interval}))
"""

READ_EXTENSION = """
import json
from voila.configuration import VoilaConfiguration
from voila.paths import collect_template_paths
from voila.server_extension import load_config_file
vc = VoilaConfiguration(config=load_config_file())
paths = collect_template_paths(["voila", "nbconvert"], vc.template, prune=True)
print(json.dumps({"template": vc.template, "tracebacks": vc.show_tracebacks, "strip": vc.strip_sources,
                  "template_dir": paths[0]}))
"""


def run_in_root(code: str, **env: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=course_env(**env),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_voila_imports_in_the_repository_root():
    # a voila.py (or voila/) in the root would be imported instead of the package: NameError on `c`
    proc = subprocess.run([sys.executable, "-c", "import voila.app"], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not (REPO / "voila.py").exists() and not (REPO / "voila.json").exists()


def test_standalone_voila_reads_the_course_settings():
    s = run_in_root(READ_STANDALONE, LESSONS_PREHEAT="0")
    assert s["template"] == "course" and s["ip"] == "127.0.0.1"
    assert s["tracebacks"] is False and s["strip"] is True
    assert (s["preheat"], s["pool"]) == (False, 0), "LESSONS_PREHEAT=0 turns pre-heating off"
    assert (s["cull"], s["interval"]) == (300, 60)


def test_preheat_pool_is_sized_to_memory():
    import os

    total_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    notebooks = len(list((REPO / "notebooks").rglob("*.ipynb")))  # Voila pre-heats each, zh/ included
    expected = max(0, min(1, int((total_gb - 2.0) / (0.6 * notebooks))))  # 0.6 GB a kernel, 2 GB kept, 1 each
    s = run_in_root(READ_STANDALONE, LESSONS_PREHEAT="1", LESSONS_CULL_IDLE_S="15")
    assert (s["preheat"], s["pool"]) == (expected > 0, expected)
    assert (s["cull"], s["interval"]) == (15, 5)


def test_jupyter_server_route_reads_the_course_settings():
    s = run_in_root(READ_EXTENSION)
    assert s["template"] == "course"
    assert s["tracebacks"] is False and s["strip"] is True
    assert s["template_dir"] == str(REPO / "share" / "jupyter" / "voila" / "templates" / "course")



READ_EXECUTOR = """
import json, nbformat
from voila.app import Voila
from voila.execute import VoilaExecutor
from voila.server_extension import load_config_file
app = Voila()
app.initialize(["notebooks"])
nb = nbformat.v4.new_notebook()
print(json.dumps({"standalone": VoilaExecutor(nb, config=app.config).iopub_timeout,
                  "extension": VoilaExecutor(nb, config=load_config_file()).iopub_timeout}))
"""


def test_a_cells_late_output_is_waited_for_on_both_routes():
    """A class opening a lesson at once starts 30 kernels on 2 cores: a cell's output can reach the server
    seconds after its reply. With nbclient's 4 s the page was served without that cell's widget and never
    drew (benchmarks/class_load.py: 1 of 30 pages drawn in 10 minutes; 30 of 30 with the course's wait)."""
    s = run_in_root(READ_EXECUTOR, LESSONS_PREHEAT="0")
    assert s == {"standalone": 60, "extension": 60}
