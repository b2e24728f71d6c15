"""Figures and page styles that follow the page's theme (light or dark).

The page bridge (widgets/views/page.py) reads the theme in the browser — JupyterLab and Voilà
put `data-jp-theme-light` on <body> (`voila --theme=dark`, `?theme=dark`, JupyterLab's dark
theme) — and reports it to the kernel. `apply(theme, figures)` then gives every figure the
course's template for that theme; a figure built later takes the current one (`template()`).

Both templates draw on a transparent background, so a figure sits on the page's own colour;
their text and grid colours are plotly_white's and plotly_dark's (text 11:1 and 17:1 against
the page). Their colorway is Okabe–Ito (widgets/views/palette.py). Marks drawn in ink (black
on light) are swapped for near-white on dark, so "the current point" stays visible.

`stylesheet()` is the CSS the bridge installs once per page: the palette's text colours as
custom properties, a visible focus ring, and the rules that keep a lesson usable on a
414 px wide screen.
"""
from __future__ import annotations

import os
import threading
import weakref
from typing import Iterable
from urllib.parse import parse_qsl

import plotly.graph_objects as go
import plotly.io as pio

from widgets.views import palette

THEMES = palette.THEMES
TEMPLATES = {"light": "course_light", "dark": "course_dark"}
_BASE = {"light": "plotly_white", "dark": "plotly_dark"}
_INK = {"light": palette.INK, "dark": palette.INK_DARK}

_state = {"theme": None}
_lock = threading.Lock()
_figures: list[weakref.ref] = []   # figures are unhashable: weak references in a list


def _build_template(theme: str) -> go.layout.Template:
    t = go.layout.Template(pio.templates[_BASE[theme]])
    t.layout.colorway = list(palette.COLORWAY)
    t.layout.paper_bgcolor = "rgba(0,0,0,0)"
    t.layout.plot_bgcolor = "rgba(0,0,0,0)"
    return t


def _registered(theme: str) -> str:
    """The template's name, registered with plotly on first use (not at import: the first
    go.layout.Template builds plotly's layout validators, ~0.13 s of a page's start that a page
    without figures, the landing page, never needs; after a figure exists it costs ~7 ms)."""
    name = TEMPLATES[theme]
    if name not in _registered_names:
        with _lock:
            if name not in _registered_names:
                pio.templates[name] = _build_template(theme)
                _registered_names.add(name)
    return name


_registered_names: set[str] = set()


def normalise(theme: str | None) -> str:
    """'dark', 'JupyterLab Dark' -> 'dark'; anything else -> 'light'."""
    return "dark" if theme and "dark" in str(theme).lower() else "light"


def current() -> str:
    """The page's theme as last reported; before any report, Voilà's `?theme=` if the kernel saw it."""
    with _lock:
        if _state["theme"] is None:
            query = dict(parse_qsl(os.environ.get("QUERY_STRING", "")[:2000]))
            _state["theme"] = normalise(query.get("theme"))
        return _state["theme"]


def template(theme: str | None = None) -> str:
    """The name of the course's plotly template for `theme` (default: the page's)."""
    return _registered(normalise(theme or current()))


def track(fig: go.FigureWidget, themed: bool = True) -> go.FigureWidget:
    """Remember `fig` so that a later theme change reaches it (weakly: closing a page frees it).

    `themed`: fig already has the current theme's template (ui.figure gave it).
    """
    fig._course_theme = current() if themed else None
    with _lock:
        _figures[:] = [r for r in _figures if r() is not None]
        _figures.append(weakref.ref(fig))
    return fig


def tracked() -> list[go.FigureWidget]:
    with _lock:
        return [f for f in (r() for r in _figures) if f is not None]


def apply(theme: str, figures: Iterable[go.FigureWidget] = ()) -> str:
    """Make `theme` the page's theme and redraw `figures` and every tracked figure in it."""
    theme = normalise(theme)
    with _lock:
        _state["theme"] = theme
    seen = set()
    for fig in [*figures, *tracked()]:
        if id(fig) in seen:
            continue
        seen.add(id(fig))
        style(fig, theme)
    return theme


