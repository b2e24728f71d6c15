"""Shared view parts: checked number fields, guarded handlers, one figure style,
and a background task with a progress bar and a Stop button.

Everything here is ipywidgets/plotly glue. The maths modules never import this file.
"""
from __future__ import annotations

import html
import logging
import math
import threading
import time
import traceback
from typing import Any, Callable

import ipywidgets as ipw
import plotly.graph_objects as go
import traitlets

from widgets.views import alive, i18n, palette, theme

log = logging.getLogger("widgets")

# Theme-aware colours (widgets/views/palette.py): the page's stylesheet gives the light or dark
# value; the fallback after the comma is the light one. Both pass WCAG AA on their background.
ERROR_STYLE = f"color:{palette.var('error')};font-size:0.9em"
OK_STYLE = f"color:{palette.var('ok')};font-size:0.9em"
# Legends sit under the plot, in the figure's bottom margin (plotly reserves their height there),
# so that no title, wrapped onto two lines on a narrow screen or not, can run into a legend.
LEGEND_BELOW = dict(orientation="h", xref="paper", x=0, xanchor="left", yref="container", y=0, yanchor="bottom")


def message(text: str = "", kind: str = "error") -> str:
    """HTML for a short message shown next to a control."""
    if not text:
        return ""
    style = ERROR_STYLE if kind == "error" else OK_STYLE
    return f'<span class="lesson-msg lesson-msg-{kind}" style="{style}">{html.escape(text)}</span>'


