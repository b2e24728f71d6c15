"""Section a: the forward pass step by step, on a live mini-batch of digits."""
from __future__ import annotations

import ipywidgets as ipw
import numpy as np
import plotly.graph_objects as go

from widgets import batchnorm as bn
from widgets.bn_analysis import undo_verdict
from widgets.views.batch_norm.common import BLUE, GREY, ORANGE, RED, BNSection, split_size, table
from widgets.views.section import column

POOL = 512   # each "new batch" draws this many digits; the batch is the first m of them


class ForwardPass(BNSection):
    """z, mu_B, sigma^2_B, z_norm and z~ for one unit z = w.x + b, with gamma/beta sliders and the undo."""

    name, title, css = "forward", "a. Forward pass, step by step", ("bn-sec-a",)

    def build(self):
        self.X = bn.digits_inputs("all")                  # (1797, 64)
        self.w, self.b = bn.unit_weights()
        self.rng = np.random.default_rng(0)
        self.idx = self.rng.choice(len(self.X), POOL, replace=False)
        self.slider("m", self.t("m"), 64, 2, POOL, kind=ipw.IntSlider, continuous_update=False)
        self.slider("gamma", self.t("gamma"), 1.0, -3.0, 3.0, 0.05)
        self.slider("beta", self.t("beta"), 0.0, -3.0, 3.0, 0.05)
        self.toggle("undo", self.t("undo"), False, layout=ipw.Layout(width="300px"), icon="undo")
        self.button("new", self.t("new"), self.new_batch, icon="refresh")
        self.stats = ipw.HTML("")
        fig = self.figure("hist", height=520, bargap=0.02, showlegend=False)
        fig.set_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                         subplot_titles=(self.t("fig_z"), self.t("fig_z_norm"), self.t("fig_z_tilde")))
        for r, (key, color) in enumerate((("z", GREY), ("z_norm", BLUE), ("z_tilde", ORANGE)), start=1):
            self.trace("hist", key, go.Histogram(x=[], nbinsx=40, marker_color=color, opacity=0.85), row=r, col=1)
        fig.update_xaxes(title_text=self.t("axis_value"), row=3, col=1)
        # mu_B, the band mu_B ± sigma_B, 0 and beta: built once, then moved in place (an edit of one
        # shape is redrawn alone; a new `shapes` list makes plotly.js redo the whole figure)
        line = dict(color=RED, width=2)
        fig.layout.shapes = [
            dict(type="line", xref="x", yref="y domain", x0=0, x1=0, y0=0, y1=1, line=line),
            dict(type="rect", xref="x", yref="y domain", x0=0, x1=0, y0=0, y1=1,
                 fillcolor=RED, opacity=0.08, line=dict(width=0)),
            dict(type="line", xref="x2", yref="y2 domain", x0=0, x1=0, y0=0, y1=1, line=line),
            dict(type="line", xref="x3", yref="y3 domain", x0=0, x1=0, y0=0, y1=1, line=line),
        ]

    def new_batch(self):
        self.idx = self.rng.choice(len(self.X), POOL, replace=False)
        self.update("new")

    def update(self, changed):
        c = self.controls
        x = self.X[self.idx[: c["m"].value]]
        undo = c["undo"].value
        if undo:
            s0 = bn.step_by_step(x, self.w, self.b, 1.0, 0.0)
            gamma, beta = np.sqrt(s0.var + s0.eps), s0.mu
        else:
            gamma, beta = c["gamma"].value, c["beta"].value
        c["gamma"].widget.disabled = c["beta"].widget.disabled = undo
        s = bn.step_by_step(x, self.w, self.b, gamma, beta)
        self._draw(s)
        self.stats.value = table(self._rows(s)) + f"<div style='margin-top:4px'>{self.say(undo_verdict(s.max_abs_change))}</div>"
        self.status.value = ""

    def _draw(self, s: bn.StepByStep) -> None:
        sd = np.sqrt(s.var)
        with self.drawing("hist"):
            for key in ("z", "z_norm", "z_tilde"):      # plotly sends only the ones that changed
                self.tr("hist", key).x = getattr(s, key)
            mu, band, _zero, beta = self.figures["hist"].layout.shapes
            mu.update(x0=s.mu, x1=s.mu)
            band.update(x0=s.mu - sd, x1=s.mu + sd)
            beta.update(x0=s.beta, x1=s.beta)

    def _rows(self, s: bn.StepByStep) -> list[tuple[str, str]]:
        f, t = self.num, self.t
        return [
            (t("row_m"), f"{len(s.z)}"),
            (t("row_mu"), f(s.mu)),
            (t("row_var"), f(s.var)),
            (t("row_z_norm"), f"{f(s.z_norm.mean())} / {f(s.z_norm.var())}"),
            (t("row_gamma_beta"), f"{f(s.gamma)}, {f(s.beta)}"),
            (t("row_z_tilde"), f"{f(s.z_tilde.mean())} / {f(s.z_tilde.var())}"),
            (t("row_change"), f(s.max_abs_change, 6)),
        ]

    def layout(self):
        c = self.controls
        controls = column(self.data_line("data", n=split_size("all")),
                          c["m"].widget, c["gamma"].widget, c["beta"].widget,
                          ipw.HBox([c["undo"].widget, self.buttons["new"]]), self.stats, self.status, width="520px")
        return [ipw.HBox([controls, self.figures["hist"]])]


def forward_section(**values) -> ipw.Widget:
    """a. z, mu_B, sigma^2_B, z_norm and z~ on a live mini-batch of digits; gamma/beta sliders and the undo.
    `lang="zh"` gives the Chinese page."""
    return ForwardPass(**values).widget
