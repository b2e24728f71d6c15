"""What lesson 4's sections share: the formatting of shapes and counts, colours, the tables' CSS, and
the words of Table 1's type column.

Numbers are formatted here the same way in every language (9,408; 128.0 M; 1.583 G); the words around
them come from the catalogue (widgets/views/locales/<lang>/inception.json).
"""
from __future__ import annotations

import re
from typing import Callable

from widgets import inception_stats as S
from widgets.views import i18n, palette
from widgets.views.section import Section

# Okabe-Ito (widgets/views/palette.py); text and cell colours follow the page's theme
BRANCH_COLORS = {"1x1": palette.BLUE, "3x3": palette.ORANGE, "5x5": palette.REDDISH_PURPLE, "pool": palette.BLUISH_GREEN}
VERDICT_STYLE = {S.MATCH: ("✓", palette.var("ok"), ""), S.SMALL: ("≈", palette.var("warn"), palette.var("warn-bg")),
                 S.DISAGREE: ("✗", palette.var("error"), palette.var("error-bg"))}
KIND_COLORS = {"convolution": palette.BLUE, "max pool": palette.GREY, "avg pool": palette.GREY, "dropout": "#bdbdbd",
               "inception": palette.ORANGE, "linear": palette.BLUISH_GREEN, "softmax": "#bdbdbd",
               "aux": palette.REDDISH_PURPLE}
LEGEND_ROOM = dict(l=55, r=20, t=50, b=45)  # title above; the legend goes under the plot (ui.figure)

TABLE_CSS = ("<style>\n"
             ".lesson-t1 {border-collapse:collapse;font-size:12px;font-variant-numeric:tabular-nums}\n"
             f".lesson-t1 th {{background:{palette.var('panel')};padding:3px 6px;"
             f"border-bottom:1px solid {palette.var('border')};text-align:center}}\n"
             f".lesson-t1 td {{padding:2px 6px;border-bottom:1px solid {palette.var('border')};text-align:right}}\n"
             ".lesson-t1 td.l {text-align:left}\n"
             f".lesson-t1 tr.inc td {{background:{palette.var('panel')}}}\n"
             ".lesson-t1 tr.total td {font-weight:bold;border-top:2px solid #999}\n"
             "</style>")


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
