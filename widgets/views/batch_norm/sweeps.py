"""Section f, second part: the largest learning rate that still trains, and sensitivity to the initial
weight scale, plain vs BN. Two start buttons share the section's one worker (issue 10: the two sweeps used
to run at once, two threads writing one figure)."""
from __future__ import annotations

import html
import math
from dataclasses import dataclass

import ipywidgets as ipw
import plotly.graph_objects as go

from widgets.bn_analysis import trained_values
from widgets.views.batch_norm.common import (GREY, VARIANT_COLORS, VARIANT_SYMBOL, WIDE, BNSection, LazyFigure, clear_placeholder, md,
                                             setup_torch, table)

NETS = ("plain", "BN")
DIVERGED_AT = 1e3   # a diverged run (nan) is drawn at the top of the axis


@dataclass(frozen=True)
class Sweep:
    key: str                  # "lr" or "scale": the prefix of its controls, traces and words (sweeps.<key>_*)
    field: str                # the Config field swept
    fn: str                   # the widgets.bn_training function that runs it
    values: tuple             # the values tried
    other: tuple              # (Config field, default, min, max) held fixed; its label is bn.<field>
    col: int                  # its column in the shared figure


SWEEPS = (
    Sweep("lr", "lr", "lr_sweep", (0.03, 0.1, 0.3, 1.0, 3.0), ("init_scale", 1.0, 0.01, 20), 1),
    # 8, not 4, at the top: without BN the run at 4 ends near the "trains" line of 1.0 (0.85 on an AMD EPYC
    # with AVX2, a failure on the machine before it), at 8 far above it (3.3): the prose's "only the middle of
    # the range trains" then does not hang on the machine's rounding.
    Sweep("scale", "init_scale", "init_scale_sweep", (0.25, 0.5, 1.0, 2.0, 8.0), ("lr", 0.1, 1e-4, 50), 2),
)
STEPS = 150   # steps per run, by default


