"""Lesson 1 builders: tanh saturation, a layer of tanh units, feature scaling and the learning rate."""
from __future__ import annotations

import ipywidgets as ipw
import numpy as np
import plotly.graph_objects as go

from widgets import scaling as S
from widgets.ui import figure, guarded, message, stat_table

SAT_COLOR = "rgba(214, 39, 40, 0.10)"


def _f(v: float, digits: int = 4) -> str:
    return f"{v:.{digits}f}" if abs(v) >= 10 ** -digits or v == 0 else f"{v:.2e}"


# --------------------------------------------------------------------------- a. tanh saturation
class TanhSaturation:
    """One unit a = tanh(w·x): sliders for w, x and the saturation threshold."""

    Z_HALF = 6.0  # the plot spans at least z in [-6, 6]

    def __init__(self, w: float = 0.1, x: float = 20.0, threshold: float = S.DEFAULT_SATURATION):
        style = {"description_width": "130px"}
        lay = ipw.Layout(width="450px")
        self.w = ipw.FloatSlider(value=w, min=-1.0, max=1.0, step=0.01, description="weight w",
                                 readout_format=".2f", style=style, layout=lay)
        self.x = ipw.FloatSlider(value=x, min=-100.0, max=100.0, step=1.0, description="input x",
                                 readout_format=".0f", style=style, layout=lay)
        self.threshold = ipw.FloatSlider(value=threshold, min=0.80, max=0.999, step=0.001,
                                         description="saturated if |a| >", readout_format=".3f",
                                         style=style, layout=lay)
        self.numbers = ipw.HTML(layout=ipw.Layout(min_width="330px"))
        self.cases = ipw.HTML()
        self.status = ipw.HTML()
        self._drawn = None  # (half-width, threshold z) the curves and bands were last drawn for
        self.fig = figure(height=340, xaxis_title="z = w·x", yaxis_title="value",
                          yaxis_range=[-1.1, 1.1], title="tanh(z) and its derivative")
        self._build_traces()
        for c in (self.w, self.x, self.threshold):
            c.observe(guarded(self.update, self.status), names="value")
        self.update()
        self.widget = ipw.VBox([
            ipw.HBox([ipw.VBox([self.w, self.x, self.threshold, self.numbers]), self.cases],
                     layout=ipw.Layout(flex_flow="row wrap", grid_gap="24px")),
            self.fig, self.status,
        ])
        self.widget.add_class("lesson-tanh")

    def _build_traces(self):
        f = self.fig
        f.add_scatter(name="tanh(z)", mode="lines", line=dict(color="#1f77b4", width=3))
        f.add_scatter(name="derivative 1 − tanh²(z)", mode="lines", line=dict(color="#ff7f0e", width=2, dash="dash"))
        f.add_scatter(name="current a", mode="markers", marker=dict(size=13, color="#1f77b4", line=dict(width=2, color="white")))
        f.add_scatter(name="current slope", mode="markers", marker=dict(size=11, color="#ff7f0e", symbol="diamond"))
        # the two saturated bands, as filled rectangles (updated in place)
        f.add_shape(type="rect", xref="x", yref="paper", y0=0, y1=1, fillcolor=SAT_COLOR, line_width=0, layer="below")
        f.add_shape(type="rect", xref="x", yref="paper", y0=0, y1=1, fillcolor=SAT_COLOR, line_width=0, layer="below")
        f.add_annotation(text="saturated", xref="x", yref="paper", y=0.98, showarrow=False, font=dict(color="#b22"))
        f.add_annotation(text="saturated", xref="x", yref="paper", y=0.98, showarrow=False, font=dict(color="#b22"))

    def update(self, _change=None):
        u = S.tanh_unit(self.w.value, self.x.value)
        zs = S.saturation_z(self.threshold.value)
        half = max(self.Z_HALF, abs(u.z) * 1.1)
        z = np.linspace(-half, half, 601)
        a, da = S.tanh_curve(z)  # 601 points: cheap; sent to the page only when they change
        with self.fig.batch_update():
            if self._drawn != (half, zs):  # curves and bands move only when the range or threshold does
                self.fig.data[0].update(x=z, y=a)
                self.fig.data[1].update(x=z, y=da)
                self.fig.layout.shapes[0].update(x0=-half, x1=-zs)
                self.fig.layout.shapes[1].update(x0=zs, x1=half)
                self.fig.layout.annotations[0].update(x=-(zs + half) / 2)
                self.fig.layout.annotations[1].update(x=(zs + half) / 2)
                self.fig.layout.xaxis.range = [-half, half]
                self._drawn = (half, zs)
            self.fig.data[2].update(x=[u.z], y=[u.a])
            self.fig.data[3].update(x=[u.z], y=[u.dadz])
        sat = abs(u.a) > self.threshold.value
        verdict = ("<b style='color:#b22'>saturated</b>: the slope is nearly zero, so a change in x "
                   "(or a gradient flowing back) barely moves a" if sat else
                   "<b style='color:#1b5e20'>not saturated</b>: a still follows z")
        self.numbers.value = stat_table([
            ("z = w·x", f"{u.z:.4g}"),
            ("a = tanh(z)", f"{u.a:.4f}"),
            ("derivative 1 − tanh²(z)", _f(u.dadz)),
            ("sensitivity da/dx = w·(1 − tanh²)", _f(u.dadx)),
            ("state", verdict),
        ], "lesson-stats tanh-numbers")
        self.cases.value = self._cases_table(self.w.value, self.threshold.value)

    @staticmethod
    def _cases_table(w: float, threshold: float) -> str:
        """The notes' example, at the current w: x = 1 and x = 20, and what pushing x further buys."""
        rows = []
        prev = None
        for x in (1.0, 20.0, 40.0, 100.0):
            u = S.tanh_unit(w, x)
            step = "" if prev is None else f"{u.a - prev:+.4f}"
            sat = "yes" if abs(u.a) > threshold else "no"
            rows.append(f"<tr><td>{x:g}</td><td>{u.z:.4g}</td><td><b>{u.a:.4f}</b></td>"
                        f"<td>{_f(u.dadz)}</td><td>{sat}</td><td>{step}</td></tr>")
            prev = u.a
        head = ("<tr><th>x</th><th>z = w·x</th><th>tanh(z)</th><th>derivative</th>"
                "<th>saturated</th><th>change from the row above</th></tr>")
        return (f"<div class='tanh-cases'><b>The notes' example at w = {w:g}</b>"
                f"<table style='border-collapse:collapse' cellpadding='4'>{head}{''.join(rows)}</table>"
                "<small>From x = 1 to 20 the output climbs a lot; doubling x again to 40 adds little, "
                "and x = 100 adds almost nothing: the unit has saturated.</small></div>")


