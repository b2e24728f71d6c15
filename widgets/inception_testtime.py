"""Test-time cost in GoogLeNet (section 7): the 144 crops per image and what each line of Table 3 costs."""
from __future__ import annotations

import math
from dataclasses import dataclass

# ----------------------------------------------------------------------------------------------
# Test-time cost: the 144 crops and Table 3
# ----------------------------------------------------------------------------------------------
CROP_SCALES = (256, 288, 320, 352)  # shorter side of the resized image
CROP_SQUARES = ("left", "center", "right")  # or top/center/bottom for portrait images
CROP_PER_SQUARE = ("4 corners", "center", "whole square resized")  # 4 + 1 + 1 = 6 crops of 224x224
CROP_MIRRORS = 2


def test_time_crops(scales: int = 4, squares: int = 3, crops_per_square: int = 6, mirrors: int = 2) -> int:
    """Section 7: 4 scales x 3 squares x 6 crops x 2 mirrors = 144 crops per image."""
    for name, n in dict(scales=scales, squares=squares, crops_per_square=crops_per_square, mirrors=mirrors).items():
        if int(n) != n or n < 1:
            raise ValueError(f"{name} must be a whole number of at least 1, got {n}")
    return scales * squares * crops_per_square * mirrors


test_time_crops.__test__ = False  # a function of the maths, not a pytest test


@dataclass(frozen=True)
class Table3Row:
    models: int
    crops: int
    cost: int                 # printed "Cost" column: forward passes per image, relative to one
    top5_error: float         # percent
    printed_delta: float | None  # printed "compared to base", percentage points (None: "base")


PAPER_TABLE3: tuple[Table3Row, ...] = (
    Table3Row(1, 1, 1, 10.07, None),
    Table3Row(1, 10, 10, 9.15, -0.92),
    Table3Row(1, 144, 144, 7.89, -2.18),
    Table3Row(7, 1, 7, 8.09, -1.98),
    Table3Row(7, 10, 70, 7.62, -2.45),
    Table3Row(7, 144, 1008, 6.67, -3.45),
)


@dataclass
class Table3Cost:
    row: Table3Row
    forward_passes: int       # models x crops
    macs_per_image: float
    delta: float | None       # computed: error - base error (percentage points)
    delta_ok: bool            # does the printed delta equal the computed one?
    macs_per_point: float | None  # extra multiply-adds per image for each point of top-5 error gained


def table3_costs(macs_per_forward: float) -> list[Table3Cost]:
    """Each line of Table 3 with its multiply-adds per image and the price of each point of error.

    Assumes every model costs what one GoogLeNet costs (the ensemble's seven are the same network,
    one of them wider, so this is a slight underestimate for the 7-model lines).
    """
    base = PAPER_TABLE3[0]
    out = []
    for r in PAPER_TABLE3:
        passes = r.models * r.crops
        delta = None if r is base else round(r.top5_error - base.top5_error, 2)
        ok = r.printed_delta is None or abs(r.printed_delta - delta) < 0.005
        gain = base.top5_error - r.top5_error
        per_point = (passes - 1) * macs_per_forward / gain if gain > 0 else None
        out.append(Table3Cost(r, passes, passes * macs_per_forward, delta, ok, per_point))
    return out


def pareto_lines(costs: list[Table3Cost]) -> list[Table3Cost]:
    """The lines no other line beats on both cost and error, cheapest first."""
    ordered = sorted(costs, key=lambda c: c.macs_per_image)
    front, best = [], math.inf
    for c in ordered:
        if c.row.top5_error < best:
            front.append(c)
            best = c.row.top5_error
    return front