class Sweeps(BNSection):
    """Two sweeps, each with its own controls and start button, one worker and one figure between them."""

    name, title, css = "sweeps", "f. Learning-rate limit and initial-scale sensitivity", ("bn-sec-sweeps",)

    def build(self):
        self.summary, self.start_buttons = {}, {}
        for sw in SWEEPS:
            field, default, lo, hi = sw.other
            self.choice(f"{sw.key}_activation", self.shared("activation"), ["tanh", "sigmoid"], "tanh",
                        layout=ipw.Layout(width="220px"))
            self.number(f"{sw.key}_{field}", self.shared(field), default, min=lo, max=hi)
            self.number(f"{sw.key}_steps", self.t("steps"), STEPS, min=20, max=1000, integer=True)
            self.summary[sw.key] = ipw.HTML(md(self.t(f"{sw.key}_press", n=2 * len(sw.values))),
                                            layout=ipw.Layout(min_height="110px"))
        first, second = SWEEPS
        task = self.add_task(self.t(f"{first.key}_button"), lambda: self.start(first))
        self.start_buttons = {first.key: task.start_button,
                              second.key: task.add_start_button(self.t(f"{second.key}_button"),
                                                                lambda _b: self.start(second))}
        for b in self.start_buttons.values():
            b.layout.width = "200px"
        self.lazy = LazyFigure(self, "sweeps", self._build_figure, md(self.t("placeholder")))

    def _build_figure(self) -> None:
        from widgets import bn_training as bt

        t = self.t
        fig = self.figure("sweeps", height=440, **WIDE)
        fig.set_subplots(rows=1, cols=2, horizontal_spacing=0.08, subplot_titles=(t("fig_lr"), t("fig_scale")))
        for sw in SWEEPS:
            first = sw.col == 1
            for name in NETS:
                self.trace("sweeps", f"{sw.key} {name}", _scatter(self.net(name), "lines+markers", first, name,
                                                                  marker=dict(size=9, symbol=VARIANT_SYMBOL[name]),
                                                                  line=dict(color=VARIANT_COLORS[name])), 1, sw.col)
            self.trace("sweeps", f"{sw.key} threshold", _scatter(t("trace_threshold", threshold=bt.TRAINS_BELOW),
                                                                 "lines", first, "thr",
                                                                 line=dict(color=GREY, dash="dash")), 1, sw.col)
            self.trace("sweeps", f"{sw.key} chance", _scatter(t("trace_chance"), "lines", first, "chance",
                                                              line=dict(color=GREY, dash="dot")), 1, sw.col)
            ax = "" if first else "2"
            fig.add_annotation(text=t(f"{sw.key}_placeholder"), xref=f"x{ax} domain", yref=f"y{ax} domain",
                               x=0.5, y=0.5, showarrow=False, font=dict(size=16, color="#555"),
                               name=f"placeholder {sw.key}")
        fig.update_xaxes(type="log")
        fig.update_yaxes(type="log", exponentformat="power", title_text=t("axis_loss"), col=1)
        fig.update_xaxes(title_text=self.shared("lr"), col=1)
        fig.update_xaxes(title_text=t("axis_scale"), col=2)

    def update(self, changed):
        """Nothing to redraw: the controls set the next sweep (its summary names the settings it ran with)."""

    def config(self, sw: Sweep):
        from widgets import bn_training as bt

        c, field = self.values(), sw.other[0]
        return bt.Config(activation=c[f"{sw.key}_activation"], steps=int(c[f"{sw.key}_steps"]), smoothness=False,
                         **{field: c[f"{sw.key}_{field}"]})

    def start(self, sw: Sweep) -> bool:
        """Start sweep `sw` unless a sweep is running (the one worker refuses, with a message)."""
        from widgets import bn_training as bt

        cfg, values = self.config(sw), list(sw.values)
        fn = getattr(bt, sw.fn)
        self.lazy.get()

        def work(progress, stop):
            setup_torch()
            return fn(cfg, values, callback=self.progress(progress), stop_event=stop)

        return self.task.start(work, lambda res: self.show(sw, res, cfg))

    def show(self, sw: Sweep, res, cfg) -> None:
        """Draw a finished (or stopped) sweep; runs under the section's lock (SectionTask.draw)."""
        from widgets import bn_training as bt

        if res is None or not res.values:
            return
        lo, hi = min(res.values), max(res.values)
        with self.drawing("sweeps"):
            clear_placeholder(self.figures["sweeps"], f"placeholder {sw.key}")
            for name in NETS:
                y = [v if math.isfinite(v) else DIVERGED_AT for v in res.final_loss[name]]
                self.tr("sweeps", f"{sw.key} {name}").update(x=res.values, y=y)
            self.tr("sweeps", f"{sw.key} threshold").update(x=[lo, hi], y=[bt.TRAINS_BELOW] * 2)
            self.tr("sweeps", f"{sw.key} chance").update(x=[lo, hi], y=[bt.CHANCE_LOSS] * 2)
        self.summary[sw.key].value = table(self._rows(sw, res, cfg, bt.TRAINS_BELOW))

    def _rows(self, sw: Sweep, res, cfg, trains_below: float) -> list[tuple[str, str]]:
        t, held = self.t, sw.other[0]
        rows = [(t("row_sweep"), t("sweep_run", activation=cfg.activation, held=self.shared(held),
                                   value=getattr(cfg, held), steps=cfg.steps))]
        for name in NETS:
            rows.append((t(f"{sw.key}_trains", net=self.net(name), threshold=trains_below),
                         self.say(trained_values(res.values, res.trains[name]))))
        rows.append((t(f"{sw.key}_final_first", net=self.net("plain"), values=", ".join(f"{v:g}" for v in res.values)),
                     ", ".join(self.num(v, 3) for v in res.final_loss["plain"])))
        rows.append((t("final_losses", net=self.net("BN")), ", ".join(self.num(v, 3) for v in res.final_loss["BN"])))
        if res.stopped:
            rows.append((t("row_stopped"), t("stopped_values", done=len(res.values), total=len(sw.values))))
        return rows

    def layout(self):
        c = self.controls

        def column(sw: Sweep) -> ipw.VBox:
            ctl = [c[f"{sw.key}_{k}"].widget for k in ("activation", sw.other[0], "steps")]
            return ipw.VBox([ipw.HTML(f"<b>{html.escape(self.t(sw.key + '_title'))}</b>"),
                             ipw.HBox(ctl, layout=ipw.Layout(flex_flow="row wrap")),
                             self.start_buttons[sw.key], self.summary[sw.key]],
                            layout=ipw.Layout(width="50%", padding="0 8px"))

        t = self.task
        progress = ipw.HBox([t.stop_button, t.bar, t.status], layout=ipw.Layout(align_items="center"))
        return [self.training_data_line(), ipw.HBox([column(sw) for sw in SWEEPS]), progress, self.status,
                self.lazy.box]


def _scatter(name: str, mode: str, legend: bool, group: str, **kw) -> go.Scatter:
    return go.Scatter(mode=mode, name=name, legendgroup=group, showlegend=legend, **kw)


def sweeps_section(**values) -> ipw.Widget:
    """f. The largest learning rate that still trains, and sensitivity to the initial weight scale: plain vs BN.
    `lang="zh"` gives the Chinese page."""
    return Sweeps(**values).widget
