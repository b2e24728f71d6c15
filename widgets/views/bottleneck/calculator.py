"""Lesson 3, sections b and c: the cost calculator, PyTorch's FLOP counter, and the clock.

One section: the sizes (typed, bounded), the bars and formulas, the FlopCounterMode check,
and the timing, which runs on the section's one task and is drawn under its lock.
"""
from __future__ import annotations

import html

import ipywidgets as ipw
import numpy as np
import plotly.graph_objects as go

from widgets import bottleneck as B
from widgets.ui import NumberField, StopRequested, fmt_int, message, stat_table
from widgets.views import palette
from widgets.views.bottleneck.style import CONV_COLOR, DIRECT_COLOR, NOTE_STYLE, REDUCE_COLOR, boxed
from widgets.views.section import Section, column, row

#: (control, label, upper bound) of each typed size, in the order shown
SIZES = (("height", "H (height)", B.MAX_SIDE), ("width", "W (width)", B.MAX_SIDE),
         ("ch_in", "C_in (input channels)", B.MAX_CHANNELS), ("k", "k (kernel k×k)", B.MAX_K),
         ("ch_out", "C_out (filters)", B.MAX_CHANNELS), ("ch_red", "ch_red (1×1 bottleneck)", B.MAX_CHANNELS))
BARS = (("direct", "k×k conv, direct", DIRECT_COLOR), ("reduce", "1×1 conv (bottleneck)", REDUCE_COLOR),
        ("conv", "k×k conv after the bottleneck", CONV_COLOR))
GREY = f"<div style='color:{palette.var('muted')}'>{{}}</div>"


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms"


class OddNumberField(NumberField):
    """A whole number that must also be odd (a k×k kernel with 'same' padding)."""

    def parse(self, raw: str) -> float:
        v = super().parse(raw)
        if int(v) % 2 == 0:
            raise ValueError("Enter an odd kernel size (1, 3, 5, …): 'same' padding needs one.")
        return v


