"""The lesson's measured figures, each inserted from the file it was measured into.

Every time, accuracy, load average and throughput the lesson quotes comes from
`benchmarks/results/*.json` or from the shipped recording, through `widgets.run_results`;
none is typed in the notebook's prose. Each note is a small Section with no controls.
"""
from __future__ import annotations

import html

import ipywidgets as ipw

from widgets import history as H
from widgets import run_results as R
from widgets.views.live_training.page import SHIPPED
from widgets.views.live_training.words import says
from widgets.views import i18n, palette
from widgets.views.section import Section

STYLE = f"padding:4px 10px;border-left:3px solid #9ab;background:{palette.var('panel')};font-size:0.92em"


def paragraph(sentences: list[str], css: str, sep: str = " ") -> str:
    """The sentences as one paragraph (`sep` between them: a space in English, nothing in Chinese)."""
    return f"<div class='lesson-measured {css}' style='{STYLE}'>{html.escape(sep.join(sentences))}</div>"


def _recording() -> H.History | None:
    try:
        return H.read_history(SHIPPED)
    except (H.HistoryError, OSError):
        return None


class _Note(Section):
    """A paragraph of measured figures (no controls): `sentences()` reads them when the page is built."""

    def build(self) -> None:
        self.html = ipw.HTML("")

    def update(self, changed: str | None) -> None:
        self.html.value = paragraph(says(self.lang, self.sentences()), self.css[0], i18n.t(self.lang, "live.sep_sentences"))

    def layout(self) -> list[ipw.Widget]:
        return [self.html]

    def sentences(self) -> list[H.Said]:
        """The note's sentences as Saids (run_results' kinds), worded in the page's language by `update`."""
        raise NotImplementedError


class CpuBenchmark(_Note):
    name, title, css = "cpu-benchmark", "The CPU default, as measured", ("lesson-measured-cpu",)

    def sentences(self) -> list[H.Said]:
        return R.cpu_default_sentences(R.read_result("cpu_default"))


class RecordedLosses(_Note):
    name, title, css = "recorded-losses", "The recorded run's losses", ("lesson-measured-losses",)

    def sentences(self) -> list[H.Said]:
        h = _recording()
        return R.loss_sentences(h) if h else [("recording_missing", {})]


class RecordedCrops(_Note):
    name, title, css = "recorded-crops", "The recorded run's multi-crop evaluation", ("lesson-measured-crops",)

    def sentences(self) -> list[H.Said]:
        h = _recording()
        return R.crop_sentences(h) if h else [("recording_missing", {})]


class Benchmarks(_Note):
    name, title, css = "benchmarks", "What the benchmarks measured", ("lesson-measured-benchmarks",)

    def sentences(self) -> list[H.Said]:
        return (R.throughput_sentences(R.read_result("train_throughput"))
                + R.watch_sentences(R.read_result("watch_cost")))


def cpu_benchmark(lang: str = "en") -> ipw.Widget:
    """The CPU default as benchmarks/cpu_default.py measured it (runs, threads, load)."""
    return CpuBenchmark(lang=lang).widget


def recorded_losses(lang: str = "en") -> ipw.Widget:
    """The shipped recording's first batch loss and its test loss after each epoch."""
    return RecordedLosses(lang=lang).widget


def recorded_crops(lang: str = "en") -> ipw.Widget:
    """The shipped recording's 1- and 10-crop test accuracy and cost."""
    return RecordedCrops(lang=lang).widget


def benchmarks(lang: str = "en") -> ipw.Widget:
    """What benchmarks/train_throughput.py and watch_cost.py measured (a skipped row says why)."""
    return Benchmarks(lang=lang).widget
