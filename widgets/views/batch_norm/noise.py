"""Section d: how mu_B and sigma^2_B scatter with the batch size, and the noise this puts into each output."""
from __future__ import annotations

import ipywidgets as ipw
import numpy as np
import plotly.graph_objects as go

from widgets import batchnorm as bn
from widgets.bn_analysis import NEAR_ONE, small_batch_note
from widgets.views.batch_norm.common import BLUE, ORANGE, PURPLE, RED, BNSection, split_size, table
from widgets.views.section import column

M_GRID = [2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512]
CURVE_TRIALS = 1000   # batches per m for the spread-vs-m curve
TRIALS = 2000         # batches for the histograms at the chosen m
EXAMPLE = 0           # digit #0 is followed through the batches
SPREADS = (("std_mu", "theory_mu", BLUE), ("std_var", "theory_var", ORANGE), ("std_out", "theory_out", PURPLE))


class BatchNoise(BNSection):
    """Histograms of mu_B, sigma^2_B and one digit's z_norm over many batches of size m; spreads against m."""

    name, title, css = "noise", "d. Batch size and noise", ("bn-sec-d",)

    def build(self):
        self.pop = bn.linear_unit(bn.digits_inputs("all"), *bn.unit_weights())   # z over all digits: the population
        self.mom = bn.population_moments(self.pop)
        self.example = float(self.pop[EXAMPLE])
        self.z0 = (self.example - self.mom["mean"]) / np.sqrt(self.mom["var"])
        self.slider("m", self.t("m"), 16, 2, 512, kind=ipw.IntSlider, continuous_update=False)
        self.stats = ipw.HTML("")
        self._build_figure(bn.noise_curve(self.pop, M_GRID, CURVE_TRIALS, self.example, seed=7))

    def _build_figure(self, curve: dict) -> None:
        # one figure (fewer FigureWidgets for the page to create): 3 histograms above, spreads vs m below
        t, trials = self.t, f"{TRIALS:,}"
        fig = self.figure("noise", height=680, bargap=0.02, legend=dict(orientation="h", y=-0.12, x=0))
        fig.set_subplots(rows=2, cols=3, specs=[[{}, {}, {}], [{"colspan": 3}, None, None]],
                         vertical_spacing=0.12, horizontal_spacing=0.06,
                         subplot_titles=(t("fig_mu", trials=trials), t("fig_var", trials=trials),
                                         t("fig_out", example=EXAMPLE, trials=trials), t("fig_spread")))
        for col, (key, color) in enumerate((("mu", BLUE), ("var", ORANGE), ("out", PURPLE)), start=1):
            self.trace("noise", key, go.Histogram(nbinsx=50, marker_color=color, showlegend=False), 1, col)
        for key, tkey, color in SPREADS:
            what = t(f"spread_{key}", example=EXAMPLE)
            self.trace("noise", key, go.Scatter(x=curve["m"], y=curve[key], mode="markers",
                                                name=t("trace_measured", what=what), marker=dict(color=color, size=8)), 2, 1)
            self.trace("noise", tkey, go.Scatter(x=curve["m"], y=curve[tkey], mode="lines",
                                                 name=t("trace_theory", what=what), line=dict(color=color, dash="dot")), 2, 1)
        self.trace("noise", "current m", go.Scatter(mode="markers", name=t("trace_current"), marker=dict(
            color=RED, size=14, symbol="circle-open", line=dict(width=3))), 2, 1)
        fig.update_xaxes(type="log", title_text=t("axis_m"), row=2, col=1)
        fig.update_yaxes(type="log", title_text=t("axis_std"), exponentformat="power", row=2, col=1)
        fig.layout.shapes = [
            dict(type="line", xref=x, yref=f"{y} domain", x0=v, x1=v, y0=0, y1=1, line=dict(color=RED))
            for x, y, v in (("x", "y", self.mom["mean"]), ("x2", "y2", self.mom["var"]), ("x3", "y3", self.z0))]

    def update(self, changed):
        m = int(self.controls["m"].value)
        mus, vars_ = bn.sample_batch_stats(self.pop, m, TRIALS, seed=m)
        outs = bn.output_noise(self.pop, self.example, m, TRIALS, seed=m + 1)
        with self.drawing("noise"):
            for key, values in (("mu", mus), ("var", vars_), ("out", outs)):
                self.tr("noise", key).x = values
            self.tr("noise", "current m").update(x=[m, m, m], y=[mus.std(), vars_.std(), outs.std()])
        near_one = float(np.mean(np.abs(outs) > NEAR_ONE))
        note = small_batch_note(m, near_one, bn.pair_gap(NEAR_ONE), bn.samuelson_bound(m))
        self.stats.value = table(self._rows(m, mus, vars_, outs, near_one)) + (f"<div>{self.say(note)}</div>" if note else "")
        self.status.value = ""

    def _rows(self, m: int, mus, vars_, outs, near_one: float) -> list[tuple[str, str]]:
        mom, f, t = self.mom, self.num, self.t
        return [
            (t("row_population", n=f"{mom['n']:,}"), f"{f(mom['mean'])}, {f(mom['var'])}"),
            (t("row_std_mu"), f"{f(mus.std())} / {f(bn.theory_std_mu(mom['var'], m))}"),
            (t("row_std_var"), f"{f(vars_.std())} / {f(bn.theory_std_var(mom['var'], mom['mu4'], m))}"),
            (t("row_mean_var"), f"{f(vars_.mean())} / {f((m - 1) / m * mom['var'])}"),
            (t("row_example", example=EXAMPLE), f(self.z0)),
            (t("row_std_out", example=EXAMPLE), f"{f(outs.std())} / {f(bn.theory_output_noise_std(self.z0, m))}"),
            (t("row_near_one", threshold=NEAR_ONE), f"{near_one:.1%}"),
        ]

    def layout(self):
        controls = column(self.data_line("data", n=split_size("all")),
                          self.controls["m"].widget, self.stats, self.status, width="560px")
        return [ipw.HBox([controls, self.figures["noise"]])]


def batch_noise_section(**values) -> ipw.Widget:
    """d. How mu_B and sigma^2_B scatter with the batch size, and the noise this puts into each output.
    `lang="zh"` gives the Chinese page."""
    return BatchNoise(**values).widget
