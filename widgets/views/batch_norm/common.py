"""Parts lesson 2's sections share: colours, tables, sentences as HTML, a data line, the base class
with the lesson's look, and the figures the training sections build on first use."""
from __future__ import annotations

import html
import re
from typing import Callable

import ipywidgets as ipw

from widgets import ui
from widgets.views.section import Section

BLUE, ORANGE, GREEN, RED, GREY, PURPLE = "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#7f7f7f", "#9467bd"
VARIANT_COLORS = {"plain": RED, "BN": BLUE, "BN + noise": GREEN}
WIDE = dict(legend=dict(orientation="h", yanchor="bottom", y=1.1, x=0), margin=dict(l=55, r=20, t=105, b=45))


class BNSection(Section):
    """A lesson-2 section: its title as a heading in a light bordered box (the look the lesson had)."""

    heading = True
    framed = True


def table(rows) -> str:
    """ui.stat_table with the numbers kept on one line."""
    return ui.stat_table(rows).replace("font-family:monospace'", "font-family:monospace;white-space:nowrap'")


def md(text: str) -> str:
    """A widgets.bn_analysis sentence as HTML: escaped, then **bold** and *italic*."""
    s = html.escape(text, quote=False)
    s = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", s)
    return re.sub(r"\*(.+?)\*", r"<i>\1</i>", s)


def sentences(parts) -> str:
    return "<div style='margin-top:4px;max-width:1100px'>" + " ".join(md(p) for p in parts) + "</div>"


def data_line(text: str) -> ipw.HTML:
    """One grey line saying which digits a section uses (split names and sizes from widgets.data.digits)."""
    return ipw.HTML(f"<div class='bn-data' style='color:#555;font-size:0.9em'>Data: {html.escape(text, quote=False)}</div>")


def split_size(split: str) -> str:
    from widgets.data import digits

    return f"{len(digits(split)[1]):,}"


def training_data_line() -> ipw.HTML:
    return data_line(f"trained on the {split_size('train')} training digits (split \"train\" of widgets.data.digits, "
                     f"the lesson-5 split), accuracy on the {split_size('test')} held-out digits (split \"test\").")


def placeholder(fig, text: str) -> None:
    """A 'press the button' note in an empty figure (kept apart from subplot titles, which are annotations too)."""
    fig.add_annotation(text=text, xref="paper", yref="paper", x=0.5, y=0.5, showarrow=False,
                       font=dict(size=16, color="#555"), name="placeholder", bgcolor="rgba(255,255,255,0.85)")


def clear_placeholder(fig, name: str = "placeholder") -> None:
    fig.layout.annotations = [a for a in fig.layout.annotations if a.name != name]


def setup_torch() -> None:
    import torch

    torch.set_num_threads(1)          # one core per run: the machine is shared, and small nets don't gain from more
    torch.set_flush_denormal(True)    # a vanishing-gradient net otherwise crawls through denormal floats


def rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    return f"rgba({int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha})"


class LazyFigure:
    """A section's figure built on first use; until then a "press the button" line stands in its place.

    Why: the training sections have nothing to draw before a run, and every FigureWidget created at
    page load costs the kernel time to build (plotly's validation of its subplots and traces) and the
    browser time to lay it out and draw it, on a 2-core machine shared with the kernel. Building these
    three on the first press leaves five figures (sections a-e) to create at page load instead of eight.
    (plotly is pinned to 5.24, whose FigureWidget is not an anywidget: see widgets/ui.py's figure().)
    """

    def __init__(self, section: Section, name: str, build: Callable[[], None], placeholder_html: str):
        self.section, self.name, self._build = section, name, build
        self.placeholder = ipw.HTML(
            "<div style='border:1px dashed #bbb;color:#555;padding:18px;margin:6px 0;font-size:1.05em'>"
            f"{placeholder_html}</div>")
        self.box = ipw.VBox([self.placeholder], layout=ipw.Layout(width="100%"))

    @property
    def built(self) -> bool:
        return self.name in self.section.figures

    def get(self):
        """The figure, built (once, by `build`, which registers it with the section) and put in place of
        the placeholder. Call from the kernel's main thread, before the run that draws into it starts."""
        if not self.built:
            self._build()
            fig = self.section.figures[self.name]
            fig.layout.width = 1280   # built after the page is laid out: autosize would pick a narrow width
            self.box.children = [fig]
        return self.section.figures[self.name]
