"""One shape for every lesson section.

A section is a class with a stable `name`, a `title`, and three methods:

* `build()`   registers its controls (by name, each with its default and its parsing),
              its figures and their traces (by name: a handle, never `fig.data[i]`),
              and, if it works in the background, its one task;
* `update(changed)`  redraws after the control called `changed` (None: everything);
* `layout()`  returns the widgets to show, in order.

Every control feeds one update path: its observe goes through `guarded` (an exception
becomes one line in the section's status, never a traceback) and takes the section's
lock, the same lock a background task takes to draw its progress and results. So no
two threads write a figure at once.

Sections take their controls' values as keyword arguments (`TanhSaturation(w=0.3)`), or
from the page's link (widgets/views/page.py): a bad value keeps the default and the status
line says what was ignored and why.

On a lesson page (`page_header()` first), every section after the first is lazy
(widgets/views/lazy.py): its box shows its heading and a placeholder, and `build()`, the
first `update(None)` and its figures run only when the placeholder comes into view. Python
that asks a waiting section for anything `build()` makes (`controls`, `values()`,
`set_values()`, a link naming it, `task` ...) gets it built in the kernel at once; its box
still shows it only when seen. Sections constructed by Python code are built at once.
"""
from __future__ import annotations

import contextlib
import html
import math
import threading
from dataclasses import dataclass
from typing import Any, Callable, ClassVar

import ipywidgets as ipw
import plotly.graph_objects as go

from widgets import ui
from widgets.views import i18n, lazy, page, theme

_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


# --------------------------------------------------------------------------- controls
@dataclass
class Control:
    """A named control: the widget whose `.value` it is, its default, and how text becomes a value."""

    name: str
    widget: ipw.Widget
    default: Any

    @property
    def value(self) -> Any:
        return self.widget.value

    lang: str = "en"

    def parse(self, raw: Any) -> Any:
        """The value `raw` (text or a Python value) stands for, or ValueError with a learner-facing reason."""
        w, t = self.widget, (lambda key, **f: i18n.t(self.lang, f"common.{key}", **f))
        if isinstance(w, ui.NumberField):
            return w.parse(str(raw))
        if isinstance(w, (ipw.ToggleButton, ipw.Checkbox)):
            return _parse_bool(raw, t)
        if hasattr(w, "options"):
            return _parse_option(w, raw, t)
        if isinstance(w, (ipw.FloatLogSlider, ipw.FloatSlider, ipw.IntSlider)):
            return _parse_number(w, raw, t)
        raise ValueError(t("not_settable"))

    def set(self, raw: Any) -> None:
        v = self.parse(raw)
        if isinstance(self.widget, ui.NumberField):
            self.widget.set(v)
        else:
            self.widget.value = v


def _same(a: Any, b: Any) -> bool:
    """Equal, allowing for the rounding a slider's front end applies to a float."""
    if isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def _bounds(w) -> tuple[float, float]:
    if isinstance(w, ipw.FloatLogSlider):
        return w.base ** w.min, w.base ** w.max
    return w.min, w.max


def _parse_number(w, raw: Any, t: Callable) -> float | int:
    try:
        v = float(str(raw).strip())
    except ValueError:
        raise ValueError(t("not_a_number", raw=str(raw)[:20])) from None
    if not math.isfinite(v):
        raise ValueError(t("must_be_finite"))
    lo, hi = _bounds(w)
    if not (lo * (1 - 1e-12) <= v <= hi * (1 + 1e-12)):
        raise ValueError(t("must_be_in_range", lo=f"{lo:g}", hi=f"{hi:g}"))
    if isinstance(w, ipw.IntSlider):
        if v != int(v):
            raise ValueError(t("must_be_whole"))
        return snap(w, int(v))
    return snap(w, v)


def snap(w, v: float) -> float | int:
    """The nearest value the slider can hold (min + k·step, in the exponent for a log slider).

    The browser moves a slider's value onto its grid and sends it back, so an off-grid value set
    here would change on its own when the page opens (and then differ from its default in a link).
    """
    if not isinstance(w, (ipw.FloatLogSlider, ipw.FloatSlider, ipw.IntSlider)) or not w.step:
        return v
    if isinstance(w, ipw.FloatLogSlider):
        e = math.log(v, w.base) if v > 0 else w.min
        k = round((e - w.min) / w.step)
        return float(f"{w.base ** min(w.max, w.min + k * w.step):.12g}")
    k = round((v - w.min) / w.step)
    on_grid = min(w.max, w.min + k * w.step)
    return int(on_grid) if isinstance(w, ipw.IntSlider) else float(f"{on_grid:.12g}")