class CostCalculator(Section):
    """H × W × C_in → k×k conv with C_out filters, directly or behind a 1×1 bottleneck of ch_red:
    the exact counts, PyTorch's FlopCounterMode on the real modules, and the clock."""

    name, title, css = "cost", "b. The cost calculator", ("lesson-cost-calculator",)
    REPEATS = 21

    def __init__(self, autorun_timing: bool = True, **values):
        super().__init__(**values)
        if autorun_timing:          # once when the page opens, on the task like a press
            self.start_timing()

    # ---- build
    def build(self):
        s = self.shape = B.ConvShape.notes()
        self.result: B.PathTiming | None = None      # the last timing, drawn under the lock
        for name, label, top in SIZES:
            kind = OddNumberField if name == "k" else NumberField
            self.control(name, kind(label, getattr(s, name), min=1, max=top, integer=True))
        self.control("bottleneck", ipw.Checkbox(value=True, description="add the 1×1 bottleneck before the k×k conv",
                                                indent=False, layout=ipw.Layout(width="auto")))
        self.formulas, self.flops, self.timing = ipw.HTML(), ipw.HTML(), ipw.HTML()
        self.recorded = ipw.HTML(_recorded_html(B.recorded_timing()))
        self._build_bars()
        self._build_timing()
        self.add_task("Time both paths", self.start_timing)

    def _build_bars(self):
        fig = self.figure("bars", height=360, barmode="stack", margin=dict(l=70, r=20, t=40, b=40),
                          legend=dict(orientation="h", yanchor="top", y=-0.12, x=0))
        fig.set_subplots(1, 2, subplot_titles=("multiplications", "weights (without biases)"), horizontal_spacing=0.12)
        for col, metric in ((1, "macs"), (2, "weights")):
            for part, label, color in BARS:
                outside = dict(textposition="outside", cliponaxis=False) if part != "reduce" else {}
                self.trace("bars", f"{metric}.{part}", go.Bar(name=label, marker_color=color, showlegend=col == 1,
                                                              **outside), row=1, col=col)

    def _build_timing(self):
        self.figure("timing", height=280, title="each repeat's time (ms)", showlegend=False,
                    margin=dict(l=120, r=20, t=40, b=45), xaxis_type="log",
                    xaxis_title="milliseconds per forward pass (log scale)")
        for path, color in (("direct", DIRECT_COLOR), ("bottleneck", CONV_COLOR)):
            self.trace("timing", path, go.Box(name=path, orientation="h", boxpoints="all", jitter=0.4, pointpos=0,
                                              marker_color=color))

    # ---- the one update path
    def read_shape(self) -> B.ConvShape:
        return B.ConvShape(**{name: int(self.controls[name].value) for name, _, _ in SIZES})

    def update(self, changed):
        s = self.shape = self.read_shape()
        on = self.controls["bottleneck"].value
        if changed is not None:
            self.status.value = ""
        with self.drawing("bars"):
            self._draw_bars(s, on)
        self.formulas.value = _formulas_html(s, on)
        self.flops.value = _flops_html(s, on)
        self._mark_timing_stale()

    def _draw_bars(self, s: B.ConvShape, on: bool):
        d, b = B.direct_cost(s), B.bottleneck_cost(s)
        (_, m1, w1, _), (_, m2, w2, _) = b.layers
        for metric, axis, dv, rv, cv in (("macs", "yaxis", d.macs, m1, m2), ("weights", "yaxis2", d.weights, w1, w2)):
            self.tr("bars", f"{metric}.direct").update(x=["direct"], y=[dv], text=[fmt_int(dv)])
            self.tr("bars", f"{metric}.reduce").update(x=["bottleneck"] if on else [], y=[rv] if on else [])
            self.tr("bars", f"{metric}.conv").update(x=["bottleneck"] if on else [], y=[cv] if on else [],
                                                     text=[fmt_int(rv + cv)] if on else [])
            self.figures["bars"].layout[axis].range = [0, max(dv, rv + cv if on else 0) * 1.18]

    # ---- the clock, on the section's one task
    def start_timing(self):
        s = self.shape
        try:
            B.check_runnable(s)
        except ValueError as exc:
            self.task.status.value = message(str(exc))
            return

        def work(progress, stop_event):
            res = B.time_paths(s, repeats=self.REPEATS, progress=progress, should_stop=stop_event.is_set)
            if stop_event.is_set() and len(res.direct.times) < 3:
                raise StopRequested()
            return res

        self.task.start(work, on_done=self._timing_done)

    def _timing_done(self, res: B.PathTiming | None):
        """Runs under the section's lock (SectionTask), so it never draws while update() does."""
        if res is None:
            return
        self.result = res
        self.timing.value = _timing_html(res)
        with self.drawing("timing"):
            self.tr("timing", "direct").x = np.array(res.direct.times) * 1e3
            self.tr("timing", "bottleneck").x = np.array(res.bottleneck.times) * 1e3
        n = len(res.direct.times)
        verb = "Stopped after" if n < self.REPEATS else "Done:"
        self.task.status.value = message(f"{verb} {n} repeats of each path.", kind="ok")
        self._mark_timing_stale()      # the sizes may have changed while it ran

    def _mark_timing_stale(self):
        r = self.result
        if r is not None and r.shape != self.shape:
            self.timing.value = (message("The sizes changed since the last timing: press “Time both paths” "
                                         "to measure these sizes.", kind="ok") + _timing_html(r))

    def layout(self):
        c = {name: self.controls[name].widget for name, _, _ in SIZES}
        clock = (f"Each press runs both paths {self.REPEATS} times on "
                 f"{html.escape(B.device_name(B.default_device()))}, one batch of one image, after a few warm-up "
                 "runs, alternating direct and bottleneck so both see the same load.")
        return [
            ipw.HTML("<h3 style='margin:4px 0;font-size:1.1em'>The calculator</h3>"),
            row(column(c["height"], c["width"], c["ch_in"]), column(c["k"], c["ch_out"], c["ch_red"]), gap="16px"),
            self.controls["bottleneck"].widget, self.status, self.formulas, self.figures["bars"],
            ipw.HTML(_slip_html()),
            ipw.HTML("<h3 style='margin:10px 0 4px;font-size:1.1em'>Check 1: PyTorch's own FLOP counter</h3>"), self.flops,
            ipw.HTML("<h3 style='margin:10px 0 4px;font-size:1.1em'>Check 2: the clock</h3>" + GREY.format(clock)),
            self.task.widget, self.timing, self.figures["timing"], self.recorded,
        ]


def cost_calculator(**values) -> ipw.Widget:
    """Sections b and c: the cost of a k×k convolution with and without a 1×1 bottleneck, checked by
    FlopCounterMode and timed (controls height, width, ch_in, k, ch_out, ch_red, bottleneck)."""
    return CostCalculator(**values).widget


