"""Section a: Table 1 as printed beside Table 1 as measured on the model, with the disagreements explained."""
from __future__ import annotations

import html
from typing import Callable

import ipywidgets as ipw
import plotly.graph_objects as go

from widgets import inception_analysis as A
from widgets import inception_stats as S
from widgets.ui import fmt_int, stat_table
from widgets.views import palette
from widgets.views.inception.common import (LEGEND_ROOM, TABLE_CSS, VERDICT_STYLE, LessonSection, giga, mega,
                                            row_label, shape, type_label, words, x)
from widgets.views.section import row

SUFFIX = {"params": " K", "ops": " M"}  # the hover's unit: Table 1's K (= 1024) and M (= 10^6)


def verdict_cell(verdict: str | None, rel: float | None, lang: str = "en") -> str:
    """A table cell for S.classify's verdict: ✓, or ≈/✗ with how far the printed number is off."""
    if verdict is None:
        return "<td></td>"
    mark, color, bg = VERDICT_STYLE[verdict]
    extra = "" if verdict == S.MATCH else f" {rel:+.1%}"
    name = words(lang, "table1")(f"verdict_{verdict.replace(' ', '_')}")
    return (f"<td class='verdict verdict-{verdict.replace(' ', '-')}' style='color:{color};background:{bg};"
            f"text-align:center' title='{html.escape(name, quote=True)}'>{mark}{extra}</td>")


def _row_html(c: S.Comparison, lang: str) -> str:
    r, p = c.row, c.row.paper
    cols = "".join(f"<td>{v if v is not None else ''}</td>" for v in p.columns)
    out_model = shape(r.output_shape) if r.output_shape else ""
    out_style = "" if c.output_ok else f" style='color:{palette.var('error')}'"
    params = f"{p.params_k:g}K" if p.params_k is not None else ""
    ops = f"{p.ops_m:g}M" if p.ops_m is not None else ""
    weights = fmt_int(r.weights) if r.weights else ""
    k = f"{c.params_k:,.1f}K" if r.weights else ""
    macs = f"{c.ops_m:,.1f}M" if r.macs else ""
    cls = " class='inc'" if p.kind == "inception" else ""
    return (f"<tr{cls}><td class='l'>{html.escape(type_label(lang, p))}</td><td>{x(p.patch)}</td>"
            f"<td>{p.output[0]}×{p.output[1]}×{p.output[2]}</td><td{out_style}>{out_model}</td>"
            f"<td>{r.depth}</td>{cols}<td>{params}</td><td>{weights}</td><td>{k}</td>"
            f"{verdict_cell(c.params_verdict, c.params_rel, lang)}<td>{ops}</td><td>{macs}</td>"
            f"{verdict_cell(c.ops_verdict, c.ops_rel, lang)}</tr>")


def _total_html(t: S.Totals, lang: str) -> str:
    return (f"<tr class='total'><td class='l'>{words(lang, 'table1')('total')}</td><td colspan='4'></td>"
            f"<td colspan='6'></td><td>{t.paper_params_sum / S.PAPER_K:,.0f}K</td><td>{fmt_int(t.weights)}</td>"
            f"<td>{t.weights / S.PAPER_K:,.0f}K</td><td></td><td>{t.paper_ops_sum / 1e6:,.0f}M</td>"
            f"<td>{t.macs / 1e6:,.0f}M</td><td></td></tr>")


def table_html(measured: S.Table1Measurement, lang: str = "en") -> str:
    t = words(lang, "table1")
    head = t("head", columns="".join(f"<th>{x(n)}</th>" for n in S.COLUMN_NAMES))
    body = "".join(_row_html(c, lang) for c in S.compare_table1(measured)) + _total_html(S.totals(measured), lang)
    legend = f"<small>{t('legend', size=measured.image_size)}</small>"
    return f"<div style='overflow-x:auto'><table class='lesson-t1'>{head}{body}</table>{legend}</div>"


def note_text(note: A.RowNote, t: Callable[..., str]) -> str:
    """A row's note in words: its clauses (inception_analysis.note_clauses), joined."""
    return t("note_join").join(t(f"note_{c.kind}", **c.values) for c in note.clauses)


