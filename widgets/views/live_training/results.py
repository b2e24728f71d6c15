"""After a run: the confusion matrix, the test images with mistakes first, and 1- vs 10-crop evaluation."""
from __future__ import annotations

import html
import math

import ipywidgets as ipw
import numpy as np
import plotly.graph_objects as go
from _plotly_utils.data_utils import image_array_to_data_uri   # what plotly.express.imshow(binary_string=True) uses

from widgets import data as D
from widgets import train as T
from widgets import ui
from widgets.views import lazy, page, palette
from widgets.views.section import Section

GRID_COLS, GRID_ROWS = 12, 3
# Wrong and right differ in three ways, so colour is never the only cue (issue 17): the frame
# (Okabe-Ito vermillion / blue, never red against green), a mark before the label (✗ / ✓), and
# the label's colour (the course's error text and link-blue text, AA on the tiles' white label rows).
WRONG, RIGHT = palette.VERMILLION, palette.BLUE
MARKS = {False: "✗", True: "✓"}
LABEL_COLORS = {False: palette.value("error"), True: palette.value("link")}


def rgb(color: str) -> tuple[int, int, int]:
    h = color.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def tile_label(pred: str, true: str, ok: bool) -> str:
    """A tile's label: its mark (✓ right, ✗ wrong), then predicted/true."""
    return f"{MARKS[ok]} {pred[:5]}/{true[:5]}"