def guarded(handler: Callable, status: ipw.HTML, lang: str = "en") -> Callable:
    """Wrap an observe/click handler so an exception becomes a message in `status`.

    In Voila an exception in a handler vanishes silently; here the learner sees one
    line and the traceback goes to the kernel log, never to the page.
    """

    def run(*args, **kwargs):
        try:
            out = handler(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - shown to the learner, logged in full
            log.error("handler %s failed:\n%s", getattr(handler, "__name__", handler), traceback.format_exc())
            status.value = message(i18n.t(lang, "common.went_wrong", error=f"{exc.__class__.__name__}: {exc}"))
            return None
        return out

    run.__name__ = getattr(handler, "__name__", "handler")
    return run


class NumberField(ipw.HBox):
    """A typed number with bounds. A bad value shows a message beside the field
    and `value` keeps the last good number.

    `value` is a traitlet: `field.observe(fn, names="value")` fires only on good input.
    """

    value = traitlets.Float(allow_none=False)

    def __init__(
        self,
        description: str,
        value: float,
        *,
        min: float,
        max: float,
        integer: bool = False,
        width: str = "120px",
        description_width: str = "initial",
        tooltip: str = "",
        lang: str = "en",
    ):
        self.min, self.max, self.integer, self.lang = min, max, integer, lang
        self.text = ipw.Text(
            value=self._fmt(value),
            description=description,
            continuous_update=False,
            style={"description_width": description_width},
            layout=ipw.Layout(width=f"calc({width} + 8em)"),
            tooltip=tooltip or None,
        )
        self.msg = ipw.HTML("")
        super().__init__([self.text, self.msg], layout=ipw.Layout(align_items="center"))
        self.add_class("lesson-number-field")
        self.value = float(value)
        self.text.observe(self._on_text, names="value")

    def _fmt(self, v: float) -> str:
        return str(int(v)) if self.integer else f"{v:g}"

    def parse(self, raw: str) -> float:
        """Return the number in `raw` or raise ValueError with a learner-facing reason."""
        s = raw.strip().replace(",", "").replace("_", "")
        t = lambda key, **f: i18n.t(self.lang, f"common.{key}", **f)  # noqa: E731
        if not s:
            raise ValueError(t("enter_number"))
        try:
            v = float(s)
        except ValueError:
            raise ValueError(t("not_a_number", raw=raw.strip()[:20])) from None
        if not math.isfinite(v):
            raise ValueError(t("enter_finite"))
        if self.integer and v != int(v):
            raise ValueError(t("enter_whole"))
        if not (self.min <= v <= self.max):
            raise ValueError(t("enter_range", lo=self._fmt(self.min), hi=self._fmt(self.max)))
        return float(int(v)) if self.integer else v

    def _on_text(self, change):
        try:
            v = self.parse(change["new"])
        except ValueError as exc:
            self.msg.value = message(i18n.t(self.lang, "common.keeping", reason=exc, value=self._fmt(self.value)))
            return
        self.msg.value = ""
        self.value = v

    def set(self, v: float) -> None:
        """Set from code (keeps the text in step)."""
        self.text.value = self._fmt(v)


def figure(height: int = 360, **layout: Any) -> go.FigureWidget:
    """One FigureWidget in the course's style. Build once; update in batch_update().

    plotly is pinned to 5.24 on purpose: plotly 6/7's FigureWidget is an anywidget that
    ships its 5 MB bundle inside every figure's state and gives up ("Failed to initialize
    model") if loading takes over 2 s, which a busy 2-core machine hits with a few figures
    on a page: the figure then stops following Python. plotly 5's widget loads its code once.

    A `width` is the figure's width where there is room: the page bridge lets it shrink with a
    narrow screen (plotly redraws it to its box). The template follows the page's theme
    (widgets/views/theme.py).
    """
    width = layout.pop("width", None)
    base = dict(
        template=theme.template(),
        height=height,
        margin=dict(l=55, r=20, t=40, b=45),
        legend=LEGEND_BELOW,
        font=dict(size=12),
    )
    base.update(layout)
    template = base.pop("template")
    # the template in the constructor: plotly applies it instead of its default one (half the figure's cost)
    fig = go.FigureWidget(layout=dict(template=template))
    fig.update_layout(**base)
    fig.layout.title.update(automargin=True, yref="container", y=1, yanchor="top", pad=dict(t=8))
    if width:
        fig.add_class(f"lesson-fig-w{int(width)}")
    return theme.track(fig, themed="template" not in layout)


def fmt_int(n: float) -> str:
    """12443648 -> '12,443,648'."""
    return f"{int(round(n)):,}"


def stat_table(rows: list[tuple[str, str]], css_class: str = "lesson-stats") -> str:
    """A small two-column HTML table of (name, value) rows."""
    body = "".join(
        f"<tr><td class='lesson-stat-name' style='padding:2px 10px 2px 0;color:{palette.var('muted')}'>"
        f"{html.escape(k)}</td>"
        f"<td style='padding:2px 0;font-family:monospace'>{v}</td></tr>"
        for k, v in rows
    )
    return f"<table class='{css_class}'>{body}</table>"


class Throttle:
    """Call `fn` at most every `interval` seconds; `flush()` forces the last call."""

    def __init__(self, fn: Callable[[], None], interval: float = 0.25):
        self.fn, self.interval, self._last = fn, interval, 0.0

    def __call__(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last >= self.interval:
            self._last = now
            self.fn()

    def flush(self) -> None:
        self(force=True)


class StopRequested(Exception):
    """Raised inside a task when the learner pressed Stop."""


def duration(lang: str, seconds: float) -> str:
    """`seconds` as "30 min" or "90 s" in the page's language (seconds under 5 minutes)."""
    if seconds >= 300:
        return i18n.t(lang, "common.minutes", n=round(seconds / 60, 1))
    return i18n.t(lang, "common.seconds", n=round(seconds, 1))


class BackgroundTask:
    """Run long work off the kernel's main thread, with a progress bar, Stop, and a status line.

    `work(progress, stop_event)` is called in a worker thread. It calls `progress(fraction, text)`
    now and then and checks `stop_event.is_set()` between steps. Its return value is passed to
    `on_done(result)`; an exception becomes a message (never a traceback on the page).
    A watchdog (widgets/views/alive.py) sets `stop_event` when the page has gone silent or the run
    has lasted the longest the server allows, and the status line then says which.
    """

    def __init__(self, start_label: str = "Run", stop_label: str = "Stop", lang: str = "en"):
        self.lang = lang
        self.start_button = ipw.Button(description=start_label, button_style="primary", icon="play")
        self.stop_button = ipw.Button(description=stop_label, icon="stop", disabled=True)
        self.bar = ipw.FloatProgress(value=0.0, min=0.0, max=1.0, layout=ipw.Layout(width="260px"))
        self.status = ipw.HTML("")
        self.start_buttons = [self.start_button]   # more may share the one worker slot
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None
        self.stop_button.on_click(lambda _b: self.stop())
        self.widget = ipw.HBox(
            [self.start_button, self.stop_button, self.bar, self.status],
            layout=ipw.Layout(align_items="center", flex_flow="row wrap"),
        )

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def _progress(self, fraction: float, text: str = "") -> None:
        self.bar.value = max(0.0, min(1.0, float(fraction)))
        if text:
            self.status.value = f"<span class='lesson-progress'>{html.escape(text)}</span>"

    def start(self, work: Callable, on_done: Callable[[Any], None] | None = None,
              on_error: Callable[[BaseException], None] | None = None) -> bool:
        """Start `work` unless one is already running (then say so and return False)."""
        if self.running:
            self.status.value = message(i18n.t(self.lang, "common.already_running"))
            return False
        self.stop_event = threading.Event()
        self.bar.value = 0.0
        self.bar.bar_style = ""
        self._set_running(True)
        stop_event, done = self.stop_event, threading.Event()
        why: list[str] = []   # the watchdog's message, once it has stopped this run

        def halt(kind: str, seconds: float) -> None:
            why.append(self.halt_message(kind, seconds))
            stop_event.set()
            self.status.value = message(why[0])

        def target():
            try:
                result = work(self._progress, stop_event)
            except StopRequested:
                self.status.value = message(i18n.t(self.lang, "common.stopped"), kind="ok")
                result = None
            except Exception as exc:  # noqa: BLE001 - reported on the page as one line
                log.error("background task failed:\n%s", traceback.format_exc())
                self.bar.bar_style = "danger"
                self.status.value = message(f"{exc}")
                if on_error:
                    on_error(exc)
                result = None
            else:
                if stop_event.is_set():
                    self.status.value = message(i18n.t(self.lang, "common.stopped"), kind="ok")
                if on_done:
                    try:
                        on_done(result)
                    except Exception as exc:  # noqa: BLE001
                        log.error("on_done failed:\n%s", traceback.format_exc())
                        self.status.value = message(f"{exc}")
            finally:
                done.set()
                if why and html.escape(why[0]) not in self.status.value:   # the reason, then what the work said
                    self.status.value = message(why[0]) + " " + self.status.value
                self._set_running(False)
            return result

        self.thread = threading.Thread(target=target, daemon=True, name="lesson-task")
        self.thread.start()
        threading.Thread(target=alive.Watchdog().watch, args=(done, halt), daemon=True,
                         name="lesson-task-watchdog").start()
        return True

    def halt_message(self, kind: str, seconds: float) -> str:
        """Why the watchdog stopped the run ("page_gone" or "max_run"), in the page's language."""
        if kind == "max_run":
            return i18n.t(self.lang, "common.stopped_max_run", limit=duration(self.lang, seconds))
        return i18n.t(self.lang, "common.stopped_page_gone", seconds=round(seconds))

    def _set_running(self, running: bool) -> None:
        for b in self.start_buttons:
            b.disabled = running
        self.stop_button.disabled = not running

    def stop(self) -> None:
        if not self.running:
            self.status.value = message(i18n.t(self.lang, "common.nothing_running"), kind="ok")
            return
        self.stop_event.set()
        self.status.value = message(i18n.t(self.lang, "common.stopping"), kind="ok")

    def join(self, timeout: float | None = None) -> None:
        if self.thread is not None:
            self.thread.join(timeout)
