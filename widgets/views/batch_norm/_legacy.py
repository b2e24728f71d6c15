"""Lesson 2, Batch Normalization: one builder per section (a-g) of notebooks/02_batch_norm.ipynb.

Each builder owns its state (a small class), builds its figures once, and updates trace
data inside fig.batch_update(). Every number shown comes from widgets.batchnorm or
widgets.bn_training.
"""
from __future__ import annotations

import html
from dataclasses import replace

import ipywidgets as ipw
import numpy as np
import plotly.graph_objects as go

from widgets import batchnorm as bn
from widgets import ui

BLUE, ORANGE, GREEN, RED, GREY, PURPLE = "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#7f7f7f", "#9467bd"
VARIANT_COLORS = {"plain": RED, "BN": BLUE, "BN + noise": GREEN}


def _f(v: float, digits: int = 4) -> str:
    """A number for the page: fixed digits for ordinary sizes, scientific for tiny or huge ones."""
    if v is None or not np.isfinite(v):
        return "—" if v is None else ("diverged" if np.isnan(v) else str(v))
    if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e5):
        return f"{v:.3e}"
    return f"{v:.{digits}f}"


def _table(rows) -> str:
    """ui.stat_table with the numbers kept on one line."""
    return ui.stat_table(rows).replace("font-family:monospace'", "font-family:monospace;white-space:nowrap'")


def _section(key: str, title: str, *children) -> ipw.VBox:
    """One lesson section: a titled, bordered box with the CSS class bn-sec-<key> (the browser test scopes by it)."""
    box = ipw.VBox([ipw.HTML(f"<h3 style='margin:6px 0'>{html.escape(title)}</h3>"), *children],
                   layout=ipw.Layout(border="1px solid #ddd", padding="8px", margin="6px 0"))
    box.add_class(f"bn-sec-{key}")
    return box


def _slider(cls, description: str, **kw):
    kw.setdefault("continuous_update", True)
    return cls(description=description, style={"description_width": "initial"},
               layout=ipw.Layout(width="420px"), **kw)


# =======================================================================================
# f, g. training (background tasks)
# =======================================================================================
def _placeholder(fig, text: str) -> None:
    """A 'press the button' note in an empty figure (kept apart from subplot titles, which are annotations too)."""
    fig.add_annotation(text=text, xref="paper", yref="paper", x=0.5, y=0.5, showarrow=False,
                       font=dict(size=16, color="#555"), name="placeholder", bgcolor="rgba(255,255,255,0.85)")


def _clear_placeholder(fig) -> None:
    fig.layout.annotations = [a for a in fig.layout.annotations if a.name != "placeholder"]


def _setup_torch():
    import torch

    torch.set_num_threads(1)          # one core per run: the machine is shared, and small nets don't gain from more
    torch.set_flush_denormal(True)    # a vanishing-gradient net otherwise crawls through denormal floats


class _LazyFigure:
    """A FigureWidget built on first use; until then a "press the button" line stands in its place.

    Why: every FigureWidget makes the page parse plotly's 5 MB widget script, and anywidget 0.11 gives
    each model 2 s to initialise (AbortSignal.timeout(2000) in its runtime). Measured on this shared
    2-core machine: with 8-15 figures created at page load, some or all failed ("[anywidget] Failed to
    initialize model") and then ignored every update. So the training sections, which have nothing
    to draw before a run anyway, build their figure when their button is first pressed.
    """

    def __init__(self, build, placeholder_html: str):
        self._build = build
        self.fig = None
        self.placeholder = ipw.HTML(
            "<div style='border:1px dashed #bbb;color:#555;padding:18px;margin:6px 0;font-size:1.05em'>"
            f"{placeholder_html}</div>")
        self.box = ipw.VBox([self.placeholder], layout=ipw.Layout(width="100%"))

    def get(self):
        """The figure, built (once) and put in place of the placeholder. Call from the kernel's main thread."""
        if self.fig is None:
            self.fig = self._build()
            self.fig.layout.width = 1280   # built after the page is laid out: autosize would pick a narrow width
            self.box.children = [self.fig]
        return self.fig


