"""Section e: the statistics used at test time: whole training set, PyTorch's running averages, bias-corrected ones."""
from __future__ import annotations

import html

import ipywidgets as ipw
import numpy as np
import plotly.graph_objects as go

from widgets import batchnorm as bn
from widgets.bn_analysis import num as _f
from widgets.views.batch_norm.common import BLUE, GREEN, GREY, ORANGE, RED, WIDE, BNSection, data_line, split_size
from widgets.views.section import column

STEPS = 300
CELL = "style='font-family:monospace;padding:0 8px'"
# (trace key, legend, style) for each panel; the batch statistics and the three averages
LINES = (("batch", "batch μ_B / σ²_B", dict(mode="markers", marker=dict(color=GREY, size=4, opacity=0.5))),
         ("running", "PyTorch running average (start 0 / 1)", dict(mode="lines", line=dict(color=BLUE, width=2))),
         ("bc", "bias-corrected", dict(mode="lines", line=dict(color=GREEN, width=2, dash="dash"))),
         ("whole", "whole training set", dict(mode="lines", line=dict(color=RED, width=1.5, dash="dot"))))


class InferenceStats(BNSection):
    """Running averages over training steps, and one held-out digit normalised with each way's statistics."""

    name, title, css = "inference", "e. Statistics for inference", ("bn-sec-e",)

    def build(self):
        w, b = bn.unit_weights()
        self.train = bn.linear_unit(bn.digits_inputs("train"), w, b)     # z of the training digits
        self.test = bn.linear_unit(bn.digits_inputs("test"), w, b)       # z of the held-out digits
        self.whole = bn.whole_set_stats(self.train)
        self.slider("momentum", "momentum (PyTorch)", 0.1, 0.01, 1.0, 0.01, continuous_update=False)
        self.slider("m", "batch size m", 32, 2, 256, kind=ipw.IntSlider, continuous_update=False)
        self.slider("t", "evaluate after step t", 10, 1, STEPS, kind=ipw.IntSlider)
        self.number("example", "test digit #", 0, min=0, max=len(self.test) - 1, integer=True)
        self.stats = ipw.HTML("")
        fig = self.figure("running", height=440, **WIDE)
        fig.set_subplots(rows=1, cols=2, horizontal_spacing=0.08,
                         subplot_titles=("mean used at test time", "variance used at test time"))
        for col, stat in enumerate(("mean", "var"), start=1):
            for key, label, style in LINES:
                self.trace("running", f"{stat} {key}", go.Scatter(name=label, showlegend=col == 1, legendgroup=label,
                                                                  **style), 1, col)
        self.trace("running", "var whole biased", go.Scatter(mode="lines", name="whole set, biased (÷N)",
                                                             line=dict(color=ORANGE, dash="dot")), 1, 2)
        fig.update_xaxes(title_text="training step")

    def update(self, changed):
        if changed in (None, "momentum", "m"):
            self.traj = bn.running_trajectory(self.train, int(self.controls["m"].value), STEPS,
                                              self.controls["momentum"].value, seed=3)
        t = int(self.controls["t"].value)
        with self.drawing("running"):
            if changed in (None, "momentum", "m"):
                self._draw_trajectory()
            self.figures["running"].layout.shapes = [
                dict(type="line", xref=xr, yref=f"{yr} domain", x0=t, x1=t, y0=0, y1=1, line=dict(color="black", width=1))
                for xr, yr in (("x", "y"), ("x2", "y2"))]
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
        tr, wh, n = self.traj, self.whole, int(self.controls["example"].value)
        x = float(self.test[n])
        ways = [("whole training set (mean, unbiased var)", wh["mean"], wh["var_unbiased"]),
                ("whole training set (mean, biased var ÷N)", wh["mean"], wh["var_biased"]),
                (f"PyTorch running averages after {t} steps", tr["mean"][t], tr["var"][t]),
                (f"bias-corrected running averages after {t} steps", tr["mean_bc"][t], tr["var_bc"][t])]
        ref = float(bn.normalize_with(x, wh["mean"], wh["var_unbiased"]))
        head = ("<tr><th style='text-align:left;padding-right:10px'>statistics</th><th>mean</th><th>variance</th>"
                "<th>BN output (γ=1, β=0)</th><th>difference to whole set</th></tr>")
        body = ""
        for name, mu, var in ways:
            out = float(bn.normalize_with(x, mu, var))
            body += (f"<tr><td style='padding-right:10px'>{html.escape(name)}</td><td {CELL}>{_f(mu)}</td>"
                     f"<td {CELL}>{_f(var)}</td><td {CELL}>{_f(out)}</td><td {CELL}>{_f(out - ref)}</td></tr>")
        decay = bn.start_weight(self.controls["momentum"].value, t)
        return (f"<div>Test digit #{n}: z = {_f(x)}. After t = {t} steps the start values still carry "
                f"weight (1 − momentum)^t = {_f(decay)}; the bias correction divides that out.</div>"
                f"<table class='lesson-stats'>{head}{body}</table>")

    def layout(self):
        c = self.controls
        line = data_line(f"the running averages see batches of the {split_size('train')} training digits (split "
                         f"\"train\" of widgets.data.digits); the test digit is one of the {split_size('test')} "
                         "held-out digits (split \"test\").")
        return [line, ipw.HBox([column(c["momentum"].widget, c["m"].widget, c["t"].widget),
                                column(c["example"].widget, self.status)]),
                self.figures["running"], self.stats]


def inference_section(**values) -> ipw.Widget:
    """e. Test-time statistics: whole set, PyTorch's running averages, bias-corrected running averages."""
    return InferenceStats(**values).widget
