"""Section a: Table 1 as printed beside Table 1 as measured on the model, with the disagreements explained."""
from __future__ import annotations

import html

import ipywidgets as ipw
import plotly.graph_objects as go

from widgets import inception_analysis as A
from widgets import inception_stats as S
from widgets.ui import fmt_int, stat_table
from widgets.views.inception.common import LEGEND_ROOM, TABLE_CSS, VERDICT_STYLE, giga, mega, shape, x
from widgets.views.section import Section, row

METRICS = {"params": ("parameters", "K weights (K = 1024)", " K"), "ops": ("operations", "M multiply-adds", " M")}


def verdict_cell(verdict: str | None, rel: float | None) -> str:
    """A table cell for S.classify's verdict: ✓, or ≈/✗ with how far the printed number is off."""
    if verdict is None:
        return "<td></td>"
    mark, color, bg = VERDICT_STYLE[verdict]
    extra = "" if verdict == S.MATCH else f" {rel:+.1%}"
    return (f"<td class='verdict verdict-{verdict.replace(' ', '-')}' style='color:{color};background:{bg};"
            f"text-align:center' title='{verdict}'>{mark}{extra}</td>")


def _row_html(c: S.Comparison) -> str:
    r, p = c.row, c.row.paper
    cols = "".join(f"<td>{v if v is not None else ''}</td>" for v in p.columns)
    out_model = shape(r.output_shape) if r.output_shape else ""
    out_style = "" if c.output_ok else " style='color:#b00020'"
    params = f"{p.params_k:g}K" if p.params_k is not None else ""
    ops = f"{p.ops_m:g}M" if p.ops_m is not None else ""
    weights = fmt_int(r.weights) if r.weights else ""
    k = f"{c.params_k:,.1f}K" if r.weights else ""
    macs = f"{c.ops_m:,.1f}M" if r.macs else ""
    cls = " class='inc'" if p.kind == "inception" else ""
    return (f"<tr{cls}><td class='l'>{x(p.label)}</td><td>{x(p.patch)}</td>"
            f"<td>{p.output[0]}×{p.output[1]}×{p.output[2]}</td><td{out_style}>{out_model}</td>"
            f"<td>{r.depth}</td>{cols}<td>{params}</td><td>{weights}</td><td>{k}</td>"
            f"{verdict_cell(c.params_verdict, c.params_rel)}<td>{ops}</td><td>{macs}</td>"
            f"{verdict_cell(c.ops_verdict, c.ops_rel)}</tr>")


def _total_html(t: S.Totals) -> str:
    return (f"<tr class='total'><td class='l'>total (inference)</td><td colspan='4'></td><td colspan='6'></td>"
            f"<td>{t.paper_params_sum / S.PAPER_K:,.0f}K</td><td>{fmt_int(t.weights)}</td>"
            f"<td>{t.weights / S.PAPER_K:,.0f}K</td><td></td><td>{t.paper_ops_sum / 1e6:,.0f}M</td>"
            f"<td>{t.macs / 1e6:,.0f}M</td><td></td></tr>")


def table_html(measured: S.Table1Measurement) -> str:
    head = ("<tr><th>type</th><th>patch/<br>stride</th><th>output<br>(paper)</th><th>output<br>(model)</th>"
            "<th>depth</th>" + "".join(f"<th>{x(n)}</th>" for n in S.COLUMN_NAMES) +
            "<th>params<br>printed</th><th>weights<br>measured</th><th>K</th><th></th>"
            "<th>ops<br>printed</th><th>multiply-adds<br>measured</th><th></th></tr>")
    body = "".join(_row_html(c) for c in S.compare_table1(measured)) + _total_html(S.totals(measured))
    size = measured.image_size
    legend = ("<small>✓ the measured value rounds to the printed one; ≈ off by less than 3%; "
              "✗ off by more (the percentage is printed − measured, relative to measured). "
              "Weights are kernel and matrix entries (biases apart, as the paper counts); "
              f"measured by running the model once on a {size}×{size} "
              "image with forward hooks (sizes) and torch.utils.flop_counter.FlopCounterMode "
              "(multiply-adds = FLOPs / 2).</small>")
    return f"<div style='overflow-x:auto'><table class='lesson-t1'>{head}{body}</table>{legend}</div>"


