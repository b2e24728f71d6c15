"""The live charts: loss, accuracy, learning rate and images/s, with the last MAX_RUNS runs overlaid.

A `Run` keeps one run's curves as columns (appended by the worker thread that trains or replays).
`RunCharts` owns the figures' traces by name ("loss/test0", "acc/top5_2", ...) and redraws one
run's traces from its columns, each thinned to at most `history.MAX_POINTS` points, so a redraw
costs the same after 100 steps or 50,000. It is called under the section's lock (task.draw).
"""
from __future__ import annotations

import html
import threading

import ipywidgets as ipw
import plotly.graph_objects as go

from widgets import history as H
from widgets import ui
from widgets.views import palette
from widgets.views.section import Section

MAX_RUNS = 4
COLORS = [palette.BLUE, palette.VERMILLION, palette.BLUISH_GREEN, palette.REDDISH_PURPLE]
SYMBOLS = ["circle", "square", "diamond", "triangle-up"]   # each run's second cue, beside its colour
STEP_FIELDS = ("epoch", "main_loss", "train_top1", "lr", "images_per_s")
EPOCH_FIELDS = ("epoch", "test_loss", "test_top1", "test_top5")
# (figure, trace, column of a step or epoch event, carries the legend entry)
TRACES = [("loss", "batch", "steps", "main_loss", False), ("loss", "test", "epochs", "test_loss", True),
          ("acc", "batch", "steps", "train_top1", False), ("acc", "top1_", "epochs", "test_top1", True),
          ("acc", "top5_", "epochs", "test_top5", False), ("speed", "lr", "steps", "lr", True),
          ("speed", "ips", "steps", "images_per_s", False)]


def note(s: Section) -> str:
    """What the line styles mean (the catalogue's train.charts_note, which may hold <i>)."""
    return (f"<span style='font-size:0.85em;color:{palette.var('muted')}'>"
            f"{s.t('charts_note', max_runs=MAX_RUNS)}</span>")


class Run:
    """One run's curves as columns, filled by a worker thread."""

    def __init__(self, slot: int, label: str, total_steps: int):
        self.slot, self.label, self.total_steps = slot, label, max(1, int(total_steps))
        self.columns = {"steps": {k: [] for k in STEP_FIELDS}, "epochs": {k: [] for k in EPOCH_FIELDS}}
        self.latest = {"steps": None, "epochs": None}
        self.lock = threading.Lock()

    def add(self, ev: dict) -> None:
        kind = {"step": "steps", "epoch": "epochs"}.get(ev.get("event"))
        if kind is None:
            return
        with self.lock:
            for k, col in self.columns[kind].items():
                col.append(ev[k])
            self.latest[kind] = ev

    def extend(self, events: list[dict]) -> None:
        for ev in events:
            self.add(ev)

    def curve(self, kind: str, field: str, max_points: int = H.MAX_POINTS):
        """(x, y) of one column against the epoch, thinned to at most `max_points` points."""
        with self.lock:
            cols = self.columns[kind]
            return H.thin(cols["epoch"], cols[field], max_points)

    def live_text(self, t) -> str:
        """The last step's numbers (and the last epoch's test accuracy), one line (`t`: the section's words)."""
        with self.lock:
            s, e = self.latest["steps"], self.latest["epochs"]
        if s is None:
            return ""
        txt = t("live_step", step=s["step"], total=self.total_steps, epoch=s["epoch"], loss=s["loss"], lr=s["lr"],
                ips=s["images_per_s"])
        if e is not None:
            txt += t("live_test", top1=e["test_top1"], top5=e["test_top5"])
        return txt

    @property
    def last_step(self) -> int:
        s = self.latest["steps"]
        return int(s["step"]) if s is not None else 0