def style(fig: go.BaseFigure, theme: str) -> None:
    """Give one figure `theme`'s template and ink colour (one batch_update)."""
    old, new = _INK[_other(theme)], _INK[theme]
    with _batch(fig):
        if getattr(fig, "_course_theme", None) != theme:
            fig.layout.template = template(theme)
            fig._course_theme = theme
        for trace in fig.data:
            _swap_ink(trace, old, new)
        for ann in fig.layout.annotations or ():
            if _same_colour(getattr(ann.font, "color", None), old):
                ann.font.color = new
        for shape in fig.layout.shapes or ():
            if _same_colour(getattr(shape.line, "color", None), old):
                shape.line.color = new


def _other(theme: str) -> str:
    return "light" if theme == "dark" else "dark"


def _batch(fig):
    import contextlib

    return fig.batch_update() if isinstance(fig, go.FigureWidget) else contextlib.nullcontext()


def _same_colour(a, b: str) -> bool:
    return isinstance(a, str) and a.strip().lower() in (b.lower(), {"#000000": "black"}.get(b.lower(), b.lower()))


def _swap_ink(trace, old: str, new: str) -> None:
    """Recolour the parts of `trace` drawn in ink: line, marker, marker outline, text."""
    for path in (("line", "color"), ("marker", "color"), ("marker", "line", "color"), ("textfont", "color")):
        obj = trace
        for part in path[:-1]:
            obj = getattr(obj, part, None) if obj is not None and part in obj else None
        if obj is not None and path[-1] in obj and _same_colour(obj[path[-1]], old):
            obj[path[-1]] = new


# --------------------------------------------------------------------------- page CSS
_FOCUS_AND_LAYOUT = """
.lesson-msg-error{color:var(--course-error,#B00020)}
.lesson-msg-ok{color:var(--course-ok,#1B5E20)}
.lesson-stats td.lesson-stat-name{color:var(--course-muted,#555555)}
/* Visible focus for every control, whatever the theme (WCAG 2.4.7). */
.jp-OutputArea .noUi-handle:focus-visible,.jp-OutputArea .widget-readout:focus-visible,
.jp-OutputArea button:focus-visible,.jp-OutputArea select:focus-visible,.jp-OutputArea input:focus-visible,
.jp-OutputArea a:focus-visible,.jp-OutputArea .jupyter-button:focus-visible{
  outline:3px solid var(--course-focus,#0072B2)!important;outline-offset:2px}
.jp-OutputArea .noUi-handle:focus{outline:3px solid var(--course-focus,#0072B2);outline-offset:2px}
/* Code in the lesson text on a dark page: Voila's nbconvert highlighting is for a light page
   (a comment is #408080, 4.1:1 on #111111); keep the text colour, comments muted. */
body[data-jp-theme-light='false'] .jp-RenderedMarkdown .highlight span{color:inherit}
body[data-jp-theme-light='false'] .jp-RenderedMarkdown .highlight :is(.c,.c1,.cm,.ch,.cs,.cp,.cpf){
  color:var(--course-muted,#B3B3B3)}
/* Wide tables scroll inside their own box instead of the page. */
.lesson-section .widget-html-content{max-width:100%;overflow-x:auto}
@media (max-width: 700px){
  #rendered_cells{padding-left:4px!important;padding-right:4px!important}
  #rendered_cells>div{padding:8px!important}
  .lesson-section,.lesson-section .widget-box{max-width:100%;min-width:0}
  .lesson-section .widget-hbox{flex-wrap:wrap!important}
  .lesson-section .widget-inline-hbox,.lesson-section .lesson-number-field{
    max-width:calc(100% - 2 * var(--jp-widgets-margin, 2px))!important;min-width:0}
  .lesson-section .widget-toggle-buttons{max-width:100%!important}
  .lesson-section .widget-toggle-buttons .widget-toggle-button{min-width:0}
  .lesson-section .widget-toggle-buttons{flex-wrap:wrap}
  .lesson-section .widget-html{min-width:0!important;max-width:100%}
  .lesson-section .js-plotly-plot,.lesson-section .plotly-graph-div{max-width:100%}
  /* side-by-side columns stack; grids of fields take as many columns as fit */
  .lesson-section .widget-hbox>.widget-vbox{width:100%!important;max-width:100%}
  .lesson-section .widget-gridbox{grid-template-columns:repeat(auto-fit,minmax(min(100%,180px),1fr))!important}
  .lesson-section button{max-width:100%}
}
"""


def stylesheet() -> str:
    """The CSS the page bridge installs: theme colours, focus ring, narrow-screen rules."""
    return palette.css_variables() + _FOCUS_AND_LAYOUT
