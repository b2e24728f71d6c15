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

from typing import Callable

import anywidget
import ipywidgets as ipw
import traitlets

from widgets import ui
from widgets.views import palette

# When to build: once the placeholder is within a screen of the visible part of the page (so the
# section is ready by the time it is seen), or gets keyboard focus. Voilà's and JupyterLab's pages
# scroll inside a container, which clips an IntersectionObserver's margin on the document's root, so
# the "a screen ahead" test is the placeholder's rectangle on any scroll (captured at the document:
# every container's scroll passes it) and while the page is laid out; an IntersectionObserver with
# no margin covers whatever else brings it into view.
_ESM = """
function near(el) {
  const r = el.getBoundingClientRect(), h = window.innerHeight || 800;
  return (r.width > 0 || r.height > 0) && r.top < 2 * h && r.bottom > -h;
}

function render({ model, el }) {
  const box = document.createElement("div");
  box.className = model.get("part") ? "lazy-placeholder lazy-part" : "lazy-placeholder";
  box.setAttribute("role", "status");
  box.setAttribute("aria-busy", "true");
  box.tabIndex = 0;   // reached by Tab: focus builds the section too
  box.textContent = model.get("text");
  model.on("change:text", () => { box.textContent = model.get("text"); });   // "building" once it is seen
  Object.assign(box.style, { minHeight: model.get("min_height") + "px", display: "flex", alignItems: "center",
                            padding: "12px 16px", boxSizing: "border-box", color: model.get("color"),
                            border: "1px dashed " + model.get("border"), borderRadius: "4px" });
  el.appendChild(box);
  let io = null, frame = 0, done = false;
  const timers = [];
  const stop = () => {
    done = true;
    if (io) io.disconnect();
    if (frame) cancelAnimationFrame(frame);
    timers.forEach(clearTimeout);
    document.removeEventListener("scroll", onScroll, true);
    window.removeEventListener("resize", onScroll);
  };
  const fire = () => {
    if (done) return;
    stop();
    if (!model.get("visible")) { model.set("visible", true); model.save_changes(); }
  };
  const check = () => { frame = 0; if (!done && box.isConnected && near(box)) fire(); };
  const onScroll = () => { if (!frame && !done) frame = requestAnimationFrame(check); };
  box.addEventListener("focus", fire);
  if (model.get("visible")) return stop;
  document.addEventListener("scroll", onScroll, { capture: true, passive: true });
  window.addEventListener("resize", onScroll);
  // Look only once the page above is laid out: while the sections above are still being drawn the
  // page is short, and every placeholder would look near (and be built at once, competing with the
  // first section). Laid out: the placeholder has not moved for 1.5 s and every figure is drawn.
  const begin = () => {
    if (done) return;
    if (typeof IntersectionObserver !== "undefined") {
      io = new IntersectionObserver(es => { if (es.some(e => e.isIntersecting)) fire(); });
      io.observe(box);
    }
    onScroll();
  };
  let last = null, still = 0, waited = 0;
  const settle = () => {
    if (done) return;
    const top = box.isConnected ? Math.round(box.getBoundingClientRect().top) : null;
    const drawn = [...document.querySelectorAll(".js-plotly-plot")].every(f => f.querySelector(".main-svg"));
    still = top !== null && top === last && drawn ? still + 1 : 0;
    last = top;
    waited += 250;
    if (still >= 6 || waited >= 15000) begin();
    else timers.push(setTimeout(settle, 250));
  };
  settle();
  return stop;
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
    part = traitlets.Bool(False).tag(sync=True)       # a part of a built section (Deferred), not a whole section
    color = traitlets.Unicode(palette.var("muted")).tag(sync=True)
    border = traitlets.Unicode(palette.var("border")).tag(sync=True)



class Deferred:
    """A part of a built section whose widgets are made only when its place comes into view (lesson 5's
    results figures, below its live charts: every FigureWidget in the kernel is sent to the page when
    it opens, shown or not). Until then `box` holds a `Placeholder`. Drawing asked of the part meanwhile
    (`when_built`) waits and runs once it is built; only the latest waits. On a page that builds at once
    (`when_seen=False`: Python code, tests) it is built at once. The part is built and drawn under the
    section's lock, as every figure of the section is written; a failure is one line in its status."""

    def __init__(self, section, make: Callable[[], list[ipw.Widget]], when_seen: bool, min_height: int = 360):
        self.box = ipw.VBox([])
        self._make, self._lock, self._pending = make, section.lock, None
        self.built = False
        if when_seen:
            self.placeholder = Placeholder(text=section.t("common.lazy_part"), min_height=min_height, part=True)
            self.placeholder.observe(ui.guarded(self._on_visible, section.status, section.lang), names="visible")
            self.box.children = [self.placeholder]
        else:
            self.build()

    def _on_visible(self, change) -> None:
        if change["new"]:
            self.build()

    def build(self) -> None:
        with self._lock:
            if self.built:
                return
            self.box.children = self._make()
            self.built = True
            pending, self._pending = self._pending, None
            if pending is not None:
                pending()

    def when_built(self, draw: Callable[[], None] | None) -> None:
        """Run `draw` now if the part is built, else once it is (in place of a drawing still waiting);
        None cancels the one waiting."""
        with self._lock:
            if self.built and draw is not None:
                draw()
            else:
                self._pending = draw