# --------------------------------------------------------------------------- what the section writes
def _formulas_html(s: B.ConvShape, on: bool) -> str:
    d, b = B.direct_cost(s), B.bottleneck_cost(s)
    (_, _, w1, _), (_, _, w2, _) = b.layers
    rows = [("direct path: multiplications", html.escape(B.formula_direct(s))),
            ("direct path: weights", f"{s.k}·{s.k}·{s.ch_in}·{s.ch_out} = {fmt_int(d.weights)} "
                                     f"(+ {fmt_int(d.biases)} biases = {fmt_int(d.weights_with_bias)})")]
    if on:
        rows += [
            ("bottleneck path: multiplications", html.escape(B.formula_bottleneck(s))),
            ("bottleneck path: weights", f"{s.ch_in}·{s.ch_red} + {s.k}·{s.k}·{s.ch_red}·{s.ch_out} = "
                                         f"{fmt_int(w1)} + {fmt_int(w2)} = {fmt_int(b.weights)} "
                                         f"(+ {fmt_int(b.biases)} biases = {fmt_int(b.weights_with_bias)})"),
            ("ratio of multiplications", f"{fmt_int(d.macs)} / {fmt_int(b.macs)} ≈ {B.cost_ratio(s):.2f}×"),
            ("ratio of weights", f"{fmt_int(d.weights)} / {fmt_int(b.weights)} ≈ {d.weights / b.weights:.2f}× "
                                 "(the same ratio: with 'same' padding each weight is used once per output pixel, "
                                 "H·W times)"),
        ]
    intro = GREY.format(
        f"Input {s.height}×{s.width}×{s.ch_in}, {s.k}×{s.k} 'same' convolution with {s.ch_out} filters → output "
        f"{s.height}×{s.width}×{s.ch_out}. One multiplication = one multiply-add; multiplications by the zeros of "
        "the padding are counted. Weights are given without biases (as in the notes), then with them.")
    return intro + stat_table(rows) + (_verdict_html(s) if on else "")


def _verdict_html(s: B.ConvShape) -> str:
    kind, factor = B.cost_verdict(s)
    head = {"fewer": f"The bottleneck path needs <b>{factor:.2f}× fewer</b> multiplications.",
            "same": "The bottleneck path needs <b>exactly as many</b> multiplications as going direct.",
            "more": f"The bottleneck path needs <b>{factor:.3g}× as many</b> multiplications as going direct: "
                    "here it costs more, not less."}[kind]
    return boxed(f"{head} It saves work only while ch_red &lt; C_in·C_out·k² / (C_in + C_out·k²) = "
                 f"{B.breakeven_ch_red(s):,.1f}.")


def _flops_html(s: B.ConvShape, on: bool) -> str:
    fc = B.flop_check(s)          # on the meta device: shapes only, no memory allocated
    d, b = B.direct_cost(s), B.bottleneck_cost(s)

    def ok(a, b_):
        return f"<b style='color:{palette.var('ok')}'>✓ equal</b>" if a == b_ else f"<b style='color:{palette.var('error')}'>✗ differ</b>"

    rows = [("direct: FlopCounterMode", f"{fmt_int(fc.direct_flops)} FLOPs ÷ 2 = {fmt_int(fc.direct_macs)} "
                                        f"multiply-adds, formula {fmt_int(d.macs)} {ok(fc.direct_macs, d.macs)}")]
    if on:
        rows.append(("bottleneck: FlopCounterMode",
                     f"({fmt_int(fc.reduce_flops)} + {fmt_int(fc.conv_flops)}) FLOPs ÷ 2 = "
                     f"{fmt_int(fc.bottleneck_macs)} multiply-adds, formula {fmt_int(b.macs)} "
                     f"{ok(fc.bottleneck_macs, b.macs)}"))
    return GREY.format(
        "<code>torch.utils.flop_counter.FlopCounterMode</code> ran a forward pass of the real <code>nn.Conv2d</code> "
        "modules of each path. It counts a multiply-add as 2 FLOPs, so its figure is halved. The modules live on "
        "PyTorch's <code>meta</code> device: shapes without data, so any size can be counted without allocating "
        "memory.") + stat_table(rows)


