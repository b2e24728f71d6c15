"""Section c: dL/dz through BN, term by term (through z_norm, sigma^2_B, mu_B), their sum, and autograd beside it."""
from __future__ import annotations

import ipywidgets as ipw
import numpy as np
import plotly.graph_objects as go

from widgets import batchnorm as bn
from widgets.bn_analysis import SUM_LOSS_NOTE, num as _f, term_sums
from widgets.views.batch_norm.common import BLUE, GREEN, ORANGE, RED, BNSection, data_line, md, split_size, table
from widgets.views.section import column

POOL = 64     # each "new batch" draws this many digits; the batch is the first m of them
BETA = 0.2    # beta is fixed: it does not enter dL/dz


class Backprop(BNSection):
    """The three terms of dL/dz_i for each example of a small batch, their sum and torch autograd's answer."""

    name, title, css = "backprop", "c. Backprop through BN: the three terms", ("bn-sec-c",)
    UPSTREAM = [("random vector g (L = Σ gᵢ z̃ᵢ)", "random"), ("squared error to a target (dL/dz̃ = z̃ − t)", "target"),
                ("sum of outputs (L = Σ z̃ᵢ)", "sum")]
    TERMS = (("term_norm", "① dL/dz_norm · ∂z_norm/∂z", BLUE), ("term_var", "② dL/dσ² · ∂σ²/∂z", ORANGE),
             ("term_mean", "③ dL/dμ · ∂μ/∂z", GREEN))

    def build(self):
        self.X = bn.digits_inputs("all")
        self.w, self.b = bn.unit_weights()
        self.rng = np.random.default_rng(1)
        self.seed = 0
        self.idx = self.rng.choice(len(self.X), POOL, replace=False)
        self.slider("m", "batch size m", 8, 2, 24, kind=ipw.IntSlider)
        self.choice("upstream", "upstream dL/dz̃", self.UPSTREAM, "random", layout=ipw.Layout(width="420px"))
        self.number("gamma", "γ (gamma)", 1.5, min=-10, max=10)
        self.button("new", "New batch", self.new_batch, icon="refresh")
        self.stats = ipw.HTML("")
        self.figure("terms", height=380, barmode="group", xaxis_title="example i in the batch",
                    yaxis_title="contribution to dL/dzᵢ")
        for key, label, color in self.TERMS:
            self.trace("terms", key, go.Bar(name=label, marker_color=color))
        self.trace("terms", "sum", go.Scatter(mode="markers", name="sum ①+②+③", marker=dict(
            color="black", size=12, symbol="line-ew-open", line=dict(width=3))))
        self.trace("terms", "autograd", go.Scatter(mode="markers", name="torch autograd",
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
            for key, _label, _color in self.TERMS:
                self.tr("terms", key).update(x=i, y=t[key][:, 0])
            self.tr("terms", "sum").update(x=i, y=dx[:, 0])
            self.tr("terms", "autograd").update(x=i, y=ref[0][:, 0])
        note = f"<div>{md(SUM_LOSS_NOTE)}</div>" if kind == "sum" else ""
        self.stats.value = table(self._rows(t, dx, dgamma, dbeta, ref)) + note
        self.status.value = ""

    @staticmethod
    def _rows(t, dx, dgamma, dbeta, ref) -> list[tuple[str, str]]:
        ref_dx, ref_dg, ref_db = ref
        s = term_sums(t)
        return [
            ("dL/dσ²_B (one number for the batch)", _f(t["d_var"][0])),
            ("dL/dμ_B (one number for the batch)", _f(t["d_mu"][0])),
            ("Σᵢ ② (② rescales the batch about μ_B: it sums to 0)", _f(s["var"])),
            ("Σᵢ ① / Σᵢ ③ (③ = dL/dμ_B / m for every i: it cancels ①'s shift of the whole batch)",
             f"{_f(s['norm'])} / {_f(s['mean'])}"),
            ("Σᵢ dL/dzᵢ (0: BN's output ignores a common shift of all z)", _f(s["total"])),
            ("largest |①+②+③ − autograd| over i", _f(float(np.max(np.abs(dx - ref_dx))))),
            ("largest |① alone − autograd| (what dropping ② and ③ would cost)",
             _f(float(np.max(np.abs(t["term_norm"] - ref_dx))))),
            ("dL/dγ: ours / autograd", f"{_f(dgamma[0])} / {_f(ref_dg[0])}"),
            ("dL/dβ: ours / autograd", f"{_f(dbeta[0])} / {_f(ref_db[0])}"),
        ]

    def layout(self):
        c = self.controls
        controls = column(data_line(f"batches of m drawn at random from all {split_size('all')} digits (split \"all\")."),
                          c["m"].widget, c["upstream"].widget, c["gamma"].widget, self.buttons["new"], self.stats,
                          self.status, width="560px")
        return [ipw.HBox([controls, self.figures["terms"]])]


def backprop_section(**values) -> ipw.Widget:
    """c. dL/dz term by term (through z_norm, sigma^2, mu), their sum, and autograd beside it."""
    return Backprop(**values).widget
