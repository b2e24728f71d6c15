"""Lesson 1 sections: tanh saturation, a layer of tanh units, feature scaling and the learning rate."""
from __future__ import annotations

import ipywidgets as ipw
import numpy as np
import plotly.graph_objects as go

from widgets import scaling as S
from widgets.ui import message, stat_table
from widgets.views import palette
from widgets.views.section import Section, column, row

SAT_COLOR = palette.BAND
BLUE, ORANGE = palette.BLUE, palette.VERMILLION        # tanh and its slope (also dash)
RAW, STD = palette.FIRST, palette.SECOND               # the two compared cases: colour, dash and marker


def _f(v: float, digits: int = 4) -> str:
    return f"{v:.{digits}f}" if abs(v) >= 10 ** -digits or v == 0 else f"{v:.2e}"


# --------------------------------------------------------------------------- a. tanh saturation
class TanhSaturation(Section):
    """One unit a = tanh(w·x): sliders for w, x and the saturation threshold."""

    name, title, css = "tanh", "1. One tanh unit", ("lesson-tanh",)
    Z_HALF = 6.0  # the plot spans at least z in [-6, 6]

    def build(self):
        opts = dict(width="450px", description_width="130px")
        self.slider("w", self.t("w"), 0.1, -1.0, 1.0, 0.01, readout_format=".2f", **opts)
        self.slider("x", self.t("x"), 20.0, -100.0, 100.0, 1.0, readout_format=".0f", **opts)
        self.slider("threshold", self.t("threshold"), S.DEFAULT_SATURATION, 0.80, 0.999, 0.001,
                    readout_format=".3f", **opts)
        self.numbers = ipw.HTML(layout=ipw.Layout(min_width="330px"))
        self.cases = ipw.HTML()
        self._drawn = None  # (half-width, threshold z) the curves and bands were last drawn for
        self.figure("curve", height=340, xaxis_title=self.t("axis_z"), yaxis_title=self.t("axis_value"),
                    yaxis_range=[-1.1, 1.1], title=self.t("fig_title"))
        self.trace("curve", "tanh", go.Scatter(name=self.t("trace_tanh"), mode="lines", line=dict(color=BLUE, width=3)))
        self.trace("curve", "slope", go.Scatter(name=self.t("trace_slope"), mode="lines",
                                                line=dict(color=ORANGE, width=2, dash="dash")))
        self.trace("curve", "a", go.Scatter(name=self.t("trace_a"), mode="markers",
                                            marker=dict(size=13, color=BLUE, line=dict(width=2, color="white"))))
        self.trace("curve", "dadz", go.Scatter(name=self.t("trace_dadz"), mode="markers",
                                               marker=dict(size=11, color=ORANGE, symbol="diamond")))
        fig = self.figures["curve"]
        for side in ("left", "right"):  # the two saturated bands, updated in place
            fig.add_shape(type="rect", xref="x", yref="paper", y0=0, y1=1, fillcolor=SAT_COLOR, line_width=0,
                          layer="below", name=f"band-{side}")
            fig.add_annotation(text=self.t("band"), xref="x", yref="paper", y=0.98, showarrow=False,
                               name=f"label-{side}")

    def update(self, changed):
        w, x, thr = (self.controls[k].value for k in ("w", "x", "threshold"))
        u = S.tanh_unit(w, x)
        with self.drawing("curve"):
            self._draw_curves(max(self.Z_HALF, abs(u.z) * 1.1), S.saturation_z(thr))
            self.tr("curve", "a").update(x=[u.z], y=[u.a])
            self.tr("curve", "dadz").update(x=[u.z], y=[u.dadz])
        sat = abs(u.a) > thr
        verdict = self.t("verdict_saturated", slope=_f(u.dadz, 3)) if sat else self.t("verdict_linear")
        self.numbers.value = stat_table([
            (self.t("row_z"), f"{u.z:.4g}"),
            (self.t("row_a"), f"{u.a:.4f}"),
            (self.t("row_slope"), _f(u.dadz)),
            (self.t("row_dadx"), _f(u.dadx)),
            (self.t("row_state"), verdict),
        ], "lesson-stats tanh-numbers")
        if changed in (None, "w", "threshold"):
            self.cases.value = self._cases_table(w, thr)

    def _draw_curves(self, half: float, zs: float) -> None:
        """The curves and bands move only when the plotted range or the threshold does (601 points each)."""
        if self._drawn == (half, zs):
            return
        fig = self.figures["curve"]
        z = np.linspace(-half, half, 601)
        a, da = S.tanh_curve(z)
        self.tr("curve", "tanh").update(x=z, y=a)
        self.tr("curve", "slope").update(x=z, y=da)
        fig.update_shapes(dict(x0=-half, x1=-zs), selector=dict(name="band-left"))
        fig.update_shapes(dict(x0=zs, x1=half), selector=dict(name="band-right"))
        fig.update_annotations(dict(x=-(zs + half) / 2), selector=dict(name="label-left"))
        fig.update_annotations(dict(x=(zs + half) / 2), selector=dict(name="label-right"))
        fig.layout.xaxis.range = [-half, half]
        self._drawn = (half, zs)

    def _cases_table(self, w: float, threshold: float) -> str:
        """The notes' example, at the current w: x = 1 and x = 20, and what pushing x further buys."""
        rows, prev = [], None
        units = [S.tanh_unit(w, x) for x in S.NOTES_CASES]
        for x, u in zip(S.NOTES_CASES, units):
            step = "" if prev is None else f"{u.a - prev:+.4f}"
            sat = self.t("yes") if abs(u.a) > threshold else self.t("no")
            rows.append(f"<tr><td>{x:g}</td><td>{u.z:.4g}</td><td><b>{u.a:.4f}</b></td>"
                        f"<td>{_f(u.dadz)}</td><td>{sat}</td><td>{step}</td></tr>")
            prev = u.a
        return (f"<div class='tanh-cases'><b>{self.t('cases_title', w=w)}</b>"
                f"<table style='border-collapse:collapse' cellpadding='4'>{self.t('cases_head')}{''.join(rows)}</table>"
                f"<small>{self._cases_sentence(w, threshold, units)}</small></div>")

    def _cases_sentence(self, w: float, threshold: float, units) -> str:
        """One sentence that holds for every w and threshold: where the unit saturates, and what x buys after."""
        x_sat = S.first_saturated(w, threshold)
        a = {x: u.a for x, u in zip(S.NOTES_CASES, units)}
        if w == 0:
            return self.t("cases_zero")
        if x_sat is None:
            return self.t("cases_none", w=w, threshold=threshold)
        if x_sat == S.NOTES_CASES[0]:
            return self.t("cases_first", w=w, change=a[100.0] - a[1.0])
        return self.t("cases_later", x_sat=x_sat, before=a[x_sat] - a[1.0], after=a[100.0] - a[x_sat])

    def layout(self):
        c = self.controls
        return [row(column(c["w"].widget, c["x"].widget, c["threshold"].widget, self.numbers), self.cases),
                self.figures["curve"], self.status]


