"""What lesson 4's sections share: the formatting of shapes and counts, colours, the tables' CSS, and
the words of Table 1's type column.

Numbers are formatted here the same way in every language (9,408; 128.0 M; 1.583 G); the words around
them come from the catalogue (widgets/views/locales/<lang>/inception.json).
"""
from __future__ import annotations

import re
from typing import Callable

from widgets import inception_stats as S
from widgets.views import i18n
from widgets.views.section import Section

BRANCH_COLORS = {"1x1": "#4c78a8", "3x3": "#f58518", "5x5": "#e45756", "pool": "#72b7b2"}
VERDICT_STYLE = {S.MATCH: ("✓", "#1b5e20", ""), S.SMALL: ("≈", "#8a6d00", "#fff8e1"),
                 S.DISAGREE: ("✗", "#b00020", "#fdecea")}
KIND_COLORS = {"convolution": "#4c78a8", "max pool": "#9e9e9e", "avg pool": "#9e9e9e", "dropout": "#bdbdbd",
               "inception": "#f58518", "linear": "#54a24b", "softmax": "#bdbdbd", "aux": "#b279a2"}
LEGEND_ROOM = dict(l=55, r=20, t=85, b=45)  # title above, horizontal legend under it

TABLE_CSS = """<style>
.lesson-t1 {border-collapse:collapse;font-size:12px;font-variant-numeric:tabular-nums}
.lesson-t1 th {background:#f3f3f3;padding:3px 6px;border-bottom:1px solid #ccc;text-align:center}
.lesson-t1 td {padding:2px 6px;border-bottom:1px solid #eee;text-align:right}
.lesson-t1 td.l {text-align:left}
.lesson-t1 tr.inc td {background:#fffaf3}
.lesson-t1 tr.total td {font-weight:bold;border-top:2px solid #999}
</style>"""


def x(label: str) -> str:
    """Table 1 writes 3x3; the page writes 3×3."""
    return re.sub(r"(\d)x(\d)", r"\1×\2", label)


def shape(chw) -> str:
    """(C, H, W) as Table 1 writes it: H×W×C."""
    c, h, w = chw
    return f"{h}×{w}×{c}"


def giga(macs: float) -> str:
    return f"{macs / 1e9:,.3f} G"


def mega(macs: float) -> str:
    return f"{macs / 1e6:,.1f} M"


def words(lang: str, prefix: str) -> Callable[..., str]:
    """`t(key, **fields)`: the string `<prefix>.<key>` in `lang` (keys starting `inception.` or `common.` as given)."""
    def t(key: str, **fields) -> str:
        full = key if key.startswith(("inception.", "common.")) else f"{prefix}.{key}"
        return i18n.t(lang, full, **fields)
    return t


def type_label(lang: str, p: S.PaperRow) -> str:
    """Table 1's type column in `lang` ("max pool" -> 最大池化); an Inception row keeps the paper's name."""
    if p.kind == "inception":
        return x(p.label)
    kind = i18n.t(lang, f"inception.kind_{p.kind.replace(' ', '_')}")
    return x(p.label.replace(p.kind, kind, 1))


def row_label(lang: str, p: S.PaperRow) -> str:
    """A row as Table 1 names it: its type and, if any, its patch size/stride ("convolution 7×7/2")."""
    return f"{type_label(lang, p)} {x(p.patch)}".strip()


class LessonSection(Section):
    """A lesson 4 section: `self.t("inception.x")` is a word the lesson's sections share."""

    def t(self, key: str, **fields) -> str:
        if key.startswith("inception."):
            return i18n.t(self.lang, key, **fields)
        return super().t(key, **fields)
