"""The landing page: a card per lesson with its promise and a link, and the device in use."""
from __future__ import annotations

import html
from pathlib import Path

import ipywidgets as ipw

from widgets.bottleneck import NOTES_SHAPE, ConvShape, bottleneck_cost, direct_cost
from widgets.scaling import tanh_unit
from widgets.train import select_device

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def _promises() -> list[tuple[str, str, str]]:
    """Each card's one-line promise; its numbers come from the lessons' own maths."""
    sat = tanh_unit(0.1, 20.0)
    notes = ConvShape(**NOTES_SHAPE)
    return [
        ("01_feature_scaling", "Feature scaling and tanh saturation",
         f"Why tanh(0.1·20) = {sat.a:.3f} is a dead end for learning (its slope is {sat.dadz:.3f}), and why "
         "standardised inputs let gradient descent take big steps."),
        ("02_batch_norm", "Batch Normalization",
         "Normalise every layer's inputs per mini-batch: the statistics, the three-term gradient, inference "
         "averages, and what BN really buys."),
        ("03_bottleneck", "1×1 convolutions and the bottleneck",
         f"{direct_cost(notes).macs:,} multiplications become {bottleneck_cost(notes).macs:,}: the arithmetic, "
         "checked by PyTorch's FLOP counter and by the clock."),
        ("04_inception", "The Inception module and GoogLeNet",
         "The paper's Table 1, measured on a real model: where GoogLeNet's weights and multiply-adds go, and "
         "where the paper's own table disagrees with its columns."),
        ("05_live_training", "Train an Inception network live",
         "Train GoogLeNet on real digits, on the GPU when there is one, and watch loss and accuracy move."),
    ]


def _card(stem: str, title: str, promise: str) -> str:
    num = int(stem[:2])
    ready = (NOTEBOOKS / f"{stem}.ipynb").exists()
    link = (f"<a class='lesson-link' href='./{stem}.ipynb' target='_self' style='font-weight:600'>Open lesson {num} →</a>"
            if ready else "<span style='color:#888'>coming soon</span>")
    return (f"<div class='lesson-card' style='border:1px solid #ddd;border-radius:8px;padding:12px 16px;"
            f"margin:8px 0;max-width:820px'><div style='font-size:1.15em;font-weight:600'>{num}. {html.escape(title)}</div>"
            f"<div style='margin:6px 0;color:#333'>{html.escape(promise)}</div>{link}</div>")


def course_index() -> ipw.Widget:
    """The lesson cards and a banner naming the device training will use."""
    dev = select_device()[1]
    banner = ipw.HTML(f"<div class='device-banner' style='padding:8px 12px;background:#eef5ff;border-radius:6px;"
                      f"max-width:820px'><b>Device:</b> {html.escape(dev)}</div>")
    cards = ipw.HTML("".join(_card(*row) for row in _promises()))
    box = ipw.VBox([banner, cards])
    box.add_class("course-index")
    return box