def _parse_bool(raw: Any, t: Callable) -> bool:
    if isinstance(raw, bool):
        return raw
    s = str(raw).strip().lower()
    if s in _TRUE | _FALSE:
        return s in _TRUE
    raise ValueError(t("must_be_bool"))


def _parse_option(w, raw: Any, t: Callable) -> Any:
    pairs = [(o if isinstance(o, tuple) else (str(o), o)) for o in w.options]
    if all(isinstance(v, bool) for _, v in pairs) and not isinstance(raw, bool):
        try:
            raw = _parse_bool(raw, t)
        except ValueError:
            pass
    for label, value in pairs:
        if raw == value or str(raw) == str(value) or str(raw) == label:
            return value
    raise ValueError(t("must_be_one_of", choices=", ".join(str(v) for _, v in pairs)))


# --------------------------------------------------------------------------- background task
class SectionTask(ui.BackgroundTask):
    """The section's one worker: at most one runs, whichever start button was pressed.

    `draw(fn)` applies progress or results to the figures under the section's lock;
    `cancel()` stops the run and makes its late results be dropped (a control changed
    what they would be drawn over).
    """

    def __init__(self, section: "Section", start_label: str, stop_label: str = "Stop"):
        super().__init__(start_label, stop_label, lang=section.lang)
        self.section = section
        self.generation = 0

    def add_start_button(self, label: str, on_click: Callable) -> ipw.Button:
        """A second start button that shares this task's one worker slot."""
        b = ipw.Button(description=label, button_style="primary", icon="play")
        b.on_click(ui.guarded(on_click, self.status, self.lang))
        self.start_buttons.append(b)
        return b

    def start(self, work: Callable, on_done: Callable[[Any], None] | None = None,
              on_error: Callable[[BaseException], None] | None = None) -> bool:
        """Start `work(progress, stop_event)`; `on_done(result)` runs under the section's lock."""
        generation = self.generation

        def done(result):
            # the generation is checked under the lock: a cancel cannot slip in between check and draw
            if on_done is not None:
                self.draw(lambda: on_done(result) if generation == self.generation else None)

        return super().start(work, done, on_error)

    def draw(self, fn: Callable[[], Any]) -> Any:
        """Run `fn` (which writes figures) under the section's lock."""
        with self.section.lock:
            return fn()

    def cancel(self) -> None:
        """Stop the run, if any, and drop whatever it would still draw."""
        self.generation += 1
        if self.running:
            self.stop_event.set()


