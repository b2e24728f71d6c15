"""Section c, second part: each module's share of outputs (or of work) by branch. Does the 3×3 + 5×5
share grow with depth, as section 4 of the paper says it should?"""
from __future__ import annotations

import ipywidgets as ipw
import plotly.graph_objects as go

from widgets import inception_analysis as A
from widgets import inception_stats as S
from widgets.views.inception.common import BRANCH_COLORS, LEGEND_ROOM
from widgets.views.section import Section

BRANCHES = (("3x3", "3×3"), ("5x5", "5×5"), ("1x1", "1×1"), ("pool", "pool proj"))
WHAT = {"ch": ("output channels", "Share of each module's output channels by branch"),
        "macs": ("multiply-adds", "Share of each module's multiply-adds by branch (reductions included)")}


def _short(module: str) -> str:
    return module.replace("inception", "")


def _names(modules: list[str]) -> str:
    return " and ".join(modules)


def summary_html(s: A.ShareSummary, what: str) -> str:
    """The sentence under the plot; every clause follows from `s` (see inception_analysis.share_summary)."""
    a, b = (_short(m) for m in s.longest_rise)
    if s.monotonic:
        trend = "it never falls from one module to the next, as section 4 says it should"
        paper = "its own Table 1 bears that out"
    else:
        trend = (f"its longest steady rise runs from {a} to {b}; over the whole network it does <b>not</b> "
                 "rise steadily")
        paper = f"its own Table 1 bears that out from {a} to {b}, not across the network"
    return (f"<div class='share-summary'>3×3 + 5×5 share of the {WHAT[what][0]}: {s.first:.1%} in "
            f"{s.modules[0]}, {s.last:.1%} in {s.modules[-1]}; highest {s.high:.1%} ({_names(s.highest)}), "
            f"lowest {s.low:.1%} ({_names(s.lowest)}). Going deeper, {trend}. The paper's section 4 says the "
            f"ratio of 3×3 and 5×5 “should increase as we move to higher layers”; {paper}.</div>")


class BranchShareView(Section):
    """Each module's share of outputs (or of work) by branch: does the 3×3 + 5×5 share grow with depth?"""

    name, title, css = "shares", "c. The 3×3 and 5×5 share, module by module", ("lesson-shares",)

    def build(self):
        self.shares = S.branch_shares(S.default_table1())
        self.choice("what", "", [("share of output channels", "ch"), ("share of multiply-adds", "macs")], "ch",
                    kind=ipw.ToggleButtons, style={"button_width": "190px"})
        self.figure("shares", margin=LEGEND_ROOM, height=340, barmode="stack", yaxis=dict(tickformat=".0%", range=[0, 1]),
                    title="Branch shares per Inception module")
        mods = [_short(m) for m in self.shares["module"]]
        for key, label in BRANCHES:
            self.trace("shares", key, go.Bar(name=label, x=mods, marker_color=BRANCH_COLORS[key]))
        self.trace("shares", "3x3+5x5", go.Scatter(name="3×3 + 5×5", x=mods, mode="lines+markers+text",
                                                   textposition="top center", line=dict(color="black"),
                                                   texttemplate="%{y:.0%}"))
        self.summary = ipw.HTML()

    def update(self, changed):
        what = self.controls["what"].value
        s = A.share_summary(self.shares, what)
        with self.drawing("shares"):
            for key, _label in BRANCHES:
                self.tr("shares", key).y = self.shares[f"{what}_{key}"]
            self.tr("shares", "3x3+5x5").y = s.share
            self.figures["shares"].layout.title.text = WHAT[what][1]
        self.summary.value = summary_html(s, what)

    def layout(self):
        return [self.controls["what"].widget, self.figures["shares"], self.summary, self.status]


def branch_share_view(**values) -> ipw.Widget:
    """Section c: per-module share of 3×3 and 5×5 (channels or multiply-adds), measured on the model (control what)."""
    return BranchShareView(**values).widget
