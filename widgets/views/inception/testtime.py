"""Section d: the 144 crops of section 7, and Table 3 with its multiply-adds per image."""
from __future__ import annotations

import ipywidgets as ipw
import plotly.graph_objects as go

from widgets import inception_analysis as A
from widgets import inception_stats as S
from widgets.ui import fmt_int, stat_table
from widgets.views.inception.common import LEGEND_ROOM, TABLE_CSS, giga
from widgets.views.section import Section

# name, label, default (the paper's scheme, one model), largest value
FIELDS = (("scales", "scales", 4, 8), ("squares", "squares per scale", 3, 3),
          ("crops_per_square", "crops per square", 6, 6), ("mirrors", "mirrors", 2, 2), ("models", "models", 1, 7))
FIELD_NAMES = tuple(f[0] for f in FIELDS)


def _row_html(c: S.Table3Cost) -> str:
    bad = "" if c.delta_ok else " style='color:#b00020;background:#fdecea'"
    printed = "base" if c.row.printed_delta is None else f"{c.row.printed_delta:+.2f}%"
    computed = "" if c.delta is None else f"{c.delta:+.2f}%"
    per = "" if c.macs_per_point is None else giga(c.macs_per_point)
    return (f"<tr><td>{c.row.models}</td><td>{c.row.crops}</td><td>{c.row.cost}</td>"
            f"<td>{giga(c.macs_per_image)}</td><td>{c.row.top5_error:.2f}%</td><td{bad}>{printed}</td>"
            f"<td{bad}>{computed}</td><td>{per}</td></tr>")


def _steps_html(models: int) -> str:
    """One model (or seven): what each step up in crops costs, and the error it removes."""
    steps = A.crop_steps(models)
    parts = [f"{s.crops_from} → {s.crops_to} crops costs {s.cost_factor:g}× the forward passes and removes "
             f"{s.error_removed:.2f} points of top-5 error" for s in steps]
    return f"<li class='t3-steps'>{models} model{'s' if models > 1 else ''}: " + "; ".join(parts) + ".</li>"


def table3_html(costs: list[S.Table3Cost], macs: float) -> str:
    head = ("<tr><th>models</th><th>crops</th><th>cost<br>(printed)</th><th>multiply-adds<br>per image</th>"
            "<th>top-5 error</th><th>vs base<br>(printed)</th><th>vs base<br>(computed)</th>"
            "<th>extra multiply-adds per point<br>of error removed</th></tr>")
    body = "".join(_row_html(c) for c in costs)
    base = costs[0].row
    wrong = "".join(
        f"<li>The last column of the paper's Table 3 prints {c.row.printed_delta:+.2f}% for {c.row.models} models × "
        f"{c.row.crops} crops, but {c.row.top5_error:.2f} − {base.top5_error:.2f} = {c.delta:+.2f}.</li>"
        for c in costs if not c.delta_ok)
    return (TABLE_CSS + f"<table class='lesson-t1 t3'>{head}{body}</table>"
            f"<ul class='t3-notes' style='margin:4px 0'>{wrong}{_steps_html(1)}{_steps_html(7)}"
            f"<li>One forward pass = {giga(macs)} (measured above); the seven ensemble members are counted as one "
            "GoogLeNet each (one of them was wider, so the 7-model lines cost slightly more).</li></ul>")


class TestTimeCost(Section):
    """The 144 crops of section 7, and Table 3 with multiply-adds per image."""

    __test__ = False  # not a pytest class
    name, title, css = "testtime", "d. What the test-time tricks cost", ("lesson-testtime",)

    def build(self):
        self.macs = S.default_table1().total_macs
        for key, label, value, most in FIELDS:
            self.number(key, label, value, min=1, max=most, integer=True, width="60px")
        self.numbers = ipw.HTML()
        self.costs = S.table3_costs(self.macs)
        front = S.pareto_lines(self.costs)
        self.figure("cost", margin=LEGEND_ROOM, height=360, title="Table 3: top-5 error against multiply-adds per image",
                    xaxis=dict(type="log", title="multiply-adds per image (log)"), yaxis=dict(title="top-5 error (%)"))
        self.trace("cost", "lines", go.Scatter(
            name="Table 3 lines", mode="markers+text", x=[c.macs_per_image for c in self.costs],
            y=[c.row.top5_error for c in self.costs], text=[f"{c.row.models}×{c.row.crops}" for c in self.costs],
            textposition="top right", marker=dict(size=11, color="#f58518"),
            customdata=[f"{c.row.models} model(s) × {c.row.crops} crop(s): {giga(c.macs_per_image)}" for c in self.costs],
            hovertemplate="%{customdata}<extra></extra>"))
        self.trace("cost", "front", go.Scatter(name="best error for the cost", mode="lines",
                                               line=dict(color="#999", dash="dot"),
                                               x=[c.macs_per_image for c in front], y=[c.row.top5_error for c in front]))
        self.trace("cost", "setting", go.Scatter(name="your setting", mode="lines", line=dict(color="#b00020", width=2),
                                                 x=[self.macs, self.macs], y=list(A.error_span())))

    def update(self, changed):
        v = {k: int(self.controls[k].value) for k in FIELD_NAMES}
        plan = A.crop_plan(**v, macs_per_pass=self.macs)
        with self.drawing("cost"):
            self.tr("cost", "setting").update(x=[plan.macs, plan.macs], name=f"your setting: {plan.passes:,} passes")
        self.numbers.value = stat_table([
            ("crops per image", f"{v['scales']} × {v['squares']} × {v['crops_per_square']} × {v['mirrors']} = "
                                f"<b>{plan.crops}</b>"),
            ("forward passes per image", f"{plan.crops} × {v['models']} model(s) = <b>{fmt_int(plan.passes)}</b>"),
            ("multiply-adds per image", f"{fmt_int(plan.passes)} × {giga(self.macs)} = <b>{giga(plan.macs)}</b>"),
        ], "lesson-stats crop-table")

    def layout(self):
        grid = ipw.GridBox([self.controls[k].widget for k in FIELD_NAMES],
                           layout=ipw.Layout(grid_template_columns="repeat(3, max-content)", grid_gap="4px 18px"))
        return [ipw.HTML(table3_html(self.costs, self.macs)), grid, self.status, self.numbers, self.figures["cost"]]


def test_time_view(**values) -> ipw.Widget:
    """Section d: the 144 crops and what each line of Table 3 costs per image
    (controls scales, squares, crops_per_square, mirrors, models)."""
    return TestTimeCost(**values).widget


test_time_view.__test__ = False
