"""Section g: internal covariate shift with and without BN, Santurkar et al.'s noise injection, and the
smoothness probes. Every sentence under the table is written by widgets.bn_analysis from the run."""
from __future__ import annotations

import html

import ipywidgets as ipw
import numpy as np
import plotly.graph_objects as go

from widgets.bn_analysis import NETWORKS, shift_rows, shift_verdict, smooth_curve
from widgets.views.batch_norm.common import (VARIANT_COLORS, VARIANT_DASH, BNSection, LazyFigure, clear_placeholder, md, placeholder,
                                             rgba, setup_torch)

BANDS = (("p5", "p95", "5–95 %", 0.15), ("p25", "p75", "25–75 %", 0.3))   # (low, high, legend, opacity)
QUANTILE = {"p5": 0, "p25": 1, "median": 2, "p75": 3, "p95": 4}          # columns of RunResult.probe_quantiles
PROBES = {"loss": "fig_loss", "spread": "fig_spread", "grad change": "fig_grad_change"}   # bottom row: title keys
COLUMNS = ("col_drift", "col_jump", "col_loss", "col_spread", "col_change", "col_ratio")   # shift_rows' columns
CELL = "style='font-family:monospace;padding:0 8px;text-align:right'"


class CovariateShift(BNSection):
    """Train plain, BN and BN + noise; draw layer 5's input distribution, the losses and the probes."""

    name, title, css = "shift", "g. Internal covariate shift, and the noise-injection experiment", ("bn-sec-g",)

    def build(self):
        self.choice("activation", self.shared("activation"), ["sigmoid", "tanh"], "sigmoid",
                    layout=ipw.Layout(width="220px"))
        self.number("noise", self.t("noise"), 1.0, min=0.0, max=5.0)
        self.number("lr", self.shared("lr"), 0.5, min=1e-4, max=50)
        self.number("steps", self.shared("steps"), 300, min=20, max=2000, integer=True)
        self.add_task(self.t("train"), self.start)
        self.task.start_button.layout.width = "240px"
        self.summary = ipw.HTML(md(self.t("press")))
        self.verdict = ipw.HTML("")
        self.lazy = LazyFigure(self, "shift", self._build_figure, md(self.t("placeholder")))

    def _build_figure(self) -> None:
        # one figure: the three distributions above; loss, loss spread and gradient change below
        layer = self.config().probe_layer
        fig = self.figure("shift", height=720, legend=dict(orientation="h", y=-0.1, x=0))
        fig.set_subplots(rows=2, cols=3, vertical_spacing=0.16, horizontal_spacing=0.07,
                         subplot_titles=[*(self.t("fig_input", net=self.net(n), layer=layer) for n in NETWORKS),
                                         *(self.t(key) for key in PROBES.values())])
        for col, name in enumerate(NETWORKS, start=1):
            c = VARIANT_COLORS[name]
            for lo, hi, legend, opacity in BANDS:   # the high edge fills down to the low edge added just before it
                self.trace("shift", f"{name} {lo}", go.Scatter(mode="lines", line=dict(width=0), showlegend=False,
                                                               hoverinfo="skip"), 1, col)
                self.trace("shift", f"{name} {hi}", go.Scatter(mode="lines", line=dict(width=0), fill="tonexty",
                                                               fillcolor=rgba(c, opacity), name=legend,
                                                               showlegend=False), 1, col)
            self.trace("shift", f"{name} median", go.Scatter(mode="lines", line=dict(color=c, width=2),
                                                             name=self.t("trace_median"), showlegend=False), 1, col)
        for col, probe in enumerate(PROBES, start=1):
            for name in NETWORKS:
                self.trace("shift", f"{name} {probe}", go.Scatter(mode="lines", name=self.net(name), legendgroup=name,
                                                                  line=dict(color=VARIANT_COLORS[name], dash=VARIANT_DASH[name]),
                                                                  showlegend=col == 1), 2, col)
        fig.update_xaxes(title_text=self.shared("axis_sgd_step"))
        fig.update_yaxes(type="log", exponentformat="power", row=2, col=2)
        fig.update_yaxes(type="log", exponentformat="power", row=2, col=3)
        placeholder(fig, self.t("training"))

    def update(self, changed):
        """Nothing to redraw: the controls set the next run (the summary names the settings of the one shown)."""

    def config(self):
        from widgets import bn_training as bt

        c = self.values()
        return bt.Config(activation=c["activation"], lr=c["lr"], steps=int(c["steps"]), smoothness=True)

    def start(self) -> None:
        from widgets import bn_training as bt

        cfg, noise = self.config(), self.controls["noise"].value
        self.lazy.get()

        def work(progress, stop):
            setup_torch()
            return bt.compare(cfg, noise=noise, callback=self.progress(progress), stop_event=stop)

        self.task.start(work, lambda out: self.show(out, cfg, noise))

    def show(self, out: dict, cfg, noise: float) -> None:
        """Draw a finished (or stopped) run; runs under the section's lock (SectionTask.draw)."""
        if not out:
            return
        with self.drawing("shift"):
            clear_placeholder(self.figures["shift"])
            for name, r in out.items():
                if r.probe_quantiles:
                    self._draw_network(name, r)
        run = self.t("run", activation=cfg.activation, lr=cfg.lr, steps=cfg.steps, noise=noise, layer=cfg.probe_layer,
                     every=cfg.record_every)
        self.summary.value = f"<div>{html.escape(run)}</div>" + self._table(shift_rows(out))
        self.verdict.value = self.sentences(shift_verdict(out))

    def _draw_network(self, name: str, r) -> None:
        q = np.array(r.probe_quantiles)                    # (records, 5)
        for key, col in QUANTILE.items():
            self.tr("shift", f"{name} {key}").update(x=r.record_steps, y=q[:, col])
        xs, ys = smooth_curve(r.loss)
        self.tr("shift", f"{name} loss").update(x=xs, y=ys)
        self.tr("shift", f"{name} spread").update(x=r.smooth_steps, y=r.loss_range)
        self.tr("shift", f"{name} grad change").update(x=r.smooth_steps, y=r.grad_change_rel)

    def layout(self):
        c = self.controls
        controls = ipw.HBox([c[k].widget for k in ("activation", "noise", "lr", "steps")],
                            layout=ipw.Layout(flex_flow="row wrap"))
        return [self.training_data_line(), controls, self.task.widget, self.status, self.summary, self.verdict,
                self.lazy.box]

    def _table(self, rows) -> str:
        e = html.escape
        head = (f"<tr><th style='text-align:left'>{e(self.t('col_network'))}</th>"
                + "".join(f"<th>{e(self.t(c))}</th>" for c in COLUMNS) + "</tr>")
        body = "".join(f"<tr><td>{e(self.net(name))}</td>" + "".join(f"<td {CELL}>{self.num(v)}</td>" for v in values)
                       + "</tr>" for name, values in rows)
        return f"<table class='lesson-stats'>{head}{body}</table>"


def covariate_shift_section(**values) -> ipw.Widget:
    """g. Internal covariate shift with/without BN, Santurkar et al.'s noise injection, and the smoothness probes.
    `lang="zh"` gives the Chinese page."""
    return CovariateShift(**values).widget
