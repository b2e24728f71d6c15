"""Section d: the 144 crops of section 7, and Table 3 with its multiply-adds per image."""
from __future__ import annotations

import ipywidgets as ipw
import plotly.graph_objects as go

from widgets import inception_analysis as A
from widgets import inception_stats as S
from widgets.ui import fmt_int, stat_table
from widgets.views import palette
from widgets.views.inception.common import LEGEND_ROOM, TABLE_CSS, LessonSection, giga, words

# name, default (the paper's scheme, one model), largest value (label: testtime.field_<name>)
FIELDS = (("scales", 4, 8), ("squares", 3, 3), ("crops_per_square", 6, 6), ("mirrors", 2, 2), ("models", 1, 7))
FIELD_NAMES = tuple(f[0] for f in FIELDS)


def _row_html(c: S.Table3Cost, t) -> str:
    bad = "" if c.delta_ok else f" style='color:{palette.var('error')};background:{palette.var('error-bg')}'"
    printed = t("base") if c.row.printed_delta is None else f"{c.row.printed_delta:+.2f}%"
    computed = "" if c.delta is None else f"{c.delta:+.2f}%"
    per = "" if c.macs_per_point is None else giga(c.macs_per_point)
    return (f"<tr><td>{c.row.models}</td><td>{c.row.crops}</td><td>{c.row.cost}</td>"
            f"<td>{giga(c.macs_per_image)}</td><td>{c.row.top5_error:.2f}%</td><td{bad}>{printed}</td>"
            f"<td{bad}>{computed}</td><td>{per}</td></tr>")


def _steps_html(models: int, t) -> str:
    """One model (or seven): what each step up in crops costs, and the error it removes."""
    steps = t("step_join").join(t("step", a=s.crops_from, b=s.crops_to, factor=s.cost_factor, removed=s.error_removed)
                                for s in A.crop_steps(models))
    return f"<li class='t3-steps'>{t('steps_one' if models == 1 else 'steps_many', models=models, steps=steps)}</li>"


def table3_html(costs: list[S.Table3Cost], macs: float, lang: str = "en") -> str:
    t = words(lang, "testtime")
    body = "".join(_row_html(c, t) for c in costs)
    base = costs[0].row
    wrong = "".join(
        "<li>" + t("wrong_delta", printed=c.row.printed_delta, models=c.row.models, crops=c.row.crops,
                   error=c.row.top5_error, base=base.top5_error, delta=c.delta) + "</li>"
        for c in costs if not c.delta_ok)
    return (TABLE_CSS + f"<table class='lesson-t1 t3'>{t('head')}{body}</table>"
            f"<ul class='t3-notes' style='margin:4px 0'>{wrong}{_steps_html(1, t)}{_steps_html(7, t)}"
            f"<li>{t('one_pass', macs=giga(macs))}</li></ul>")


class TestTimeCost(LessonSection):
    """The 144 crops of section 7, and Table 3 with multiply-adds per image."""

    __test__ = False  # not a pytest class
    name, title, css = "testtime", "d. What the test-time tricks cost", ("lesson-testtime",)

    def build(self):
        self.macs = S.default_table1().total_macs
        for key, value, most in FIELDS:
            self.number(key, self.t(f"field_{key}"), value, min=1, max=most, integer=True, width="60px")
        self.numbers = ipw.HTML()
        self.costs = S.table3_costs(self.macs)
        front = S.pareto_lines(self.costs)
        self.figure("cost", margin=LEGEND_ROOM, height=360, title=self.t("fig_title"),
                    xaxis=dict(type="log", title=self.t("axis_macs")), yaxis=dict(title=self.t("axis_error")))
        self.trace("cost", "lines", go.Scatter(
            name=self.t("trace_lines"), mode="markers+text", x=[c.macs_per_image for c in self.costs],
            y=[c.row.top5_error for c in self.costs], text=[f"{c.row.models}×{c.row.crops}" for c in self.costs],
            textposition="top right", marker=dict(size=11, color=palette.ORANGE),
            customdata=[self.t("hover_line", models=c.row.models, crops=c.row.crops, macs=giga(c.macs_per_image))
                        for c in self.costs],
            hovertemplate="%{customdata}<extra></extra>"))
        self.trace("cost", "front", go.Scatter(name=self.t("trace_front"), mode="lines",
                                               line=dict(color=palette.GREY, dash="dot"),
                                               x=[c.macs_per_image for c in front], y=[c.row.top5_error for c in front]))
        self.trace("cost", "setting", go.Scatter(name="", mode="lines", line=dict(color=palette.VERMILLION, width=2),
                                                 x=[self.macs, self.macs], y=list(A.error_span())))

    def update(self, changed):
        v = {k: int(self.controls[k].value) for k in FIELD_NAMES}
        plan = A.crop_plan(**v, macs_per_pass=self.macs)
        with self.drawing("cost"):
            self.tr("cost", "setting").update(x=[plan.macs, plan.macs],
                                              name=self.t("trace_setting", passes=plan.passes))
        self.numbers.value = stat_table([
            (self.t("row_crops"), f"{v['scales']} × {v['squares']} × {v['crops_per_square']} × {v['mirrors']} = "
                                  f"<b>{plan.crops}</b>"),
            (self.t("row_passes"), self.t("passes_value", crops=plan.crops, models=v["models"],
                                          passes=fmt_int(plan.passes))),
            (self.t("row_macs"), f"{fmt_int(plan.passes)} × {giga(self.macs)} = <b>{giga(plan.macs)}</b>"),
        ], "lesson-stats crop-table")

    def layout(self):
        grid = ipw.GridBox([self.controls[k].widget for k in FIELD_NAMES],
                           layout=ipw.Layout(grid_template_columns="repeat(3, max-content)", grid_gap="4px 18px"))
        return [ipw.HTML(table3_html(self.costs, self.macs, self.lang)), grid, self.status, self.numbers,
                self.figures["cost"]]


def test_time_view(lang: str = "en", **values) -> ipw.Widget:
    """Section d: the 144 crops and what each line of Table 3 costs per image
    (controls scales, squares, crops_per_square, mirrors, models)."""
    return TestTimeCost(lang=lang, **values).widget


test_time_view.__test__ = False
