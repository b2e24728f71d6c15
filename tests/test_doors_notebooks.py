"""JupyterLab 4 and Notebook 7: each lesson opened as a notebook, all cells run, as a learner would
after `make lab` or `make notebook`. Every figure is drawn, no cell shows an error, moving a slider
changes a figure, and no page asks a host other than the server for anything.

One Jupyter Server serves both doors (Notebook 7 is the same server's /notebooks/...), without the
course's dashboard settings, over a copy of notebooks/ (running saves outputs into the copy, never
into the repository's notebooks). Its app object is exposed to the page, so the test runs cells
with JupyterLab's own "run all cells" command and reads the notebook model.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from browser import ERROR_PATTERNS, LESSON_READY, first_slider_that_moves_a_figure
from widgets.devtools.serving import (LESSONS, NOTEBOOKS, SCROLL_TO_NEXT_LAZY, OffHostRequests, free_port, stop,
                                      wait_http)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TOKEN = "notebook-door-test"
# the path of a notebook in each door (JupyterLab's ?reset: open only this one, not the last layout)
DOORS = {"jupyterlab": "lab/tree/{nb}?reset&token={token}", "notebook7": "notebooks/{nb}?token={token}"}
SLIDER_LESSONS = {"01_feature_scaling", "03_bottleneck"}  # where the slider check runs, in each door

APP_READY = """() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
                       return !!(w && w.sessionContext && w.content && w.content.model); }"""
RUN_ALL = """async () => { const nb = window.jupyterapp.shell.currentWidget;
                           await nb.context.ready; await nb.sessionContext.ready;
                           window.jupyterapp.commands.execute('notebook:run-all-cells'); }"""
STATE = """() => {
  const nb = window.jupyterapp.shell.currentWidget;
  const code = [...nb.content.model.cells].filter(c => c.type === 'code');
  const errors = [];
  code.forEach(c => { for (let i = 0; i < c.outputs.length; i++) {
    const o = c.outputs.get(i).toJSON();
    if (o.output_type === 'error' || (o.output_type === 'stream' && o.name === 'stderr'))
      errors.push(JSON.stringify(o).slice(0, 500)); } });
  const kernel = nb.sessionContext.session && nb.sessionContext.session.kernel;
  const plots = nb.node.querySelectorAll('.js-plotly-plot');
  return {done: code.length > 0 && code.every(c => c.executionCount), kernel: kernel ? kernel.status : 'none',
          errors, plots: plots.length, drawn: [...plots].filter(p => p.querySelector('.main-svg')).length,
          outputs: [...nb.node.querySelectorAll('.jp-OutputArea')].map(o => o.innerText).join('\\n')};
}"""


@pytest.fixture(scope="module")
def jupyter(tmp_path_factory, chromium_path):
    """URL of `jupyter lab` (with Notebook 7) over a copy of the lessons, as `make lab` starts it."""
    root = tmp_path_factory.mktemp("lessons")
    for name in LESSONS:
        shutil.copy(NOTEBOOKS / f"{name}.ipynb", root / f"{name}.ipynb")
    state = tmp_path_factory.mktemp("lab-state")  # JupyterLab's settings and workspaces, not ~/.jupyter's
    env = {k: v for k, v in os.environ.items() if k != "JUPYTER_CONFIG_PATH"}
    env.update(PYTHONUNBUFFERED="1", JUPYTERLAB_SETTINGS_DIR=str(state / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(state / "workspaces"))
    port = free_port()
    cmd = [str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={root}", "--allow-root",
           "--LabApp.expose_app_in_browser=True", "--JupyterNotebookApp.expose_app_in_browser=True"]
    log_path = state / "jupyter.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/api/status?token={TOKEN}", 90, proc)
    except RuntimeError as exc:
        stop(proc)
        pytest.fail(f"jupyter lab did not start: {exc}\n{log_path.read_text()[-3000:]}")
    yield url
    stop(proc)


@pytest.fixture(scope="module")
def door_contexts(browser, jupyter):
    """One browser context per door (its cache shared by the lessons), each watched for off-host requests."""
    made = {}

    def get(door: str):
        if door not in made:
            ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
            made[door] = (ctx, OffHostRequests(ctx, jupyter))
        return made[door]

    yield get
    for ctx, _ in made.values():
        ctx.close()


def shut_down_kernels(url: str) -> None:
    """Free the lesson's kernel (~0.6 GB with torch) before the next one starts."""
    def call(path, method="GET"):
        req = urllib.request.Request(f"{url}/api/{path}?token={TOKEN}", method=method)
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read() or b"null")

    for s in call("sessions"):
        call(f"sessions/{s['id']}", "DELETE")


def run_all(page, name: str, timeout_s: float = 600) -> dict:
    page.wait_for_function(APP_READY, timeout=180_000)
    page.evaluate(RUN_ALL)
    deadline = time.monotonic() + timeout_s
    state = page.evaluate(STATE)
    while not (state["done"] and state["kernel"] == "idle"):
        assert time.monotonic() < deadline, f"{name}: cells still running after {timeout_s} s: {state['errors']}"
        assert not state["errors"], f"{name}: error output while running:\n" + "\n".join(state["errors"])
        page.wait_for_timeout(1000)
        state = page.evaluate(STATE)
    return state


def wait_drawn(page, name: str, count: int, timeout_s: float = 120) -> dict:
    """The state once `count` figures are drawn (widgets render after the cells finish)."""
    deadline = time.monotonic() + timeout_s
    state = page.evaluate(STATE)
    # sections below the first are built when scrolled to (widgets/views/lazy.py); JupyterLab then keeps in
    # the DOM only the cells near the screen, so the figures are counted back at the top
    while page.evaluate(SCROLL_TO_NEXT_LAZY) and time.monotonic() < deadline:
        page.wait_for_timeout(500)
    page.evaluate("() => document.querySelectorAll('*').forEach(e => { if (e.scrollTop > 0) e.scrollTop = 0; })")
    state = page.evaluate(STATE)
    while state["drawn"] < count and time.monotonic() < deadline:
        page.wait_for_timeout(500)
        state = page.evaluate(STATE)
    return state


@pytest.mark.parametrize("name", LESSONS)
@pytest.mark.parametrize("door", list(DOORS))
def test_lesson_runs_in_the_notebook_door(door, name, jupyter, door_contexts):
    context, watch = door_contexts(door)
    page = context.new_page()
    try:
        page.goto(f"{jupyter}/" + DOORS[door].format(nb=f"{name}.ipynb", token=TOKEN), timeout=180_000)
        run_all(page, name)
        selector, count = LESSON_READY[name]
        state = wait_drawn(page, name, count if selector == ".js-plotly-plot" else 0)
        assert not state["errors"], f"{door} {name}: error output:\n" + "\n".join(state["errors"])
        assert not ERROR_PATTERNS.search(state["outputs"]), f"{door} {name}: {state['outputs'][-1500:]}"
        if selector == ".js-plotly-plot":
            assert (state["plots"], state["drawn"]) == (count, count), f"{door} {name}: figures {state}"
        else:
            assert page.locator(selector).count() == count, f"{door} {name}: {selector} not {count}×"
        if name in SLIDER_LESSONS:
            first_slider_that_moves_a_figure(page)
        watch.assert_none(f"{door} {name}")
    finally:
        page.close()
        shut_down_kernels(jupyter)