def tanh_saturation() -> ipw.Widget:
    """Section a: one tanh unit, its curve and slope, and the notes' two cases."""
    return TanhSaturation().widget


# --------------------------------------------------------------------------- b. a layer
class TanhLayer:
    """A batch of raw features at a chosen scale feeding N tanh units."""

    D = 20  # input features
    SCALES = np.logspace(0, 3, 31)

    def __init__(self):
        style = {"description_width": "110px"}
        self.scale = ipw.FloatLogSlider(value=100.0, base=10, min=0, max=3, step=0.05,
                                        description="input scale", readout_format=".3g", style=style,
                                        layout=ipw.Layout(width="430px"))
        self.units = ipw.IntSlider(value=64, min=8, max=512, step=8, description="tanh units N",
                                   style=style, layout=ipw.Layout(width="430px"))
        self.standardised = ipw.ToggleButtons(options=[("raw inputs", False), ("standardised inputs", True)],
                                              value=False, description="inputs", style=style)
        self.numbers = ipw.HTML()
        self.status = ipw.HTML()
        self.hist = figure(height=320, title="activations a = tanh(xW + b)", xaxis_title="a",
                           yaxis_title="share of activations", xaxis_range=[-1.05, 1.05], bargap=0.05)
        self.hist.add_histogram(name="activations", xbins=dict(start=-1, end=1, size=0.05),
                                histnorm="probability", marker_color="#1f77b4")
        self.curve = figure(height=320, title="saturated share vs input scale", xaxis_type="log",
                            xaxis_title="input scale", yaxis_title="share with |a| > 0.96", yaxis_range=[0, 1.02])
        self.curve.add_scatter(name="raw", mode="lines", line=dict(color="#d62728"))
        self.curve.add_scatter(name="standardised", mode="lines", line=dict(color="#2ca02c"))
        self.curve.add_scatter(name="now", mode="markers", marker=dict(size=12, color="black"))
        self._curve_units = None
        for c in (self.scale, self.units, self.standardised):
            c.observe(guarded(self.update, self.status), names="value")
        self.update()
        self.widget = ipw.VBox([
            ipw.HBox([ipw.VBox([self.scale, self.units, self.standardised]), self.numbers],
                     layout=ipw.Layout(flex_flow="row wrap", grid_gap="24px")),
            ipw.HBox([self.hist, self.curve], layout=ipw.Layout(flex_flow="row wrap")),
            self.status,
        ])
        self.widget.add_class("lesson-layer")
        for f in (self.hist, self.curve):
            f.layout.width = 560

    def update(self, _change=None):
        n_units = self.units.value
        w, b, g = S.layer_params(self.D, n_units)
        x = S.layer_inputs(self.scale.value, d=self.D)
        raw = S.tanh_layer(x, w, b, g)
        std = S.tanh_layer(S.standardise(x), w, b, g)
        shown = std if self.standardised.value else raw
        with self.hist.batch_update():
            self.hist.data[0].x = shown.activations.ravel()
            self.hist.data[0].marker.color = "#2ca02c" if self.standardised.value else "#d62728"
        with self.curve.batch_update():
            if self._curve_units != n_units:  # the whole curve depends on N only
                self.curve.data[0].update(x=self.SCALES, y=S.saturation_vs_scale(self.SCALES, n_units, False))
                self.curve.data[1].update(x=self.SCALES, y=S.saturation_vs_scale(self.SCALES, n_units, True))
                self._curve_units = n_units
            self.curve.data[2].update(x=[self.scale.value], y=[shown.saturated_fraction])
        self.numbers.value = stat_table([
            ("", "<b>raw</b> &nbsp;&nbsp; <b>standardised</b>"),
            ("saturated units (|a| > 0.96)", f"{raw.saturated_fraction:7.1%} &nbsp; {std.saturated_fraction:7.1%}"),
            ("mean 1 − a² (gradient let through)", f"{raw.mean_local_grad:7.4f} &nbsp; {std.mean_local_grad:7.4f}"),
            ("‖dL/dW‖ reaching the weights", f"{raw.grad_w_norm:7.3g} &nbsp; {std.grad_w_norm:7.3g}"),
            ("‖dL/dx‖ reaching the layer below", f"{raw.grad_x_norm:7.3g} &nbsp; {std.grad_x_norm:7.3g}"),
        ], "lesson-stats layer-numbers")