# --------------------------------------------------------------------------- the section
class Section:
    """Base class of every lesson section (see the module docstring)."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    css: ClassVar[tuple[str, ...]] = ()      # extra CSS classes (the browser tests scope by them)
    heading: ClassVar[bool] = False          # show `title` as a heading inside the section's box
    framed: ClassVar[bool] = False           # a light border around the section
    words: ClassVar[str] = ""                # catalogue prefix of its strings, if not `name`

    def __init__(self, lang: str = "en", **values: Any):
        if not self.name:
            raise TypeError(f"{type(self).__name__} needs a `name`")
        i18n.catalogue(lang)                 # an unknown language is refused here, with the choices
        self.lang = lang
        self.status = ipw.HTML("")
        self.figures: dict[str, go.FigureWidget] = {}
        self.lock = threading.RLock()
        self.from_link: dict[str, Any] = {}
        self.ignored: list[str] = []
        self._values = values
        if page.lazy and page.sections():    # below the first section of a lesson page: widgets/views/lazy.py
            self._state = "waiting"
            self.placeholder = lazy.Placeholder(text=self.t("common.lazy_section"))
            self.placeholder.observe(ui.guarded(self._on_visible, self.status, lang), names="visible")
            self.widget = self._frame([self.placeholder])
        else:
            self.widget = self._frame(self._build_now())
        page.register(self)

    def _build_now(self) -> list[ipw.Widget]:
        """build(), the link's and the caller's values, the observers, the first update; the layout."""
        self._state = "building"
        self.controls: dict[str, Control] = {}
        self.buttons: dict[str, ipw.Button] = {}
        self.traces: dict[str, Any] = {}
        self.task: SectionTask | None = None
        self.build()
        self.from_link = page.values_from_environment(self)
        self.ignored = self.set_values({**self.from_link, **self._values})
        for c in self.controls.values():
            c.widget.observe(self._on_change(c.name), names="value")
        with self.drawing():                 # the first update, too, is one message a figure
            self.update(None)
        self._say_ignored()
        self._state = "built"
        self.after_build()
        return self.layout()

    # ---- a lazy section (widgets/views/lazy.py)
    @property
    def built(self) -> bool:
        return self._state == "built"

    def ensure_built(self) -> None:
        """Build a lazy section now, in the kernel; its box keeps the placeholder until it comes into view."""
        with self.lock:
            if self._state != "waiting":
                return
            try:
                self._content = self._build_now()
            except Exception as exc:
                self._state = "failed"       # not built again; its box shows this when seen
                self.status.value = ui.message(self.t("common.went_wrong", error=f"{type(exc).__name__}: {exc}"))
                raise
        theme.apply(theme.current(), self.figures.values())   # in the page's theme, as page.register does

    def _on_visible(self, _change=None) -> None:
        """The placeholder came into view: build (if a link has not already) and show the section."""
        if not self.placeholder.visible or self.placeholder not in self.widget.children:
            return
        if self._state == "waiting":         # sent before the build starts: the page says what is happening
            self.placeholder.text = self.t("common.lazy_building")
        try:
            self.ensure_built()
        finally:
            if self._state == "failed":      # now or when a link built it: its own message, not a stub
                self.widget.children = [*self._head, self.status]
        if self._state == "built":           # guarded: an exception is one line in the status above
            self.widget.children = [*self._head, *self._content]

    def __getattr__(self, attr: str) -> Any:
        # Reached only for an attribute not set yet: on a lazy section waiting to be built, one that
        # build() sets (controls, task, a figure's handle ...). Python code that asks for it gets it built.
        if attr.startswith("_") or self.__dict__.get("_state") != "waiting":
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {attr!r}")
        self.ensure_built()
        return getattr(self, attr)

    # ---- what a section writes
    def build(self) -> None:
        raise NotImplementedError

    def update(self, changed: str | None) -> None:
        raise NotImplementedError

    def layout(self) -> list[ipw.Widget]:
        raise NotImplementedError

    def after_build(self) -> None:
        """Work to start once the section is built (on a lesson page: when it comes into view), e.g. a
        first background run. Nothing by default."""

    # ---- words
    def t(self, key: str, **fields: Any) -> str:
        """This section's string `key` in the page's language (`common.x` for shared words)."""
        full = key if key.startswith("common.") else f"{self.words or self.name}.{key}"
        return i18n.t(self.lang, full, **fields)

    def heading_text(self) -> str:
        """The title in the page's language (the catalogue's `<name>.title`, else the class's `title`)."""
        key = f"{self.words or self.name}.title"
        return i18n.t(self.lang, key) if key in i18n.catalogue(self.lang) else self.title

    # ---- controls
    def control(self, name: str, widget: ipw.Widget) -> ipw.Widget:
        """Register `widget` as the control `name`; its current value is its default."""
        if name in self.controls:
            raise ValueError(f"{self.name}: control {name!r} registered twice")
        if isinstance(widget, (ipw.FloatLogSlider, ipw.FloatSlider, ipw.IntSlider)):
            widget.value = snap(widget, widget.value)
        self.controls[name] = Control(name, widget, widget.value, self.lang)
        return widget

    def slider(self, name: str, description: str, value: float, min: float, max: float, step: float = 1,
               kind: type = ipw.FloatSlider, width: str = "420px", description_width: str = "initial",
               **kw: Any) -> ipw.Widget:
        """A bounded slider registered as `name` (kind: FloatSlider, IntSlider or FloatLogSlider)."""
        kw.setdefault("continuous_update", True)
        w = kind(value=value, min=min, max=max, step=step, description=description,
                 style={"description_width": description_width}, layout=ipw.Layout(width=width), **kw)
        return self.control(name, w)

    def number(self, name: str, description: str, value: float, **kw: Any) -> ui.NumberField:
        """A typed number with bounds (ui.NumberField) registered as `name`."""
        return self.control(name, ui.NumberField(description, value, lang=self.lang, **kw))

    def choice(self, name: str, description: str, options: list, value: Any,
               kind: type = ipw.Dropdown, **kw: Any) -> ipw.Widget:
        """A Dropdown or ToggleButtons registered as `name`."""
        kw.setdefault("style", {"description_width": "initial"})
        return self.control(name, kind(options=options, value=value, description=description, **kw))

    def toggle(self, name: str, description: str, value: bool = False, **kw: Any) -> ipw.ToggleButton:
        return self.control(name, ipw.ToggleButton(value=value, description=description, **kw))

    def button(self, name: str, description: str, on_click: Callable, **kw: Any) -> ipw.Button:
        """A push button; its handler runs guarded and under the section's lock."""
        b = ipw.Button(description=description, **kw)

        def clicked(_b):
            with self.lock:
                on_click()

        b.on_click(ui.guarded(clicked, self.status, self.lang))
        self.buttons[name] = b
        return b

    def values(self) -> dict[str, Any]:
        return {n: c.value for n, c in self.controls.items()}

    def changed_values(self) -> dict[str, Any]:
        """The controls that differ from their defaults."""
        return {n: c.value for n, c in self.controls.items() if not _same(c.value, c.default)}

    def set_values(self, values: dict[str, Any]) -> list[str]:
        """Set controls from `values`; return one reason per value ignored (the default is kept)."""
        if not values:
            return []                        # nothing to set: a lazy section stays unbuilt
        ignored = []
        for name, raw in values.items():
            c = self.controls.get(name)
            if c is None:
                ignored.append(self.t("common.no_such_control", name=str(name)[:20]))
                continue
            try:
                c.set(raw)
            except ValueError as exc:
                ignored.append(self.t("common.ignored_item", name=name, raw=str(raw)[:20],
                                      reason=str(exc).rstrip(".。")))
        return ignored

    def _say_ignored(self) -> None:
        if self.ignored:
            self.status.value = ui.message(self.t("common.ignored", items="; ".join(self.ignored)))

    def _on_change(self, name: str) -> Callable:
        def changed(_change):
            with self.drawing():             # one plotly message per figure, however many writes update() makes
                self.update(name)

        changed.__name__ = f"{self.name}.update({name})"
        return ui.guarded(changed, self.status, self.lang)

    # ---- figures and traces
    def figure(self, name: str, height: int = 360, **layout: Any) -> go.FigureWidget:
        fig = ui.figure(height=height, **layout)
        self.figures[name] = fig
        return fig

    def trace(self, fig: str, name: str, trace: Any, row: int | None = None, col: int | None = None) -> Any:
        """Add `trace` to figure `fig` and keep its handle as `fig/name` (returned)."""
        key = f"{fig}/{name}"
        if key in self.traces:
            raise ValueError(f"{self.name}: trace {key!r} added twice")
        f = self.figures[fig]
        kw = {} if row is None else {"row": row, "col": col}
        f.add_trace(trace, **kw)
        handle = f.data[-1]
        self.traces[key] = handle
        return handle

    def tr(self, fig: str, name: str) -> Any:
        """The handle of trace `name` in figure `fig`."""
        return self.traces[f"{fig}/{name}"]

    @contextlib.contextmanager
    def drawing(self, *figs: str):
        """Write figures `figs` (all, if none named) in one batch_update each, under the lock. Nested uses
        join the outer batch (plotly's batch_update does), so a press's update is one message a figure."""
        with self.lock, contextlib.ExitStack() as stack:
            for f in figs or tuple(self.figures):
                stack.enter_context(self.figures[f].batch_update())
            yield

    # ---- background work
    def add_task(self, start_label: str, on_start: Callable, stop_label: str | None = None) -> SectionTask:
        """The section's one background task; its start button calls `on_start()` (guarded)."""
        if self.task is not None:
            raise ValueError(f"{self.name}: one task per section (use task.add_start_button)")
        self.task = SectionTask(self, start_label, stop_label or self.t("common.stop"))
        self.task.start_button.on_click(ui.guarded(lambda _b: on_start(), self.task.status, self.lang))
        return self.task

    # ---- the box on the page
    def _frame(self, children: list[ipw.Widget]) -> ipw.VBox:
        self._head = [ipw.HTML(f"<h3 style='margin:6px 0'>{html.escape(self.heading_text())}</h3>")] if self.heading else []
        layout = ipw.Layout(border="1px solid #ddd", padding="8px", margin="6px 0") if self.framed else ipw.Layout()
        box = ipw.VBox([*self._head, *children], layout=layout)
        for cls in ("lesson-section", f"section-{self.name}", *self.css):
            box.add_class(cls)
        return box


def row(*children: ipw.Widget, gap: str = "24px", **kw: Any) -> ipw.HBox:
    """Children side by side, wrapping on narrow screens."""
    return ipw.HBox(list(children), layout=ipw.Layout(flex_flow="row wrap", grid_gap=gap, **kw))


def column(*children: ipw.Widget, **kw: Any) -> ipw.VBox:
    return ipw.VBox(list(children), layout=ipw.Layout(**kw))
