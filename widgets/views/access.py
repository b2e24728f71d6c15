"""What the page bridge (widgets/views/page.py) does in the browser so that every learner can use
a lesson: the part of its JavaScript that is about access, kept apart from the link logic.

* The theme: JupyterLab and Voilà put `data-jp-theme-light` on <body> (Voilà's `--theme=dark`
  or `?theme=dark`, JupyterLab's dark theme); without it, the luminance of --jp-layout-color0.
  Reported to the kernel on load and on every change (JupyterLab switches without reloading),
  so Python redraws the figures (widgets/views/theme.py).
* Names: ipywidgets gives a slider's handle (role=slider) no accessible name. Each handle
  gets its description as aria-label, and the value the learner reads (a log slider's handle
  holds the exponent) as aria-valuetext; the readout, which can be typed into, is named too;
  ToggleButtons become a named group with aria-pressed buttons; an icon-only button gets its
  tooltip. A MutationObserver keeps this true for widgets rendered later (one pass per frame).
* Landmarks: on a Voilà page the cells are the page's `main`; each lesson section's box is a
  region named by its Section.title (sent by the kernel in the bridge's `titles`).
* Figure widths: `ui.figure(width=W)` leaves plotly's width unset and marks the figure
  `lesson-fig-wW`; here it gets width W that may shrink (max-width 100%), and a resize event so
  plotly redraws it to its box. On a 414 px screen a figure is as wide as the screen.
* Figure texts: a title or subplot title that runs into another, or off the figure (three subplot
  titles side by side on a 414 px screen), gets a smaller font (10 px at least), then two lines.
* The page's stylesheet (theme.stylesheet(): colours per theme, focus ring, narrow screens).
"""

