"""Section c: a clickable diagram of every stage of GoogLeNet; clicking a stage (or choosing it in the
list, the accessible twin of a click) shows its branches or layers and what each costs."""
from __future__ import annotations

import html

import ipywidgets as ipw
import plotly.graph_objects as go

from widgets import inception_analysis as A
from widgets import inception_stats as S
from widgets.inception_paper import AUX_LOSS_WEIGHT
from widgets.ui import fmt_int, guarded, stat_table
from widgets.views import palette
from widgets.views.inception.common import (KIND_COLORS, LEGEND_ROOM, LessonSection, mega, row_label, shape,
                                            type_label, words)

# The diagram's short names and the bars' names are words (network.short_<name>, network.bar_<part>),
# except the paper's Table 1 column names, which stay as printed in every language.
SHORT = ("conv1", "maxpool1", "conv2+conv3", "maxpool2", "maxpool3", "maxpool4", "avgpool", "dropout", "fc",
         "softmax", "aux1", "aux2")
BAR_LABELS = {"branch1x1": "#1×1", "branch_pool": "pool proj"}
BAR_WORDS = ("branch3x3", "branch5x5", "conv", "fc1", "fc2")
BRANCH_ROWS = (("branch1x1", "1×1"), ("branch3x3", "3×3"), ("branch5x5", "5×5"), ("branch_pool", "pool proj"))


def _short(t, name: str) -> str:
    return t(f"short_{name.replace('+', '_')}") if name in SHORT else name


def _bar_label(t, part: str) -> str:
    """A bar's name: Table 1's column, a word (a branch with its reduction, a head's layer), or the stage's."""
    if part in BAR_LABELS:
        return BAR_LABELS[part]
    return t(f"bar_{part}") if part in BAR_WORDS else _short(t, part)


def _main_nodes(measured: S.Table1Measurement, lang: str) -> list[dict]:
    """One node per row of Table 1, left to right, labels alternately above and below the chain."""
    t = words(lang, "network")
    nodes = []
    for i, r in enumerate(measured.rows):
        p, out, up = r.paper, shape(r.output_shape), i % 2 == 0
        text = r.name.replace("inception", "") if p.kind == "inception" else _short(t, r.name)
        hover = t("hover_stage", label=html.escape(type_label(lang, p)), name=r.name, out=out,
                  costs=t("inception.weights_macs", weights=fmt_int(r.weights), macs=mega(r.macs)))
        nodes.append(dict(name=r.name, label=f"{row_label(lang, p)} → {out}",
                          x=i, y=0, aux=False, text=f"<b>{text}</b><br>{out}" if up else f"{out}<br><b>{text}</b>",
                          textpos="top center" if up else "bottom center", hover=hover,
                          size=10 + 26 * (r.macs / 360e6) ** 0.5 if r.macs else 9,  # area grows with the work
                          color=KIND_COLORS.get(p.kind, palette.GREY), symbol="circle" if r.weights else "square", row=r))
    return nodes


def _aux_nodes(measured: S.Table1Measurement, main: list[dict], lang: str) -> list[dict]:
    """The two auxiliary classifiers, as diamonds under the module they are attached to."""
    t = words(lang, "network")
    nodes = []
    for a in measured.aux:
        src = next(n for n in main if n["name"] == a.attached_to)
        hover = t("hover_aux", i=a.name[-1], on=a.attached_to,
                  costs=t("inception.weights_macs", weights=fmt_int(a.weights), macs=mega(a.macs)))
        nodes.append(dict(name=a.name, label=t("aux_option", i=a.name[-1], on=a.attached_to),
                          x=src["x"], y=-1.5, aux=True, text=f"<b>{_short(t, a.name)}</b>", textpos="bottom center",
                          hover=hover, size=14, color=KIND_COLORS["aux"], symbol="diamond", attached=a.attached_to,
                          row=a))
    return nodes


def _edges(nodes: list[dict]) -> tuple[list, list]:
    """The main chain, then one segment from each head's module down to the head."""
    main = [n for n in nodes if not n["aux"]]
    ex, ey = [m["x"] for m in main], [0] * len(main)
    for n in nodes:
        if n["aux"]:
            src = next(m for m in main if m["name"] == n["attached"])
            ex += [None, src["x"], n["x"]]
            ey += [None, src["y"], n["y"]]
    return ex, ey


def _bars_title(node: dict, t) -> str:
    r = node["row"]
    if node["aux"]:
        return t("bars_aux", i=r.name[-1])
    if r.paper.kind == "inception":
        return t("bars_inception", name=r.name)
    if not r.weights:
        return t("bars_no_weights", name=r.name)
    return t("bars_one_layer", name=r.name) if r.depth == 1 else t("bars_layers", name=r.name, n=r.depth)