class _Shift:
    NAMES = ("plain", "BN", "BN + noise")

    def __init__(self):
        from widgets import bn_training as bt

        self.bt = bt
        self.status = ipw.HTML("")
        self.activation = ipw.Dropdown(options=["sigmoid", "tanh"], value="sigmoid", description="activation",
                                       layout=ipw.Layout(width="220px"))
        self.noise = ui.NumberField("noise level n", 1.0, min=0.0, max=5.0)
        self.lr = ui.NumberField("learning rate", 0.5, min=1e-4, max=50)
        self.steps = ui.NumberField("steps", 300, min=20, max=2000, integer=True)
        self.task = ui.BackgroundTask("Train the three networks", "Stop")
        self.task.start_button.layout.width = "240px"
        self.task.start_button.on_click(ui.guarded(self.start, self.task.status))
        self.summary = ipw.HTML("<b>Press Train the three networks</b>: plain, BN, and BN with noise injected after "
                                "every BN layer (a few seconds).")
        self.verdict = ipw.HTML("")
        self.lazy = _LazyFigure(self._make_fig, "<b>Press Train the three networks</b> to draw layer 5's input "
                                "distribution over training for each network, their loss curves, and the smoothness probes.")

    def _make_fig(self):
        # one figure: the three distributions above; loss, loss spread and gradient change below
        fig = ui.figure(height=720, legend=dict(orientation="h", y=-0.1, x=0))
        fig.set_subplots(rows=2, cols=3, vertical_spacing=0.16, horizontal_spacing=0.07,
                              subplot_titles=[*(f"{n}: input of hidden layer 5" for n in self.NAMES),
                                              "training loss (mini-batch, smoothed)",
                                              "spread of L along the gradient step",
                                              "relative gradient change along the step"])
        for col, name in enumerate(self.NAMES, start=1):
            c = VARIANT_COLORS[name]
            for lo_hi, op in (("5–95 %", 0.15), ("25–75 %", 0.3)):
                fig.add_trace(go.Scatter(x=[], y=[], mode="lines", line=dict(width=0), showlegend=False,
                                              hoverinfo="skip"), 1, col)
                fig.add_trace(go.Scatter(x=[], y=[], mode="lines", line=dict(width=0), fill="tonexty",
                                              fillcolor=_rgba(c, op), name=lo_hi, showlegend=False), 1, col)
            fig.add_trace(go.Scatter(x=[], y=[], mode="lines", line=dict(color=c, width=2), name="median",
                                          showlegend=False), 1, col)
        for col in (1, 2, 3):
            for name in self.NAMES:
                fig.add_trace(go.Scatter(x=[], y=[], mode="lines", name=name, line=dict(color=VARIANT_COLORS[name]),
                                              legendgroup=name, showlegend=col == 1), 2, col)
        fig.update_xaxes(title_text="SGD step")
        fig.update_yaxes(type="log", exponentformat="power", row=2, col=2)
        fig.update_yaxes(type="log", exponentformat="power", row=2, col=3)
        _placeholder(fig, "Training… the plots appear when the three runs are done")
        return fig

    def start(self, _b=None):
        cfg = self.bt.Config(activation=self.activation.value, lr=self.lr.value, steps=int(self.steps.value),
                             smoothness=True)
        noise = self.noise.value
        self.fig = self.lazy.get()

        def work(progress, stop):
            _setup_torch()
            return self.bt.compare(cfg, noise=noise, progress=progress, stop=stop)

        self.task.start(work, self.show)

    def show(self, out):
        if not out:
            return
        with self.fig.batch_update():
            _clear_placeholder(self.fig)
            for col, name in enumerate(self.NAMES):
                r = out.get(name)
                if r is None or not r.probe_quantiles:
                    continue
                q = np.array(r.probe_quantiles)                   # (records, 5)
                d = self.fig.data[5 * col: 5 * col + 5]
                for k, (lo, hi) in enumerate(((0, 4), (1, 3))):
                    d[2 * k].x, d[2 * k].y = r.record_steps, q[:, lo]
                    d[2 * k + 1].x, d[2 * k + 1].y = r.record_steps, q[:, hi]
                d[4].x, d[4].y = r.record_steps, q[:, 2]
                xs, ys = _smooth_curve(r.loss)
                below = self.fig.data[15 + col], self.fig.data[18 + col], self.fig.data[21 + col]
                below[0].x, below[0].y = xs, ys
                below[1].x, below[1].y = r.smooth_steps, r.loss_range
                below[2].x, below[2].y = r.smooth_steps, r.grad_change_rel
        head = ("<tr><th style='text-align:left'>network</th><th>drift from step 0</th><th>jump per record</th>"
                "<th>training loss, last 10% of steps</th><th>median spread of L along step</th>"
                "<th>median relative gradient change</th><th>median actual / predicted decrease</th></tr>")
        cell = "style='font-family:monospace;padding:0 8px;text-align:right'"
        body = "".join(
            f"<tr><td>{name}</td><td {cell}>{_f(r.drift)}</td><td {cell}>{_f(r.jitter)}</td><td {cell}>{_f(r.recent_loss)}</td>"
            f"<td {cell}>{_f(float(np.median(r.loss_range)))}</td><td {cell}>{_f(float(np.median(r.grad_change_rel)))}</td>"
            f"<td {cell}>{_f(float(np.median(r.taylor_ratio)))}</td></tr>"
            for name, r in out.items() if r.loss_range)
        self.summary.value = f"<table class='lesson-stats'>{head}{body}</table>"
        self.verdict.value = _verdict(out)


