"""Colours and boxes shared by lesson 3's sections."""
from __future__ import annotations

from widgets.views import palette

DIRECT_COLOR = palette.VERMILLION   # the k×k convolution applied directly (red)
REDUCE_COLOR = palette.REDDISH_PURPLE   # the 1×1 bottleneck
CONV_COLOR = palette.BLUE     # the k×k convolution after the bottleneck
NOTE_STYLE = f"background:{palette.var('warn-bg')};border-left:4px solid #f9a825;padding:6px 10px;margin:6px 0"
BOX_STYLE = f"background:{palette.var('panel')};border-left:4px solid #90a4ae;padding:6px 10px;margin:6px 0"


def boxed(html_text: str, style: str = BOX_STYLE, css_class: str = "") -> str:
    """`html_text` (already escaped) in the lesson's grey (or yellow, NOTE_STYLE) box."""
    cls = f" class='{css_class}'" if css_class else ""
    return f"<div style='{style}'{cls}>{html_text}</div>"
