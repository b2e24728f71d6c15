"""Section b: the naive Inception module (Figure 2a) against the one with 1×1 reductions (Figure 2b),
for a Table 1 row or typed sizes, and N of them stacked at one resolution."""
from __future__ import annotations

from typing import Callable

import ipywidgets as ipw
import plotly.graph_objects as go

from widgets import inception_analysis as A
from widgets import inception_stats as S
from widgets.ui import fmt_int, stat_table
from widgets.views import palette
from widgets.views.inception.common import LEGEND_ROOM, LessonSection, mega

FIELD_NAMES = A.EXPLORER_FIELDS  # in_channels, side, then Table 1's columns
# Table 1's column names stay as the paper prints them in every language; the first two are words.
COLUMN_LABELS = {"ch1x1": "#1×1", "ch3x3red": "#3×3 reduce", "ch3x3": "#3×3", "ch5x5red": "#5×5 reduce",
                 "ch5x5": "#5×5", "pool_proj": "pool proj"}
INCEPTION_LABELS = [(f"inception ({n[-2:]})", n) for n in S.INCEPTION_NAMES]
CUSTOM = "custom"  # the row value when the sizes are typed (shown as "custom (typed)")
METRICS = {"macs": 1e6, "weights": 1e3, "out_channels": 1}  # the plotted unit (words: explorer.metric_<key>)


class ModuleExplorer(LessonSection):
    """Naive against reduced, for a Table 1 row or typed sizes, and N of them stacked."""

    name, title, css = "explorer", "b. Why the 1×1 reductions: the module explorer", ("lesson-explorer",)
    DEFAULT_ROW = "inception3a"

    def build(self):
        self.measured = S.default_table1()
        self._loading = False  # True while a row's sizes are being copied into the fields
        self.choice("row", self.t("row"), INCEPTION_LABELS + [(self.t("row_custom"), CUSTOM)], self.DEFAULT_ROW)
        d = S.explorer_defaults(self.measured, self.DEFAULT_ROW)
        for k in FIELD_NAMES:
            label = COLUMN_LABELS.get(k) or self.t(f"field_{k}")
            self.number(k, label, d[k], min=1, max=512 if k == "side" else 4096, integer=True, width="70px")
        self.choice("metric", "", [(self.t(f"metric_{k}"), k) for k in METRICS], "macs", kind=ipw.ToggleButtons,
                    style={"button_width": "130px"})
        self.slider("n", self.t("n"), 4, 1, 9, 1, kind=ipw.IntSlider)
        self.numbers, self.stack_numbers = ipw.HTML(), ipw.HTML()
        self.figure("module", margin=LEGEND_ROOM, height=330, width=760, barmode="group",
                    xaxis_title=self.t("axis_branch"), title="")
        branches = [self.t(f"branch_{b}") for b in ("1x1", "3x3", "5x5", "pool")]
        for key, color, pattern in (("naive", palette.GREY, "/"), ("reduced", palette.ORANGE, "")):  # colour + pattern
            self.trace("module", key, go.Bar(name=self.t(f"trace_{key}"), x=branches,
                                             marker=dict(color=color, pattern_shape=pattern)))
        stage = self.t("axis_stage")
        self.figure("stack", margin=LEGEND_ROOM, height=370, title=self.t("stack_title"),
                    xaxis=dict(domain=[0, 0.44], title=stage, dtick=1),
                    xaxis2=dict(domain=[0.56, 1], title=stage, anchor="y2", dtick=1),
                    yaxis=dict(title=self.t("axis_channels"), rangemode="tozero"),
                    yaxis2=dict(title=self.t("axis_cumulative"), anchor="x2", rangemode="tozero"))
        for key, color, symbol in (("naive", palette.GREY, "x"), ("reduced", palette.ORANGE, "circle")):
            self.trace("stack", f"{key}_channels", go.Scatter(name=self.t(f"trace_{key}_channels"),
                                                              mode="lines+markers", line=dict(color=color),
                                                              marker=dict(symbol=symbol),
                                                              legendgroup=key))
            self.trace("stack", f"{key}_cost", go.Scatter(name=self.t(f"trace_{key}_cost"), mode="lines+markers",
                                                          xaxis="x2", yaxis="y2", legendgroup=key,
                                                          line=dict(color=color, dash="dot"),
                                                          marker=dict(symbol=symbol)))

    def spec(self) -> dict[str, int]:
        return {k: int(self.controls[k].value) for k in FIELD_NAMES}

    # ---- the row and the fields keep each other in step
    def set_values(self, values):
        """The row first (it fills the fields), then the fields (typed sizes make the row 'custom')."""
        values, ignored = dict(values), []
        if "row" in values:
            ignored = super().set_values({"row": values.pop("row")})
            self._load_row()
        ignored += super().set_values(values)
        self._follow_fields()
        return ignored

    def changed_values(self):
        """A Table 1 row implies its sizes: a link names the row alone, or the row 'custom' and the sizes."""
        changed = super().changed_values()
        if self.controls["row"].value != CUSTOM:
            for k in FIELD_NAMES:
                changed.pop(k, None)
        return changed

    def _load_row(self) -> None:
        name = self.controls["row"].value
        if name == CUSTOM:
            return
        d = S.explorer_defaults(self.measured, name)
        self._loading = True
        try:
            for k in FIELD_NAMES:
                self.controls[k].set(d[k])
        finally:
            self._loading = False

    def _follow_fields(self) -> None:
        row = self.controls["row"]
        if row.value != CUSTOM and S.explorer_defaults(self.measured, row.value) != self.spec():
            row.widget.value = CUSTOM

    def update(self, changed):
        if self._loading:
            return
        if changed == "row":
            if self.controls["row"].value == CUSTOM:
                return  # the fields already hold the typed sizes
            self._load_row()
        elif changed in FIELD_NAMES:
            self._follow_fields()
        if changed != "n":
            self._draw_module()
        if changed != "metric":
            self._draw_stack()

    # ---- drawing
    def _draw_module(self) -> None:
        s = self.spec()
        cmp = A.compare_module(**s)
        key = self.controls["metric"].value
        scale = METRICS[key]
        hover = "%{x}: %{customdata}<extra>%{fullData.name}</extra>"
        with self.drawing("module"):
            for name, costs in (("naive", cmp.naive), ("reduced", cmp.reduced)):
                vals = [getattr(b, key) for b in costs]
                self.tr("module", name).update(y=[v / scale for v in vals], customdata=[fmt_int(v) for v in vals],
                                               hovertemplate=hover)
            layout = self.figures["module"].layout
            layout.yaxis.title = self.t(f"unit_{key}")
            layout.title.text = self.t("module_title", metric=self.t(f"metric_{key}"), side=s["side"],
                                       cin=s["in_channels"])
        self.numbers.value = _module_numbers(cmp, s["in_channels"], self.t)

    def _draw_stack(self) -> None:
        st = A.stack(int(self.controls["n"].value), **self.spec())
        with self.drawing("stack"):
            for key, out, cum in (("naive", st.naive_out, st.naive_cumulative),
                                  ("reduced", st.reduced_out, st.reduced_cumulative)):
                self.tr("stack", f"{key}_channels").update(x=st.stage, y=out)
                self.tr("stack", f"{key}_cost").update(x=st.stage, y=[c / 1e9 for c in cum])
        n = len(st.stage)
        one = "_one" if n == 1 else ""
        self.stack_numbers.value = stat_table([
            (self.t(f"after_naive{one}", n=n), self.t("after_value", channels=fmt_int(st.naive_out[-1]),
                                                      gmacs=st.naive_cumulative[-1] / 1e9)),
            (self.t(f"after_reduced{one}", n=n), self.t("after_value", channels=fmt_int(st.reduced_out[-1]),
                                                        gmacs=st.reduced_cumulative[-1] / 1e9)),
            (self.t("row_ratio"), self.t("ratio_value", ratio=st.ratio)),
        ], "lesson-stats stack-table")

    def layout(self):
        c = self.controls
        grid = ipw.GridBox([c[k].widget for k in FIELD_NAMES],
                           layout=ipw.Layout(grid_template_columns="repeat(4, max-content)", grid_gap="4px 18px"))
        return [c["row"].widget, grid, self.status, c["metric"].widget,
                ipw.HBox([self.figures["module"], self.numbers], layout=ipw.Layout(align_items="center")),
                c["n"].widget, self.figures["stack"], self.stack_numbers]


