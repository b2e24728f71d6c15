"""The course's colours, chosen once: Okabe–Ito for everything drawn, and text colours per theme.

Okabe & Ito's eight colours ("Color Universal Design", 2008) stay distinct under the common
forms of colour blindness (protanopia, deuteranopia, tritanopia); red against green, which
about 1 man in 12 cannot tell apart, is never used to tell two things apart. Colour is
never the only cue either: two traces that are compared (raw vs standardised, without vs
with BN, …) also differ in dash and marker (`FIRST`, `SECOND`).

Text colours are CSS custom properties (`var(--course-muted, #555555)`): the page's stylesheet
(widgets/views/theme.py, installed by the page bridge) gives them their light or dark value,
and the fallback after the comma is the light value, for a page without the bridge.
`contrast()` is WCAG 2's contrast ratio; tests/test_theme.py holds every text colour to AA
(4.5:1) on both themes' backgrounds.

This module is plain data: no plotly, no ipywidgets.
"""
from __future__ import annotations

from dataclasses import dataclass

# --------------------------------------------------------------------------- Okabe–Ito
BLACK = "#000000"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
BLUISH_GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
REDDISH_PURPLE = "#CC79A7"
OKABE_ITO = (BLACK, ORANGE, SKY_BLUE, BLUISH_GREEN, YELLOW, BLUE, VERMILLION, REDDISH_PURPLE)

GREY = "#8C8C8C"   # "everything else" (bars that are not the point); 3.3:1 on white, 5.2:1 on #212121

# The order plotly gives traces that name no colour: the two colours with the most contrast in
# both themes first; yellow (1.3:1 on white) last.
COLORWAY = (BLUE, VERMILLION, BLUISH_GREEN, REDDISH_PURPLE, ORANGE, SKY_BLUE, GREY, YELLOW)

# "The current point" and other marks drawn in the text colour: black on a light page, near-white
# on a dark one (widgets/views/theme.py swaps one for the other when the page's theme changes).
INK = BLACK
INK_DARK = "#F0F0F0"

# A translucent band behind a curve (lesson 1's saturated region): visible on both backgrounds.
BAND = "rgba(213, 94, 0, 0.14)"   # VERMILLION at 14 %


def rgba(color: str, alpha: float) -> str:
    """'#0072B2', 0.3 -> 'rgba(0, 114, 178, 0.3)'."""
    r, g, b = _rgb(color)
    return f"rgba({r}, {g}, {b}, {alpha:g})"


# --------------------------------------------------------------------------- two compared cases
@dataclass(frozen=True)
class Cue:
    """How one of two compared cases is drawn: a colour and a second cue (dash, marker symbol)."""

    color: str
    dash: str
    symbol: str

    def line(self, width: float = 2, **kw) -> dict:
        return dict(color=self.color, dash=self.dash, width=width, **kw)

    def marker(self, size: float = 8, **kw) -> dict:
        return dict(color=self.color, symbol=self.symbol, size=size, **kw)


FIRST = Cue(VERMILLION, "solid", "circle")   # the case the lesson starts from: raw, plain, without
SECOND = Cue(BLUE, "dash", "square")         # the case it leads to: standardised, with BN, with


# --------------------------------------------------------------------------- text, per theme
# role -> (light, dark). Backgrounds: JupyterLab's and Voilà's --jp-layout-color0/1
# (white / #111111 and #212121) and the course's panels.
TEXT = {
    "text": ("#1F1F1F", "#E6E6E6"),
    "muted": ("#555555", "#B3B3B3"),
    "error": ("#B00020", "#FF8A80"),
    "ok": ("#1B5E20", "#81C784"),
    "warn": ("#8A4B00", "#FFB74D"),
    "link": ("#0B57A4", "#8AB4F8"),
}
SURFACE = {
    "panel": ("#F5F7FA", "#2A2D31"),     # a box that stands out from the page (banner, note)
    "border": ("#CCCCCC", "#5A5A5A"),
    "focus": ("#0072B2", "#56B4E9"),      # the focus ring (3:1 or more against the page)
    "error-bg": ("#FDECEA", "#3B1E1E"),   # behind a row or cell that disagrees
    "warn-bg": ("#FFF8E1", "#3A3220"),    # behind a row or cell that is close but not equal
}
# Every text colour is held to AA on each of these (tests/test_theme.py).
BACKGROUNDS = {"light": ("#FFFFFF", "#F5F7FA", "#FDECEA", "#FFF8E1"),
               "dark": ("#111111", "#212121", "#2A2D31", "#3B1E1E", "#3A3220")}
THEMES = ("light", "dark")


def value(role: str, theme: str = "light") -> str:
    """The colour of `role` ('muted', 'error', 'panel', …) in `theme`."""
    pair = TEXT.get(role) or SURFACE[role]
    return pair[THEMES.index(theme)]


def var(role: str) -> str:
    """CSS for `role`'s colour that follows the page's theme: 'var(--course-muted, #555555)'."""
    return f"var(--course-{role}, {value(role, 'light')})"


def css_variables() -> str:
    """The custom properties behind `var()`: light on :root, dark where the page says it is dark."""
    def block(theme: str) -> str:
        return ";".join(f"--course-{r}:{value(r, theme)}" for r in (*TEXT, *SURFACE))

    return (f":root{{{block('light')}}}\n"
            f"body[data-jp-theme-light='false'],body.course-dark{{{block('dark')}}}\n")


# --------------------------------------------------------------------------- WCAG contrast
def _rgb(color: str) -> tuple[int, int, int]:
    h = color.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    if len(h) != 6:
        raise ValueError(f"not a #rrggbb colour: {color!r}")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def luminance(color: str) -> float:
    """WCAG 2 relative luminance of '#rrggbb'."""
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in _rgb(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(fg: str, bg: str) -> float:
    """WCAG 2 contrast ratio, 1 to 21 (AA asks 4.5 for text, 3 for large text and graphics)."""
    hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)