class Results:
    """The results figures of section `s` ("confusion", "grid", "crops") and their table. On a lesson
    page the figures are made when they come into view (lazy.Deferred): they sit below the live charts,
    and the page opens without them; the table and its title are written at once."""

    def __init__(self, s: Section):
        self.s = s
        self.title = ipw.HTML(f"<i>{html.escape(s.t('results_wait'))}</i>")
        self.numbers = ipw.HTML("")
        self.figures = lazy.Deferred(s, self._make_figures, when_seen=page.lazy, min_height=700)
        self.widget = ipw.VBox([self.title, self.figures.box])

    def _make_figures(self) -> list[ipw.Widget]:
        s, t = self.s, self.s.t
        s.figure("confusion", 380, title=t("fig_confusion"), xaxis_title=t("axis_predicted"), yaxis_title=t("axis_true"),
                 yaxis_autorange="reversed", legend=None, width=430,
                 xaxis=dict(type="category", side="bottom"), yaxis=dict(type="category"))
        s.trace("confusion", "counts", go.Heatmap(z=[[0]], x=["0"], y=["0"], colorscale="Blues", showscale=False,
                                                  texttemplate="%{z}",
                                                  hovertemplate=t("hover_confusion") + "<extra></extra>"))
        # Its final height at once: a later relayout of the height makes plotly.js freeze the width it had
        # (the grid stayed 1300 px wide on a 414 px screen).
        s.figure("grid", 60 + GRID_ROWS * 110, title=t("fig_grid"),
                 margin=dict(l=5, r=5, t=40, b=5))
        s.trace("grid", "tiles", go.Image(source=png_source(np.full((1, 1, 3), 255, np.uint8)), hoverinfo="skip"))
        s.figures["grid"].update_xaxes(visible=False)
        s.figures["grid"].update_yaxes(visible=False, scaleanchor="x")
        s.figure("crops", 300, title=t("fig_crops"), xaxis_title=t("axis_mflops"),
                 yaxis_title=t("axis_top1"), width=430, xaxis_type="log")
        s.trace("crops", "top1", go.Scatter(x=[], y=[], mode="markers+text", text=[], textposition="top center",
                                            marker=dict(size=12, color=palette.BLUE), name=t("trace_top1")))
        return [ipw.HBox([s.figures["confusion"], s.figures["crops"]], layout=ipw.Layout(flex_flow="row wrap")),
                self.numbers, s.figures["grid"]]

    def say(self, text: str) -> None:
        """A one-line note instead of results (e.g. why a recorded run's images are not shown)."""
        self.figures.when_built(None)     # an earlier run's figures, still waiting to be drawn, are not
        self.title.value = f"<i>{html.escape(text)}</i>"

    def show(self, label: str, data: D.ImageData, final: dict, crops: list[dict] | None, source: str) -> None:
        """A finished run's results: `final` holds test predictions, confidences and accuracies. The
        table now; the figures now or when they are made."""
        preds = final.get("predictions")
        if not preds:
            return
        y = data.y_test.cpu()
        if len(preds) != len(y) or max(preds) >= data.num_classes:
            self.say(self.s.t("results_mismatch", source=source, n=len(preds), images=len(y)))
            return
        cm = T.confusion_matrix(y, preds, data.num_classes)
        confidence = final.get("confidence", [1.0] * len(preds))
        t = self.s.t
        rows = [(t("row_top1_top5"), f"{final['test_top1']:.4f} / {final['test_top5']:.4f}"),
                (t("row_mistakes"), t("mistakes", n=int((cm.sum() - cm.trace()).item()), total=len(preds)))]
        if "raw_test_top1" in final:
            rows.append((t("row_raw"), f"{final['raw_test_top1']:.4f}"))
        rows += [_crop_row(t, r) for r in crops or []]
        self.title.value = t("results_title", source=html.escape(source), label=html.escape(label))
        self.numbers.value = ui.stat_table(rows, css_class="lesson-results")
        self.figures.when_built(lambda: self._draw(data, cm, preds, confidence, crops))

    def _draw(self, data: D.ImageData, cm, preds: list[int], confidence: list[float], crops: list[dict] | None) -> None:
        with self.s.drawing("confusion", "grid"):
            self.s.tr("confusion", "counts").update(z=cm.tolist(), x=data.classes, y=data.classes)
            self._draw_grid(data, preds, confidence)
        if crops:
            self._draw_crops(crops)

    def _draw_grid(self, data: D.ImageData, preds: list[int], confidence: list[float]) -> None:
        y = data.y_test.cpu()
        shown = T.mistakes_first(y, preds, confidence)[: GRID_COLS * GRID_ROWS]
        frames = [rgb(WRONG if preds[i] != int(y[i]) else RIGHT) for i in shown]
        scale, gap = (4 if data.native_size <= 8 else 1), 14
        tiles = D.tile_images(data.x_test, shown, GRID_COLS, frames, pad=2, scale=scale, gap=gap)
        th, tw = gap + data.native_size * scale + 4, data.native_size * scale + 4
        names, fig = data.classes, self.s.figures["grid"]
        self.s.tr("grid", "tiles").source = png_source(tiles)
        ann = []
        for j, i in enumerate(shown):
            r, c = divmod(j, GRID_COLS)
            ok = preds[i] == int(y[i])
            ann.append(dict(x=c * tw + tw / 2, y=r * th + gap / 2, showarrow=False, yanchor="middle",
                            text=tile_label(names[preds[i]], names[int(y[i])], ok),
                            font=dict(size=10, color=LABEL_COLORS[ok])))
        fig.layout.annotations = ann

    def _draw_crops(self, crops: list[dict]) -> None:
        xs, ys = [r["flops_per_image"] / 1e6 for r in crops], [r["top1"] for r in crops]
        fig = self.s.figures["crops"]
        with self.s.drawing("crops"):
            self.s.tr("crops", "top1").update(x=xs, y=ys, textposition=["middle right", "middle left"][: len(xs)],
                                              text=[f"{_views(self.s.t, r)}: {r['top1']:.4f}" for r in crops])
            lo, hi = min(ys), max(ys)
            fig.layout.yaxis.range = [max(0.0, lo - 0.05 - 0.1 * (hi - lo)), min(1.02, hi + 0.03)]
            fig.layout.xaxis.range = [math.log10(min(xs)) - 0.5, math.log10(max(xs)) + 0.5]


def png_source(tiles: np.ndarray) -> str:
    """The tiles as a PNG data URI: an Image trace's `source`. As `z` they were sent as nested lists (about
    1 MB of JSON for the digits' 36 tiles) that the page parsed and deep-copied before it could draw."""
    return image_array_to_data_uri(np.ascontiguousarray(tiles, dtype=np.uint8), backend="pypng")


def _views(t, r: dict) -> str:
    return t("one_crop" if r["crops"] == 1 else "crops", n=r["crops"])


def _crop_row(t, r: dict) -> tuple[str, str]:
    how = ""
    if r["crops"] > 1:
        how = t("crops_mirrored") if r.get("mirrored") else t("crops_unmirrored")
    return (f"{_views(t, r)}{how}", t("crop_numbers", top1=r["top1"], mflops=r["flops_per_image"] / 1e6,
                                      ms=r["seconds"] * 1000))
