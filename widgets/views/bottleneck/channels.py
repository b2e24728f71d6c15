"""Lesson 3, section a: what a 1×1 convolution computes, on one channel and on C channels."""
from __future__ import annotations

import html

import ipywidgets as ipw
import plotly.graph_objects as go

from widgets import conv1x1 as C
from widgets.ui import figure, guarded, stat_table
from widgets.views.bottleneck.style import BOX_STYLE, CONV_COLOR, boxed
from widgets.views.section import Section

SLIDER = dict(kind=ipw.IntSlider, width="360px", description_width="150px")


# --------------------------------------------------------------------------- a1. one channel
class SingleChannel(Section):
    """A 6×6 one-channel image times one number: the 1×1 convolution on a single channel."""

    name, title, css = "single", "a. A 1×1 convolution on one channel", ("lesson-single-channel",)

    def build(self):
        self.image = C.demo_image(6)
        self.slider("weight", "1×1 filter weight", 2.0, -3.0, 3.0, 0.5, readout_format=".1f",
                    **{**SLIDER, "kind": ipw.FloatSlider})
        self.numbers = ipw.HTML()
        fig = self.figure("images", height=330, title="", margin=dict(l=30, r=20, t=50, b=30))
        fig.set_subplots(1, 2, subplot_titles=("input: 6×6×1", "output: 6×6×1"), horizontal_spacing=0.08)
        fig.layout.annotations[1].name = "output title"   # the subplot titles, in subplot order
        # |pixel| ≤ 7 and |w| ≤ 3: one colour scale, ±21, for every weight
        common = dict(colorscale="RdBu", zmid=0, zmin=-21, zmax=21, texttemplate="%{z:.4~g}", showscale=False,
                      xgap=2, ygap=2)
        self.trace("images", "input", go.Heatmap(z=self.image, **common), row=1, col=1)
        self.trace("images", "output", go.Heatmap(z=self.image, **common), row=1, col=2)
        fig.update_yaxes(autorange="reversed", showticklabels=False)
        fig.update_xaxes(showticklabels=False)

    def update(self, changed):
        w = self.controls["weight"].value
        out = C.conv1x1_single_channel(self.image, w)
        with self.drawing("images"):
            self.tr("images", "output").z = out
            self.figures["images"].update_annotations(text=f"output = {w:g} × input: 6×6×1",
                                                      selector=dict(name="output title"))
        img = self.image
        self.numbers.value = boxed(
            f"Every pixel is multiplied by the same number {w:g}: top-left {img[0, 0]:g} → {out[0, 0]:g}, "
            f"bottom-right {img[-1, -1]:g} → {out[-1, -1]:g}. On one channel a 1×1 convolution only rescales "
            "the image.")

    def layout(self):
        return [self.controls["weight"].widget, self.numbers, self.figures["images"], self.status]


def single_channel(**values) -> ipw.Widget:
    """Section a, one channel: a 6×6 image times the 1×1 filter's one weight (control `weight`)."""
    return SingleChannel(**values).widget


def _slider(description: str, value, lo, hi, step=1, width="360px", fmt="d", kind=ipw.IntSlider, **kw):
    return kind(value=value, min=lo, max=hi, step=step, description=description, readout_format=fmt,
                style={"description_width": "150px"}, layout=ipw.Layout(width=width), **kw)