class RunCharts:
    """The three live figures of section `s`, MAX_RUNS slots of traces each, and the line of live numbers."""

    def __init__(self, s: Section):
        self.s = s
        self.next_slot = 0
        legend = dict(legend=dict(ui.LEGEND_BELOW, font=dict(size=11)),   # under the axis title, at any width
                      margin=dict(l=55, r=60, t=40, b=45))
        t = s.t
        s.figure("loss", 300, title=t("fig_loss"), xaxis_title=t("axis_epoch"),
                 yaxis_title=t("axis_loss"), yaxis_type="log", **legend)
        s.figure("acc", 300, title=t("fig_acc"), xaxis_title=t("axis_epoch"), yaxis_title=t("axis_acc"),
                 yaxis_range=[0, 1.02], **legend)
        s.figure("speed", 260, title=t("fig_speed"), xaxis_title=t("axis_epoch"), yaxis_title=t("axis_lr"),
                 yaxis2=dict(title=t("axis_ips"), overlaying="y", side="right", rangemode="tozero"), **legend)
        for k in range(MAX_RUNS):
            self._add_slot(k)
        self.live = ipw.HTML("")
        self.widget = ipw.VBox([ipw.HBox([s.figures["loss"], s.figures["acc"]], layout=ipw.Layout(flex_flow="row wrap")),
                                s.figures["speed"], self.live, ipw.HTML(note(s))])
        self.widget.add_class("lesson-live-charts")

    def _add_slot(self, k: int) -> None:
        col, common = COLORS[k], dict(legendgroup=f"run{k}", visible=False, x=[], y=[], name=f"#{k + 1}")
        dotted = dict(color=col, width=1, dash="dot")
        s = self.s
        s.trace("loss", f"batch{k}", go.Scatter(mode="lines", line=dotted, opacity=0.6, showlegend=False, **common))
        s.trace("loss", f"test{k}", go.Scatter(mode="lines+markers", line=dict(color=col, width=2),
                                               marker=dict(symbol=SYMBOLS[k]), **common))
        s.trace("acc", f"batch{k}", go.Scatter(mode="lines", line=dotted, opacity=0.5, showlegend=False, **common))
        s.trace("acc", f"top1_{k}", go.Scatter(mode="lines+markers", line=dict(color=col, width=2),
                                               marker=dict(symbol=SYMBOLS[k]), **common))
        s.trace("acc", f"top5_{k}", go.Scatter(mode="lines", line=dict(color=col, width=1, dash="dash"),
                                               showlegend=False, **common))
        s.trace("speed", f"lr{k}", go.Scatter(mode="lines", line=dict(color=col, width=2), **common))
        s.trace("speed", f"ips{k}", go.Scatter(mode="lines", line=dotted, yaxis="y2", showlegend=False, **common))

    def new_run(self, label: str, total_steps: int) -> Run:
        """`label`: the run's words for the legend (its settings), already in the page's language."""
        # Take the next slot (the oldest run's), empty its traces, name it in the legend.
        run = Run(self.next_slot, H.plain_text(label, 90), total_steps)
        self.next_slot = (self.next_slot + 1) % MAX_RUNS
        k = run.slot
        with self.s.drawing("loss", "acc", "speed"):
            for fig, trace, _kind, _field, legend in TRACES:
                self.s.tr(fig, f"{trace}{k}").update(x=[], y=[], visible=True,
                                                      name=f"#{k + 1}: {run.label}" if legend else f"#{k + 1}")
        self.live.value = ""
        return run

    def redraw(self, run: Run, bar: ipw.FloatProgress | None = None) -> None:
        """Draw `run`'s curves (thinned) into its slot, and its last numbers."""
        k = run.slot
        with self.s.drawing("loss", "acc", "speed"):
            for fig, trace, kind, field, _legend in TRACES:
                x, y = run.curve(kind, field)
                self.s.tr(fig, f"{trace}{k}").update(x=x, y=y)
        txt = run.live_text(self.s.t)
        if txt:
            if bar is not None:
                bar.value = min(1.0, run.last_step / run.total_steps)
            self.live.value = f"<span class='lesson-live' style='font-family:monospace'>{html.escape(txt)}</span>"
