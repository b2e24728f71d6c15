"""Every learner can use it (issue 17), checked on every dashboard in headless Chromium:

* axe-core (shipped inside the PyPI package axe-playwright-python) on each rendered dashboard,
  in Voilà's light and dark theme: no critical and no serious violation, no `region` one (the
  page's landmarks are ours); the moderate ones left are printed;
* the figures' titles, axis titles, tick labels and legends pass WCAG AA (4.5:1) against the page,
  in both themes (axe does not measure text drawn in SVG);
* no figure title overlaps its legend, no legend its x-axis title, and no title or subplot title
  another or the figure's edge, at 1280 and 414 px;
* at 414 px the page does not scroll sideways, no figure is cut, and every control fits on screen;
* lesson 1 with the keyboard alone: Tab reaches every control, with a visible focus ring, and
  arrow keys (sliders), Space (buttons) or typing (a slider's readout) change what the page shows;
* lesson 1 in JupyterLab, opened in its dark theme and switched to light while open: the figures
  follow, and the sliders are named there too (the same bridge, no Voilà template).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from browser import LESSON_READY, assert_no_error, close, open_dashboard, plot_signature, settled, wait_for_change
from widgets.devtools.serving import LESSONS, NOTEBOOKS, OffHostRequests, free_port, stop, wait_http

pytestmark = pytest.mark.browser

AXE_JS = resources.files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8")
WIDE, NARROW = 1280, 414

# ------------------------------------------------------------------ what the page is asked in JS
_AXE = """async () => {
  const r = await axe.run(document, { resultTypes: ['violations'] });
  return r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => n.target.join(' ') + ' :: ' + (n.failureSummary || '').split('\\n').slice(1, 2).join(' ')) }));
}"""

# Rectangles of each figure's title, legend, x-axis title and annotations (subplot titles among them).
_FIGURE_BOXES = """() => [...document.querySelectorAll('.js-plotly-plot')].filter(p => p.getClientRects().length)
  .map((p, i) => {
    const rect = (e) => { const r = e.getBoundingClientRect(); return r.width * r.height > 0 ? [r.left, r.top, r.right, r.bottom] : null; };
    const box = (sel) => { const e = p.querySelector(sel); return e ? rect(e) : null; };
    const text = (sel) => (p.querySelector(sel) || {}).textContent || '';
    const texts = [...p.querySelectorAll('.g-gtitle .gtitle, .infolayer .annotation-text')]
      .filter(t => t.textContent.trim() && t.getClientRects().length).map(t => [t.textContent.trim().slice(0, 40), rect(t)]);
    return { i, title: box('.g-gtitle .gtitle'), titleText: text('.g-gtitle .gtitle'), svg: box('.main-svg'),
             legend: box('.legend .bg'), xtitle: box('.g-xtitle .xtitle'), texts };
  })"""

# WCAG contrast of the text drawn in figures against the colour behind the figure.
_FIGURE_TEXT_CONTRAST = """() => {
  const rgb = (s) => (s.match(/[0-9.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map(c => { c /= 255; return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; })
      .reduce((a, c, k) => a + c * [0.2126, 0.7152, 0.0722][k], 0);
  const behind = (el) => { for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor); if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c; }
      return [255, 255, 255]; };
  const worst = [];
  for (const p of document.querySelectorAll('.js-plotly-plot')) {
    const bgPlot = rgb(getComputedStyle(p.querySelector('.main-svg') || p).backgroundColor);
    const bg = bgPlot.length === 4 && bgPlot[3] === 0 || !bgPlot.length ? behind(p.parentElement) : bgPlot.slice(0, 3);
    for (const t of p.querySelectorAll('.gtitle, .xtitle, .ytitle, .legendtext, .xtick text, .ytick text')) {
      if (!t.textContent.trim() || !t.getClientRects().length) continue;
      const fg = rgb(getComputedStyle(t).fill);
      const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
      const ratio = (hi + 0.05) / (lo + 0.05);
      if (ratio < 4.5) worst.push([t.textContent.trim().slice(0, 40), getComputedStyle(t).fill, bg.join(','), ratio.toFixed(2)]);
    }
  }
  return worst;
}"""

# What scrolls sideways, what a figure loses on the right, and which controls leave the screen.
_NARROW = """() => {
  const vw = document.documentElement.clientWidth, out = { vw, scrolls: [], cut: [], offscreen: [], short: [] };
  const name = (e) => e.tagName.toLowerCase() + '.' + [...e.classList].slice(0, 3).join('.');
  const scrollers = [document.documentElement, document.querySelector('#rendered_cells'),
                     ...document.querySelectorAll('.widget-box, .jp-OutputArea, .jp-Cell')].filter(Boolean);
  for (const e of scrollers) if (e.scrollWidth > e.clientWidth + 1) out.scrolls.push([name(e), e.clientWidth, e.scrollWidth]);
  for (const p of document.querySelectorAll('.js-plotly-plot')) {
    const r = p.getBoundingClientRect(), svg = p.querySelector('.main-svg');
    if (!p.getClientRects().length) continue;
    if (r.right > vw + 1 || (svg && svg.getBoundingClientRect().width > r.width + 1))
      out.cut.push([name(p), (p.querySelector('.gtitle') || {}).textContent || '', Math.round(r.left), Math.round(r.right),
                    svg && Math.round(svg.getBoundingClientRect().width)]);
  }
  const controls = '.noUi-handle, .widget-readout, button, input, select, textarea, a[href]';
  for (const c of document.querySelectorAll(controls)) {
    if (!c.getClientRects().length || c.closest('.js-plotly-plot')) continue;
    const r = c.getBoundingClientRect();
    if (r.left < -1 || r.right > vw + 1) out.offscreen.push([name(c), c.getAttribute('aria-label') || c.textContent.trim().slice(0, 30), Math.round(r.left), Math.round(r.right)]);
  }
  for (const s of document.querySelectorAll('.widget-slider .noUi-target')) {
    const w = s.getBoundingClientRect().width;
    if (s.getClientRects().length && w < 100) out.short.push([s.closest('.widget-slider').textContent.trim().slice(0, 30), Math.round(w)]);
  }
  return out;
}"""


def _overlap(a, b, slack: float = 1.0) -> bool:
    return bool(a and b) and a[0] < b[2] - slack and b[0] < a[2] - slack and a[1] < b[3] - slack and b[1] < a[3] - slack


def titles_clear_of_legends(page, width: int) -> list[str]:
    """Title vs legend, legend vs x-axis title, and titles and subplot titles against each other and the
    figure's edges: what runs into what, on this page at this width."""
    bad = []
    for f in page.evaluate(_FIGURE_BOXES):
        where = f"{width}px, figure {f['i']} '{f['titleText']}'"
        if _overlap(f["title"], f["legend"]):
            bad.append(f"{where}: title overlaps legend {f['title']} {f['legend']}")
        if _overlap(f["legend"], f["xtitle"]):
            bad.append(f"{where}: legend overlaps x-axis title")
        texts = [(t, r) for t, r in f["texts"] if r]
        for k, (t, r) in enumerate(texts):
            if f["svg"] and (r[0] < f["svg"][0] - 1 or r[2] > f["svg"][2] + 1):
                bad.append(f"{where}: '{t}' runs off the figure")
            bad += [f"{where}: '{t}' runs into '{u}'" for u, q in texts[k + 1:] if _overlap(r, q)]
    return bad


# ------------------------------------------------------------------ opening a page
def _open(browser, voila_url, stem: str, theme: str, width: int = WIDE):
    context = browser.new_context(viewport={"width": width, "height": 1000})
    watch = OffHostRequests(context, voila_url)
    ready, count = LESSON_READY[stem]
    page = open_dashboard(browser, voila_url, f"{stem}.ipynb?theme={theme}", ready=ready, count=count,
                          page=context.new_page())
    # every figure drawn, and the bridge's last pass done (every slider handle named)
    settled(page, lambda: (page.locator(".js-plotly-plot").count(), plot_signature(page)), quiet_s=2.0,
            timeout_s=120, what=f"{stem} rendering")
    settled(page, lambda: page.locator(".noUi-handle:not([aria-label])").count(), quiet_s=0.5, what="slider names")
    return page, watch


def _axe(page) -> list[dict]:
    page.evaluate(AXE_JS)
    return page.evaluate(_AXE)


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("stem", LESSONS)
def test_every_dashboard_in_both_themes(browser, voila_url, stem, theme):
    page, watch = _open(browser, voila_url, stem, theme)
    try:
        assert_no_error(page)
        shown = page.evaluate("() => document.body.dataset.jpThemeLight")
        assert shown == ("false" if theme == "dark" else "true"), f"{stem}: Voilà did not show the {theme} theme"
        violations = _axe(page)
        for v in violations:
            print(f"{stem} {theme}: {v['impact']:9s} {v['id']} ×{len(v['nodes'])}: {v['help']}")
            for n in v["nodes"][:3]:
                print("      ", n[:220])
        severe = [f"{v['id']} ({v['impact']}) ×{len(v['nodes'])}: {v['nodes'][:3]}" for v in violations
                  if v["impact"] in ("critical", "serious")]
        assert not severe, f"{stem} {theme}: axe-core finds\n" + "\n".join(severe)
        assert "region" not in {v["id"] for v in violations}, f"{stem} {theme}: content outside the page's landmarks"
        low = page.evaluate(_FIGURE_TEXT_CONTRAST)
        assert not low, f"{stem} {theme}: figure text under 4.5:1 (text, fill, background, ratio): {low[:8]}"
        assert titles_clear_of_legends(page, WIDE) == []
        if theme == "light":
            _check_narrow(page, stem)
    finally:
        close(page)
        page.context.close()
    watch.assert_none(stem)


def _check_narrow(page, stem: str) -> None:
    page.set_viewport_size({"width": NARROW, "height": 900})
    settled(page, lambda: plot_signature(page), quiet_s=1.5, timeout_s=60, what=f"{stem} at {NARROW} px")
    found = page.evaluate(_NARROW)
    assert found["vw"] <= NARROW
    assert found["scrolls"] == [], f"{stem} at {NARROW} px scrolls sideways: {found['scrolls'][:8]}"
    assert found["cut"] == [], f"{stem} at {NARROW} px: figures cut on the right: {found['cut'][:8]}"
    assert found["offscreen"] == [], f"{stem} at {NARROW} px: controls off screen: {found['offscreen'][:8]}"
    assert found["short"] == [], f"{stem} at {NARROW} px: sliders too short to use: {found['short'][:8]}"
    assert titles_clear_of_legends(page, NARROW) == []


# ------------------------------------------------------------------ the keyboard alone
_FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const cs = getComputedStyle(e), section = e.closest('.lesson-section');
  const ring = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2 || (cs.boxShadow && cs.boxShadow !== 'none');
  return { kind: e.classList.contains('noUi-handle') ? 'slider' : e.classList.contains('widget-toggle-button') ? 'toggle'
                 : e.classList.contains('widget-readout') ? 'readout' : e.tagName.toLowerCase(),
           name: e.getAttribute('aria-label') || e.textContent.trim().slice(0, 40),
           text: e.getAttribute('aria-valuetext'), now: e.getAttribute('aria-valuenow'), max: e.getAttribute('aria-valuemax'), pressed: e.classList.contains('mod-active'),
           section: section ? [...section.classList].find(c => c.startsWith('section-')) : null, ring };
}"""


def _section_state(page, section: str) -> tuple[str, str]:
    scope = f".{section}"
    return page.locator(scope).first.inner_text(), plot_signature(page, scope)


def test_lesson_1_with_the_keyboard_alone(browser, voila_url):
    page, watch = _open(browser, voila_url, "01_feature_scaling", "light")
    try:
        names = page.evaluate("() => [...document.querySelectorAll('.noUi-handle')].map(h => h.getAttribute('aria-label'))")
        assert len(names) == 9 and all(names), f"every slider handle is named: {names}"
        scale = page.locator(".section-layer .noUi-handle").first
        assert scale.get_attribute("aria-valuetext") == "100", "a log slider says its value, not its exponent"
        moved, toggled, typed, rings = set(), set(), [], []
        page.locator("body").click(position={"x": 2, "y": 2})
        for _ in range(120):
            page.keyboard.press("Tab")
            f = page.evaluate(_FOCUSED)
            if f is None or f["section"] is None:
                continue
            rings.append((f["name"], f["ring"]))
            if f["kind"] == "slider" and f["name"] not in moved:
                before = _section_state(page, f["section"])
                page.keyboard.press("ArrowLeft" if f["now"] == f["max"] else "ArrowRight")
                wait_for_change(page, lambda: _section_state(page, f["section"]), before, what=f"'{f['name']}' by keyboard")
                assert page.evaluate(_FOCUSED)["text"] != f["text"], "the handle says its new value"
                moved.add(f["name"])
            elif f["kind"] == "readout" and f["section"] == "section-tanh" and not typed:
                before = _section_state(page, f["section"])
                page.keyboard.press("Control+A")
                page.keyboard.type("0.3")
                page.keyboard.press("Enter")
                wait_for_change(page, lambda: _section_state(page, f["section"]), before, what="typing into a readout")
                typed.append(f["name"])
            elif f["kind"] == "toggle" and not f["pressed"] and f["name"] not in toggled:
                before = _section_state(page, f["section"])
                page.keyboard.press("Space")
                wait_for_change(page, lambda: _section_state(page, f["section"]), before, what=f"'{f['name']}' by keyboard")
                toggled.add(f["name"])
            if len(moved) == 9 and toggled and typed:
                break
        assert moved == set(names), f"Tab reached and moved {sorted(moved)}; all: {sorted(names)}"
        assert toggled == {"standardised inputs"} and typed, (toggled, typed)
        assert all(ring for _, ring in rings), f"no visible focus on: {[n for n, r in rings if not r]}"
        assert_no_error(page)
    finally:
        close(page)
        page.context.close()
    watch.assert_none("01_feature_scaling")


# ------------------------------------------------------------------ JupyterLab's themes
LAB_TOKEN = "access-test"
_LAB_APP_READY = """() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
                           return !!(w && w.sessionContext && w.content && w.content.model); }"""
_LAB_RUN_ALL = """async () => { const nb = window.jupyterapp.shell.currentWidget;
                               await nb.context.ready; await nb.sessionContext.ready;
                               window.jupyterapp.commands.execute('notebook:run-all-cells'); }"""
# the figures' title colour (light text on a dark page, dark on a light one) and the slider names
_LAB_STATE = """() => ({
  light: document.body.dataset.jpThemeLight,
  titles: [...document.querySelectorAll('.jp-Notebook .js-plotly-plot .gtitle')].map(t => getComputedStyle(t).fill),
  named: [...document.querySelectorAll('.jp-Notebook .noUi-handle')].map(h => h.getAttribute('aria-label')),
})"""


def _title_luminance(fill: str) -> float:
    r, g, b = (float(v) for v in fill[fill.index("(") + 1: fill.index(")")].split(",")[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


@pytest.fixture(scope="module")
def lab_dark(tmp_path_factory, chromium_path):
    """`jupyter lab` over a copy of lesson 1, with JupyterLab Dark as the user's theme."""
    root, state = tmp_path_factory.mktemp("lesson"), tmp_path_factory.mktemp("lab-state")
    shutil.copy(NOTEBOOKS / "01_feature_scaling.ipynb", root / "01_feature_scaling.ipynb")
    themes = state / "settings" / "@jupyterlab" / "apputils-extension"
    themes.mkdir(parents=True)
    (themes / "themes.jupyterlab-settings").write_text(json.dumps({"theme": "JupyterLab Dark"}))
    env = {k: v for k, v in os.environ.items() if k != "JUPYTER_CONFIG_PATH"}
    env.update(PYTHONUNBUFFERED="1", JUPYTERLAB_SETTINGS_DIR=str(state / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(state / "workspaces"))
    port = free_port()
    cmd = [str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={LAB_TOKEN}", f"--ServerApp.root_dir={root}", "--allow-root",
           "--LabApp.expose_app_in_browser=True"]
    log_path = state / "jupyter.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/api/status?token={LAB_TOKEN}", 90, proc)
    except RuntimeError as exc:
        stop(proc)
        pytest.fail(f"jupyter lab did not start: {exc}\n{log_path.read_text()[-3000:]}")
    yield url
    stop(proc)