class NetworkExplorer(LessonSection):
    """A clickable diagram of every stage; clicking (or the dropdown) selects one and shows its costs."""

    name, title, css = "network", "c. The whole network", ("lesson-network",)

    def build(self):
        self.measured = S.default_table1()
        main = _main_nodes(self.measured, self.lang)
        self.nodes = main + _aux_nodes(self.measured, main, self.lang)
        self.names = [n["name"] for n in self.nodes]
        self.choice("stage", self.t("stage"), [(n["label"], n["name"]) for n in self.nodes], "inception4a",
                    layout=ipw.Layout(width="380px"))
        self.figure("network", height=300, showlegend=False, title=self.t("fig_title", size=self.measured.image_size),
                    xaxis=dict(visible=False), yaxis=dict(visible=False, range=[-2.2, 1.6]),
                    margin=dict(l=10, r=10, t=40, b=10), hovermode="closest")
        ex, ey = _edges(self.nodes)
        self.trace("network", "edges", go.Scatter(x=ex, y=ey, mode="lines", line=dict(color="#cccccc", width=2),
                                                  hoverinfo="skip"))
        nodes = self.trace("network", "nodes", go.Scatter(
            x=[n["x"] for n in self.nodes], y=[n["y"] for n in self.nodes], mode="markers+text",
            text=[n["text"] for n in self.nodes], textposition=[n["textpos"] for n in self.nodes],
            textfont=dict(size=10), customdata=[n["hover"] for n in self.nodes],
            hovertemplate="%{customdata}<extra></extra>",
            marker=dict(size=[n["size"] for n in self.nodes], color=[n["color"] for n in self.nodes],
                        line=dict(width=1, color="white"), symbol=[n["symbol"] for n in self.nodes])))
        nodes.on_click(guarded(self.on_click, self.status, self.lang))
        self.trace("network", "ring", go.Scatter(x=[0], y=[0], mode="markers", hoverinfo="skip", marker=dict(
            size=30, color="rgba(0,0,0,0)", line=dict(width=3, color=palette.VERMILLION))))
        self.detail = ipw.HTML()
        self.figure("bars", margin=LEGEND_ROOM, height=300, width=640, barmode="stack", title="",
                    yaxis_title=self.t("inception.axis_mmacs"))
        self.trace("bars", "light", go.Bar(name=self.t("trace_light"), marker_color=palette.SKY_BLUE))
        self.trace("bars", "dark", go.Bar(name=self.t("trace_dark"), marker_color=palette.ORANGE))

    def on_click(self, _trace, points, _selector=None):
        """A click on a stage selects it: the dropdown follows and drives the one update path."""
        inds = list(getattr(points, "point_inds", []) or [])
        if not inds:
            return
        with self.lock:
            self.controls["stage"].widget.value = self.names[inds[0]]

    def update(self, changed):
        node = self.nodes[self.names.index(self.controls["stage"].value)]
        bars = A.stage_bars(node["row"])
        cats = [_bar_label(self.t, b.part) for b in bars]
        with self.drawing("bars"):
            self.tr("bars", "light").update(x=cats, y=[b.light / 1e6 for b in bars])
            self.tr("bars", "dark").update(x=cats, y=[b.dark / 1e6 for b in bars])
            self.figures["bars"].layout.title.text = _bars_title(node, self.t)
        with self.drawing("network"):
            self.tr("network", "ring").update(x=[node["x"]], y=[node["y"]])
        self.detail.value = self._detail_html(node)

    def _detail_html(self, node: dict) -> str:
        r, t = node["row"], self.t
        costs = lambda w, m: t("inception.weights_macs", weights=w, macs=m)  # noqa: E731
        if node["aux"]:
            rows = [(t("row_attached"), t("attached_value", on=r.attached_to, shape=shape(r.input_shape))),
                    (t("row_layers"), t("aux_layers"))]
            rows += [(f"  {name}", costs(fmt_int(w), fmt_int(m))) for name, w, m in r.layers]
            rows += [(t("row_total"), costs(fmt_int(r.weights), mega(r.macs))),
                     (t("row_when"), t("when_value", weight=AUX_LOSS_WEIGHT))]
            return "<div class='stage-detail'>" + stat_table(rows, "lesson-stats stage-table") + "</div>"
        p = r.paper
        macs_share, weights_share = A.network_share(self.measured, r)
        rows = [(t("row_table1"), html.escape(row_label(self.lang, p))),
                (t("row_in_out"), f"{shape(r.input_shape)} → {shape(r.output_shape)}"),
                (t("row_weights"), f"{fmt_int(r.weights)} ({r.weights / S.PAPER_K:,.1f}K)"),
                (t("row_macs"), f"{fmt_int(r.macs)} ({mega(r.macs)})"),
                (t("row_share"), t("share_value", macs=macs_share, weights=weights_share))]
        if p.kind == "inception":
            for key, label in BRANCH_ROWS:
                b = r.branches[key]
                rows.append((t("row_branch", branch=label), t("branch_value", channels=b["out_channels"],
                                                              weights=fmt_int(b["weights"]), macs=mega(b["macs"]))))
        return "<div class='stage-detail'>" + stat_table(rows, "lesson-stats stage-table") + "</div>"

    def layout(self):
        return [self.figures["network"], self.controls["stage"].widget, self.status,
                ipw.HBox([self.figures["bars"], self.detail], layout=ipw.Layout(align_items="center"))]


def network_view(lang: str = "en", **values) -> ipw.Widget:
    """Section c: the clickable network diagram with the selected stage's branches and costs (control stage)."""
    return NetworkExplorer(lang=lang, **values).widget
