"""Lesson 4 builders: Table 1 reproduced from the model, the module explorer, the clickable network,
the 3x3/5x5 share per module, and the cost of the 144 test-time crops.

Every number shown comes from widgets.inception_stats (measured on widgets.googlenet.GoogLeNet, or a
closed form tested against torch's FLOP counter). The model is measured once per kernel (cached).
"""
from __future__ import annotations

import html
import re

import ipywidgets as ipw

from widgets import inception_stats as S
from widgets.ui import NumberField, figure, fmt_int, guarded, message, stat_table

BRANCH_COLORS = {"1x1": "#4c78a8", "3x3": "#f58518", "5x5": "#e45756", "pool": "#72b7b2"}
VERDICT_STYLE = {S.MATCH: ("✓", "#1b5e20", ""), S.SMALL: ("≈", "#8a6d00", "#fff8e1"),
                 S.DISAGREE: ("✗", "#b00020", "#fdecea")}
KIND_COLORS = {"convolution": "#4c78a8", "max pool": "#9e9e9e", "avg pool": "#9e9e9e", "dropout": "#bdbdbd",
               "inception": "#f58518", "linear": "#54a24b", "softmax": "#bdbdbd", "aux": "#b279a2"}


LEGEND_ROOM = dict(l=55, r=20, t=85, b=45)  # title above, horizontal legend under it


def _x(label: str) -> str:
    """Table 1 writes 3x3; the page writes 3×3."""
    return re.sub(r"(\d)x(\d)", r"\1×\2", label)


def _shape(shape) -> str:
    c, h, w = shape
    return f"{h}×{w}×{c}"


def _g(macs: float) -> str:
    return f"{macs / 1e9:,.3f} G"


def _m(macs: float) -> str:
    return f"{macs / 1e6:,.1f} M"


def _verdict_cell(verdict: str | None, rel: float | None) -> str:
    if verdict is None:
        return "<td></td>"
    mark, color, bg = VERDICT_STYLE[verdict]
    extra = "" if verdict == S.MATCH else f" {rel:+.1%}"
    return (f"<td class='verdict verdict-{verdict.replace(' ', '-')}' style='color:{color};background:{bg};"
            f"text-align:center' title='{verdict}'>{mark}{extra}</td>")


TABLE_CSS = """<style>
.lesson-t1 {border-collapse:collapse;font-size:12px;font-variant-numeric:tabular-nums}
.lesson-t1 th {background:#f3f3f3;padding:3px 6px;border-bottom:1px solid #ccc;text-align:center}
.lesson-t1 td {padding:2px 6px;border-bottom:1px solid #eee;text-align:right}
.lesson-t1 td.l {text-align:left}
.lesson-t1 tr.inc td {background:#fffaf3}
.lesson-t1 tr.total td {font-weight:bold;border-top:2px solid #999}
</style>"""


