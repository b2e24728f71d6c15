"""Parts lesson 2's sections share: colours, tables, sentences in the page's language, a data line, the
base class with the lesson's look, and the figures the training sections build on first use.

Words: each section's strings are `<section name>.<key>` in widgets/views/locales/<lang>/batch_norm.json;
the words the sections share (the data line, the networks' names, the progress line) are `bn.<key>`.
"""
from __future__ import annotations

import html
import math
import re
from typing import Callable

import ipywidgets as ipw

from widgets import ui
from widgets.bn_analysis import Num, Said, num
from widgets.progress import from_progress
from widgets.views import i18n, palette
from widgets.views.section import Section

BLUE, ORANGE, GREEN, RED, GREY, PURPLE = (palette.BLUE, palette.ORANGE, palette.BLUISH_GREEN, palette.VERMILLION,
                                          palette.GREY, palette.REDDISH_PURPLE)   # Okabe-Ito
VARIANT_COLORS = {"plain": RED, "BN": BLUE, "BN + noise": GREEN}
# the compared networks' second cue (colour is never the only one): a line's dash, a point's marker, a bar's pattern
VARIANT_DASH = {"plain": "solid", "BN": "dash", "BN + noise": "dot"}
VARIANT_SYMBOL = {"plain": "circle", "BN": "square", "BN + noise": "diamond"}
VARIANT_PATTERN = {"plain": "", "BN": "/", "BN + noise": "."}
NET_KEYS = {"plain": "net_plain", "BN": "net_bn", "BN + noise": "net_noise"}   # bn_training's names -> bn.<key>
WIDE = dict(legend=ui.LEGEND_BELOW, margin=dict(l=55, r=20, t=60, b=45))   # legend under the plots, clear of titles


class Word(str):
    """Text put into a sentence as it is, whatever format spec the sentence gives that field."""

    def __format__(self, spec: str) -> str:
        return str(self)


def say(lang: str, prefix: str, said: Said) -> str:
    """A widgets.bn_analysis sentence (kind, fields) in `lang`: the catalogue's `<prefix>.<kind>` with its
    fields filled in (a nested sentence first; a measured NaN as the word for it). Plain text with
    the sentences' **bold** / *italic* markup: `md` makes it HTML."""
    kind, fields = said
    shown = {}
    for key, v in fields.items():
        if isinstance(v, tuple):
            v = Word(say(lang, prefix, v))
        elif isinstance(v, Num) and math.isnan(v):
            v = Word(i18n.t(lang, "bn.diverged"))
        shown[key] = v
    return i18n.t(lang, f"{prefix}.{kind}", **shown)


def md(text: str) -> str:
    """A sentence as HTML: escaped, then **bold** and *italic*."""
    s = html.escape(text, quote=False)
    s = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", s)
    return re.sub(r"\*(.+?)\*", r"<i>\1</i>", s)


def table(rows) -> str:
    """ui.stat_table with the numbers kept on one line."""
    return ui.stat_table(rows).replace("font-family:monospace'", "font-family:monospace;white-space:nowrap'")


def split_size(split: str) -> str:
    from widgets.data import digits

    return f"{len(digits(split)[1]):,}"


# bn_training's progress lines: "plain: step 25/300", and in a sweep "lr 0.3, BN: step 25/150"
_PROGRESS = re.compile(r"^(?:(?P<field>\w+) (?P<value>[^,]+), )?(?P<net>[^:]+): step (?P<step>\d+)/(?P<steps>\d+)$")


class BNSection(Section):
    """A lesson-2 section: its title as a heading in a light bordered box (the look the lesson had),
    and the lesson's ways of putting words and numbers on the page in its language."""

    heading = True
    framed = True

    def shared(self, key: str, **fields) -> str:
        """A word the lesson's sections share (`bn.<key>`), in the page's language."""
        return i18n.t(self.lang, f"bn.{key}", **fields)

    def net(self, name: str) -> str:
        """A network's name (bn_training's "plain", "BN", "BN + noise") in the page's language."""
        return self.shared(NET_KEYS[name])

    def num(self, v: float | None, digits: int = 4) -> str:
        """bn_analysis.num, with a NaN (a diverged run) said in the page's language."""
        return self.shared("diverged") if v is not None and math.isnan(v) else num(v, digits)

    def say(self, said: Said) -> str:
        """A widgets.bn_analysis sentence of this section, as HTML in the page's language."""
        return md(say(self.lang, self.name, said))

    def sentences(self, saids) -> str:
        return ("<div style='margin-top:4px;max-width:1100px'>" + self.shared("sentence_join").join(
            self.say(s) for s in saids) + "</div>")

    def data_line(self, key: str, **fields) -> ipw.HTML:
        """One grey line saying which digits the section uses (split names and sizes from widgets.data.digits)."""
        text = self.shared("data", text=self.t(key, **fields))
        return ipw.HTML(f"<div class='bn-data' style='color:{palette.var('muted')};font-size:0.9em'>{html.escape(text, quote=False)}</div>")

    def training_data_line(self) -> ipw.HTML:
        text = self.shared("data", text=self.shared("training_data", train=split_size("train"),
                                                    test=split_size("test")))
        return ipw.HTML(f"<div class='bn-data' style='color:{palette.var('muted')};font-size:0.9em'>{html.escape(text, quote=False)}</div>")

    def progress_text(self, text: str) -> str:
        """A bn_training progress line in the page's language (as it came, if it has another shape)."""
        m = _PROGRESS.match(text)
        if m is None or m["net"] not in NET_KEYS:
            return text
        f = dict(net=self.net(m["net"]), step=m["step"], steps=m["steps"])
        if m["field"] is None:
            return self.shared("progress", **f)
        return self.shared("progress_sweep", field=m["field"], value=m["value"], **f)

    def progress(self, progress: Callable[[float, str], None]):
        """A widgets.progress callback that shows the run's progress through `progress`, in the page's language."""
        return from_progress(lambda fraction, text="": progress(fraction, self.progress_text(text) if text else text))


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
            f"<div style='border:1px dashed {palette.var('border')};color:{palette.var('muted')};padding:18px;"
            "margin:6px 0;font-size:1.05em'>"
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
            self.box.children = [fig]
        return self.section.figures[self.name]