def notes_html(measured: S.Table1Measurement) -> str:
    n = A.verdict_counts(measured)
    items = [f"<li class='t1-count'>Of the {sum(n.values())} rows with printed numbers, {n[S.MATCH]} match the model "
             f"to the last printed digit (✓), {n[S.SMALL]} are within 3% (≈) and {n[S.DISAGREE]} are off by more "
             "(✗).</li>"]
    for c in S.discrepancies(measured):
        big = S.DISAGREE in (c.params_verdict, c.ops_verdict)
        label = html.escape(x(f"{c.row.paper.label} {c.row.paper.patch}".strip()))
        style = "color:#b00020" if big else "color:#8a6d00"
        note = x(c.note).replace(" x ", " × ")  # the maths writes products with an x
        items.append(f"<li class='t1-note'><b style='{style}'>{label}</b>: {html.escape(note)}.</li>")
    return ("<div class='t1-notes'><b>Where the printed table disagrees with its own columns</b>"
            f"<ul style='margin:4px 0'>{''.join(items)}</ul>"
            "<small>The model follows the columns (the specification); the page shows the model's values.</small></div>")


def totals_html(t: S.Totals) -> str:
    rows = [
        ("weights (Table 1's count), measured", f"{fmt_int(t.weights)} ≈ {t.weights / 1e6:.2f} M"),
        ("  with biases", f"{fmt_int(t.params)}"),
        ("multiply-adds per 224×224 image, measured", f"{fmt_int(t.macs)} ≈ {giga(t.macs)}"),
        ("printed params column, summed", f"{t.paper_params_sum / S.PAPER_K:,.0f}K = {fmt_int(t.paper_params_sum)}"),
        ("printed ops column, summed (the paper's “1.5 billion”)", f"{giga(t.paper_ops_sum)}"),
        ("AlexNet's 60 M parameters ÷ ours", f"{t.alexnet_ratio:.1f}× fewer (the paper says 12×, "
                                             f"which would need ≤ {t.weights_for_12x / 1e6:.1f} M)"),
        ("auxiliary heads (training only)", f"{fmt_int(t.aux_weights)} weights, {mega(t.aux_macs)} multiply-adds"),
    ]
    return "<div class='t1-totals'>" + stat_table(rows, "lesson-stats t1-totals-table") + "</div>"


class Table1View(Section):
    """Table 1 as printed beside Table 1 as measured on the model, with a bar chart and the notes."""

    name, title, css = "table1", "a. Table 1, reproduced from the code", ("lesson-table1",)

    def build(self):
        self.measured = S.default_table1()
        self.choice("metric", "compare", [("weights (K = 1024)", "params"), ("multiply-adds (M)", "ops")], "params",
                    kind=ipw.ToggleButtons, style={"description_width": "initial", "button_width": "160px"})
        self.control("log_y", ipw.Checkbox(value=False, description="log scale", indent=False))
        self.rows = [c for c in S.compare_table1(self.measured) if c.row.paper.params_k is not None]
        labels = [x(c.row.paper.label) + ("" if c.row.paper.kind != "convolution" else f" {c.row.paper.patch}")
                  for c in self.rows]
        self.figure("bars", margin=LEGEND_ROOM, height=360, barmode="group", xaxis_tickangle=-35,
                    title="Table 1: printed against measured")
        self.trace("bars", "paper", go.Bar(name="paper (as printed)", x=labels, marker_color="#bbbbbb"))
        self.trace("bars", "measured", go.Bar(name="measured on the model", x=labels, marker_color="#f58518"))

    def update(self, changed):
        metric = self.controls["metric"].value
        ops = metric == "ops"
        word, unit, suffix = METRICS[metric]
        paper = [c.row.paper.ops_m if ops else c.row.paper.params_k for c in self.rows]
        measured = [c.ops_m if ops else c.params_k for c in self.rows]
        hover = "%{x}<br>%{y:,.1f}" + suffix + "<extra>%{fullData.name}</extra>"
        with self.drawing("bars"):
            self.tr("bars", "paper").update(y=paper, hovertemplate=hover)
            self.tr("bars", "measured").update(y=measured, hovertemplate=hover)
            layout = self.figures["bars"].layout
            layout.yaxis.title = unit
            layout.yaxis.type = "log" if self.controls["log_y"].value else "linear"
            layout.title.text = f"Table 1, {word}: printed against measured"

    def layout(self):
        c = self.controls
        return [ipw.HTML(TABLE_CSS + table_html(self.measured)), ipw.HTML(notes_html(self.measured)),
                ipw.HTML(totals_html(S.totals(self.measured))),
                row(c["metric"].widget, c["log_y"].widget, gap="16px", align_items="center"),
                self.figures["bars"], self.status]


def table1_view(**values) -> ipw.Widget:
    """Section a: Table 1 as printed and as measured, with the disagreements explained (controls metric, log_y)."""
    return Table1View(**values).widget