# --------------------------------------------------------------------------- a. Table 1
class Table1View:
    """Table 1 as printed beside Table 1 as measured on the model, with a bar chart and the notes."""

    def __init__(self):
        self.measured = S.default_table1()
        self.comparisons = S.compare_table1(self.measured)
        self.totals = S.totals(self.measured)
        self.status = ipw.HTML()
        self.metric = ipw.ToggleButtons(options=[("weights (K = 1024)", "params"), ("multiply-adds (M)", "ops")],
                                        value="params", description="compare",
                                        style={"description_width": "initial", "button_width": "160px"})
        self.log_y = ipw.Checkbox(value=False, description="log scale", indent=False)
        self.fig = figure(margin=LEGEND_ROOM, height=360, barmode="group", xaxis_tickangle=-35,
                          title="Table 1: printed against measured")
        self.rows = [c for c in self.comparisons if c.row.paper.params_k is not None]
        labels = [_x(c.row.paper.label) + ("" if c.row.paper.kind != "convolution" else f" {c.row.paper.patch}")
                  for c in self.rows]
        self.fig.add_bar(name="paper (as printed)", x=labels, marker_color="#bbbbbb")
        self.fig.add_bar(name="measured on the model", x=labels, marker_color="#f58518")
        self.metric.observe(guarded(self.update, self.status), names="value")
        self.log_y.observe(guarded(self.update, self.status), names="value")
        self.update()
        self.widget = ipw.VBox([
            ipw.HTML(TABLE_CSS + self._table_html()),
            ipw.HTML(self._notes_html()),
            ipw.HTML(self._totals_html()),
            ipw.HBox([self.metric, self.log_y], layout=ipw.Layout(align_items="center", grid_gap="16px")),
            self.fig, self.status,
        ])
        self.widget.add_class("lesson-table1")

    def update(self, _change=None):
        ops = self.metric.value == "ops"
        paper = [c.row.paper.ops_m if ops else c.row.paper.params_k for c in self.rows]
        meas = [c.ops_m if ops else c.params_k for c in self.rows]
        unit = "M multiply-adds" if ops else "K weights (K = 1024)"
        hover = "%{x}<br>%{y:,.1f}" + (" M" if ops else " K") + "<extra>%{fullData.name}</extra>"
        with self.fig.batch_update():
            self.fig.data[0].update(y=paper, hovertemplate=hover)
            self.fig.data[1].update(y=meas, hovertemplate=hover)
            self.fig.layout.yaxis.title = unit
            self.fig.layout.yaxis.type = "log" if self.log_y.value else "linear"
            self.fig.layout.title.text = f"Table 1, {('operations' if ops else 'parameters')}: printed against measured"

    def _table_html(self) -> str:
        head = ("<tr><th>type</th><th>patch/<br>stride</th><th>output<br>(paper)</th><th>output<br>(model)</th>"
                "<th>depth</th>" + "".join(f"<th>{_x(n)}</th>" for n in S.COLUMN_NAMES) +
                "<th>params<br>printed</th><th>weights<br>measured</th><th>K</th><th></th>"
                "<th>ops<br>printed</th><th>multiply-adds<br>measured</th><th></th></tr>")
        body = []
        for c in self.comparisons:
            r, p = c.row, c.row.paper
            cols = "".join(f"<td>{v if v is not None else ''}</td>" for v in p.columns)
            out_model = _shape(r.output_shape) if r.output_shape else ""
            out_style = "" if c.output_ok else " style='color:#b00020'"
            params = f"{p.params_k:g}K" if p.params_k is not None else ""
            ops = f"{p.ops_m:g}M" if p.ops_m is not None else ""
            weights = fmt_int(r.weights) if r.weights else ""
            k = f"{c.params_k:,.1f}K" if r.weights else ""
            macs = f"{c.ops_m:,.1f}M" if r.macs else ""
            cls = " class='inc'" if p.kind == "inception" else ""
            body.append(
                f"<tr{cls}><td class='l'>{_x(p.label)}</td><td>{_x(p.patch)}</td>"
                f"<td>{p.output[0]}×{p.output[1]}×{p.output[2]}</td><td{out_style}>{out_model}</td>"
                f"<td>{r.depth}</td>{cols}<td>{params}</td><td>{weights}</td><td>{k}</td>"
                f"{_verdict_cell(c.params_verdict, c.params_rel)}<td>{ops}</td><td>{macs}</td>"
                f"{_verdict_cell(c.ops_verdict, c.ops_rel)}</tr>")
        t = self.totals
        body.append(
            f"<tr class='total'><td class='l'>total (inference)</td><td colspan='4'></td><td colspan='6'></td>"
            f"<td>{t.paper_params_sum / S.PAPER_K:,.0f}K</td><td>{fmt_int(t.weights)}</td>"
            f"<td>{t.weights / S.PAPER_K:,.0f}K</td><td></td><td>{t.paper_ops_sum / 1e6:,.0f}M</td>"
            f"<td>{t.macs / 1e6:,.0f}M</td><td></td></tr>")
        legend = ("<small>✓ the measured value rounds to the printed one; ≈ off by less than 3%; "
                  "✗ off by more (the percentage is printed − measured, relative to measured). "
                  "Weights are kernel and matrix entries (biases apart, as the paper counts); "
                  f"measured by running the model once on a {self.measured.image_size}×{self.measured.image_size} "
                  "image with forward hooks (sizes) and torch.utils.flop_counter.FlopCounterMode "
                  "(multiply-adds = FLOPs / 2).</small>")
        return f"<div style='overflow-x:auto'><table class='lesson-t1'>{head}{''.join(body)}</table>{legend}</div>"

    def _notes_html(self) -> str:
        items = []
        for c in S.discrepancies(self.measured):
            big = S.DISAGREE in (c.params_verdict, c.ops_verdict)
            label = html.escape(_x(c.row.paper.label) + (" " + c.row.paper.patch if c.row.paper.patch else ""))
            style = "color:#b00020" if big else "color:#8a6d00"
            items.append(f"<li class='t1-note'><b style='{style}'>{label}</b>: {html.escape(_x(c.note))}.</li>")
        return ("<div class='t1-notes'><b>Where the printed table disagrees with its own columns</b>"
                f"<ul style='margin:4px 0'>{''.join(items)}</ul>"
                "<small>The model follows the columns (the specification); the page shows the model's values.</small></div>")

    def _totals_html(self) -> str:
        t = self.totals
        rows = [
            ("weights (Table 1's count), measured", f"{fmt_int(t.weights)} ≈ {t.weights / 1e6:.2f} M"),
            ("  with biases", f"{fmt_int(t.params)}"),
            ("multiply-adds per 224×224 image, measured", f"{fmt_int(t.macs)} ≈ {_g(t.macs)}"),
            ("printed params column, summed", f"{t.paper_params_sum / S.PAPER_K:,.0f}K = "
                                              f"{fmt_int(t.paper_params_sum)}"),
            ("printed ops column, summed (the paper's “1.5 billion”)", f"{_g(t.paper_ops_sum)}"),
            ("AlexNet's 60 M parameters ÷ ours", f"{t.alexnet_ratio:.1f}× fewer (the paper says 12×, "
                                                 f"which would need ≤ {t.weights_for_12x / 1e6:.1f} M)"),
            ("auxiliary heads (training only)", f"{fmt_int(t.aux_weights)} weights, {_m(t.aux_macs)} multiply-adds"),
        ]
        return "<div class='t1-totals'>" + stat_table(rows, "lesson-stats t1-totals-table") + "</div>"


