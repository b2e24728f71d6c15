"""Lesson 3, sections b and c: the cost calculator, PyTorch's FLOP counter, and the clock.

One section: the sizes (typed, bounded), the bars and formulas, the FlopCounterMode check,
and the timing, which runs on the section's one task and is drawn under its lock. The words
are in widgets/views/locales/<lang>/bottleneck.json (keys `cost.*`); the helpers below take the
section's `t` and fill its strings with numbers formatted the same way in every language.
"""
from __future__ import annotations

import html
from typing import Callable

import ipywidgets as ipw
import numpy as np
import plotly.graph_objects as go

from widgets import bottleneck as B
from widgets.ui import NumberField, StopRequested, fmt_int, message, stat_table
from widgets.views import i18n, palette
from widgets.views.bottleneck.style import CONV_COLOR, DIRECT_COLOR, NOTE_STYLE, REDUCE_COLOR, boxed
from widgets.views.section import Section, column, row

#: (control, upper bound) of each typed size, in the order shown; its label is the catalogue's `cost.<control>`
SIZES = (("height", B.MAX_SIDE), ("width", B.MAX_SIDE), ("ch_in", B.MAX_CHANNELS), ("k", B.MAX_K),
         ("ch_out", B.MAX_CHANNELS), ("ch_red", B.MAX_CHANNELS))
#: (part, colour) of each bar; its legend is the catalogue's `cost.bar_<part>`
BARS = (("direct", DIRECT_COLOR), ("reduce", REDUCE_COLOR), ("conv", CONV_COLOR))
GREY = f"<div style='color:{palette.var('muted')}'>{{}}</div>"
Words = Callable[..., str]      # a section's `t`: key, **fields -> the string in the page's language


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms"


class OddNumberField(NumberField):
    """A whole number that must also be odd (a k×k kernel with 'same' padding)."""

    def parse(self, raw: str) -> float:
        v = super().parse(raw)
        if int(v) % 2 == 0:
            raise ValueError(i18n.t(self.lang, "cost.odd_kernel"))
        return v