def _saving(branch: str, saved: int, t: Callable[..., str]) -> tuple[str, str]:
    """A reduction usually saves work; one wider than its input adds some (the sign decides the words)."""
    return (t("reduce_saves", branch=branch), mega(saved)) if saved >= 0 else \
        (t("reduce_adds", branch=branch), mega(-saved))


def _module_numbers(cmp: A.ModuleComparison, in_channels: int, t: Callable[..., str]) -> str:
    ns, rs = cmp.naive_total, cmp.reduced_total
    return ("<div class='explorer-numbers' style='min-width:330px'>" + stat_table([
        ("", t("numbers_head")),
        (t("row_out_channels"), f"{fmt_int(ns['out_channels'])} / {fmt_int(rs['out_channels'])}"),
        (t("row_weights"), f"{fmt_int(ns['weights'])} / {fmt_int(rs['weights'])}"),
        (t("row_macs"), f"{mega(ns['macs'])} / {mega(rs['macs'])}"),
        (t("row_naive_costs"), t("naive_costs_value", ratio=cmp.ratio)),
        _saving("3×3", cmp.saved_3x3, t),
        _saving("5×5", cmp.saved_5x5, t),
    ], "lesson-stats explorer-table") +
        f"<small>{t('pool_note', n=fmt_int(in_channels))}</small></div>")


def module_explorer_view(lang: str = "en", **values) -> ipw.Widget:
    """Section b: naive against reduced Inception module, branch by branch, and stacked N times
    (controls row, in_channels, side, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj, metric, n)."""
    return ModuleExplorer(lang=lang, **values).widget