def table1_view() -> ipw.Widget:
    """Section a: Table 1 as printed and as measured, with the disagreements explained."""
    return Table1View().widget


# --------------------------------------------------------------------------- b. module explorer
FIELDS = (("in_channels", "input channels"), ("side", "map side H = W"), ("ch1x1", "#1×1"),
          ("ch3x3red", "#3×3 reduce"), ("ch3x3", "#3×3"), ("ch5x5red", "#5×5 reduce"), ("ch5x5", "#5×5"),
          ("pool_proj", "pool proj"))
INCEPTION_LABELS = [(f"inception ({n[-2:]})", n) for n in S.INCEPTION_NAMES]
CUSTOM = "custom (typed)"


class ModuleExplorer:
    """Naive (Figure 2a) against reduced (Figure 2b), for a Table 1 row or typed sizes, and N of them stacked."""

    METRICS = {"macs": ("multiply-adds", 1e6, "M multiply-adds"), "weights": ("weights", 1e3, "thousand weights"),
               "out_channels": ("output channels", 1, "channels")}

    def __init__(self, row: str = "inception3a", n: int = 4):
        self.measured = S.default_table1()
        self.status = ipw.HTML()
        self.row = ipw.Dropdown(options=INCEPTION_LABELS + [(CUSTOM, CUSTOM)], value=row,
                                description="Table 1 row", style={"description_width": "initial"})
        d = S.explorer_defaults(self.measured, row)
        self.fields = {k: NumberField(label, d[k], min=1, max=4096 if k != "side" else 512, integer=True,
                                      width="70px") for k, label in FIELDS}
        self.metric = ipw.ToggleButtons(options=[(v[0], k) for k, v in self.METRICS.items()], value="macs",
                                        style={"button_width": "130px"})
        self.n = ipw.IntSlider(value=n, min=1, max=9, description="stack N modules",
                               style={"description_width": "initial"}, continuous_update=True,
                               layout=ipw.Layout(width="420px"))
        self.numbers = ipw.HTML()
        self.stack_numbers = ipw.HTML()
        self.fig = figure(margin=LEGEND_ROOM, height=330, width=760, barmode="group", title="One module, branch by branch",
                          xaxis_title="branch")
        for name, color in (("naive (Fig. 2a)", "#9e9e9e"), ("with 1×1 reductions (Fig. 2b)", "#f58518")):
            self.fig.add_bar(name=name, x=["1×1", "3×3", "5×5", "3×3 max pool"], marker_color=color)
        self.stack_fig = figure(margin=dict(LEGEND_ROOM, t=110), height=370, title="N modules stacked at the same resolution",
                                xaxis=dict(domain=[0, 0.44], title="stage", dtick=1),
                                xaxis2=dict(domain=[0.56, 1], title="stage", anchor="y2", dtick=1),
                                yaxis=dict(title="output channels", rangemode="tozero"),
                                yaxis2=dict(title="G multiply-adds (cumulative)", anchor="x2", rangemode="tozero"))
        for i, (name, color) in enumerate((("naive", "#9e9e9e"), ("reduced", "#f58518"))):
            self.stack_fig.add_scatter(name=f"{name}: channels", mode="lines+markers", line=dict(color=color),
                                       legendgroup=name)
            self.stack_fig.add_scatter(name=f"{name}: cumulative cost", mode="lines+markers", xaxis="x2",
                                       yaxis="y2", line=dict(color=color, dash="dot"), legendgroup=name)
        self._loading = False
        self.row.observe(guarded(self.on_row, self.status), names="value")
        for f in self.fields.values():
            f.observe(guarded(self.on_field, self.status), names="value")
        self.metric.observe(guarded(self.update, self.status), names="value")
        self.n.observe(guarded(self.update_stack, self.status), names="value")
        self.update()
        grid = ipw.GridBox(list(self.fields.values()),
                           layout=ipw.Layout(grid_template_columns="repeat(4, max-content)", grid_gap="4px 18px"))
        self.widget = ipw.VBox([
            self.row, grid, self.status, self.metric,
            ipw.HBox([self.fig, self.numbers], layout=ipw.Layout(align_items="center")),
            self.n, self.stack_fig, self.stack_numbers,
        ])
        self.widget.add_class("lesson-explorer")

    def spec(self) -> dict[str, int]:
        return {k: int(f.value) for k, f in self.fields.items()}

    def on_row(self, change):
        if change["new"] == CUSTOM:
            return
        d = S.explorer_defaults(self.measured, change["new"])
        self._loading = True
        try:
            for k, f in self.fields.items():
                f.set(d[k])
        finally:
            self._loading = False
        self.update()

    def on_field(self, _change):
        if self._loading:
            return
        if self.row.value != CUSTOM:
            d = S.explorer_defaults(self.measured, self.row.value)
            if d != self.spec():
                self.row.value = CUSTOM
        self.update()

    def update(self, _change=None):
        s = self.spec()
        naive = S.naive_module_costs(s["in_channels"], s["side"], s["ch1x1"], s["ch3x3"], s["ch5x5"])
        red = S.reduced_module_costs(**s)
        key = self.metric.value
        label, scale, unit = self.METRICS[key]
        hover = "%{x}: %{customdata}<extra>%{fullData.name}</extra>"
        with self.fig.batch_update():
            for trace, costs in zip(self.fig.data, (naive, red)):
                vals = [getattr(b, key) for b in costs]
                trace.update(y=[v / scale for v in vals], customdata=[fmt_int(v) for v in vals],
                             hovertemplate=hover)
            self.fig.layout.yaxis.title = unit
            self.fig.layout.title.text = (f"One module, branch by branch: {label} "
                                          f"({s['side']}×{s['side']}×{s['in_channels']} in)")
        ns, rs = S.module_summary(naive), S.module_summary(red)
        ratio = ns["macs"] / rs["macs"]
        self.numbers.value = (
            "<div class='explorer-numbers' style='min-width:330px'>" + stat_table([
                ("", "<b>naive</b> / <b>reduced</b>"),
                ("output channels", f"{fmt_int(ns['out_channels'])} / {fmt_int(rs['out_channels'])}"),
                ("weights", f"{fmt_int(ns['weights'])} / {fmt_int(rs['weights'])}"),
                ("multiply-adds", f"{_m(ns['macs'])} / {_m(rs['macs'])}"),
                ("naive costs", f"<b>{ratio:.1f}×</b> the multiply-adds"),
                ("3×3 reduce saves", f"{_m(naive[1].macs - red[1].macs)}"),
                ("5×5 reduce saves", f"{_m(naive[2].macs - red[2].macs)}"),
            ], "lesson-stats explorer-table") +
            "<small>Pool branch of the naive module: no weights, and it passes all "
            f"{fmt_int(s['in_channels'])} input channels through.</small></div>")
        self.update_stack()

    def update_stack(self, _change=None):
        s = self.spec()
        st = S.stack_costs(int(self.n.value), **s)
        cum_n, cum_r, a, b = [], [], 0, 0
        for x, y in zip(st["naive_macs"], st["reduced_macs"]):
            a += x
            b += y
            cum_n.append(a / 1e9)
            cum_r.append(b / 1e9)
        with self.stack_fig.batch_update():
            d = self.stack_fig.data
            d[0].update(x=st["stage"], y=st["naive_out"])
            d[1].update(x=st["stage"], y=cum_n)
            d[2].update(x=st["stage"], y=st["reduced_out"])
            d[3].update(x=st["stage"], y=cum_r)
        n = len(st["stage"])
        self.stack_numbers.value = stat_table([
            (f"after {n} naive modules", f"{fmt_int(st['naive_out'][-1])} channels, "
                                         f"{cum_n[-1]:,.2f} G multiply-adds in all"),
            (f"after {n} reduced modules", f"{fmt_int(st['reduced_out'][-1])} channels, "
                                           f"{cum_r[-1]:,.2f} G multiply-adds in all"),
            ("naive ÷ reduced", f"{cum_n[-1] / cum_r[-1]:.1f}× the work"),
        ], "lesson-stats stack-table")