def _verdict(out) -> str:
    """Plain sentences drawn from the measured numbers (nothing asserted that the run did not show)."""
    if not all(n in out for n in _Shift.NAMES) or any(r.stopped or not r.loss_range for r in out.values()):
        return "<i>Stopped before all three networks ran: no verdict.</i>"
    p, b, n = out["plain"], out["BN"], out["BN + noise"]
    parts = []
    ratio = n.jitter / b.jitter if b.jitter > 0 else float("inf")
    parts.append(f"The injected noise made layer 5's input distribution jump {_f(ratio, 1)}× more per record than with "
                 f"plain BN (and {_f(n.jitter / p.jitter, 1) if p.jitter > 0 else '∞'}× more than without BN).")
    if n.recent_loss < 2 * b.recent_loss + 0.05:
        parts.append(f"Yet it trained about as well as BN (loss {_f(n.recent_loss, 3)} vs {_f(b.recent_loss, 3)}"
                     f"{'' if p.recent_loss < 2 * b.recent_loss + 0.05 else f', plain: {_f(p.recent_loss, 3)}'}): a stable input "
                     "distribution is <b>not</b> what made BN work here, contrary to the internal-covariate-shift story.")
    else:
        parts.append(f"Here the noisy network trained worse than BN (loss {_f(n.recent_loss, 3)} vs {_f(b.recent_loss, 3)}): "
                     "try a smaller noise level; at n = 1 on sigmoid it matches BN.")
    lr_b, lr_p = float(np.median(b.loss_range)), float(np.median(p.loss_range))
    gc_b, gc_p = float(np.median(b.grad_change_rel)), float(np.median(p.grad_change_rel))
    smoother = lr_b < lr_p and gc_b < gc_p
    parts.append(("Along the gradient the BN network's loss varied less and its gradient changed less than the plain "
                  "network's, as Santurkar et al. report." if smoother else
                  f"The smoothness probes do <b>not</b> favour BN in this small MLP (spread of L {_f(lr_b, 3)} with BN vs "
                  f"{_f(lr_p, 3)} without; relative gradient change {_f(gc_b, 2)} vs {_f(gc_p, 2)}): measured in raw weight "
                  "space, they do not reproduce the paper's VGG result."))
    return "<div style='max-width:1100px'>" + " ".join(parts) + "</div>"


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    return f"rgba({int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha})"


def _smooth_curve(loss, window: int = 10):
    """Moving average of a loss curve for drawing (mini-batch losses are noisy)."""
    y = np.asarray(loss, dtype=float)
    if len(y) < window:
        return list(range(len(y))), y
    k = np.ones(window) / window
    return list(range(window - 1, len(y))), np.convolve(y, k, mode="valid")


def covariate_shift_section() -> ipw.Widget:
    """g. Internal covariate shift with/without BN, Santurkar et al.'s noise injection, and the smoothness probes."""
    s = _Shift()
    controls = ipw.HBox([s.activation, s.noise, s.lr, s.steps], layout=ipw.Layout(flex_flow="row wrap"))
    box = _section("g", "g. Internal covariate shift, and the noise-injection experiment", controls, s.task.widget,
                   s.status, s.summary, s.verdict, s.lazy.box)
    box._state = s
    return box
