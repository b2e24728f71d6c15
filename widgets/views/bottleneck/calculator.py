"""Lesson 3, sections b and c: the cost calculator, PyTorch's FLOP counter, and the clock."""
from __future__ import annotations

import html

import ipywidgets as ipw
import numpy as np

from widgets import bottleneck as B
from widgets.ui import BackgroundTask, NumberField, StopRequested, figure, fmt_int, guarded, message, stat_table
from widgets.views.bottleneck.style import BOX_STYLE, CONV_COLOR, DIRECT_COLOR, NOTE_STYLE, REDUCE_COLOR


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms"


class OddNumberField(NumberField):
    """A whole number that must also be odd (a k×k kernel with 'same' padding)."""

    def parse(self, raw: str) -> float:
        v = super().parse(raw)
        if int(v) % 2 == 0:
            raise ValueError("Enter an odd kernel size (1, 3, 5, …): 'same' padding needs one.")
        return v


class CostCalculator:
    """H × W × C_in → k×k conv with C_out filters, directly or behind a 1×1 bottleneck of ch_red:
    the exact counts, PyTorch's FlopCounterMode on the real modules, and the clock."""

    REPEATS = 21

    def __init__(self, shape: B.ConvShape | None = None, autorun_timing: bool = True):
        s = shape or B.ConvShape.notes()
        big, ch = B.MAX_SIDE, B.MAX_CHANNELS
        self.fields = {
            "height": NumberField("H (height)", s.height, min=1, max=big, integer=True),
            "width": NumberField("W (width)", s.width, min=1, max=big, integer=True),
            "ch_in": NumberField("C_in (input channels)", s.ch_in, min=1, max=ch, integer=True),
            "k": OddNumberField("k (kernel k×k)", s.k, min=1, max=B.MAX_K, integer=True),
            "ch_out": NumberField("C_out (filters)", s.ch_out, min=1, max=ch, integer=True),
            "ch_red": NumberField("ch_red (1×1 bottleneck)", s.ch_red, min=1, max=ch, integer=True),
        }
        self.use_bottleneck = ipw.Checkbox(value=True, description="add the 1×1 bottleneck before the k×k conv",
                                           indent=False, layout=ipw.Layout(width="auto"))
        self.shape = s
        self.formulas = ipw.HTML()
        self.flops = ipw.HTML()
        self.status = ipw.HTML()
        self.fig = figure(height=360, barmode="stack", margin=dict(l=70, r=20, t=40, b=40),
                          legend=dict(orientation="h", yanchor="top", y=-0.12, x=0))
        self.fig.set_subplots(1, 2, subplot_titles=("multiplications", "weights (without biases)"),
                              horizontal_spacing=0.12)
        for col in (1, 2):
            show = col == 1
            self.fig.add_bar(name="k×k conv, direct", marker_color=DIRECT_COLOR, showlegend=show, row=1, col=col,
                             textposition="outside", cliponaxis=False)
            self.fig.add_bar(name="1×1 conv (bottleneck)", marker_color=REDUCE_COLOR, showlegend=show, row=1, col=col)
            self.fig.add_bar(name="k×k conv after the bottleneck", marker_color=CONV_COLOR, showlegend=show,
                             row=1, col=col, textposition="outside", cliponaxis=False)
        # timing (c2)
        self.task = BackgroundTask("Time both paths")
        self.task.start_button.on_click(guarded(self.start_timing, self.task.status))
        self.timing = ipw.HTML()
        self.timing_fig = figure(height=280, title="each repeat's time (ms)", showlegend=False,
                                 margin=dict(l=120, r=20, t=40, b=45), xaxis_type="log",
                                 xaxis_title="milliseconds per forward pass (log scale)")
        self.timing_fig.add_box(name="direct", orientation="h", boxpoints="all", jitter=0.4, pointpos=0,
                                marker_color=DIRECT_COLOR)
        self.timing_fig.add_box(name="bottleneck", orientation="h", boxpoints="all", jitter=0.4, pointpos=0,
                                marker_color=CONV_COLOR)
        self.result: B.PathTiming | None = None

        handler = guarded(self.update, self.status)
        for f in self.fields.values():
            f.observe(handler, names="value")
        self.use_bottleneck.observe(handler, names="value")
        self.update()

        fields = list(self.fields.values())
        self.widget = ipw.VBox([
            ipw.HTML("<h4 style='margin:4px 0'>The calculator</h4>"),
            ipw.HBox([ipw.VBox(fields[:3]), ipw.VBox(fields[3:])], layout=ipw.Layout(flex_flow="row wrap",
                                                                                    grid_gap="16px")),
            self.use_bottleneck, self.status, self.formulas, self.fig,
            ipw.HTML(self._slip_html()),
            ipw.HTML("<h4 style='margin:10px 0 4px'>Check 1: PyTorch's own FLOP counter</h4>"),
            self.flops,
            ipw.HTML("<h4 style='margin:10px 0 4px'>Check 2: the clock</h4>"
                     f"<div style='color:#444'>Each press runs both paths {self.REPEATS} times on "
                     f"{html.escape(B.device_name(B.default_device()))}, one batch of one image, after a few "
                     "warm-up runs, alternating direct and bottleneck so both see the same load.</div>"),
            self.task.widget, self.timing, self.timing_fig,
        ])
        self.widget.add_class("lesson-cost-calculator")
        if autorun_timing:
            self.start_timing()

    # -- cost
    def read_shape(self) -> B.ConvShape:
        v = {k: int(f.value) for k, f in self.fields.items()}
        return B.ConvShape(**v)

    def update(self, _change=None):
        try:
            s = self.read_shape()
        except ValueError as exc:   # cannot happen through the fields; kept as a message
            self.status.value = message(str(exc))
            return
        self.status.value = ""
        self.shape = s
        bott_on = self.use_bottleneck.value
        d, b = B.direct_cost(s), B.bottleneck_cost(s)
        (_, m1, w1, _), (_, m2, w2, _) = b.layers
        with self.fig.batch_update():
            for col, (dv, rv, cv) in enumerate(((d.macs, m1, m2), (d.weights, w1, w2))):
                tot = rv + cv
                self.fig.data[3 * col].update(x=["direct"], y=[dv], text=[fmt_int(dv)])
                self.fig.data[3 * col + 1].update(x=["bottleneck"] if bott_on else [], y=[rv] if bott_on else [])
                self.fig.data[3 * col + 2].update(x=["bottleneck"] if bott_on else [], y=[cv] if bott_on else [],
                                                  text=[fmt_int(tot)] if bott_on else [])
                top = max(dv, tot if bott_on else 0)
                axis = self.fig.layout.yaxis if col == 0 else self.fig.layout.yaxis2
                axis.range = [0, top * 1.18]
        kk = f"{s.k}×{s.k}"
        rows = [("direct path: multiplications", f"{html.escape(B.formula_direct(s))}"),
                ("direct path: weights", f"{s.k}·{s.k}·{s.ch_in}·{s.ch_out} = {fmt_int(d.weights)} "
                                         f"(+ {fmt_int(d.biases)} biases = {fmt_int(d.weights_with_bias)})")]
        if bott_on:
            rows += [
                ("bottleneck path: multiplications", html.escape(B.formula_bottleneck(s))),
                ("bottleneck path: weights", f"{s.ch_in}·{s.ch_red} + {s.k}·{s.k}·{s.ch_red}·{s.ch_out} = "
                                             f"{fmt_int(w1)} + {fmt_int(w2)} = {fmt_int(b.weights)} "
                                             f"(+ {fmt_int(b.biases)} biases = {fmt_int(b.weights_with_bias)})"),
                ("ratio of multiplications", f"{fmt_int(d.macs)} / {fmt_int(b.macs)} ≈ {B.cost_ratio(s):.2f}×"),
                ("ratio of weights", f"{fmt_int(d.weights)} / {fmt_int(b.weights)} ≈ {d.weights / b.weights:.2f}× "
                                     "(the same ratio: with 'same' padding each weight is used once per "
                                     "output pixel, H·W times)"),
            ]
        verdict = ""
        if bott_on:
            be = B.breakeven_ch_red(s)
            ratio = B.cost_ratio(s)
            if ratio > 1:
                head = f"The bottleneck path needs <b>{ratio:.2f}× fewer</b> multiplications."
            elif ratio == 1:
                head = "The bottleneck path needs <b>exactly as many</b> multiplications as going direct."
            else:
                head = (f"The bottleneck path needs <b>{1 / ratio:.3g}× as many</b> multiplications as going "
                        "direct: here it costs more, not less.")
            verdict = (f"<div style='{BOX_STYLE}'>{head} It saves work only while "
                       f"ch_red &lt; C_in·C_out·k² / (C_in + C_out·k²) = {be:,.1f}.</div>")
        self.formulas.value = (
            f"<div style='color:#444'>Input {s.height}×{s.width}×{s.ch_in}, {kk} 'same' convolution with "
            f"{s.ch_out} filters → output {s.height}×{s.width}×{s.ch_out}. One multiplication = one multiply-add; "
            "multiplications by the zeros of the padding are counted. Weights are given without biases "
            "(as in the notes), then with them.</div>" + stat_table(rows) + verdict)
        self._update_flops(s, bott_on)
        self._mark_timing_stale()

    def _update_flops(self, s: B.ConvShape, bott_on: bool):
        fc = B.flop_check(s)          # on the meta device: shapes only, no memory allocated
        d, b = B.direct_cost(s), B.bottleneck_cost(s)

        def ok(a, b_):
            return ("<b style='color:#1b5e20'>✓ equal</b>" if a == b_ else
                    "<b style='color:#b00020'>✗ differ</b>")

        rows = [("direct: FlopCounterMode", f"{fmt_int(fc.direct_flops)} FLOPs ÷ 2 = {fmt_int(fc.direct_macs)} "
                                            f"multiply-adds, formula {fmt_int(d.macs)} {ok(fc.direct_macs, d.macs)}")]
        if bott_on:
            rows.append(("bottleneck: FlopCounterMode",
                         f"({fmt_int(fc.reduce_flops)} + {fmt_int(fc.conv_flops)}) FLOPs ÷ 2 = "
                         f"{fmt_int(fc.bottleneck_macs)} multiply-adds, formula {fmt_int(b.macs)} "
                         f"{ok(fc.bottleneck_macs, b.macs)}"))
        self.flops.value = (
            "<div style='color:#444'><code>torch.utils.flop_counter.FlopCounterMode</code> ran a forward pass of "
            "the real <code>nn.Conv2d</code> modules of each path. It counts a multiply-add as 2 FLOPs, so its "
            "figure is halved. The modules live on PyTorch's <code>meta</code> device: shapes without data, so "
            "any size can be counted without allocating memory.</div>" + stat_table(rows))

    @staticmethod
    def _slip_html() -> str:
        n = B.notes_slip()
        product = B.formula_direct(B.ConvShape.notes()).split(" = ")[0]
        claimed, actual, bott = fmt_int(n["claimed"]), fmt_int(n["actual"]), fmt_int(n["bottleneck"])
        return (f"<div style='{NOTE_STYLE}' class='lesson-notes-slip'><b>A slip in the handwritten notes.</b> "
                f"They give the direct path at the notes' sizes as “≈ 1.2B” multiplications. The product "
                f"{product} is <b>{actual}</b>, about {n['actual'] / 1e6:.1f} million: "
                f"{n['factor']:.0f} times less than 1.2 billion. So the bottleneck saves about "
                f"<b>{n['true_ratio']:.1f}×</b> ({actual} / {bott}), roughly 10×, not the 100× or so "
                f"({claimed} / {bott} ≈ {n['claimed_ratio']:.0f}) that “1.2B” would suggest.</div>")

    # -- timing
    def _mark_timing_stale(self):
        r = self.result
        if r is not None and r.shape != self.shape:
            self.timing.value = (message("The sizes changed since the last timing: press “Time both paths” "
                                         "to measure these sizes.", kind="ok") + self._timing_html(r))

    def start_timing(self, _button=None):
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

        def done(res):
            if res is None:
                return
            self.result = res
            self.show_timing(res)
            n = len(res.direct.times)
            verb = "Stopped after" if n < self.REPEATS else "Done:"
            self.task.status.value = message(f"{verb} {n} repeats of each path.", kind="ok")

        self.task.start(work, on_done=done)

    def _timing_html(self, r: B.PathTiming) -> str:
        s = r.shape
        rate_d, rate_b = r.throughput("direct") / 1e9, r.throughput("bottleneck") / 1e9
        lo_d, hi_d = r.direct.spread
        lo_b, hi_b = r.bottleneck.spread
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
        if r.speedup < r.macs_ratio:
            why = (f"The clock gives less than the count: the bottleneck path runs at {rate_b:.1f} G "
                   f"multiply-adds/s against the direct path's {rate_d:.1f}. A multiplication is not the only cost. "
                   f"The bottleneck is two layers, so it pays a layer's fixed cost (a call, a launch, a setup) twice; "
                   f"it writes the {s.height}×{s.width}×{s.ch_red} intermediate to memory and reads it back; and "
                   "its small layers (a short dot product of length ch_red·k² or C_in) keep the hardware's wide "
                   "vector units less busy than one big convolution does. Memory traffic and launch overheads "
                   "do not shrink with the multiplications.")
        else:
            why = (f"Here the clock gives as much as the count or more: the bottleneck path ran at {rate_b:.1f} G "
                   f"multiply-adds/s against the direct path's {rate_d:.1f}. Timings this short are noisy, and "
                   "each layer's speed depends on how well its shape suits the hardware and its caches; the count "
                   "of multiplications is only a first estimate of the time.")
        return stat_table(rows) + f"<div style='{BOX_STYLE}'>{why}</div>"

    def show_timing(self, r: B.PathTiming):
        self.timing.value = self._timing_html(r)
        with self.timing_fig.batch_update():
            self.timing_fig.data[0].x = np.array(r.direct.times) * 1e3
            self.timing_fig.data[1].x = np.array(r.bottleneck.times) * 1e3


def cost_calculator() -> ipw.Widget:
    return CostCalculator().widget