def module_explorer_view() -> ipw.Widget:
    """Section b: naive against reduced Inception module, branch by branch, and stacked N times."""
    return ModuleExplorer().widget


# --------------------------------------------------------------------------- c. the whole network
SHORT = {"conv1": "conv 7×7/2", "maxpool1": "pool", "conv2+conv3": "conv 1×1+3×3", "maxpool2": "pool",
         "maxpool3": "pool", "maxpool4": "pool", "avgpool": "avg pool", "dropout": "dropout", "fc": "linear",
         "softmax": "softmax", "aux1": "aux 1", "aux2": "aux 2"}


class NetworkExplorer:
    """A clickable diagram of every stage; clicking (or the dropdown) selects one and shows its costs."""

    def __init__(self, selected: str = "inception4a"):
        self.measured = S.default_table1()
        self.status = ipw.HTML()
        self.nodes = self._nodes()
        self.names = [n["name"] for n in self.nodes]
        self.select = ipw.Dropdown(options=[(n["label"], n["name"]) for n in self.nodes], value=selected,
                                   description="stage", style={"description_width": "initial"},
                                   layout=ipw.Layout(width="380px"))
        self.fig = figure(height=300, showlegend=False, title="GoogLeNet at 224×224: click a stage",
                          xaxis=dict(visible=False), yaxis=dict(visible=False, range=[-2.2, 1.6]),
                          margin=dict(l=10, r=10, t=40, b=10), hovermode="closest")
        main = [n for n in self.nodes if not n["aux"]]
        aux = [n for n in self.nodes if n["aux"]]
        # edges: the main chain and the two aux branches
        ex, ey = [], []
        for n in aux:
            src = next(m for m in main if m["name"] == n["attached"])
            ex += [src["x"], n["x"], None]
            ey += [src["y"], n["y"], None]
        self.fig.add_scatter(x=[m["x"] for m in main] + ex, y=[0] * len(main) + ey, mode="lines",
                             line=dict(color="#cccccc", width=2), hoverinfo="skip")
        self.fig.add_scatter(
            x=[n["x"] for n in self.nodes], y=[n["y"] for n in self.nodes], mode="markers+text",
            text=[n["text"] for n in self.nodes], textposition=[n["textpos"] for n in self.nodes],
            textfont=dict(size=10), customdata=[n["hover"] for n in self.nodes],
            hovertemplate="%{customdata}<extra></extra>",
            marker=dict(size=[n["size"] for n in self.nodes], color=[n["color"] for n in self.nodes],
                        line=dict(width=1, color="white"), symbol=[n["symbol"] for n in self.nodes]))
        self.fig.add_scatter(x=[0], y=[0], mode="markers", hoverinfo="skip",
                             marker=dict(size=30, color="rgba(0,0,0,0)", line=dict(width=3, color="#b00020")))
        self.nodes_trace = self.fig.data[1]
        self.nodes_trace.on_click(guarded(self.on_click, self.status))
        self.detail = ipw.HTML()
        self.branch_fig = figure(margin=LEGEND_ROOM, height=300, width=640, barmode="stack", title="", yaxis_title="M multiply-adds")
        self.branch_fig.add_bar(name="1×1 reduction / projection", marker_color="#9ecae1")
        self.branch_fig.add_bar(name="main convolution or layer", marker_color="#f58518")
        self.select.observe(guarded(self.update, self.status), names="value")
        self.update()
        self.widget = ipw.VBox([self.fig, self.select, self.status,
                                ipw.HBox([self.branch_fig, self.detail], layout=ipw.Layout(align_items="center"))])
        self.widget.add_class("lesson-network")

    def _nodes(self) -> list[dict]:
        nodes = []
        x = 0
        for r in self.measured.rows:
            p = r.paper
            name = r.name
            is_inc = p.kind == "inception"
            text = (name.replace("inception", "") if is_inc else SHORT.get(name, name))
            out = _shape(r.output_shape)
            up = len(nodes) % 2 == 0
            hover = (f"<b>{html.escape(_x(p.label))}</b> ({name})<br>output {out}<br>"
                     f"{fmt_int(r.weights)} weights, {_m(r.macs)} multiply-adds")
            nodes.append(dict(name=name, label=f"{_x(p.label)} {_x(p.patch)} → {out}".replace("  ", " "),
                              x=x, y=0, aux=False, text=f"<b>{text}</b><br>{out}" if up else f"{out}<br><b>{text}</b>",
                              textpos="top center" if up else "bottom center", hover=hover,
                              size=10 + 26 * (r.macs / 360e6) ** 0.5 if r.macs else 9,
                              color=KIND_COLORS.get(p.kind, "#999"), symbol="circle" if r.weights else "square",
                              row=r))
            x += 1
        for a in self.measured.aux:
            src = next(n for n in nodes if n["name"] == a.attached_to)
            hover = (f"<b>auxiliary classifier {a.name[-1]}</b> on {a.attached_to}<br>"
                     f"{fmt_int(a.weights)} weights, {_m(a.macs)} multiply-adds (training only)")
            nodes.append(dict(name=a.name, label=f"auxiliary classifier {a.name[-1]} (on {a.attached_to}, training only)",
                              x=src["x"], y=-1.5, aux=True, text=f"<b>{SHORT[a.name]}</b>",
                              textpos="bottom center", hover=hover, size=14, color=KIND_COLORS["aux"],
                              symbol="diamond", attached=a.attached_to, row=a))
        return nodes

    def on_click(self, trace, points, selector=None):
        """Plotly click on the node trace: select that stage (the dropdown stays in step)."""
        inds = list(getattr(points, "point_inds", []) or [])
        if not inds:
            return
        self.select.value = self.names[inds[0]]

    def update(self, _change=None):
        node = self.nodes[self.names.index(self.select.value)]
        r = node["row"]
        if node["aux"]:
            cats = ["1×1 conv 128", "FC 1024", "linear"]
            red = [0, 0, 0]
            main = [m / 1e6 for _, _, m in r.layers]
            title = f"auxiliary classifier {r.name[-1]}: its layers"
        elif r.paper.kind == "inception":
            b = r.branches
            cats = ["#1×1", "#3×3 (reduce + 3×3)", "#5×5 (reduce + 5×5)", "pool proj"]
            keys = ["branch1x1", "branch3x3", "branch5x5", "branch_pool"]
            red = [b[k]["reduce_macs"] / 1e6 for k in keys]
            red[3] = b["branch_pool"]["macs"] / 1e6
            main = [(b[k]["macs"] - b[k]["reduce_macs"]) / 1e6 for k in keys]
            main[3] = 0.0
            title = f"{r.name}: its four branches"
        else:
            cats = [SHORT.get(r.name, r.name)]
            red, main = [0.0], [r.macs / 1e6]
            title = f"{r.name}: {'no weights, no multiply-adds' if not r.weights else 'one layer'}"
        with self.branch_fig.batch_update():
            self.branch_fig.data[0].update(x=cats, y=red)
            self.branch_fig.data[1].update(x=cats, y=main)
            self.branch_fig.layout.title.text = title
        with self.fig.batch_update():
            self.fig.data[2].update(x=[node["x"]], y=[node["y"]])
        self.detail.value = self._detail_html(node)

    def _detail_html(self, node) -> str:
        r = node["row"]
        if node["aux"]:
            rows = [("attached to", f"{r.attached_to} (input {_shape(r.input_shape)})"),
                    ("layers", "5×5/3 avg pool → 1×1 conv 128 + ReLU → FC 1024 + ReLU → dropout 70% → linear")]
            rows += [(f"  {name}", f"{fmt_int(w)} weights, {fmt_int(m)} multiply-adds") for name, w, m in r.layers]
            rows += [("total", f"{fmt_int(r.weights)} weights, {_m(r.macs)} multiply-adds"),
                     ("when", "training only: loss × 0.3; dropped at inference")]
            return "<div class='stage-detail'>" + stat_table(rows, "lesson-stats stage-table") + "</div>"
        p = r.paper
        rows = [("Table 1 row", html.escape(_x(p.label + " " + p.patch))),
                ("input → output", f"{_shape(r.input_shape)} → {_shape(r.output_shape)}"),
                ("weights", f"{fmt_int(r.weights)} ({r.weights / S.PAPER_K:,.1f}K)"),
                ("multiply-adds", f"{fmt_int(r.macs)} ({_m(r.macs)})"),
                ("share of the network", f"{r.macs / self.measured.total_macs:.1%} of the multiply-adds, "
                                         f"{r.weights / self.measured.total_weights:.1%} of the weights")]
        if p.kind == "inception":
            for key, label in (("branch1x1", "1×1"), ("branch3x3", "3×3"), ("branch5x5", "5×5"),
                               ("branch_pool", "pool proj")):
                b = r.branches[key]
                rows.append((f"  {label} branch", f"{b['out_channels']} channels, {fmt_int(b['weights'])} weights, "
                                                  f"{_m(b['macs'])}"))
        return "<div class='stage-detail'>" + stat_table(rows, "lesson-stats stage-table") + "</div>"