def notes_html(measured: S.Table1Measurement, lang: str = "en") -> str:
    t = words(lang, "table1")
    n = A.verdict_counts(measured)
    count = t("count", total=sum(n.values()), match=n[S.MATCH], small=n[S.SMALL], off=n[S.DISAGREE])
    items = [f"<li class='t1-count'>{count}</li>"]
    for note in A.table1_notes(measured):
        label = html.escape(row_label(lang, note.comparison.row.paper))
        style = f"color:{palette.var('error') if note.big else palette.var('warn')}"
        items.append(f"<li class='t1-note'><b style='{style}'>{label}</b>"
                     f"{html.escape(t('note', note=note_text(note, t)))}</li>")
    return (f"<div class='t1-notes'><b>{t('notes_title')}</b>"
            f"<ul style='margin:4px 0'>{''.join(items)}</ul><small>{t('notes_after')}</small></div>")


def totals_html(t: S.Totals, lang: str = "en", image_size: int = 224) -> str:
    w = words(lang, "table1")
    rows = [
        (w("row_weights"), f"{fmt_int(t.weights)} ≈ {t.weights / 1e6:.2f} M"),
        (w("row_biases"), f"{fmt_int(t.params)}"),
        (w("row_macs", size=image_size), f"{fmt_int(t.macs)} ≈ {giga(t.macs)}"),
        (w("row_printed_params"), f"{t.paper_params_sum / S.PAPER_K:,.0f}K = {fmt_int(t.paper_params_sum)}"),
        (w("row_printed_ops"), f"{giga(t.paper_ops_sum)}"),
        (w("row_alexnet", alexnet=f"{S.ALEXNET_PARAMS / 1e6:g}"),
         w("alexnet_value", ratio=t.alexnet_ratio, paper=S.PAPER_FEWER_THAN_ALEXNET, need=t.weights_for_12x / 1e6)),
        (w("row_aux"), w("inception.weights_macs", weights=fmt_int(t.aux_weights), macs=mega(t.aux_macs))),
    ]
    return "<div class='t1-totals'>" + stat_table(rows, "lesson-stats t1-totals-table") + "</div>"


class Table1View(LessonSection):
    """Table 1 as printed beside Table 1 as measured on the model, with a bar chart and the notes."""

    name, title, css = "table1", "a. Table 1, reproduced from the code", ("lesson-table1",)

    def build(self):
        self.measured = S.default_table1()
        self.choice("metric", self.t("metric"), [(self.t("metric_params"), "params"), (self.t("metric_ops"), "ops")],
                    "params", kind=ipw.ToggleButtons, style={"description_width": "initial", "button_width": "160px"})
        self.control("log_y", ipw.Checkbox(value=False, description=self.t("log_y"), indent=False))
        self.rows = [c for c in S.compare_table1(self.measured) if c.row.paper.params_k is not None]
        labels = [type_label(self.lang, c.row.paper) if c.row.paper.kind != "convolution" else
                  row_label(self.lang, c.row.paper) for c in self.rows]
        self.figure("bars", margin=LEGEND_ROOM, height=360, barmode="group", xaxis_tickangle=-35, title="")
        self.trace("bars", "paper", go.Bar(name=self.t("trace_paper"), x=labels,
                                                marker=dict(color=palette.GREY, pattern_shape="/")))   # colour + pattern
        self.trace("bars", "measured", go.Bar(name=self.t("trace_measured"), x=labels, marker_color=palette.ORANGE))

    def update(self, changed):
        metric = self.controls["metric"].value
        ops = metric == "ops"
        paper = [c.row.paper.ops_m if ops else c.row.paper.params_k for c in self.rows]
        measured = [c.ops_m if ops else c.params_k for c in self.rows]
        hover = "%{x}<br>%{y:,.1f}" + SUFFIX[metric] + "<extra>%{fullData.name}</extra>"
        with self.drawing("bars"):
            self.tr("bars", "paper").update(y=paper, hovertemplate=hover)
            self.tr("bars", "measured").update(y=measured, hovertemplate=hover)
            layout = self.figures["bars"].layout
            layout.yaxis.title = self.t(f"axis_{metric}")
            layout.yaxis.type = "log" if self.controls["log_y"].value else "linear"
            layout.title.text = self.t("fig_title", word=self.t(f"word_{metric}"))

    def layout(self):
        c, lang = self.controls, self.lang
        return [ipw.HTML(TABLE_CSS + table_html(self.measured, lang)), ipw.HTML(notes_html(self.measured, lang)),
                ipw.HTML(totals_html(S.totals(self.measured), lang, self.measured.image_size)),
                row(c["metric"].widget, c["log_y"].widget, gap="16px", align_items="center"),
                self.figures["bars"], self.status]


def table1_view(lang: str = "en", **values) -> ipw.Widget:
    """Section a: Table 1 as printed and as measured, with the disagreements explained (controls metric, log_y)."""
    return Table1View(lang=lang, **values).widget