JS = r"""
// ---- the page's theme, read from what JupyterLab and Voila put on <body>
function rgbOf(css) {
  const probe = document.createElement("span");
  probe.style.color = css;
  document.body.appendChild(probe);
  const m = getComputedStyle(probe).color.match(/[0-9.]+/g) || [255, 255, 255];
  probe.remove();
  return m.slice(0, 3).map(Number);
}
function pageTheme() {
  const flag = document.body.dataset.jpThemeLight;
  if (flag === "false") return "dark";
  if (flag === "true") return "light";
  const bg = getComputedStyle(document.body).getPropertyValue("--jp-layout-color0").trim();
  if (!bg) return "light";
  const [r, g, b] = rgbOf(bg);
  return 0.2126 * r + 0.7152 * g + 0.0722 * b < 128 ? "dark" : "light";
}

// ---- accessible names, landmarks and figure widths; one pass per frame at most
const A11Y = window.__courseA11y || (window.__courseA11y = { titles: {}, frame: 0, resize: 0, started: false });

function describe(widget) {
  const label = widget.querySelector(":scope > .widget-label");
  const text = label ? label.textContent.replace(/\s+/g, " ").trim() : "";
  return text || (widget.getAttribute("title") || "").trim();
}
function setAttr(el, name, value) {
  if (value && el.getAttribute(name) !== value) el.setAttribute(name, value);
}
function labelSliders() {
  for (const w of document.querySelectorAll(".widget-slider")) {
    const name = describe(w) || "slider";
    const handles = w.querySelectorAll(".noUi-handle");
    const readout = w.querySelector(".widget-readout");
    handles.forEach((h, i) => {
      const part = handles.length > 1 ? (i === 0 ? " (lower end)" : " (upper end)") : "";
      setAttr(h, "aria-label", name + part);
      // A log slider's handle holds the exponent: say the value the learner reads beside it.
      if (handles.length === 1 && readout) setAttr(h, "aria-valuetext", readout.textContent.trim());
    });
    if (readout) {
      setAttr(readout, "role", "textbox");
      setAttr(readout, "aria-label", name + ": type a value");
    }
  }
}
function labelGroups() {
  for (const w of document.querySelectorAll(".widget-toggle-buttons, .widget-radio")) {
    const name = describe(w);
    setAttr(w, "role", "group");
    setAttr(w, "aria-label", name);
  }
  for (const b of document.querySelectorAll(".widget-toggle-buttons .widget-toggle-button")) {
    setAttr(b, "aria-pressed", b.classList.contains("mod-active") ? "true" : "false");
  }
  for (const b of document.querySelectorAll("button.jupyter-button")) {
    if (!b.textContent.trim()) setAttr(b, "aria-label", b.getAttribute("title") || "");
  }
  for (const p of document.querySelectorAll(".widget-progress .progress")) {
    setAttr(p, "role", "progressbar");
    setAttr(p, "aria-label", "progress");
  }
}
function landmarks(onVoila) {
  const main = document.querySelector("#rendered_cells > div");
  if (onVoila && main) setAttr(main, "role", "main");
  for (const box of document.querySelectorAll(".lesson-section")) {
    const cls = [...box.classList].find(c => c.startsWith("section-"));
    const title = cls && A11Y.titles[cls.slice(8)];
    if (title) { setAttr(box, "role", "region"); setAttr(box, "aria-label", title); }
  }
}
// ui.figure() turns a fixed plotly width into a class: the figure keeps that width where there is
// room and shrinks with a narrow screen (plotly then redraws it to its box on "resize").
function figureWidths() {
  let changed = false;
  for (const fig of document.querySelectorAll(".js-plotly-plot[class*='lesson-fig-w']")) {
    const m = fig.className.match(/lesson-fig-w([0-9]+)/);
    const px = m[1] + "px";
    if (fig.style.width !== px) {
      Object.assign(fig.style, { width: px, maxWidth: "100%", flex: "0 1 " + px, minWidth: "0" });
      changed = true;
    }
  }
  if (changed) {
    clearTimeout(A11Y.resize);
    A11Y.resize = setTimeout(() => window.dispatchEvent(new Event("resize")), 50);
  }
}
// A figure's title and its subplot titles (annotations) that run into each other or off the figure,
// on a narrow screen or with long words: their font shrinks, 10 % at a time down to 10 px, then an
// annotation breaks onto two lines. plotly redraws them on every update; this runs again after each
// redraw, before it is painted.
function overlaps(a, b) {
  return a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
}
function tightTexts(texts, box) {
  const rects = texts.map(t => t.getBoundingClientRect());
  const tight = new Set();
  rects.forEach((r, i) => {
    if (r.left < box.left - 1 || r.right > box.right + 1) tight.add(i);
    for (let j = i + 1; j < rects.length; j++) if (overlaps(r, rects[j])) { tight.add(i); tight.add(j); }
  });
  return tight;
}
// One line of SVG text as two, the first a line higher (the text is anchored at its bottom line).
function wrapText(t) {
  const words = t.textContent.trim().split(/\s+/);
  if (t.querySelector("tspan") || words.length < 2) return false;
  const half = Math.ceil(words.length / 2), x = t.getAttribute("x") || 0, ns = "http://www.w3.org/2000/svg";
  t.textContent = "";
  [[words.slice(0, half), "-1.15em"], [words.slice(half), "1.15em"]].forEach(([part, dy]) => {
    const line = document.createElementNS(ns, "tspan");
    line.setAttribute("x", x);
    line.setAttribute("dy", dy);
    line.textContent = part.join(" ");
    t.appendChild(line);
  });
  return true;
}
function fitTexts(fig) {
  const svg = fig.querySelector(".main-svg");
  const box = svg && svg.getBoundingClientRect();
  if (!box || !box.width) return;
  const texts = [...fig.querySelectorAll(".g-gtitle .gtitle, .infolayer .annotation-text")]
    .filter(t => t.getClientRects().length && t.textContent.trim());
  for (let round = 0; round < 16; round++) {
    const tight = tightTexts(texts, box);
    let changed = false;
    for (const i of tight) {
      const size = parseFloat(getComputedStyle(texts[i]).fontSize);
      if (size > 10) { texts[i].style.fontSize = Math.max(10, size * 0.9).toFixed(1) + "px"; changed = true; }
      else if (!texts[i].classList.contains("gtitle")) changed = wrapText(texts[i]) || changed;
    }
    if (!changed) return;
  }
}
function pass(onVoila) {
  A11Y.frame = 0;
  labelSliders();
  labelGroups();
  landmarks(onVoila);
  figureWidths();
  const figs = A11Y.allFigures ? document.querySelectorAll(".js-plotly-plot") : A11Y.dirty;
  for (const fig of figs) fitTexts(fig);
  A11Y.dirty = new Set();
  A11Y.allFigures = false;
}
function startWatching(onVoila) {
  if (A11Y.started) return;
  A11Y.started = true;
  A11Y.dirty = new Set();
  A11Y.allFigures = true;
  const schedule = () => { if (!A11Y.frame) A11Y.frame = requestAnimationFrame(() => pass(onVoila)); };
  const watch = (records) => {
    for (const r of records) {   // the figures a redraw touched: only those are measured again
      const el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
      const fig = el && el.closest(".js-plotly-plot");
      if (fig) A11Y.dirty.add(fig);
    }
    schedule();
  };
  new MutationObserver(watch).observe(document.body, { childList: true, subtree: true, characterData: true,
    attributes: true, attributeFilter: ["class", "aria-valuetext"] });
  window.addEventListener("resize", () => { A11Y.allFigures = true; setTimeout(schedule, 300); });
  schedule();
}
function installStyle(css) {
  let s = document.getElementById("course-page-style");
  if (!s) {
    s = document.createElement("style");
    s.id = "course-page-style";
    document.head.appendChild(s);
  }
  if (s.textContent !== css) s.textContent = css;
}

// Called by the bridge's render(): install the page's styles, keep names/landmarks/figure widths
// up to date, and report the theme now and whenever JupyterLab switches it. Returns the cleanup.
function installAccess(model, onVoila) {
  installStyle(model.get("css"));
  Object.assign(A11Y.titles, model.get("titles"));
  model.on("change:titles", () => { Object.assign(A11Y.titles, model.get("titles")); landmarks(onVoila); });
  startWatching(onVoila);
  const themeWatch = new MutationObserver(() => {
    const t = pageTheme();
    if (t !== model.get("theme")) { model.set("theme", t); model.save_changes(); }
  });
  themeWatch.observe(document.body, { attributes: true, attributeFilter: ["data-jp-theme-light", "data-jp-theme-name"] });
  return () => themeWatch.disconnect();
}
"""