class CostCalculator(Section):
    """H × W × C_in → k×k conv with C_out filters, directly or behind a 1×1 bottleneck of ch_red:
    the exact counts, PyTorch's FlopCounterMode on the real modules, and the clock."""

    name, title, css = "cost", "b. The cost calculator", ("lesson-cost-calculator",)
    REPEATS = 21

    def __init__(self, autorun_timing: bool = True, **values):
        self._autorun_timing = autorun_timing
        super().__init__(**values)

    def after_build(self):
        if self._autorun_timing:    # once when the section is built (on the page: scrolled to), on the task like a press
            self.start_timing()

    # ---- build
    def build(self):
        s = self.shape = B.ConvShape.notes()
        self.result: B.PathTiming | None = None      # the last timing, drawn under the lock
        for name, top in SIZES:
            kind = OddNumberField if name == "k" else NumberField
            self.control(name, kind(self.t(name), getattr(s, name), min=1, max=top, integer=True, lang=self.lang))
        self.control("bottleneck", ipw.Checkbox(value=True, description=self.t("bottleneck"),
                                                indent=False, layout=ipw.Layout(width="auto")))
        self.formulas, self.flops, self.timing = ipw.HTML(), ipw.HTML(), ipw.HTML()
        self.recorded = ipw.HTML(_recorded_html(self.t, B.recorded_timing()))
        self._build_bars()
        self._build_timing()
        self.add_task(self.t("time_button"), self.start_timing)

    def _build_bars(self):
        fig = self.figure("bars", height=360, barmode="stack", margin=dict(l=70, r=20, t=40, b=40),
                          legend=dict(orientation="h", yanchor="top", y=-0.12, x=0))
        fig.set_subplots(1, 2, subplot_titles=(self.t("macs_title"), self.t("weights_title")), horizontal_spacing=0.12)
        for col, metric in ((1, "macs"), (2, "weights")):
            for part, color in BARS:
                outside = dict(textposition="outside", cliponaxis=False) if part != "reduce" else {}
                self.trace("bars", f"{metric}.{part}", go.Bar(name=self.t(f"bar_{part}"), marker_color=color,
                                                              showlegend=col == 1, **outside), row=1, col=col)

    def _build_timing(self):
        self.figure("timing", height=280, title=self.t("timing_title"), showlegend=False,
                    margin=dict(l=120, r=20, t=40, b=45), xaxis_type="log",
                    xaxis_title=self.t("timing_axis"))
        for path, color in (("direct", DIRECT_COLOR), ("bottleneck", CONV_COLOR)):
            self.trace("timing", path, go.Box(name=self.t(f"path_{path}"), orientation="h", boxpoints="all",
                                              jitter=0.4, pointpos=0, marker_color=color))

    # ---- the one update path
    def read_shape(self) -> B.ConvShape:
        return B.ConvShape(**{name: int(self.controls[name].value) for name, _ in SIZES})

    def update(self, changed):
        s = self.shape = self.read_shape()
        on = self.controls["bottleneck"].value
        if changed is not None:
            self.status.value = ""
        with self.drawing("bars"):
            self._draw_bars(s, on)
        self.formulas.value = _formulas_html(self.t, s, on)
        self.flops.value = _flops_html(self.t, s, on)
        self._mark_timing_stale()

    def _draw_bars(self, s: B.ConvShape, on: bool):
        d, b = B.direct_cost(s), B.bottleneck_cost(s)
        (_, m1, w1, _), (_, m2, w2, _) = b.layers
        direct, bott = self.t("path_direct"), self.t("path_bottleneck")      # the bars' category labels
        for metric, axis, dv, rv, cv in (("macs", "yaxis", d.macs, m1, m2), ("weights", "yaxis2", d.weights, w1, w2)):
            self.tr("bars", f"{metric}.direct").update(x=[direct], y=[dv], text=[fmt_int(dv)])
            self.tr("bars", f"{metric}.reduce").update(x=[bott] if on else [], y=[rv] if on else [])
            self.tr("bars", f"{metric}.conv").update(x=[bott] if on else [], y=[cv] if on else [],
                                                     text=[fmt_int(rv + cv)] if on else [])
            self.figures["bars"].layout[axis].range = [0, max(dv, rv + cv if on else 0) * 1.18]

    # ---- the clock, on the section's one task
    def start_timing(self):
        s = self.shape
        try:
            B.check_runnable(s)
        except B.TooBigToRun as exc:
            self.task.status.value = message(_too_big(self.t, exc))
            return
        repeats = self.REPEATS

        def in_words(report):       # the maths reports repeats done; the page words them
            return lambda fraction, done: report(fraction, self.t("progress", done=done, repeats=repeats))

        def work(progress, stop_event):
            res = B.time_paths(s, repeats=repeats, progress=in_words(progress), should_stop=stop_event.is_set)
            if stop_event.is_set() and len(res.direct.times) < 3:
                raise StopRequested()
            return res

        self.task.start(work, on_done=self._timing_done)

    def _timing_done(self, res: B.PathTiming | None):
        """Runs under the section's lock (SectionTask), so it never draws while update() does."""
        if res is None:
            return
        self.result = res
        self.timing.value = _timing_html(self.t, res)
        with self.drawing("timing"):
            self.tr("timing", "direct").x = np.array(res.direct.times) * 1e3
            self.tr("timing", "bottleneck").x = np.array(res.bottleneck.times) * 1e3
        n = len(res.direct.times)
        self.task.status.value = message(self.t("stopped_after" if n < self.REPEATS else "done", n=n), kind="ok")
        self._mark_timing_stale()      # the sizes may have changed while it ran

    def _mark_timing_stale(self):
        r = self.result
        if r is not None and r.shape != self.shape:
            self.timing.value = (message(self.t("stale", button=self.t("time_button")), kind="ok")
                                 + _timing_html(self.t, r))

    def layout(self):
        c = {name: self.controls[name].widget for name, _ in SIZES}
        clock = self.t("clock", repeats=self.REPEATS, device=html.escape(_device(self.t, B.default_device())))
        return [
            ipw.HTML(f"<h3 style='margin:4px 0;font-size:1.1em'>{self.t('calculator_head')}</h3>"),
            row(column(c["height"], c["width"], c["ch_in"]), column(c["k"], c["ch_out"], c["ch_red"]), gap="16px"),
            self.controls["bottleneck"].widget, self.status, self.formulas, self.figures["bars"],
            ipw.HTML(_slip_html(self.t)),
            ipw.HTML(f"<h3 style='margin:10px 0 4px;font-size:1.1em'>{self.t('check1_head')}</h3>"), self.flops,
            ipw.HTML(f"<h3 style='margin:10px 0 4px;font-size:1.1em'>{self.t('check2_head')}</h3>"
                     + GREY.format(clock)),
            self.task.widget, self.timing, self.figures["timing"], self.recorded,
        ]