# --------------------------------------------------------------------------- a2. many channels
class ManyChannels:
    """A 6×6×8 image through n 1×1 filters: a fully connected layer 8 → n at each pixel."""

    C = 8
    MAX_FILTERS = 16

    def __init__(self, n_filters: int = 4):
        self.volume = C.demo_volume(6, 6, self.C)
        self.all_filters = C.demo_filters(self.C, self.MAX_FILTERS)
        # max |Conv2d − Linear| per filter, computed once: the check for n filters is the max of the first n
        self._diff = C.conv1x1_vs_linear_per_filter(self.volume, self.all_filters)
        self.row = _slider("pixel row", 1, 0, 5)
        self.col = _slider("pixel column", 0, 0, 5)
        self.n_filters = _slider("number of filters", n_filters, 1, self.MAX_FILTERS)
        self.which = _slider("filter shown", 1, 1, n_filters)
        self.numbers = ipw.HTML(layout=ipw.Layout(min_width="380px", max_width="640px"))
        self.status = ipw.HTML()
        self.fig = figure(height=400, margin=dict(l=45, r=20, t=40, b=40), barmode="group",
                          legend=dict(orientation="h", yanchor="top", y=-0.12, x=0))
        self.fig.set_subplots(1, 3, column_widths=[0.38, 0.32, 0.30], horizontal_spacing=0.07,
                              subplot_titles=("pixel's channel vector x and filter w", "output vector at the pixel",
                                              "output channel shown"))
        ch = [f"c{i + 1}" for i in range(self.C)]
        self.fig.add_bar(x=ch, name="x (input pixel, 8 channels)", marker_color="#7f7f7f", row=1, col=1)
        self.fig.add_bar(x=ch, name="w (filter weights)", marker_color=CONV_COLOR, row=1, col=1)
        self.fig.add_bar(name="ReLU(x·w) for each filter", marker_color="#ff7f0e", row=1, col=2)
        self.fig.add_heatmap(colorscale="Oranges", texttemplate="%{z:.1f}", showscale=False, xgap=2, ygap=2,
                             row=1, col=3)
        self.fig.add_scatter(mode="markers", marker=dict(symbol="square-open", size=30, color="black",
                                                          line=dict(width=3)), name="chosen pixel",
                             showlegend=False, row=1, col=3)
        self.fig.update_yaxes(autorange="reversed", showticklabels=False, row=1, col=3)
        self.fig.update_xaxes(showticklabels=False, row=1, col=3)
        for c in (self.row, self.col, self.n_filters, self.which):
            c.observe(guarded(self.update, self.status), names="value")
        self.update()
        controls = ipw.VBox([self.row, self.col, self.n_filters, self.which])
        self.widget = ipw.VBox([
            ipw.HBox([controls, self.numbers], layout=ipw.Layout(flex_flow="row wrap", grid_gap="20px")),
            self.fig, self.status])
        self.widget.add_class("lesson-many-channels")

    def update(self, _change=None):
        n = self.n_filters.value
        self.which.max = n                      # clamps `which` (and fires update again)
        f = min(self.which.value, n) - 1
        r, c = self.row.value, self.col.value
        filters = self.all_filters[:n]
        out = C.conv1x1(self.volume, filters)                # (6, 6, n)
        dot = C.pixel_dot(self.volume, filters, r, c, f)
        diff = float(self._diff[:n].max())
        colors = ["#ff7f0e" if i != f else "#b35806" for i in range(n)]
        with self.fig.batch_update():
            self.fig.data[0].y = dot.x
            self.fig.data[1].y = dot.w
            self.fig.data[1].name = f"w (filter {f + 1})"
            self.fig.data[2].update(x=[f"f{i + 1}" for i in range(n)], y=out[r, c], marker_color=colors)
            self.fig.data[3].z = out[:, :, f]
            self.fig.data[4].update(x=[c], y=[r])
            self.fig.layout.annotations[2].text = f"output channel {f + 1} (6×6), pixel ({r}, {c}) boxed"
        change = C.channel_change(self.C, n)
        self.numbers.value = (
            f"<div style='{BOX_STYLE}'><b>Output {f + 1} at pixel ({r}, {c})</b><br>"
            f"<code style='font-size:0.85em'>{html.escape(dot.formula())}</code></div>"
            + stat_table([
                ("shape", f"6×6×{self.C} → 6×6×{n} ({change})"),
                ("weights of the 1×1 layer", f"{self.C}·{n} = {self.C * n}"),
                ("as a fully connected layer", f"nn.Linear({self.C}, {n}) applied to each of the 36 pixels"),
                ("max |Conv2d 1×1 − Linear|", f"{diff:.1e} over all 36×{n} outputs (float64 rounding)"),
            ]))


def many_channels() -> ipw.Widget:
    return ManyChannels().widget
