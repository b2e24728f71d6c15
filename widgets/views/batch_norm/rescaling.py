"""Section b: w -> k w. The batch statistics scale, z_norm and z~ do not (up to eps), the gradient on w scales as 1/k."""
from __future__ import annotations

import ipywidgets as ipw
import numpy as np
import plotly.graph_objects as go

from widgets import batchnorm as bn
from widgets.bn_analysis import rescaling_message
from widgets.views.batch_norm.common import BLUE, GREY, ORANGE, RED, WIDE, BNSection, split_size, table
from widgets.views.section import column

BATCH = 128          # the first 128 digits form the fixed batch
FLOOR = 1e-17        # log axis: exact zeros are drawn here


class Rescaling(BNSection):
    """The largest change of z_norm and the gradient norm on w, over k from 0.01 to 100 and at the chosen k."""

    name, title, css = "rescaling", "b. Rescaling the weights", ("bn-sec-b",)
    K_GRID = np.logspace(-2, 2, 81)

    def build(self):
        self.X = bn.digits_inputs("all")[:BATCH]
        self.w, self.b = bn.unit_weights()
        self.slider("k", self.t("k"), 1.0, -2, 2, 0.05, kind=ipw.FloatLogSlider, base=10, readout_format=".3g")
        self.number("eps", self.t("eps"), bn.EPS, min=1e-12, max=1.0, tooltip=self.t("eps_tooltip"))
        self.stats = ipw.HTML("")
        fig = self.figure("rescale", height=400, **WIDE)
        fig.set_subplots(rows=1, cols=2, horizontal_spacing=0.12,
                         subplot_titles=(self.t("fig_diff"), self.t("fig_grad")))
        self.trace("rescale", "diff", go.Scatter(mode="lines", name=self.t("trace_diff"), line=dict(color=BLUE)), 1, 1)
        self.trace("rescale", "closed form", go.Scatter(mode="lines", name=self.t("trace_closed_form"),
                                                        line=dict(color=GREY, dash="dot")), 1, 1)
        self.trace("rescale", "diff at k", go.Scatter(mode="markers", name=self.t("trace_current"), showlegend=False,
                                                      marker=dict(color=RED, size=11)), 1, 1)
        self.trace("rescale", "grad", go.Scatter(mode="lines", name=self.t("trace_grad"), line=dict(color=ORANGE)), 1, 2)
        self.trace("rescale", "1/k", go.Scatter(mode="lines", name=self.t("trace_1_over_k"),
                                                line=dict(color=GREY, dash="dot")), 1, 2)
        self.trace("rescale", "grad at k", go.Scatter(mode="markers", showlegend=False,
                                                      marker=dict(color=RED, size=11)), 1, 2)
        fig.update_xaxes(type="log", title_text="k")
        fig.update_yaxes(type="log", exponentformat="power")

    def update(self, changed):
        k, eps = self.controls["k"].value, self.controls["eps"].value
        r = bn.rescaling(self.X, self.w, self.b, k, eps=eps)
        with self.drawing("rescale"):
            if changed in (None, "eps"):
                self._draw_grid(eps)
            self.tr("rescale", "diff at k").update(x=[k], y=[max(r["max_diff_z_norm"], FLOOR)])
            self.tr("rescale", "grad at k").update(x=[k], y=[r["grad_w_norm_k"]])
        self.stats.value = (table(self._rows(r, eps)) +
                            f"<div style='margin-top:4px'>{self.say(rescaling_message(r, eps))}</div>")
        self.status.value = ""

    def _draw_grid(self, eps: float) -> None:
        rs = [bn.rescaling(self.X, self.w, self.b, k, eps=eps) for k in self.K_GRID]
        floor = lambda key: np.maximum([r[key] for r in rs], FLOOR)   # noqa: E731
        self.tr("rescale", "diff").update(x=self.K_GRID, y=floor("max_diff_z_norm"))
        self.tr("rescale", "closed form").update(x=self.K_GRID, y=floor("max_diff_closed_form"))
        self.tr("rescale", "grad").update(x=self.K_GRID, y=[r["grad_w_norm_k"] for r in rs])
        self.tr("rescale", "1/k").update(x=self.K_GRID, y=rs[0]["grad_w_norm_1"] / self.K_GRID)

    def _rows(self, r: dict, eps: float) -> list[tuple[str, str]]:
        f, t = self.num, self.t
        return [
            ("k", f(r["k"])),
            (t("row_mu"), f"{f(r['mu_1'])} → {f(r['mu_k'])}"),
            (t("row_var"), f"{f(r['var_1'])} → {f(r['var_k'])}"),
            (t("row_diff"), f"{f(r['max_diff_z_norm'])} / {f(r['max_diff_closed_form'])}"),
            (t("row_diff_tilde"), f(r["max_diff_z_tilde"])),
            (t("row_grad"), f"{f(r['grad_w_norm_1'])} → {f(r['grad_w_norm_k'])}"),
            (t("row_grad_ratio"), f(r["grad_ratio_times_k"])),
            (t("row_shrink"), f(bn.eps_shrink_factor(r["var_k"], eps), 6)),
        ]

    def layout(self):
        c = self.controls
        controls = column(self.data_line("data", batch=BATCH, n=split_size("all")),
                          c["k"].widget, c["eps"].widget, self.stats, self.status, width="560px")
        return [ipw.HBox([controls, self.figures["rescale"]])]


def rescaling_section(**values) -> ipw.Widget:
    """b. w -> k w: statistics scale, z_norm and z~ do not (up to eps), the gradient on w scales as 1/k.
    `lang="zh"` gives the Chinese page."""
    return Rescaling(**values).widget