def cost_calculator(**values) -> ipw.Widget:
    """Sections b and c: the cost of a k×k convolution with and without a 1×1 bottleneck, checked by
    FlopCounterMode and timed (controls height, width, ch_in, k, ch_out, ch_red, bottleneck)."""
    return CostCalculator(**values).widget


# --------------------------------------------------------------------------- what the section writes
def _device(t: Words, device: str) -> str:
    d = B.device_info(device)
    return d.name if d.kind == "cuda" else t("device_cpu", name=d.name, threads=d.threads)


def _too_big(t: Words, exc: B.TooBigToRun) -> str:
    if exc.kind == "memory":
        return t("too_big_memory", need=f"{exc.need / 2**20:,.0f}", limit=f"{exc.limit / 2**20:,.0f}")
    return t("too_big_work", need=fmt_int(exc.need), limit=fmt_int(exc.limit))


def _formulas_html(t: Words, s: B.ConvShape, on: bool) -> str:
    d, b = B.direct_cost(s), B.bottleneck_cost(s)
    (_, _, w1, _), (_, _, w2, _) = b.layers
    rows = [(t("row_direct_macs"), html.escape(B.formula_direct(s))),
            (t("row_direct_weights"), t("weights_direct", k=s.k, ch_in=s.ch_in, ch_out=s.ch_out,
                                        weights=fmt_int(d.weights), biases=fmt_int(d.biases),
                                        total=fmt_int(d.weights_with_bias)))]
    if on:
        rows += [
            (t("row_bottleneck_macs"), html.escape(B.formula_bottleneck(s))),
            (t("row_bottleneck_weights"), t("weights_bottleneck", k=s.k, ch_in=s.ch_in, ch_red=s.ch_red,
                                            ch_out=s.ch_out, w1=fmt_int(w1), w2=fmt_int(w2),
                                            weights=fmt_int(b.weights), biases=fmt_int(b.biases),
                                            total=fmt_int(b.weights_with_bias))),
            (t("row_macs_ratio"), f"{fmt_int(d.macs)} / {fmt_int(b.macs)} ≈ {B.cost_ratio(s):.2f}×"),
            (t("row_weights_ratio"), t("weights_ratio", direct=fmt_int(d.weights), bottleneck=fmt_int(b.weights),
                                       ratio=f"{d.weights / b.weights:.2f}")),
        ]
    intro = GREY.format(t("intro", h=s.height, w=s.width, ch_in=s.ch_in, k=s.k, ch_out=s.ch_out))
    return intro + stat_table(rows) + (_verdict_html(t, s) if on else "")


def _verdict_html(t: Words, s: B.ConvShape) -> str:
    kind, factor = B.cost_verdict(s)       # 'fewer', 'same' or 'more'
    head = t(f"verdict_{kind}", factor=f"{factor:.2f}" if kind == "fewer" else f"{factor:.3g}")
    return boxed(t("verdict", head=head, breakeven=t("breakeven", breakeven=f"{B.breakeven_ch_red(s):,.1f}")))


