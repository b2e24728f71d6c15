"""Lesson 3, section a: what a 1×1 convolution computes, on one channel and on C channels.

The words are in widgets/views/locales/<lang>/bottleneck.json (keys `single.*`, `channels.*`)."""
from __future__ import annotations

import html

import ipywidgets as ipw
import plotly.graph_objects as go

from widgets import conv1x1 as C
from widgets.ui import stat_table
from widgets.views import palette
from widgets.views.bottleneck.style import CONV_COLOR, boxed
from widgets.views.section import Section, column, row

SLIDER = dict(kind=ipw.IntSlider, width="360px", description_width="150px")


# --------------------------------------------------------------------------- a1. one channel
class SingleChannel(Section):
    """A 6×6 one-channel image times one number: the 1×1 convolution on a single channel."""

    name, title, css = "single", "a. A 1×1 convolution on one channel", ("lesson-single-channel",)

    def build(self):
        self.image = C.demo_image(6)
        self.slider("weight", self.t("weight"), 2.0, -3.0, 3.0, 0.5, readout_format=".1f",
                    **{**SLIDER, "kind": ipw.FloatSlider})
        self.numbers = ipw.HTML()
        fig = self.figure("images", height=330, title="", margin=dict(l=30, r=20, t=50, b=30))
        fig.set_subplots(1, 2, subplot_titles=(self.t("input_title"), self.t("output_title")), horizontal_spacing=0.08)
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
            self.figures["images"].update_annotations(text=self.t("output_times", w=f"{w:g}"),
                                                      selector=dict(name="output title"))
        img = self.image
        self.numbers.value = boxed(self.t("sentence", w=f"{w:g}", tl_in=f"{img[0, 0]:g}", tl_out=f"{out[0, 0]:g}",
                                          br_in=f"{img[-1, -1]:g}", br_out=f"{out[-1, -1]:g}"))

    def layout(self):
        return [self.controls["weight"].widget, self.numbers, self.figures["images"], self.status]


def single_channel(**values) -> ipw.Widget:
    """Section a, one channel: a 6×6 image times the 1×1 filter's one weight (control `weight`)."""
    return SingleChannel(**values).widget



