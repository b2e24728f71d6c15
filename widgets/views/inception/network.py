"""Section c: a clickable diagram of every stage of GoogLeNet; clicking a stage (or choosing it in the
list, the accessible twin of a click) shows its branches or layers and what each costs."""
from __future__ import annotations

import html

import ipywidgets as ipw
import plotly.graph_objects as go

from widgets import inception_analysis as A
from widgets import inception_stats as S
from widgets.googlenet import AUX_LOSS_WEIGHT
from widgets.ui import fmt_int, guarded, stat_table
from widgets.views.inception.common import KIND_COLORS, LEGEND_ROOM, mega, shape, x
from widgets.views.section import Section

SHORT = {"conv1": "conv 7×7/2", "maxpool1": "pool", "conv2+conv3": "conv 1×1+3×3", "maxpool2": "pool",
         "maxpool3": "pool", "maxpool4": "pool", "avgpool": "avg pool", "dropout": "dropout", "fc": "linear",
         "softmax": "softmax", "aux1": "aux 1", "aux2": "aux 2"}
BAR_LABELS = {"branch1x1": "#1×1", "branch3x3": "#3×3 (reduce + 3×3)", "branch5x5": "#5×5 (reduce + 5×5)",
              "branch_pool": "pool proj", "conv": "1×1 conv 128", "fc1": "FC 1024", "fc2": "linear"}
BRANCH_ROWS = (("branch1x1", "1×1"), ("branch3x3", "3×3"), ("branch5x5", "5×5"), ("branch_pool", "pool proj"))
AUX_LAYERS = "5×5/3 avg pool → 1×1 conv 128 + ReLU → FC 1024 + ReLU → dropout 70% → linear"


def _main_nodes(measured: S.Table1Measurement) -> list[dict]:
    """One node per row of Table 1, left to right, labels alternately above and below the chain."""
    nodes = []
    for i, r in enumerate(measured.rows):
        p, out, up = r.paper, shape(r.output_shape), i % 2 == 0
        text = r.name.replace("inception", "") if p.kind == "inception" else SHORT.get(r.name, r.name)
        hover = (f"<b>{html.escape(x(p.label))}</b> ({r.name})<br>output {out}<br>"
                 f"{fmt_int(r.weights)} weights, {mega(r.macs)} multiply-adds")
        nodes.append(dict(name=r.name, label=f"{x(p.label)} {x(p.patch)} → {out}".replace("  ", " "),
                          x=i, y=0, aux=False, text=f"<b>{text}</b><br>{out}" if up else f"{out}<br><b>{text}</b>",
                          textpos="top center" if up else "bottom center", hover=hover,
                          size=10 + 26 * (r.macs / 360e6) ** 0.5 if r.macs else 9,  # area grows with the work
                          color=KIND_COLORS.get(p.kind, "#999"), symbol="circle" if r.weights else "square", row=r))
    return nodes