def tanh_saturation(**values) -> ipw.Widget:
    """Section 1: one tanh unit, its curve and slope, and the notes' two cases (controls w, x, threshold)."""
    return TanhSaturation(**values).widget


# --------------------------------------------------------------------------- b. a layer
class TanhLayer(Section):
    """A batch of raw features at a chosen scale feeding N tanh units."""

    name, title, css = "layer", "2. A layer of tanh units", ("lesson-layer",)
    D = 20  # input features
    SCALES = np.logspace(0, 3, 31)
    BIN = 0.05                                       # the histogram's bins: [-1, -0.95), ..., [0.95, 1]
    BIN_EDGES = np.linspace(-1.0, 1.0, 41)
    BIN_CENTRES = (BIN_EDGES[:-1] + BIN_EDGES[1:]) / 2

    def build(self):
        opts = dict(width="430px", description_width="110px")
        self.slider("scale", self.t("scale"), 100.0, 0, 3, 0.05, kind=ipw.FloatLogSlider, base=10,
                    readout_format=".3g", **opts)
        self.slider("units", self.t("units"), 64, 8, 512, 8, kind=ipw.IntSlider, **opts)
        self.choice("standardised", self.t("inputs"), [(self.t("raw_inputs"), False), (self.t("std_inputs"), True)], False,
                    kind=ipw.ToggleButtons, style={"description_width": "110px"})
        self.numbers = ipw.HTML()
        self._curve_units, self._curve_cache = None, {}
        self.figure("hist", height=320, title=self.t("hist_title"), xaxis_title=self.t("axis_a"),
                    yaxis_title=self.t("axis_share"), xaxis_range=[-1.05, 1.05], bargap=0.05, width=560)
        # binned here, 40 bars sent (not 256·N activations for the browser to bin): a fraction of the bytes
        # and time, and every activation counted (plotly.js's bins [start, end) dropped each a = +1.0 exactly,
        # so a saturated layer drew far more units at -1 than at +1)
        self.trace("hist", "activations", go.Bar(name=self.t("trace_activations"), x=self.BIN_CENTRES,
                                                 width=self.BIN, marker_color=RAW.color, customdata=self._bin_ranges(),
                                                 hovertemplate="a ∈ %{customdata}: %{y:.1%}<extra></extra>"))
        self.figure("curve", height=320, title=self.t("curve_title"), xaxis_type="log", width=560,
                    xaxis_title=self.t("axis_scale"), yaxis_title=self.t("axis_saturated"), yaxis_range=[0, 1.02])
        self.trace("curve", "raw", go.Scatter(name=self.t("trace_raw"), mode="lines", line=RAW.line()))
        self.trace("curve", "std", go.Scatter(name=self.t("trace_std"), mode="lines", line=STD.line()))
        self.trace("curve", "now", go.Scatter(name=self.t("trace_now"), mode="markers", marker=dict(size=12, color=palette.INK)))

    def update(self, changed):
        n_units, scale, std_on = (self.controls[k].value for k in ("units", "scale", "standardised"))
        w, b, g = S.layer_params(self.D, n_units)
        x = S.layer_inputs(scale, d=self.D)
        raw = S.tanh_layer(x, w, b, g)
        std = S.tanh_layer(S.standardise(x), w, b, g)
        shown = std if std_on else raw
        with self.drawing():
            self.tr("hist", "activations").update(y=self.shares(shown.activations),
                                                  marker_color=STD.color if std_on else RAW.color)
            if self._curve_units != n_units:  # the whole curve depends on N only
                raw_curve, std_curve = self._curves_for(n_units)
                self.tr("curve", "raw").update(x=self.SCALES, y=raw_curve)
                self.tr("curve", "std").update(x=self.SCALES, y=std_curve)
                self._curve_units = n_units
            self.tr("curve", "now").update(x=[scale], y=[shown.saturated_fraction])
        self.numbers.value = stat_table([
            ("", self.t("head")),
            (self.t("row_saturated"), f"{raw.saturated_fraction:7.1%} &nbsp; {std.saturated_fraction:7.1%}"),
            (self.t("row_grad"), f"{raw.mean_local_grad:7.4f} &nbsp; {std.mean_local_grad:7.4f}"),
            (self.t("row_dw"), f"{raw.grad_w_norm:7.3g} &nbsp; {std.grad_w_norm:7.3g}"),
            (self.t("row_dx"), f"{raw.grad_x_norm:7.3g} &nbsp; {std.grad_x_norm:7.3g}"),
        ], "lesson-stats layer-numbers")

    @classmethod
    def shares(cls, activations: np.ndarray) -> np.ndarray:
        """The share of all activations in each bin (tanh's values lie in [-1, 1]: the last bin is closed)."""
        counts, _ = np.histogram(activations, bins=cls.BIN_EDGES)
        return counts / activations.size

    def _bin_ranges(self) -> list[str]:
        e = self.BIN_EDGES
        return [f"[{lo:.2f}, {hi:.2f}{']' if k == len(e) - 2 else ')'}" for k, (lo, hi) in enumerate(zip(e[:-1], e[1:]))]

    def _curves_for(self, n_units: int) -> tuple[np.ndarray, np.ndarray]:
        """Saturation against scale, raw and standardised, for N units: kept once computed (64 N values
        at most), so moving the slider back to an N already seen redraws at once."""
        if n_units not in self._curve_cache:
            self._curve_cache[n_units] = (S.saturation_vs_scale(self.SCALES, n_units, False),
                                          S.saturation_vs_scale(self.SCALES, n_units, True))
        return self._curve_cache[n_units]

    def layout(self):
        c = self.controls
        return [row(column(c["scale"].widget, c["units"].widget, c["standardised"].widget), self.numbers),
                row(self.figures["hist"], self.figures["curve"], gap="0"), self.status]


