"""What lesson 4's sections share: the formatting of shapes and counts, colours, and the tables' CSS."""
from __future__ import annotations

import re

from widgets import inception_stats as S

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