def network_view() -> ipw.Widget:
    """Section c: the clickable network diagram with the selected stage's branches and costs."""
    return NetworkExplorer().widget


class BranchShareView:
    """Each module's share of outputs (or of work) by branch: does the 3×3 + 5×5 share grow with depth?"""

    def __init__(self):
        self.measured = S.default_table1()
        self.shares = S.branch_shares(self.measured)
        self.status = ipw.HTML()
        self.what = ipw.ToggleButtons(options=[("share of output channels", "ch"), ("share of multiply-adds", "macs")],
                                      value="ch", style={"button_width": "190px"})
        self.fig = figure(margin=LEGEND_ROOM, height=340, barmode="stack", yaxis=dict(tickformat=".0%", range=[0, 1]),
                          title="Branch shares per Inception module")
        mods = [m.replace("inception", "") for m in self.shares["module"]]
        for key, label in (("3x3", "3×3"), ("5x5", "5×5"), ("1x1", "1×1"), ("pool", "pool proj")):
            self.fig.add_bar(name=label, x=mods, marker_color=BRANCH_COLORS[key])
        self.fig.add_scatter(name="3×3 + 5×5", x=mods, mode="lines+markers+text", textposition="top center",
                             line=dict(color="black"), texttemplate="%{y:.0%}")
        self.summary = ipw.HTML()
        self.what.observe(guarded(self.update, self.status), names="value")
        self.update()
        self.widget = ipw.VBox([self.what, self.fig, self.summary, self.status])
        self.widget.add_class("lesson-shares")

    def update(self, _change=None):
        pre = self.what.value
        sh = self.shares
        with self.fig.batch_update():
            for trace, key in zip(self.fig.data[:4], ("3x3", "5x5", "1x1", "pool")):
                trace.y = sh[f"{pre}_{key}"]
            self.fig.data[4].y = [a + b for a, b in zip(sh[f"{pre}_3x3"], sh[f"{pre}_5x5"])]
            self.fig.layout.title.text = ("Share of each module's output channels by branch" if pre == "ch" else
                                          "Share of each module's multiply-adds by branch (reductions included)")
        t = S.share_trend({"module": sh["module"], "ch_3x3": sh[f"{pre}_3x3"], "ch_5x5": sh[f"{pre}_5x5"]})
        what = "output channels" if pre == "ch" else "multiply-adds"
        verdict = ("rises steadily" if t["monotonic"] else "does <b>not</b> rise steadily")
        self.summary.value = (
            f"<div class='share-summary'>3×3 + 5×5 share of the {what}: {t['first']:.1%} in "
            f"{t['first_module']}, {t['last']:.1%} in {t['last_module']}; highest {t['max']:.1%} "
            f"({t['max_module']}), lowest {t['min']:.1%} ({t['min_module']}). From 4a to 4d it "
            f"{'rises at every module' if t['rises_4a_to_4d'] else 'does not rise at every module'}; "
            f"over the whole network it {verdict}. The paper's section 4 says the ratio of 3×3 and 5×5 "
            "“should increase as we move to higher layers”; its own Table 1 bears that out only inside stage 4.</div>")


