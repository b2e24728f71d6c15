"""Section f: a deep MLP on digits, plain vs BN: loss curves, gradient norm per layer, saturation per layer."""
from __future__ import annotations

import ipywidgets as ipw
import numpy as np
import plotly.graph_objects as go

from widgets.bn_analysis import grad_ratio, training_sentences
from widgets.views.batch_norm.common import (VARIANT_COLORS, VARIANT_DASH, VARIANT_PATTERN, VARIANT_SYMBOL, WIDE, BNSection, LazyFigure, clear_placeholder, md,
                                             placeholder, setup_torch, table)

NETS = ("plain", "BN")


class Training(BNSection):
    """Train the plain and the BN network in the background; draw both runs when they are done."""

    name, title, css = "training", "f. What BN buys in training: loss, gradients, saturation", ("bn-sec-f",)

    def build(self):
        self.choice("activation", self.shared("activation"), ["sigmoid", "tanh"], "sigmoid",
                    layout=ipw.Layout(width="220px"))
        self.slider("depth", self.t("depth"), 8, 2, 10, kind=ipw.IntSlider, continuous_update=False, width="300px")
        self.number("lr", self.shared("lr"), 0.5, min=1e-4, max=50)
        self.number("init_scale", self.shared("init_scale"), 1.0, min=0.01, max=20)
        self.number("steps", self.shared("steps"), 300, min=20, max=2000, integer=True)
        self.add_task(self.t("train"), self.start)
        self.summary = ipw.HTML(md(self.t("press")))
        self.next_run = ipw.HTML()           # what Train will run: each control shows its effect at once
        self.lazy = LazyFigure(self, "curves", self._build_figure, md(self.t("placeholder")))

    def _build_figure(self) -> None:
        t = self.t
        fig = self.figure("curves", height=450, barmode="group", **WIDE)
        fig.set_subplots(rows=1, cols=3, horizontal_spacing=0.07,
                         subplot_titles=(t("fig_loss"), t("fig_grad"), t("fig_saturation")))
        for name in NETS:
            c, net = VARIANT_COLORS[name], self.net(name)
            self.trace("curves", f"{name} loss", go.Scatter(mode="lines", name=net, line=dict(color=c, dash=VARIANT_DASH[name]),
                                                            legendgroup=name), 1, 1)
            self.trace("curves", f"{name} grad 0", go.Scatter(mode="lines+markers", name=t("trace_step0", net=net),
                                                              line=dict(color=c, dash="dot"), legendgroup=name,
                                                              marker=dict(symbol=VARIANT_SYMBOL[name])), 1, 2)
            self.trace("curves", f"{name} grad last", go.Scatter(mode="lines+markers", name=t("trace_last", net=net),
                                                                 line=dict(color=c), legendgroup=name,
                                                                 marker=dict(symbol=VARIANT_SYMBOL[name])), 1, 2)
            self.trace("curves", f"{name} sat 0", go.Bar(name=t("trace_sat0", net=net), legendgroup=name,
                                                         marker=dict(color=c, opacity=0.4, pattern_shape=VARIANT_PATTERN[name]),
                                                         showlegend=False), 1, 3)
            self.trace("curves", f"{name} sat last", go.Bar(name=t("trace_last", net=net), marker=dict(color=c, pattern_shape=VARIANT_PATTERN[name]),
                                                            legendgroup=name, showlegend=False), 1, 3)
        fig.update_xaxes(title_text=self.shared("axis_sgd_step"), row=1, col=1)
        fig.update_xaxes(title_text=t("axis_layer_first"), row=1, col=2)
        fig.update_xaxes(title_text=t("axis_layer"), row=1, col=3)
        fig.update_yaxes(type="log", exponentformat="power", row=1, col=2)
        fig.update_yaxes(range=[0, 1], row=1, col=3)
        placeholder(fig, t("training"))

    def update(self, changed):
        """The controls set the next run: its line says what it will be (the summary names the run shown)."""
        c = self.values()
        self.next_run.value = md(self.t("next", run=self.t("run", activation=c["activation"], depth=int(c["depth"]),
                                                          lr=c["lr"], init_scale=c["init_scale"], steps=int(c["steps"]))))

    def config(self):
        from widgets import bn_training as bt

        c = self.values()
        return bt.Config(activation=c["activation"], depth=int(c["depth"]), lr=c["lr"], init_scale=c["init_scale"],
                         steps=int(c["steps"]), smoothness=False)

    def start(self) -> None:
        from widgets import bn_training as bt

        cfg = self.config()
        self.lazy.get()

        def work(progress, stop):
            setup_torch()
            return bt.compare(cfg, variants=NETS, callback=self.progress(progress), stop_event=stop)

        self.task.start(work, lambda out: self.show(out, cfg))

    def show(self, out: dict, cfg) -> None:
        """Draw a finished (or stopped) run; runs under the section's lock (SectionTask.draw)."""
        if not out:
            return
        with self.drawing("curves"):
            clear_placeholder(self.figures["curves"])
            for name, r in out.items():
                layers = list(range(1, len(r.grad_norm_init) + 1))
                self.tr("curves", f"{name} loss").update(x=list(range(len(r.loss))), y=r.loss)
                self.tr("curves", f"{name} grad 0").update(x=layers, y=r.grad_norm_init)
                self.tr("curves", f"{name} grad last").update(x=layers, y=r.grad_norm_final)
                self.tr("curves", f"{name} sat 0").update(x=layers, y=r.saturation_init)
                self.tr("curves", f"{name} sat last").update(x=layers, y=r.saturation_final)
        self.summary.value = table(self._rows(out, cfg)) + self.sentences(training_sentences(out, cfg.activation))

    def _rows(self, out: dict, cfg) -> list[tuple[str, str]]:
        t, f = self.t, self.num
        rows = [(t("row_run"), t("run", activation=cfg.activation, depth=cfg.depth, lr=cfg.lr,
                                 init_scale=cfg.init_scale, steps=cfg.steps))]
        for name, r in out.items():
            net = self.net(name)
            rows.append((t("row_final", net=net), f"{f(r.final_train_loss)} / {f(r.test_accuracy * 100, 1)}%"
                         + (t("stopped") if r.stopped else "")))
            rows.append((t("row_grad_ratio", net=net), f(grad_ratio(r.grad_norm_init))))
            rows.append((t("row_saturation", net=net),
                         f"{f(float(np.mean(r.saturation_init)), 3)} → {f(float(np.mean(r.saturation_final)), 3)}"
                         if r.saturation_final else "—"))
        return rows

    def layout(self):
        c = self.controls
        controls = ipw.HBox([c[k].widget for k in ("activation", "depth", "lr", "init_scale", "steps")],
                            layout=ipw.Layout(flex_flow="row wrap"))
        return [self.training_data_line(), controls, self.next_run, self.task.widget, self.summary, self.status,
                self.lazy.box]


def training_section(**values) -> ipw.Widget:
    """f. Plain vs BN deep MLP on digits: loss curves, gradient norm per layer, saturation per layer.
    `lang="zh"` gives the Chinese page."""
    return Training(**values).widget
