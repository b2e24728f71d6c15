"""A section below the fold, built when it comes into view.

Why: a lesson page used to create every FigureWidget at once, and the browser created every
figure's model and drew every plotly figure before the page answered (lesson TTIs were 2.5–3.7×
a bare ipywidgets page: benchmarks/results/dashboards.md). On a lesson page (`page_header()`
turns this on: widgets/views/page.py), every section after the first shows its heading and a
`Placeholder` instead; the placeholder tells the kernel once it is within about a screen of the
visible part of the page, or gets keyboard focus, and the section is then built and put in its
place (widgets/views/section.py). A link that opens a lower section in a given state builds that
section in the kernel at once (its figures reach the page when it comes into view).

Python code that constructs a section itself (tests, a notebook without `page_header()`) gets it
built at once, as before.
"""
from __future__ import annotations

import anywidget
import traitlets

from widgets.views import palette

# The nearest ancestor that scrolls (Voilà's and JupyterLab's pages scroll inside a container):
# the observer's root, so that its margin of a screen extends what that container shows. With the
# document as root the margin would be clipped by the container, and a section would start to
# build only when it is already on screen.
_ESM = """
function scrollParent(el) {
  for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
    const s = getComputedStyle(p).overflowY;
    if (s === "auto" || s === "scroll" || s === "overlay") return p;
  }
  return null;
}

function render({ model, el }) {
  const box = document.createElement("div");
  box.className = "lazy-placeholder";
  box.setAttribute("role", "status");
  box.setAttribute("aria-busy", "true");
  box.tabIndex = 0;   // reached by Tab: focus builds the section too
  box.textContent = model.get("text");
  Object.assign(box.style, { minHeight: model.get("min_height") + "px", display: "flex", alignItems: "center",
                            padding: "12px 16px", boxSizing: "border-box", color: model.get("color"),
                            border: "1px dashed " + model.get("border"), borderRadius: "4px" });
  el.appendChild(box);
  let io = null, frame = 0, tries = 0;
  const fire = () => {
    if (!model.get("visible")) { model.set("visible", true); model.save_changes(); }
  };
  const start = () => {
    frame = 0;
    if (!el.isConnected && tries++ < 600) { frame = requestAnimationFrame(start); return; }
    if (typeof IntersectionObserver === "undefined") { fire(); return; }
    io = new IntersectionObserver(es => { if (es.some(e => e.isIntersecting)) fire(); },
                                  { root: scrollParent(el), rootMargin: "100% 0px 100% 0px" });
    io.observe(box);
  };
  box.addEventListener("focus", fire);
  if (!model.get("visible")) start();
  return () => { if (io) io.disconnect(); if (frame) cancelAnimationFrame(frame); };
}
export default { render };
"""


class Placeholder(anywidget.AnyWidget):
    """What a lazy section shows until it is built: one busy line, a reserved height, and the
    front-end signal (`visible` becomes True once, when the line comes within a screen of view)."""

    _esm = traitlets.Unicode(_ESM).tag(sync=True)
    text = traitlets.Unicode("").tag(sync=True)
    min_height = traitlets.Int(360).tag(sync=True)
    visible = traitlets.Bool(False).tag(sync=True)
    color = traitlets.Unicode(palette.var("muted")).tag(sync=True)
    border = traitlets.Unicode(palette.var("border")).tag(sync=True)
