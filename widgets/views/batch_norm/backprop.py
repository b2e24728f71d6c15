"""Section c: dL/dz through BN, term by term (through z_norm, sigma^2_B, mu_B), their sum, and autograd beside it."""
from __future__ import annotations

import ipywidgets as ipw
import numpy as np
import plotly.graph_objects as go

from widgets import batchnorm as bn
from widgets.bn_analysis import SUM_LOSS_NOTE, term_sums
from widgets.views import palette
from widgets.views.batch_norm.common import BLUE, GREEN, ORANGE, RED, BNSection, split_size, table
from widgets.views.section import column

POOL = 64     # each "new batch" draws this many digits; the batch is the first m of them
BETA = 0.2    # beta is fixed: it does not enter dL/dz


class Backprop(BNSection):
    """The three terms of dL/dz_i for each example of a small batch, their sum and torch autograd's answer."""

    name, title, css = "backprop", "c. Backprop through BN: the three terms", ("bn-sec-c",)
    UPSTREAM = ("random", "target", "sum")                             # batchnorm.upstream_gradient's kinds
    TERMS = (("term_norm", BLUE), ("term_var", ORANGE), ("term_mean", GREEN))

    def build(self):
        self.X = bn.digits_inputs("all")
        self.w, self.b = bn.unit_weights()
        self.rng = np.random.default_rng(1)
        self.seed = 0
        self.idx = self.rng.choice(len(self.X), POOL, replace=False)
        self.slider("m", self.t("m"), 8, 2, 24, kind=ipw.IntSlider)
        self.choice("upstream", self.t("upstream"), [(self.t(f"upstream_{k}"), k) for k in self.UPSTREAM], "random",
                    layout=ipw.Layout(width="420px"))
        self.number("gamma", self.t("gamma"), 1.5, min=-10, max=10)
        self.button("new", self.t("new"), self.new_batch, icon="refresh")
        self.stats = ipw.HTML("")
        self.figure("terms", height=380, barmode="group", xaxis_title=self.t("axis_i"), yaxis_title=self.t("axis_dz"))
        for key, color in self.TERMS:
            self.trace("terms", key, go.Bar(name=self.t(f"trace_{key}"), marker_color=color))
        self.trace("terms", "sum", go.Scatter(mode="markers", name=self.t("trace_sum"), marker=dict(
            color=palette.INK, size=12, symbol="line-ew-open", line=dict(width=3))))
        self.trace("terms", "autograd", go.Scatter(mode="markers", name=self.t("trace_autograd"),
                                                   marker=dict(color=RED, size=8, symbol="x")))

    def new_batch(self):
        self.idx = self.rng.choice(len(self.X), POOL, replace=False)
        self.seed += 1
        self.update("new")

    def update(self, changed):
        m, gamma, kind = (self.controls[k].value for k in ("m", "gamma", "upstream"))
        z = bn.linear_unit(self.X[self.idx[:m]], self.w, self.b)[:, None]      # (m, 1)
        y, cache = bn.batch_norm_forward(z, gamma, BETA)
        dy = bn.upstream_gradient(kind, y, seed=self.seed)
        t = bn.three_terms(dy, cache)
        dx, dgamma, dbeta = bn.batch_norm_backward(dy, cache)
        ref = bn.autograd_reference(z, gamma, BETA, dy)
        i = np.arange(1, int(m) + 1)
        with self.drawing("terms"):
            for key, _color in self.TERMS:
                self.tr("terms", key).update(x=i, y=t[key][:, 0])
            self.tr("terms", "sum").update(x=i, y=dx[:, 0])
            self.tr("terms", "autograd").update(x=i, y=ref[0][:, 0])
        note = f"<div>{self.say(SUM_LOSS_NOTE)}</div>" if kind == "sum" else ""
        self.stats.value = table(self._rows(t, dx, dgamma, dbeta, ref)) + note
        self.status.value = ""

    def _rows(self, t, dx, dgamma, dbeta, ref) -> list[tuple[str, str]]:
        ref_dx, ref_dg, ref_db = ref
        s, f = term_sums(t), self.num
        return [(self.t(key), value) for key, value in (
            ("row_d_var", f(t["d_var"][0])),
            ("row_d_mu", f(t["d_mu"][0])),
            ("row_sum_var", f(s["var"])),
            ("row_sum_norm_mean", f"{f(s['norm'])} / {f(s['mean'])}"),
            ("row_sum_total", f(s["total"])),
            ("row_gap", f(float(np.max(np.abs(dx - ref_dx))))),
            ("row_gap_norm_only", f(float(np.max(np.abs(t["term_norm"] - ref_dx))))),
            ("row_dgamma", f"{f(dgamma[0])} / {f(ref_dg[0])}"),
            ("row_dbeta", f"{f(dbeta[0])} / {f(ref_db[0])}"),
        )]

    def layout(self):
        c = self.controls
        controls = column(self.data_line("data", n=split_size("all")),
                          c["m"].widget, c["upstream"].widget, c["gamma"].widget, self.buttons["new"], self.stats,
                          self.status, width="560px")
        return [ipw.HBox([controls, self.figures["terms"]])]


def backprop_section(**values) -> ipw.Widget:
    """c. dL/dz term by term (through z_norm, sigma^2, mu), their sum, and autograd beside it.
    `lang="zh"` gives the Chinese page."""
    return Backprop(**values).widget