def _slip_html() -> str:
    n = B.notes_slip()
    product = B.formula_direct(B.ConvShape.notes()).split(" = ")[0]
    claimed, actual, bott = fmt_int(n["claimed"]), fmt_int(n["actual"]), fmt_int(n["bottleneck"])
    return boxed(f"<b>A slip in the handwritten notes.</b> They give the direct path at the notes' sizes as “≈ 1.2B” "
                 f"multiplications. The product {product} is <b>{actual}</b>, about {n['actual'] / 1e6:.1f} million: "
                 f"{n['factor']:.0f} times less than 1.2 billion. So the bottleneck saves about "
                 f"<b>{n['true_ratio']:.1f}×</b> ({actual} / {bott}), roughly 10×, not the 100× or so "
                 f"({claimed} / {bott} ≈ {n['claimed_ratio']:.0f}) that “1.2B” would suggest.",
                 NOTE_STYLE, "lesson-notes-slip")


def _timing_html(r: B.PathTiming) -> str:
    s = r.shape
    rate_d, rate_b = r.throughput("direct") / 1e9, r.throughput("bottleneck") / 1e9
    (lo_d, hi_d), (lo_b, hi_b) = r.direct.spread, r.bottleneck.spread
    rows = [
        ("sizes timed", f"{s.height}×{s.width}×{s.ch_in}, {s.k}×{s.k} conv, {s.ch_out} filters, ch_red "
                        f"{s.ch_red}, batch {r.batch}"),
        ("device", html.escape(B.device_name(r.device))),
        ("direct path, median", f"{_ms(r.direct.median)} (range {_ms(lo_d)} – {_ms(hi_d)}, "
                                f"{len(r.direct.times)} repeats) = {rate_d:.1f} G multiply-adds/s"),
        ("bottleneck path, median", f"{_ms(r.bottleneck.median)} (range {_ms(lo_b)} – {_ms(hi_b)}, "
                                    f"{len(r.bottleneck.times)} repeats) = {rate_b:.1f} G multiply-adds/s"),
        ("measured speed-up", f"<b>{r.speedup:.2f}×</b> (ratio of medians)"),
        ("ratio of multiplications", f"<b>{r.macs_ratio:.2f}×</b>"),
    ]
    if r.falls_short:
        why = (f"The clock gives less than the count: the bottleneck path runs at {rate_b:.1f} G multiply-adds/s "
               f"against the direct path's {rate_d:.1f}. A multiplication is not the only cost. The bottleneck is "
               "two layers, so it pays a layer's fixed cost (a call, a launch, a setup) twice; it writes the "
               f"{s.height}×{s.width}×{s.ch_red} intermediate to memory and reads it back; and its small layers "
               "(a short dot product of length ch_red·k² or C_in) keep the hardware's wide vector units less busy "
               "than one big convolution does. Memory traffic and launch overheads do not shrink with the "
               "multiplications.")
    else:
        why = (f"Here the clock gives as much as the count or more: the bottleneck path ran at {rate_b:.1f} G "
               f"multiply-adds/s against the direct path's {rate_d:.1f}. A layer's speed depends on how well its "
               "shape suits the hardware and its caches, and on what else the machine is doing: the count of "
               "multiplications is only a first estimate of the time.")
    return stat_table(rows) + boxed(why)


def _recorded_html(rec: B.RecordedTiming | None) -> str:
    """The benchmark's recorded medians, quoted from its report (never typed into the prose)."""
    if rec is None:
        return GREY.format("No recorded benchmark was found beside this copy of the lessons "
                           "(benchmarks/results/bottleneck_timing_cpu.json).")
    s = rec.shape
    at = ("the notes' sizes" if s == B.ConvShape.notes() else
          f"{s.height}×{s.width}×{s.ch_in}, {s.k}×{s.k} conv, {s.ch_out} filters, ch_red {s.ch_red}")
    rows = [(f"{r.threads} thread{'s' if r.threads > 1 else ''}, batch {r.batch}",
             f"direct {r.direct_ms:.3f} ms, bottleneck {r.bottleneck_ms:.3f} ms: <b>{r.speedup:.2f}×</b> faster "
             f"for {r.macs_ratio:.2f}× fewer multiplications") for r in rec.runs]
    head = (f"<b>Recorded</b> by <code>benchmarks/bottleneck_timing.py</code> on {html.escape(rec.device)}, "
            f"{html.escape(rec.date_utc)} UTC (load average {rec.load:.2f} on {rec.host_cpus} CPUs), at {at}; "
            "median time of one forward pass in each setting:")
    tail = f"In {rec.short} of {len(rec.runs)} settings the clock gave less than the count."
    return "<div class='lesson-recorded-timing'>" + GREY.format(head) + stat_table(rows) + GREY.format(tail) + "</div>"
