"""Section e: the statistics used at test time: whole training set, PyTorch's running averages, bias-corrected ones."""
from __future__ import annotations

import html

import ipywidgets as ipw
import numpy as np
import plotly.graph_objects as go

from widgets import batchnorm as bn
from widgets.views import palette
from widgets.views.batch_norm.common import BLUE, GREEN, GREY, ORANGE, RED, WIDE, BNSection, split_size
from widgets.views.section import column

STEPS = 300
CELL = "style='font-family:monospace;padding:0 8px'"
# (trace key, style) for each panel: the batch statistics and the three averages (legends: trace_<key>)
LINES = (("batch", dict(mode="markers", marker=dict(color=GREY, size=4, opacity=0.5))),
         ("running", dict(mode="lines", line=dict(color=BLUE, width=2))),
         ("bc", dict(mode="lines", line=dict(color=GREEN, width=2, dash="dash"))),
         ("whole", dict(mode="lines", line=dict(color=RED, width=1.5, dash="dot"))))


class InferenceStats(BNSection):
    """Running averages over training steps, and one held-out digit normalised with each way's statistics."""

    name, title, css = "inference", "e. Statistics for inference", ("bn-sec-e",)

    def build(self):
        w, b = bn.unit_weights()
        self.train = bn.linear_unit(bn.digits_inputs("train"), w, b)     # z of the training digits
        self.test = bn.linear_unit(bn.digits_inputs("test"), w, b)       # z of the held-out digits
        self.whole = bn.whole_set_stats(self.train)
        self.slider("momentum", self.t("momentum"), 0.1, 0.01, 1.0, 0.01, continuous_update=False)
        self.slider("m", self.t("m"), 32, 2, 256, kind=ipw.IntSlider, continuous_update=False)
        self.slider("t", self.t("t"), 10, 1, STEPS, kind=ipw.IntSlider)
        self.number("example", self.t("example"), 0, min=0, max=len(self.test) - 1, integer=True)
        self.stats = ipw.HTML("")
        fig = self.figure("running", height=440, **WIDE)
        fig.set_subplots(rows=1, cols=2, horizontal_spacing=0.08,
                         subplot_titles=(self.t("fig_mean"), self.t("fig_var")))
        for col, stat in enumerate(("mean", "var"), start=1):
            for key, style in LINES:
                label = self.t(f"trace_{key}")
                self.trace("running", f"{stat} {key}", go.Scatter(name=label, showlegend=col == 1, legendgroup=label,
                                                                  **style), 1, col)
        self.trace("running", "var whole biased", go.Scatter(mode="lines", name=self.t("trace_whole_biased"),
                                                             line=dict(color=ORANGE, dash="dot")), 1, 2)
        fig.update_xaxes(title_text=self.t("axis_step"))
        # the step t in each panel: built once, moved in place (an edit of one shape is redrawn alone;
        # a new `shapes` list makes plotly.js redo the whole figure)
        fig.layout.shapes = [dict(type="line", xref=xr, yref=f"{yr} domain", x0=0, x1=0, y0=0, y1=1,
                                  line=dict(color=palette.INK, width=1)) for xr, yr in (("x", "y"), ("x2", "y2"))]

    def update(self, changed):
        if changed in (None, "momentum", "m"):
            m = int(self.controls["m"].value)
            if changed != "momentum":   # the batches depend on m, not on the momentum: drawn again only for m
                self.batches = bn.batch_draws(self.train, m, STEPS, seed=3)
            self.traj = bn.running_trajectory(self.train, m, STEPS, self.controls["momentum"].value, seed=3,
                                              batches=self.batches)
        t = int(self.controls["t"].value)
        with self.drawing("running"):
            if changed in (None, "momentum", "m"):
                self._draw_trajectory()
            for shape in self.figures["running"].layout.shapes:
                shape.update(x0=t, x1=t)
        self.stats.value = self._table(t)
        self.status.value = ""

    def _draw_trajectory(self) -> None:
        steps, tr, wh = np.arange(STEPS + 1), self.traj, self.whole
        for stat, whole in (("mean", wh["mean"]), ("var", wh["var_unbiased"])):
            self.tr("running", f"{stat} batch").update(x=steps[1:], y=tr[f"batch_{stat}"][1:])
            self.tr("running", f"{stat} running").update(x=steps, y=tr[stat])
            self.tr("running", f"{stat} bc").update(x=steps[1:], y=tr[f"{stat}_bc"][1:])
            self.tr("running", f"{stat} whole").update(x=[0, STEPS], y=[whole, whole])
        self.tr("running", "var whole biased").update(x=[0, STEPS], y=[wh["var_biased"]] * 2)

    def _table(self, t: int) -> str:
        tr, wh, n, f = self.traj, self.whole, int(self.controls["example"].value), self.num
        x = float(self.test[n])
        ways = [(self.t("way_whole"), wh["mean"], wh["var_unbiased"]),
                (self.t("way_whole_biased"), wh["mean"], wh["var_biased"]),
                (self.t("way_running", t=t), tr["mean"][t], tr["var"][t]),
                (self.t("way_bc", t=t), tr["mean_bc"][t], tr["var_bc"][t])]
        ref = float(bn.normalize_with(x, wh["mean"], wh["var_unbiased"]))
        first, *cols = (html.escape(self.t(k)) for k in ("col_stats", "col_mean", "col_var", "col_out", "col_diff"))
        head = (f"<tr><th style='text-align:left;padding-right:10px'>{first}</th>"
                + "".join(f"<th>{c}</th>" for c in cols) + "</tr>")
        body = ""
        for name, mu, var in ways:
            out = float(bn.normalize_with(x, mu, var))
            body += (f"<tr><td style='padding-right:10px'>{html.escape(name)}</td><td {CELL}>{f(mu)}</td>"
                     f"<td {CELL}>{f(var)}</td><td {CELL}>{f(out)}</td><td {CELL}>{f(out - ref)}</td></tr>")
        decay = bn.start_weight(self.controls["momentum"].value, t)
        said = self.t("digit", n=n, z=f(x), t=t, decay=f(decay))
        return f"<div>{html.escape(said, quote=False)}</div><table class='lesson-stats'>{head}{body}</table>"

    def layout(self):
        c = self.controls
        line = self.data_line("data", train=split_size("train"), test=split_size("test"))
        return [line, ipw.HBox([column(c["momentum"].widget, c["m"].widget, c["t"].widget),
                                column(c["example"].widget, self.status)]),
                self.figures["running"], self.stats]


def inference_section(**values) -> ipw.Widget:
    """e. Test-time statistics: whole set, PyTorch's running averages, bias-corrected running averages.
    `lang="zh"` gives the Chinese page."""
    return InferenceStats(**values).widget