def test_lesson_1_follows_jupyterlabs_theme(browser, lab_dark):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    watch = OffHostRequests(context, lab_dark)
    page = context.new_page()
    try:
        page.goto(f"{lab_dark}/lab/tree/01_feature_scaling.ipynb?reset&token={LAB_TOKEN}", timeout=180_000)
        page.wait_for_function(_LAB_APP_READY, timeout=180_000)
        page.evaluate(_LAB_RUN_ALL)
        settled(page, lambda: json.dumps(page.evaluate(_LAB_STATE)), quiet_s=3, timeout_s=300, what="lesson 1 in JupyterLab")
        dark = page.evaluate(_LAB_STATE)
        assert dark["light"] == "false" and len(dark["titles"]) == 5, dark
        assert all(_title_luminance(f) > 0.8 for f in dark["titles"]), f"figure titles on JupyterLab Dark: {dark}"
        assert len(dark["named"]) == 9 and all(dark["named"]), f"slider names in JupyterLab: {dark['named']}"
        page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Light'})")
        light = settled(page, lambda: page.evaluate(_LAB_STATE), quiet_s=2, timeout_s=60, what="the switch to light")
        assert light["light"] == "true"
        assert all(_title_luminance(f) < 0.4 for f in light["titles"]), f"figure titles after the switch: {light}"
    finally:
        page.close()
        context.close()
    watch.assert_none("lesson 1 in JupyterLab")
