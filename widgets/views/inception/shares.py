"""Section c, second part: each module's share of outputs (or of work) by branch. Does the 3×3 + 5×5
share grow with depth, as section 4 of the paper says it should?"""
from __future__ import annotations

import ipywidgets as ipw
import plotly.graph_objects as go

from widgets import inception_analysis as A
from widgets import inception_stats as S
from widgets.views import palette
from widgets.views.inception.common import BRANCH_COLORS, LEGEND_ROOM, LessonSection, words

BRANCHES = (("3x3", "3×3"), ("5x5", "5×5"), ("1x1", "1×1"), ("pool", "pool proj"))  # the paper's names
WHAT = ("ch", "macs")  # share of output channels, of multiply-adds (words: shares.what_<key>, shares.title_<key>)


def _short(module: str) -> str:
    return module.replace("inception", "")


def summary_html(s: A.ShareSummary, what: str, lang: str = "en") -> str:
    """The sentence under the plot; every clause follows from `s` (see inception_analysis.share_summary)."""
    t = words(lang, "shares")
    a, b = (_short(m) for m in s.longest_rise)
    kind = "steady" if s.monotonic else "rise"
    return "<div class='share-summary'>" + t(
        "summary", what=t(f"what_{what}"), first=s.first, m0=s.modules[0], last=s.last, m1=s.modules[-1],
        high=s.high, highest=t("and").join(s.highest), low=s.low, lowest=t("and").join(s.lowest),
        trend=t(f"trend_{kind}", a=a, b=b), paper=t(f"paper_{kind}", a=a, b=b)) + "</div>"


class BranchShareView(LessonSection):
    """Each module's share of outputs (or of work) by branch: does the 3×3 + 5×5 share grow with depth?"""

    name, title, css = "shares", "c. The 3×3 and 5×5 share, module by module", ("lesson-shares",)

    def build(self):
        self.shares = S.branch_shares(S.default_table1())
        self.choice("what", "", [(self.t(f"option_{k}"), k) for k in WHAT], "ch",
                    kind=ipw.ToggleButtons, style={"button_width": "190px"})
        self.figure("shares", margin=LEGEND_ROOM, height=340, barmode="stack", yaxis=dict(tickformat=".0%", range=[0, 1]),
                    title="")
        mods = [_short(m) for m in self.shares["module"]]
        for key, label in BRANCHES:
            self.trace("shares", key, go.Bar(name=label, x=mods, marker_color=BRANCH_COLORS[key]))
        self.trace("shares", "3x3+5x5", go.Scatter(name="3×3 + 5×5", x=mods, mode="lines+markers+text",
                                                   textposition="top center", line=dict(color=palette.INK),
                                                   texttemplate="%{y:.0%}"))
        self.summary = ipw.HTML()

    def update(self, changed):
        what = self.controls["what"].value
        s = A.share_summary(self.shares, what)
        with self.drawing("shares"):
            for key, _label in BRANCHES:
                self.tr("shares", key).y = self.shares[f"{what}_{key}"]
            self.tr("shares", "3x3+5x5").y = s.share
            self.figures["shares"].layout.title.text = self.t(f"title_{what}")
        self.summary.value = summary_html(s, what, self.lang)

    def layout(self):
        return [self.controls["what"].widget, self.figures["shares"], self.summary, self.status]


def branch_share_view(lang: str = "en", **values) -> ipw.Widget:
    """Section c: per-module share of 3×3 and 5×5 (channels or multiply-adds), measured on the model (control what)."""
    return BranchShareView(lang=lang, **values).widget