def _aux_nodes(measured: S.Table1Measurement, main: list[dict]) -> list[dict]:
    """The two auxiliary classifiers, as diamonds under the module they are attached to."""
    nodes = []
    for a in measured.aux:
        src = next(n for n in main if n["name"] == a.attached_to)
        hover = (f"<b>auxiliary classifier {a.name[-1]}</b> on {a.attached_to}<br>"
                 f"{fmt_int(a.weights)} weights, {mega(a.macs)} multiply-adds (training only)")
        nodes.append(dict(name=a.name, label=f"auxiliary classifier {a.name[-1]} (on {a.attached_to}, training only)",
                          x=src["x"], y=-1.5, aux=True, text=f"<b>{SHORT[a.name]}</b>", textpos="bottom center",
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


def _bars_title(node: dict) -> str:
    r = node["row"]
    if node["aux"]:
        return f"auxiliary classifier {r.name[-1]}: its layers"
    if r.paper.kind == "inception":
        return f"{r.name}: its four branches"
    if not r.weights:
        return f"{r.name}: no weights, and no multiply-adds in Table 1's count"
    return f"{r.name}: {'one layer' if r.depth == 1 else f'{r.depth} layers'}"


class NetworkExplorer(Section):
    """A clickable diagram of every stage; clicking (or the dropdown) selects one and shows its costs."""

    name, title, css = "network", "c. The whole network", ("lesson-network",)

    def build(self):
        self.measured = S.default_table1()
        main = _main_nodes(self.measured)
        self.nodes = main + _aux_nodes(self.measured, main)
        self.names = [n["name"] for n in self.nodes]
        self.choice("stage", "stage", [(n["label"], n["name"]) for n in self.nodes], "inception4a",
                    layout=ipw.Layout(width="380px"))
        self.figure("network", height=300, showlegend=False, title="GoogLeNet at 224×224: click a stage",
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
        nodes.on_click(guarded(self.on_click, self.status))
        self.trace("network", "ring", go.Scatter(x=[0], y=[0], mode="markers", hoverinfo="skip", marker=dict(
            size=30, color="rgba(0,0,0,0)", line=dict(width=3, color="#b00020"))))
        self.detail = ipw.HTML()
        self.figure("bars", margin=LEGEND_ROOM, height=300, width=640, barmode="stack", title="",
                    yaxis_title="M multiply-adds")
        self.trace("bars", "light", go.Bar(name="1×1 reduction / projection", marker_color="#9ecae1"))
        self.trace("bars", "dark", go.Bar(name="main convolution or layer", marker_color="#f58518"))

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
        cats = [BAR_LABELS.get(b.part, SHORT.get(b.part, b.part)) for b in bars]
        with self.drawing("bars"):
            self.tr("bars", "light").update(x=cats, y=[b.light / 1e6 for b in bars])
            self.tr("bars", "dark").update(x=cats, y=[b.dark / 1e6 for b in bars])
            self.figures["bars"].layout.title.text = _bars_title(node)
        with self.drawing("network"):
            self.tr("network", "ring").update(x=[node["x"]], y=[node["y"]])
        self.detail.value = self._detail_html(node)

    def _detail_html(self, node: dict) -> str:
        r = node["row"]
        if node["aux"]:
            rows = [("attached to", f"{r.attached_to} (input {shape(r.input_shape)})"), ("layers", AUX_LAYERS)]
            rows += [(f"  {name}", f"{fmt_int(w)} weights, {fmt_int(m)} multiply-adds") for name, w, m in r.layers]
            rows += [("total", f"{fmt_int(r.weights)} weights, {mega(r.macs)} multiply-adds"),
                     ("when", f"training only: loss × {AUX_LOSS_WEIGHT:g}; dropped at inference")]
            return "<div class='stage-detail'>" + stat_table(rows, "lesson-stats stage-table") + "</div>"
        p = r.paper
        macs_share, weights_share = A.network_share(self.measured, r)
        rows = [("Table 1 row", html.escape(x(p.label + " " + p.patch).strip())),
                ("input → output", f"{shape(r.input_shape)} → {shape(r.output_shape)}"),
                ("weights", f"{fmt_int(r.weights)} ({r.weights / S.PAPER_K:,.1f}K)"),
                ("multiply-adds", f"{fmt_int(r.macs)} ({mega(r.macs)})"),
                ("share of the network", f"{macs_share:.1%} of the multiply-adds, {weights_share:.1%} of the weights")]
        if p.kind == "inception":
            for key, label in BRANCH_ROWS:
                b = r.branches[key]
                rows.append((f"  {label} branch", f"{b['out_channels']} channels, {fmt_int(b['weights'])} weights, "
                                                  f"{mega(b['macs'])}"))
        return "<div class='stage-detail'>" + stat_table(rows, "lesson-stats stage-table") + "</div>"

    def layout(self):
        return [self.figures["network"], self.controls["stage"].widget, self.status,
                ipw.HBox([self.figures["bars"], self.detail], layout=ipw.Layout(align_items="center"))]


def network_view(**values) -> ipw.Widget:
    """Section c: the clickable network diagram with the selected stage's branches and costs (control stage)."""
    return NetworkExplorer(**values).widget