def tanh_layer(**values) -> ipw.Widget:
    """Section 2: a layer of tanh units fed raw or standardised inputs (controls scale, units, standardised)."""
    return TanhLayer(**values).widget


# --------------------------------------------------------------------------- c. scaling and lr
class ScalingAndLearningRate(Section):
    """Gradient descent on linear regression, raw features beside standardised ones."""

    name, title, css = "lr", "3. Feature scaling and the learning rate", ("lesson-regression",)
    TARGET = 1e-3  # "reach a given loss": within this of the minimum (L - L* <= 1e-3)
    GRID = 90
    KEYS = ("raw", "std")

    def build(self):
        opts = dict(width="470px", description_width="150px")
        self.slider("x2_range", self.t("x2_range"), 1000.0, 0, 3, 0.1, kind=ipw.FloatLogSlider, base=10,
                    readout_format=".3g", continuous_update=False, **opts)
        self.slider("steps", self.t("steps"), 50, 1, 500, 1, kind=ipw.IntSlider, **opts)
        self.slider("lr_raw", self.t("lr_raw"), 1e-6, -8, 0.5, 0.05, kind=ipw.FloatLogSlider, base=10,
                    readout_format=".2e", **opts)
        self.slider("lr_std", self.t("lr_std"), 0.5, -8, 0.5, 0.05, kind=ipw.FloatLogSlider, base=10,
                    readout_format=".2e", **opts)
        self.msg = {k: ipw.HTML() for k in self.KEYS}
        self.numbers = ipw.HTML()
        self.problems, self.w0 = {}, {}
        for key, title in zip(self.KEYS, (self.t("fig_raw"), self.t("fig_std"))):
            self.figure(key, height=430, title=title, xaxis_title="w1", yaxis_title="w2", showlegend=False,
                        yaxis_scaleanchor="x", yaxis_scaleratio=1, width=560)
            self.trace(key, "loss", go.Contour(name=self.t("trace_loss"), colorscale="Blues", reversescale=True, showscale=False,
                                               contours=dict(coloring="lines"), line=dict(width=1.2),
                                               hoverinfo="skip"))
            self.trace(key, "path", go.Scatter(name=self.t("trace_path"), mode="lines+markers", line=dict(color=palette.VERMILLION, width=2),
                                               marker=dict(size=4)))
            self.trace(key, "start", go.Scatter(name=self.t("trace_start"), mode="markers",
                                                marker=dict(size=11, color=palette.INK, symbol="x")))
            self.trace(key, "minimum", go.Scatter(name=self.t("trace_minimum"), mode="markers",
                                                  marker=dict(size=12, color=palette.BLUISH_GREEN, symbol="star")))

    def update(self, changed):
        if changed in (None, "x2_range"):
            self._build_problems(self.controls["x2_range"].value)
        runs = {k: self._run(k, self.controls[f"lr_{k}"].value) for k in self.KEYS}
        for k, (kind, fields) in runs.items():
            self.msg[k].value = message(self.t(kind, **fields), kind="ok" if kind == "converging" else "error")
        self.numbers.value = self._numbers_html()

    def _build_problems(self, R: float) -> None:
        """The two problems, their contours on an equal-scale window around start and minimum.

        The standardised problem does not depend on R (x2 = R·u standardised is u standardised:
        tests/test_scaling.py checks it), so it is built and drawn once: moving R redraws one figure."""
        fresh = {"raw": S.make_regression(R)}
        if "std" not in self.problems:
            fresh["std"] = S.make_regression(R, standardised=True)
        self.problems = {**self.problems, **fresh}
        for key, p in fresh.items():
            w0 = p.w_star + np.array([-2.5, 2.0]) if key == "std" else np.array([-1.0, 0.0])
            self.w0[key] = w0
            span = 1.3 * np.max(np.abs(w0 - p.w_star)) + 0.3
            g1 = np.linspace(p.w_star[0] - span, p.w_star[0] + span, self.GRID)
            g2 = np.linspace(p.w_star[1] - span, p.w_star[1] + span, self.GRID)
            W1, W2 = np.meshgrid(g1, g2)
            L = p.loss(np.stack([W1, W2], axis=-1)) - p.loss_star
            with self.drawing(key):
                # numpy arrays, not lists: plotly validates a nested list value by value (most of this
                # update's time) and the arrays reach the browser as binary buffers; the same values
                self.tr(key, "loss").update(x=g1, y=g2, z=np.log10(L + 1e-6).round(4),
                                            contours=dict(start=-3, end=float(np.log10(L.max())), size=0.25,
                                                          coloring="lines"))
                self.tr(key, "start").update(x=[w0[0]], y=[w0[1]])
                self.tr(key, "minimum").update(x=[p.w_star[0]], y=[p.w_star[1]])
                self.figures[key].layout.xaxis.range = [g1[0], g1[-1]]
                self.figures[key].layout.yaxis.range = [g2[0], g2[-1]]

    def _run(self, key: str, lr: float) -> tuple[str, dict]:
        p = self.problems[key]
        d = S.gradient_descent(p, self.w0[key], lr, self.controls["steps"].value)
        with self.drawing(key):
            self.tr(key, "path").update(x=d.path[:, 0], y=d.path[:, 1])
        return S.descent_verdict(p, d, lr)

    def _steps_at(self, key: str, lr: float) -> str:
        k = S.steps_to_reach(self.problems[key], self.w0[key], lr, self.TARGET)
        return self.t("never") if k is None else f"{k:,}"

    def _numbers_html(self) -> str:
        raw, std = self.problems["raw"], self.problems["std"]

        def both(fn):
            return f"{fn(raw)} &nbsp;|&nbsp; {fn(std)}"

        return stat_table([
            ("", self.t("head")),
            (self.t("row_eigen"), both(lambda p: ", ".join(f"{v:.4g}" for v in p.eigenvalues))),
            (self.t("row_cond"), both(lambda p: f"{p.condition_number:,.4g}")),
            (self.t("row_limit"), both(lambda p: f"{p.lr_limit:.4g}")),
            (self.t("row_best"), both(lambda p: f"{p.lr_best:.4g}")),
            (self.t("row_steps_best", target=self.TARGET),
             f"{self._steps_at('raw', raw.lr_best)} &nbsp;|&nbsp; {self._steps_at('std', std.lr_best)}"),
            (self.t("row_steps_chosen"),
             f"{self._steps_at('raw', self.controls['lr_raw'].value)} &nbsp;|&nbsp; "
             f"{self._steps_at('std', self.controls['lr_std'].value)}"),
        ], "lesson-stats regression-numbers")

    def layout(self):
        c = self.controls
        controls = column(c["x2_range"].widget, c["steps"].widget, c["lr_raw"].widget, self.msg["raw"],
                          c["lr_std"].widget, self.msg["std"])
        return [row(controls, self.numbers), row(self.figures["raw"], self.figures["std"], gap="0"), self.status]


def scaling_and_learning_rate(**values) -> ipw.Widget:
    """Section 3: loss contours and gradient-descent paths, raw beside standardised
    (controls x2_range, steps, lr_raw, lr_std)."""
    return ScalingAndLearningRate(**values).widget
