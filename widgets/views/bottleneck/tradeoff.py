"""Lesson 3, section d: the catch, a bottleneck that is too narrow."""
from __future__ import annotations

import ipywidgets as ipw

from widgets import bottleneck_tradeoff as T
from widgets.ui import BackgroundTask, figure, guarded, message
from widgets.views.bottleneck.style import BOX_STYLE, CONV_COLOR, DIRECT_COLOR


def _slider(description: str, value, lo, hi, step=1, width="360px", fmt="d", kind=ipw.IntSlider, **kw):
    return kind(value=value, min=lo, max=hi, step=step, description=description, readout_format=fmt,
                style={"description_width": "150px"}, layout=ipw.Layout(width=width), **kw)


# --------------------------------------------------------------------------- d. the catch
class Tradeoff:
    """How much of the direct layer's output survives a bottleneck of ch_red channels."""

    def __init__(self, latent: int = 6):
        self.setup = T.TradeoffSetup(latent=latent)
        self.ch_reds = T.tradeoff_ch_reds(self.setup.ch_in)
        self.latent = _slider("input's true dimension", latent, 1, self.setup.ch_in, width="420px",
                              continuous_update=False)
        self.numbers = ipw.HTML()
        self.status = ipw.HTML()
        self.task = BackgroundTask("Train the bottlenecked layers")
        self.task.start_button.layout.width = "auto"
        self.task.start_button.on_click(guarded(self.start_training, self.task.status))
        self.fig = figure(height=380, xaxis_title="ch_red (width of the 1×1 bottleneck)",
                          yaxis_title="output lost (relative error, %)", margin=dict(l=60, r=70, t=40, b=50),
                          yaxis_range=[-3, 103],
                          yaxis2=dict(title="multiplications, % of direct", overlaying="y", side="right",
                                      showgrid=False, range=[-3.9, 133.9], tickmode="linear", tick0=0, dtick=20))
        self.fig.update_xaxes(type="log", tickvals=self.ch_reds)
        self.fig.add_scatter(name="best possible (closed form, SVD)", mode="lines+markers",
                             line=dict(color=DIRECT_COLOR, width=3))
        self.fig.add_scatter(name="trained a few seconds (Adam)", mode="markers",
                             marker=dict(symbol="x", size=12, color="black"))
        self.fig.add_scatter(name="cost of the bottleneck path", mode="lines", yaxis="y2",
                             line=dict(color=CONV_COLOR, dash="dot"))
        self.trained: dict[int, float] = {}
        self.latent.observe(guarded(self.update, self.status), names="value")
        self.update()
        self.widget = ipw.VBox([self.latent, self.task.widget, self.numbers, self.fig, self.status])
        self.widget.add_class("lesson-tradeoff")

    def update(self, _change=None):
        if self.setup.latent != self.latent.value:
            if self.task.running:         # its points would belong to the old input
                self.task.stop()
            self.setup = T.TradeoffSetup(latent=self.latent.value)
            self.trained = {}
        best = [100 * T.best_relative_error(self.setup, r) for r in self.ch_reds]
        cost = [100 * T.tradeoff_cost_share(self.setup, r) for r in self.ch_reds]
        with self.fig.batch_update():
            self.fig.data[0].update(x=self.ch_reds, y=best)
            self.fig.data[2].update(x=self.ch_reds, y=cost)
            self._draw_trained()
        st = self.setup
        k_at = {r: b for r, b in zip(self.ch_reds, best)}
        narrow = [r for r in self.ch_reds if r < st.latent]
        ok = [r for r in self.ch_reds if r >= st.latent]
        lines = []
        if narrow:
            r = narrow[-1]
            lines.append(f"ch_red = {r} (narrower than the input's {st.latent} underlying signals): at best "
                         f"<b>{k_at[r]:.1f} %</b> of the output is lost, for {cost[self.ch_reds.index(r)]:.0f} % of "
                         "the multiplications.")
        if ok:
            r = ok[0]
            lines.append(f"ch_red = {r}: at best <b>{k_at[r]:.2f} %</b> lost (only the noise), for "
                         f"{cost[self.ch_reds.index(r)]:.0f} % of the multiplications.")
        self.numbers.value = (
            f"<div style='{BOX_STYLE}'>Setup: {st.size}×{st.size}×{st.ch_in} inputs whose {st.ch_in} channels are "
            f"mixtures of <b>{st.latent}</b> underlying signals plus a little noise (σ = {st.noise}); direct layer "
            f"{st.k}×{st.k}, {st.ch_in} → {st.ch_out}. The bottleneck is linear here (no ReLU after the 1×1) so "
            "that the best possible error has a closed form to check training against.<br>"
            + "<br>".join(lines) + "</div>")

    def _draw_trained(self):
        xs = sorted(self.trained)
        self.fig.data[1].update(x=xs, y=[100 * self.trained[r] for r in xs])

    def start_training(self, _button=None):
        setup, ch_reds = self.setup, list(self.ch_reds)

        def work(progress, stop_event):
            out = {}
            for i, r in enumerate(ch_reds):
                if stop_event.is_set():
                    break
                progress(i / len(ch_reds), f"training ch_red = {r} ({i + 1} of {len(ch_reds)})")
                err = T.train_bottleneck(setup, r, should_stop=stop_event.is_set)
                if stop_event.is_set():          # cut short: not a fair point to plot
                    break
                out[r] = err
                if setup is self.setup:
                    self.trained[r] = out[r]
                    with self.fig.batch_update():
                        self._draw_trained()
            progress(1.0, "done" if not stop_event.is_set() else "stopped")
            return out

        def done(out):
            if self.task.stop_event.is_set():
                self.task.status.value = message(f"Stopped after {len(out)} of {len(ch_reds)} widths.", kind="ok")
                return
            if setup is not self.setup:
                self.task.status.value = message("The input changed while training: press Train again.", kind="ok")
                return
            worst = max((v - T.best_relative_error(setup, r) for r, v in out.items()), default=0.0)
            self.task.status.value = message(
                f"Trained {len(out)} widths, {T.TRAIN_STEPS} Adam steps each; the largest gap to the best possible is "
                f"{100 * worst:.2f} percentage points.", kind="ok")

        if self.task.running:
            self.task.status.value = message("Already running: press Stop first, or wait.")
            return
        self.trained = {}
        with self.fig.batch_update():
            self._draw_trained()
        self.task.start(work, on_done=done)


def bottleneck_tradeoff() -> ipw.Widget:
    return Tradeoff().widget
