"""Helpers for building a lesson's sections in this process, without a browser or a kernel.

Shared by the tests that need a whole lesson page as its notebook makes it (test_links.py,
test_one_message_per_press.py). benchmarks/redraw_cost.py keeps its own copy: with --ref it runs
against an older commit's `widgets`, which these helpers must not depend on.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import ipywidgets as ipw

from widgets.views import page

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SLIDERS = (ipw.FloatSlider, ipw.IntSlider, ipw.FloatLogSlider)


def build_lesson(stem: str, header: bool = True) -> list:
    """The lesson's sections, each of its code cells run in order as the kernel runs them.
    `header=False` leaves out the cell that calls page_header() (then no section is lazy)."""
    page.reset()
    for cell in json.loads((NOTEBOOKS / f"{stem}.ipynb").read_text())["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and (header or "page_header" not in source):
            exec(source, {})
    return page.sections()


def one_step(w: ipw.Widget) -> float:
    """The value one arrow press moves slider `w` to: up, or down at its top (a log slider's step
    is in its exponent)."""
    if isinstance(w, ipw.FloatLogSlider):
        e = math.log(w.value, w.base)
        e = e + w.step if e + w.step <= w.max + 1e-9 else e - w.step
        return float(f"{w.base ** e:.12g}")
    return w.value + w.step if w.value + w.step <= w.max else w.value - w.step