def _flops_html(t: Words, s: B.ConvShape, on: bool) -> str:
    fc = B.flop_check(s)          # on the meta device: shapes only, no memory allocated
    d, b = B.direct_cost(s), B.bottleneck_cost(s)

    def ok(a, b_):
        if a == b_:
            return f"<b style='color:{palette.var('ok')}'>{t('equal')}</b>"
        return f"<b style='color:{palette.var('error')}'>{t('differ')}</b>"

    rows = [(t("row_flops_direct"), t("flops_direct", flops=fmt_int(fc.direct_flops), macs=fmt_int(fc.direct_macs),
                                      formula=fmt_int(d.macs), ok=ok(fc.direct_macs, d.macs)))]
    if on:
        rows.append((t("row_flops_bottleneck"),
                     t("flops_bottleneck", reduce=fmt_int(fc.reduce_flops), conv=fmt_int(fc.conv_flops),
                       macs=fmt_int(fc.bottleneck_macs), formula=fmt_int(b.macs), ok=ok(fc.bottleneck_macs, b.macs))))
    return GREY.format(t("flops_intro")) + stat_table(rows)


def _slip_html(t: Words) -> str:
    n = B.notes_slip()
    product = B.formula_direct(B.ConvShape.notes()).split(" = ")[0]
    return boxed(t("slip", product=product, actual=fmt_int(n["actual"]), millions=f"{n['actual'] / 1e6:.1f}",
                   factor=f"{n['factor']:.0f}", true_ratio=f"{n['true_ratio']:.1f}", bott=fmt_int(n["bottleneck"]),
                   claimed=fmt_int(n["claimed"]), claimed_ratio=f"{n['claimed_ratio']:.0f}"),
                 NOTE_STYLE, "lesson-notes-slip")


def _timing_html(t: Words, r: B.PathTiming) -> str:
    s = r.shape
    rate_d, rate_b = f"{r.throughput('direct') / 1e9:.1f}", f"{r.throughput('bottleneck') / 1e9:.1f}"

    def median(tm: B.Timing, rate: str) -> str:
        lo, hi = tm.spread
        return t("median", median=_ms(tm.median), lo=_ms(lo), hi=_ms(hi), n=len(tm.times), rate=rate)

    rows = [
        (t("row_sizes_timed"), t("sizes_timed", h=s.height, w=s.width, ch_in=s.ch_in, k=s.k, ch_out=s.ch_out,
                                 ch_red=s.ch_red) + t("batch", batch=r.batch)),
        (t("row_device"), html.escape(_device(t, r.device))),
        (t("row_direct_median"), median(r.direct, rate_d)),
        (t("row_bottleneck_median"), median(r.bottleneck, rate_b)),
        (t("row_speedup"), t("speedup", speedup=f"{r.speedup:.2f}")),
        (t("row_macs_ratio"), f"<b>{r.macs_ratio:.2f}×</b>"),
    ]
    if r.falls_short:
        why = t("falls_short", rate_b=rate_b, rate_d=rate_d, h=s.height, w=s.width, ch_red=s.ch_red)
    else:
        why = t("keeps_up", rate_b=rate_b, rate_d=rate_d)
    return stat_table(rows) + boxed(why)


def _recorded_html(t: Words, rec: B.RecordedTiming | None) -> str:
    """The benchmark's recorded medians, quoted from its report (never typed into the prose)."""
    if rec is None:
        return GREY.format(t("recorded_none"))
    s = rec.shape
    at = (t("recorded_at_notes") if s == B.ConvShape.notes() else
          t("sizes_timed", h=s.height, w=s.width, ch_in=s.ch_in, k=s.k, ch_out=s.ch_out, ch_red=s.ch_red))
    rows = [(t("recorded_setting_one" if r.threads == 1 else "recorded_setting", threads=r.threads, batch=r.batch),
             t("recorded_run", direct=f"{r.direct_ms:.3f}", bottleneck=f"{r.bottleneck_ms:.3f}",
               speedup=f"{r.speedup:.2f}", ratio=f"{r.macs_ratio:.2f}")) for r in rec.runs]
    head = t("recorded_head", device=html.escape(rec.device), date=html.escape(rec.date_utc), load=f"{rec.load:.2f}",
             cpus=rec.host_cpus, at=at)
    tail = t("recorded_tail", short=rec.short, runs=len(rec.runs))
    return "<div class='lesson-recorded-timing'>" + GREY.format(head) + stat_table(rows) + GREY.format(tail) + "</div>"
