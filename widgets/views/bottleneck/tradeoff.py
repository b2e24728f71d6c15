"""Lesson 3, section d: the catch, a bottleneck that is too narrow.

The training run is the section's one task. Its points reach the figure and `trained` only
through `task.draw` (the section's lock) and only while the input they were trained on is
still the one shown: a change of the input cancels the run and drops its late results.
The words are in widgets/views/locales/<lang>/bottleneck.json (keys `tradeoff.*`).
"""
from __future__ import annotations

import ipywidgets as ipw
import plotly.graph_objects as go

from widgets import bottleneck_tradeoff as T
from widgets.ui import message
from widgets.views import palette
from widgets.views.bottleneck.style import CONV_COLOR, DIRECT_COLOR, boxed
from widgets.views.section import Section


class Tradeoff(Section):
    """How much of the direct layer's output survives a bottleneck of ch_red channels."""

    name, title, css = "tradeoff", "d. The catch: a bottleneck that is too narrow", ("lesson-tradeoff",)

    def build(self):
        self.setup = T.TradeoffSetup()
        self.ch_reds = T.tradeoff_ch_reds(self.setup.ch_in)
        self.trained: dict[int, float] = {}   # ch_red -> relative error on self.setup; written under the lock
        self.slider("latent", self.t("latent"), self.setup.latent, 1, self.setup.ch_in, 1, kind=ipw.IntSlider,
                    width="420px", description_width="150px", readout_format="d", continuous_update=False)
        self.add_task(self.t("train_button"), self.start_training)
        self.task.start_button.layout.width = "auto"
        self.numbers = ipw.HTML()
        fig = self.figure("tradeoff", height=380, xaxis_title=self.t("axis_ch_red"),
                          yaxis_title=self.t("axis_lost"), margin=dict(l=60, r=70, t=40, b=50),
                          yaxis_range=[-3, 103],
                          yaxis2=dict(title=self.t("axis_cost"), overlaying="y", side="right",
                                      showgrid=False, range=[-3.9, 133.9], tickmode="linear", tick0=0, dtick=20))
        fig.update_xaxes(type="log", tickvals=self.ch_reds)
        self.trace("tradeoff", "best", go.Scatter(name=self.t("trace_best"), mode="lines+markers",
                                                  line=dict(color=DIRECT_COLOR, width=3)))
        self.trace("tradeoff", "trained", go.Scatter(name=self.t("trace_trained", steps=T.TRAIN_STEPS), mode="markers",
                                                     marker=dict(symbol="x", size=12, color=palette.INK)))
        self.trace("tradeoff", "cost", go.Scatter(name=self.t("trace_cost"), mode="lines", yaxis="y2",
                                                  line=dict(color=CONV_COLOR, dash="dot")))

    # ---- the one update path (under the section's lock)
    def update(self, changed):
        latent = self.controls["latent"].value
        if latent != self.setup.latent:
            self._new_input(latent)
        best = [100 * T.best_relative_error(self.setup, r) for r in self.ch_reds]
        cost = [100 * T.tradeoff_cost_share(self.setup, r) for r in self.ch_reds]
        with self.drawing("tradeoff"):
            self.tr("tradeoff", "best").update(x=self.ch_reds, y=best)
            self.tr("tradeoff", "cost").update(x=self.ch_reds, y=cost)
            self._draw_trained()
        self.numbers.value = self._numbers_html(dict(zip(self.ch_reds, best)), dict(zip(self.ch_reds, cost)))

    def _new_input(self, latent: int):
        """The trained points belong to the old input: cancel a run (its late points are dropped), clear them."""
        running = self.task.running
        self.task.cancel()
        self.setup = T.TradeoffSetup(latent=latent)
        self.trained = {}
        self.task.bar.value = 0.0
        if not running:
            self.task.status.value = ""      # "Trained …" spoke of the old input
        self.status.value = message(self.t("input_changed"), kind="ok") if running else ""

    def _draw_trained(self):
        xs = sorted(self.trained)
        self.tr("tradeoff", "trained").update(x=xs, y=[100 * self.trained[r] for r in xs])

    def _numbers_html(self, best: dict[int, float], cost: dict[int, float]) -> str:
        st = self.setup
        narrow, wide = T.knee_widths(st, self.ch_reds)
        lines = []
        if narrow is not None:
            lines.append(self.t("narrow", width=narrow, latent=st.latent, lost=f"{best[narrow]:.1f}",
                                cost=f"{cost[narrow]:.0f}"))
        if wide is not None:
            key = "wide_over" if cost[wide] > 100 else "wide"
            lines.append(self.t(key, width=wide, lost=f"{best[wide]:.2f}", cost=f"{cost[wide]:.0f}",
                                breakeven=f"{T.breakeven_width(st):.1f}"))
        setup = self.t("setup", size=st.size, ch_in=st.ch_in, latent=st.latent, noise=st.noise, k=st.k,
                       ch_out=st.ch_out)
        return boxed(setup + "<br>" + "<br>".join(lines))

    # ---- training, on the section's one task
    def start_training(self):
        with self.lock:
            if self.task.running:
                self.task.status.value = message(self.t("common.already_running"))
                return
            setup, generation = self.setup, self.task.generation
            self.trained = {}
            self.status.value = ""
            with self.drawing("tradeoff"):
                self._draw_trained()
            self.task.start(lambda progress, stop: self._train(setup, generation, progress, stop),
                            on_done=lambda out: self._finish(setup, generation, out))

    def _train(self, setup: T.TradeoffSetup, generation: int, progress, stop) -> dict[int, float]:
        """The worker: one width after another; each point is drawn through the task (under the lock)."""
        out: dict[int, float] = {}
        n = len(self.ch_reds)
        for i, r in enumerate(self.ch_reds):
            if stop.is_set():
                break
            progress(i / n, self.t("training_width", width=r, i=i + 1, n=n))
            err = T.train_bottleneck(setup, r, should_stop=stop.is_set)
            if stop.is_set():          # cut short: not a fair point to plot
                break
            out[r] = err
            self.task.draw(lambda r=r, err=err: self._add_point(generation, r, err))
        if not stop.is_set():          # a stopped or cancelled run leaves the bar where it was
            progress(1.0, self.t("progress_done"))
        return out

    def _add_point(self, generation: int, ch_red: int, err: float):
        if generation != self.task.generation:     # the input changed since: a late result, dropped
            return
        self.trained[ch_red] = err
        with self.drawing("tradeoff"):
            self._draw_trained()

    def _finish(self, setup: T.TradeoffSetup, generation: int, out: dict[int, float]):
        if generation != self.task.generation:     # checked again under the lock: cancelled runs say nothing
            return
        n = len(self.ch_reds)
        if self.task.stop_event.is_set():
            self.task.status.value = message(self.t("stopped_after", done=len(out), n=n), kind="ok")
            return
        self.task.status.value = message(self.t("trained", done=len(out), steps=T.TRAIN_STEPS,
                                                gap=f"{100 * T.largest_gap(setup, out):.2f}"), kind="ok")

    def layout(self):
        return [self.controls["latent"].widget, self.task.widget, self.numbers, self.figures["tradeoff"], self.status]


def bottleneck_tradeoff(**values) -> ipw.Widget:
    """Section d: what a too-narrow bottleneck loses, closed form and trained (control latent)."""
    return Tradeoff(**values).widget