def tanh_layer() -> ipw.Widget:
    """Section b: a layer of tanh units fed raw or standardised inputs."""
    return TanhLayer().widget


# --------------------------------------------------------------------------- c. scaling and lr
class ScalingAndLearningRate:
    """Gradient descent on linear regression, raw features beside standardised ones."""

    TARGET = 1e-3  # "reach a given loss": within this of the minimum (L - L* <= 1e-3)
    GRID = 90

    def __init__(self, x2_range: float = 1000.0):
        style = {"description_width": "150px"}
        lay = ipw.Layout(width="470px")
        self.x2_range = ipw.FloatLogSlider(value=x2_range, base=10, min=0, max=3, step=0.1,
                                           description="x2 spans [0, …]", readout_format=".3g",
                                           style=style, layout=lay, continuous_update=False)
        self.lr_raw = ipw.FloatLogSlider(value=1e-6, base=10, min=-8, max=0.5, step=0.05,
                                         description="learning rate (raw)", readout_format=".2e",
                                         style=style, layout=lay)
        self.lr_std = ipw.FloatLogSlider(value=0.5, base=10, min=-8, max=0.5, step=0.05,
                                         description="learning rate (stand.)", readout_format=".2e",
                                         style=style, layout=lay)
        self.steps = ipw.IntSlider(value=50, min=1, max=500, description="steps", style=style, layout=lay)
        self.msg_raw, self.msg_std = ipw.HTML(), ipw.HTML()
        self.numbers = ipw.HTML()
        self.status = ipw.HTML()
        self.figs = {}
        for key, title in (("raw", "raw features: x1 ∈ [0, 1], x2 ∈ [0, R]"),
                           ("std", "standardised features")):
            f = figure(height=430, title=title, xaxis_title="w1", yaxis_title="w2", showlegend=False,
                       yaxis_scaleanchor="x", yaxis_scaleratio=1)
            f.add_contour(name="loss", colorscale="Blues", reversescale=True, showscale=False,
                          contours=dict(coloring="lines"), line=dict(width=1.2), hoverinfo="skip")
            f.add_scatter(name="path", mode="lines+markers", line=dict(color="#d62728", width=2), marker=dict(size=4))
            f.add_scatter(name="start", mode="markers", marker=dict(size=11, color="black", symbol="x"))
            f.add_scatter(name="minimum", mode="markers", marker=dict(size=12, color="#2ca02c", symbol="star"))
            f.layout.width = 560
            self.figs[key] = f
        self.problems = {}
        self._build_problems()
        self.x2_range.observe(guarded(self._on_range, self.status), names="value")
        for c in (self.lr_raw, self.lr_std, self.steps):
            c.observe(guarded(self.update, self.status), names="value")
        self.update()
        self.widget = ipw.VBox([
            ipw.HBox([ipw.VBox([self.x2_range, self.steps, self.lr_raw, self.msg_raw, self.lr_std, self.msg_std]),
                      self.numbers], layout=ipw.Layout(flex_flow="row wrap", grid_gap="24px")),
            ipw.HBox([self.figs["raw"], self.figs["std"]], layout=ipw.Layout(flex_flow="row wrap")),
            self.status,
        ])
        self.widget.add_class("lesson-regression")

    def _build_problems(self):
        R = self.x2_range.value
        self.problems = {"raw": S.make_regression(R), "std": S.make_regression(R, standardised=True)}
        for key, p in self.problems.items():
            # the view window: start point and minimum, equal scale on both axes so the
            # ellipses are drawn with their true shape
            w0 = p.w_star + np.array([-2.5, 2.0]) if key == "std" else np.array([-1.0, 0.0])
            self.__dict__[f"w0_{key}"] = w0
            span = 1.3 * np.max(np.abs(w0 - p.w_star)) + 0.3
            g1 = np.linspace(p.w_star[0] - span, p.w_star[0] + span, self.GRID)
            g2 = np.linspace(p.w_star[1] - span, p.w_star[1] + span, self.GRID)
            W1, W2 = np.meshgrid(g1, g2)
            L = p.loss(np.stack([W1, W2], axis=-1)) - p.loss_star
            f = self.figs[key]
            with f.batch_update():
                f.data[0].update(x=g1.tolist(), y=g2.tolist(), z=np.log10(L + 1e-6).round(4).tolist(),
                                 contours=dict(start=-3, end=float(np.log10(L.max())), size=0.25, coloring="lines"))
                f.data[2].update(x=[w0[0]], y=[w0[1]])
                f.data[3].update(x=[p.w_star[0]], y=[p.w_star[1]])
                f.layout.xaxis.range = [g1[0], g1[-1]]
                f.layout.yaxis.range = [g2[0], g2[-1]]

    def _on_range(self, _change=None):
        self._build_problems()
        self.update()

    def _run(self, key: str, lr: float):
        p = self.problems[key]
        w0 = self.__dict__[f"w0_{key}"]
        d = S.gradient_descent(p, w0, lr, self.steps.value)
        f = self.figs[key]
        with f.batch_update():
            f.data[1].update(x=d.path[:, 0], y=d.path[:, 1])
        gap = d.losses[-1] - p.loss_star
        if d.diverged_at is not None:
            msg = message(f"Diverged at step {d.diverged_at}: lr = {lr:.3g} is above the limit "
                          f"2/λmax = {p.lr_limit:.3g}, so each step overshoots further. The path is cut there.")
        else:
            msg = message(f"After {len(d.path) - 1} steps: L − L* = {gap:.3g}", kind="ok")
        return d, msg

    def update(self, _change=None):
        d_raw, self.msg_raw.value = self._run("raw", self.lr_raw.value)
        d_std, self.msg_std.value = self._run("std", self.lr_std.value)
        rows = [("", "<b>raw</b> &nbsp;|&nbsp; <b>standardised</b>")]

        def both(fn):
            return f"{fn(self.problems['raw'])} &nbsp;|&nbsp; {fn(self.problems['std'])}"

        def steps_at(p, lr, key):
            k = S.steps_to_reach(p, self.__dict__[f"w0_{key}"], lr, self.TARGET)
            return "never (diverges or stalls)" if k is None else f"{k:,}"

        rows += [
            ("Hessian eigenvalues λ", both(lambda p: ", ".join(f"{v:.4g}" for v in p.eigenvalues))),
            ("condition number λmax/λmin", both(lambda p: f"{p.condition_number:,.4g}")),
            ("largest stable lr = 2/λmax", both(lambda p: f"{p.lr_limit:.4g}")),
            ("best constant lr = 2/(λmin+λmax)", both(lambda p: f"{p.lr_best:.4g}")),
            (f"steps to L − L* ≤ {self.TARGET:g} at the best lr",
             f"{steps_at(self.problems['raw'], self.problems['raw'].lr_best, 'raw')} &nbsp;|&nbsp; "
             f"{steps_at(self.problems['std'], self.problems['std'].lr_best, 'std')}"),
            (f"… at the lr chosen above",
             f"{steps_at(self.problems['raw'], self.lr_raw.value, 'raw')} &nbsp;|&nbsp; "
             f"{steps_at(self.problems['std'], self.lr_std.value, 'std')}"),
        ]
        self.numbers.value = stat_table(rows, "lesson-stats regression-numbers")


def scaling_and_learning_rate() -> ipw.Widget:
    """Section c: loss contours and gradient-descent paths, raw beside standardised."""
    return ScalingAndLearningRate().widget