# --------------------------------------------------------------------------- a2. many channels
class ManyChannels(Section):
    """A 6×6×8 image through n 1×1 filters: a fully connected layer 8 → n at each pixel."""

    name, title, css = "channels", "a. A 1×1 convolution on C channels", ("lesson-many-channels",)
    C = 8
    MAX_FILTERS = 16

    def build(self):
        self.volume = C.demo_volume(6, 6, self.C)
        self.all_filters = C.demo_filters(self.C, self.MAX_FILTERS)
        # the check for n filters runs nn.Conv2d(8, n, 1) against nn.Linear(8, n): done once per n here
        self._diff = C.conv1x1_vs_linear_by_width(self.volume, self.all_filters)
        self._bound = [C.rounding_bound(self.volume, self.all_filters[:n]) for n in range(1, self.MAX_FILTERS + 1)]
        self.slider("row", self.t("row"), 1, 0, 5, **SLIDER)
        self.slider("col", self.t("col"), 0, 0, 5, **SLIDER)
        self.slider("n_filters", self.t("n_filters"), 4, 1, self.MAX_FILTERS, **SLIDER)
        self.slider("which", self.t("which"), 1, 1, self.MAX_FILTERS, **SLIDER)   # its max follows n_filters
        self.numbers = ipw.HTML(layout=ipw.Layout(min_width="380px", max_width="640px"))
        self._build_figure()

    def _build_figure(self):
        fig = self.figure("pixel", height=400, margin=dict(l=45, r=20, t=40, b=40), barmode="group",
                          legend=dict(orientation="h", yanchor="top", y=-0.12, x=0))
        fig.set_subplots(1, 3, column_widths=[0.38, 0.32, 0.30], horizontal_spacing=0.07,
                         subplot_titles=(self.t("vector_title"), self.t("outputs_title"), self.t("channel_title")))
        fig.layout.annotations[2].name = "channel title"   # the subplot titles, in subplot order
        ch = [f"c{i + 1}" for i in range(self.C)]
        self.trace("pixel", "x", go.Bar(x=ch, name=self.t("trace_x", c=self.C), marker_color=palette.GREY), 1, 1)
        self.trace("pixel", "w", go.Bar(x=ch, name=self.t("trace_w"), marker_color=CONV_COLOR), 1, 1)
        self.trace("pixel", "outputs", go.Bar(name=self.t("trace_outputs"), marker_color=palette.ORANGE), 1, 2)
        self.trace("pixel", "channel", go.Heatmap(colorscale="Oranges", texttemplate="%{z:.1f}", showscale=False,
                                                  xgap=2, ygap=2), 1, 3)
        self.trace("pixel", "box", go.Scatter(mode="markers", name=self.t("trace_box"), showlegend=False,
                                              marker=dict(symbol="square-open", size=30, color=palette.INK,
                                                          line=dict(width=3))), 1, 3)
        fig.update_yaxes(autorange="reversed", showticklabels=False, row=1, col=3)
        fig.update_xaxes(showticklabels=False, row=1, col=3)

    def update(self, changed):
        n = self.controls["n_filters"].value
        self.controls["which"].widget.max = n       # clamps `which` (its own update runs first, nested)
        f = min(self.controls["which"].value, n) - 1
        r, c = self.controls["row"].value, self.controls["col"].value
        filters = self.all_filters[:n]
        out = C.conv1x1(self.volume, filters)                # (6, 6, n)
        dot = C.pixel_dot(self.volume, filters, r, c, f)
        with self.drawing("pixel"):
            self.tr("pixel", "x").y = dot.x
            self.tr("pixel", "w").update(y=dot.w, name=self.t("trace_w_filter", f=f + 1))
            self.tr("pixel", "outputs").update(x=[f"f{i + 1}" for i in range(n)], y=out[r, c],
                                               marker_color=[palette.ORANGE if i != f else palette.VERMILLION for i in range(n)])
            self.tr("pixel", "channel").z = out[:, :, f]
            self.tr("pixel", "box").update(x=[c], y=[r])
            self.figures["pixel"].update_annotations(text=self.t("channel_shown", f=f + 1, r=r, c=c),
                                                     selector=dict(name="channel title"))
        change = C.channel_change(self.C, n).replace(" ", "_")       # the kind, worded by the catalogue
        self.numbers.value = (
            boxed(f"<b>{self.t('output_at', f=f + 1, r=r, c=c)}</b><br>"
                  f"<code style='font-size:0.85em'>{html.escape(dot.formula())}</code>")
            + stat_table([
                (self.t("row_shape"), self.t("shape", c=self.C, n=n, change=self.t(change))),
                (self.t("row_weights"), f"{self.C}·{n} = {self.C * n}"),
                (self.t("row_linear"), self.t("linear_each_pixel", c=self.C, n=n)),
                (self.t("row_check", c=self.C, n=n), self._check_text(n)),
            ]))

    def _check_text(self, n: int) -> str:
        diff, bound = float(self._diff[n - 1]), self._bound[n - 1]
        kind = C.agreement(diff, bound)              # 'identical', 'rounding' or 'differ'
        return self.t(f"check_{kind}", diff=f"{diff:.1e}", n=n, bound=f"{bound:.1e}")

    def layout(self):
        controls = column(*(self.controls[k].widget for k in ("row", "col", "n_filters", "which")))
        return [row(controls, self.numbers, gap="20px"), self.figures["pixel"], self.status]


def many_channels(**values) -> ipw.Widget:
    """Section a, C channels: n 1×1 filters on a 6×6×8 image (controls row, col, n_filters, which)."""
    return ManyChannels(**values).widget