def branch_share_view() -> ipw.Widget:
    """Section c: per-module share of 3×3 and 5×5 (channels or multiply-adds), measured on the model."""
    return BranchShareView().widget


# --------------------------------------------------------------------------- d. test-time cost
class TestTimeCost:
    """The 144 crops of section 7, and Table 3 with multiply-adds per image."""

    __test__ = False  # not a pytest class

    def __init__(self):
        self.measured = S.default_table1()
        self.macs = self.measured.total_macs
        self.status = ipw.HTML()
        self.fields = {
            "scales": NumberField("scales", 4, min=1, max=8, integer=True, width="60px"),
            "squares": NumberField("squares per scale", 3, min=1, max=3, integer=True, width="60px"),
            "crops_per_square": NumberField("crops per square", 6, min=1, max=6, integer=True, width="60px"),
            "mirrors": NumberField("mirrors", 2, min=1, max=2, integer=True, width="60px"),
            "models": NumberField("models", 1, min=1, max=7, integer=True, width="60px"),
        }
        self.numbers = ipw.HTML()
        self.costs = S.table3_costs(self.macs)
        front = S.pareto_lines(self.costs)
        self.fig = figure(margin=LEGEND_ROOM, height=360, title="Table 3: top-5 error against multiply-adds per image",
                          xaxis=dict(type="log", title="multiply-adds per image (log)"),
                          yaxis=dict(title="top-5 error (%)"))
        self.fig.add_scatter(name="Table 3 lines", mode="markers+text",
                             x=[c.macs_per_image for c in self.costs], y=[c.row.top5_error for c in self.costs],
                             text=[f"{c.row.models}×{c.row.crops}" for c in self.costs], textposition="top right",
                             marker=dict(size=11, color="#f58518"),
                             customdata=[f"{c.row.models} model(s) × {c.row.crops} crop(s): {_g(c.macs_per_image)}"
                                         for c in self.costs], hovertemplate="%{customdata}<extra></extra>")
        self.fig.add_scatter(name="best error for the cost", mode="lines", line=dict(color="#999", dash="dot"),
                             x=[c.macs_per_image for c in front], y=[c.row.top5_error for c in front])
        self.fig.add_scatter(name="your setting", mode="lines", line=dict(color="#b00020", width=2),
                             x=[self.macs, self.macs], y=[6.3, 10.4])
        for f in self.fields.values():
            f.observe(guarded(self.update, self.status), names="value")
        self.update()
        grid = ipw.GridBox(list(self.fields.values()),
                           layout=ipw.Layout(grid_template_columns="repeat(3, max-content)", grid_gap="4px 18px"))
        self.widget = ipw.VBox([ipw.HTML(self._table_html()), grid, self.status, self.numbers, self.fig])
        self.widget.add_class("lesson-testtime")

    def update(self, _change=None):
        v = {k: int(f.value) for k, f in self.fields.items()}
        crops = S.test_time_crops(v["scales"], v["squares"], v["crops_per_square"], v["mirrors"])
        passes = crops * v["models"]
        cost = passes * self.macs
        with self.fig.batch_update():
            self.fig.data[2].update(x=[cost, cost], name=f"your setting: {passes:,} passes")
        self.numbers.value = stat_table([
            ("crops per image", f"{v['scales']} × {v['squares']} × {v['crops_per_square']} × {v['mirrors']} = "
                                f"<b>{crops}</b>"),
            ("forward passes per image", f"{crops} × {v['models']} model(s) = <b>{fmt_int(passes)}</b>"),
            ("multiply-adds per image", f"{fmt_int(passes)} × {_g(self.macs)} = <b>{_g(cost)}</b>"),
        ], "lesson-stats crop-table")

    def _table_html(self) -> str:
        head = ("<tr><th>models</th><th>crops</th><th>cost<br>(printed)</th><th>multiply-adds<br>per image</th>"
                "<th>top-5 error</th><th>vs base<br>(printed)</th><th>vs base<br>(computed)</th>"
                "<th>multiply-adds per point<br>of error removed</th></tr>")
        body = []
        for c in self.costs:
            bad = "" if c.delta_ok else " style='color:#b00020;background:#fdecea'"
            printed = "base" if c.row.printed_delta is None else f"{c.row.printed_delta:+.2f}%"
            computed = "" if c.delta is None else f"{c.delta:+.2f}%"
            per = "" if c.macs_per_point is None else _g(c.macs_per_point)
            body.append(f"<tr><td>{c.row.models}</td><td>{c.row.crops}</td><td>{c.row.cost}</td>"
                        f"<td>{_g(c.macs_per_image)}</td><td>{c.row.top5_error:.2f}%</td><td{bad}>{printed}</td>"
                        f"<td{bad}>{computed}</td><td>{per}</td></tr>")
        wrong = [c for c in self.costs if not c.delta_ok]
        note = "".join(
            f"<li>The last column of the paper's Table 3 prints {c.row.printed_delta:+.2f}% for {c.row.models} models × "
            f"{c.row.crops} crops, but {c.row.top5_error:.2f} − {self.costs[0].row.top5_error:.2f} = {c.delta:+.2f}.</li>"
            for c in wrong)
        return (TABLE_CSS + f"<table class='lesson-t1 t3'>{head}{''.join(body)}</table>"
                f"<ul class='t3-notes' style='margin:4px 0'>{note}<li>One forward pass = {_g(self.macs)} "
                "(measured above); the seven ensemble members are counted as one GoogLeNet each (one of them was "
                "wider, so the 7-model lines cost slightly more).</li></ul>")


def test_time_view() -> ipw.Widget:
    """Section d: the 144 crops and what each line of Table 3 costs per image."""
    return TestTimeCost().widget


test_time_view.__test__ = False
