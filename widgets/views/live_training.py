"""Lesson 5: live training of GoogLeNet, with a CPU fallback and a replay of a recorded run.

`live_training()` returns the whole dashboard (one VBox): device banner, controls, Train/Stop,
live charts (loss, accuracy, learning rate and images/s) with the last runs overlaid, and after a
run the confusion matrix, the test images with mistakes first, and 1- vs 10-crop evaluation.
The engine (`widgets.train`) knows nothing of this page: it calls back from a worker thread,
the page keeps the events and redraws at most 4 times a second through `ui.Throttle`.
"""
from __future__ import annotations

import dataclasses
import html
import math
import threading
import time
from pathlib import Path

import ipywidgets as ipw
import plotly.graph_objects as go

from widgets import data as D
from widgets import train as T
from widgets import ui

RECORDINGS = Path(__file__).resolve().parents[1] / "recordings"
MAX_RUNS = 4
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
REDRAW_INTERVAL = 0.25  # seconds: at most 4 redraws a second, whatever the step rate
GRID_COLS, GRID_ROWS = 12, 3


def replay_files() -> list[Path]:
    """Recorded run histories shipped with the package (widgets/recordings/*.json)."""
    return sorted(RECORDINGS.glob("*.json"))


class _Run:
    """One run's curves, kept in plain lists (filled by the worker, read by the redraw)."""

    def __init__(self, slot: int, label: str):
        self.slot, self.label = slot, label
        self.steps: list[dict] = []
        self.epochs: list[dict] = []
        self.lock = threading.Lock()

    def add(self, ev: dict) -> None:
        with self.lock:
            if ev.get("event") == "step":
                self.steps.append(ev)
            elif ev.get("event") == "epoch":
                self.epochs.append(ev)

    def snapshot(self) -> tuple[list[dict], list[dict]]:
        with self.lock:
            return list(self.steps), list(self.epochs)


class LiveTraining:
    """State of the page: controls, the charts' run slots, the last result."""

    def __init__(self):
        self.device, self.reason = T.select_device("auto")
        self.on_gpu = self.device.type == "cuda"
        base = T.lesson_default("digits")
        if self.on_gpu:  # a GPU trains the paper-width network in seconds on digits
            base = dataclasses.replace(base, width=1.0, image_size=32, epochs=10)
        self.base = base
        self.datasets: dict[str, D.ImageData] = {}
        self.describe_cache: dict[tuple, dict] = {}
        self.runs: list[_Run | None] = [None] * MAX_RUNS
        self.next_slot = 0
        self.current: _Run | None = None
        self.total_steps = 1
        self.last = {"result": None, "data": None, "config": None}

        self.banner = ipw.HTML(self._banner_html())
        self._build_controls()
        self.task = ui.BackgroundTask("Train", "Stop")
        self.task.start_button.on_click(ui.guarded(self._on_train, self.task.status))
        self.task.start_button.tooltip = "Train with the settings above (in a worker thread)"
        # Both buttons stay pressable: Train while running and Stop while idle answer with a
        # message (ui.BackgroundTask would grey them out, which tells a learner nothing).
        for button in (self.task.start_button, self.task.stop_button):
            button.disabled = False
            button.observe(lambda ch, b=button: setattr(b, "disabled", False) if ch["new"] else None, names="disabled")
        self.throttle = ui.Throttle(self._redraw, REDRAW_INTERVAL)
        self._build_charts()
        self._build_results()
        self._build_replay()
        self._update_summary()
        self._load_initial_replay()

    # ------------------------------------------------------------------ controls

    def _banner_html(self) -> str:
        if self.on_gpu:
            head, color = f"GPU: {html.escape(self.reason)}", "#1b5e20"
            sub = "The full-width network (width 1) trains here; bf16 autocast, data and augmentation on the GPU."
        else:
            head, color = "CPU: reduced model", "#8a4b00"
            sub = (f"{html.escape(self.reason)}. The defaults are a quarter-width GoogLeNet on 16x16 inputs, "
                   "so a run takes about half a minute; a recorded run can be replayed below.")
        return (f"<div class='lesson-device' style='padding:6px 10px;border-left:4px solid {color};background:#f7f7f7'>"
                f"<b style='color:{color}'>{head}</b><br><span style='font-size:0.9em'>{sub}</span></div>")

    def _build_controls(self) -> None:
        b = self.base
        s = {"description_width": "initial"}
        self.dataset = ipw.Dropdown(options=[("digits (embedded, 8x8)", "digits"), ("CIFAR-10 (binary archive)", "cifar10")],
                                    value="digits", description="Data", style=s, layout=ipw.Layout(width="300px"))
        self.width = ipw.Dropdown(options=[("1/16", 0.0625), ("1/8", 0.125), ("1/4", 0.25), ("1/2", 0.5), ("1 (paper)", 1.0)],
                                  value=b.width, description="Width", style=s, layout=ipw.Layout(width="170px"))
        self.size = ipw.Dropdown(options=[16, 24, 32], value=b.image_size, description="Input px", style=s,
                                 layout=ipw.Layout(width="150px"))
        self.schedule = ipw.Dropdown(options=[("one-cycle (short runs)", "onecycle"), ("paper: x0.96 / 8 epochs", "step")],
                                     value=b.schedule, description="Schedule", style=s, layout=ipw.Layout(width="300px"))
        self.bn = ipw.Checkbox(value=b.bn, description="BatchNorm", indent=False, layout=ipw.Layout(width="110px"))
        self.aux = ipw.Checkbox(value=b.aux, description="aux heads (0.3)", indent=False, layout=ipw.Layout(width="140px"))
        self.averaging = ipw.Checkbox(value=b.averaging, description="Polyak averaging", indent=False,
                                      layout=ipw.Layout(width="150px"))
        self.augment = ipw.Checkbox(value=b.augment, description="random crops 8-100%", indent=False,
                                    layout=ipw.Layout(width="170px"))
        self.lr = ui.NumberField("Learning rate", b.lr, min=1e-5, max=10.0, width="70px")
        self.batch = ui.NumberField("Batch", b.batch_size, min=2, max=4096, integer=True, width="60px")
        self.epochs = ui.NumberField("Epochs", b.epochs, min=1, max=200, integer=True, width="50px")
        self.seed = ui.NumberField("Seed", b.seed, min=0, max=2**31 - 1, integer=True, width="60px")
        self.summary = ipw.HTML("")
        for w in (self.dataset, self.width, self.size, self.schedule, self.bn, self.aux, self.averaging, self.augment,
                  self.lr, self.batch, self.epochs, self.seed):
            w.observe(ui.guarded(self._on_setting, self.summary), names="value")
        self.controls = ipw.VBox([
            ipw.HBox([self.dataset, self.width, self.size, self.schedule], layout=ipw.Layout(flex_flow="row wrap")),
            ipw.HBox([self.bn, self.aux, self.averaging, self.augment], layout=ipw.Layout(flex_flow="row wrap")),
            ipw.HBox([self.lr, self.batch, self.epochs, self.seed], layout=ipw.Layout(flex_flow="row wrap")),
            self.summary,
        ])

    def config(self) -> T.TrainConfig:
        cifar = self.dataset.value == "cifar10"
        return dataclasses.replace(
            self.base, dataset=self.dataset.value, width=float(self.width.value), image_size=int(self.size.value),
            schedule=self.schedule.value, bn=self.bn.value, aux=self.aux.value, averaging=self.averaging.value,
            augment=self.augment.value, lr=float(self.lr.value), batch_size=int(self.batch.value),
            epochs=int(self.epochs.value), seed=int(self.seed.value), flip=cifar and self.augment.value,
            crop_min_area=0.08, log_every=1 if not self.on_gpu else 5)

    def _describe(self, c: T.TrainConfig) -> dict:
        key = (c.dataset, c.width, c.image_size, c.bn, c.aux, c.batch_size, c.epochs, c.lr, c.schedule)
        if key not in self.describe_cache:
            self.describe_cache[key] = T.describe_run(c)
        return self.describe_cache[key]

    def _on_setting(self, _change=None) -> None:
        self._update_summary()

    def _update_summary(self) -> None:
        c = self.config()
        try:
            T.validate(c)
        except T.ConfigError as exc:
            self.summary.value = ui.message(str(exc))
            return
        d = self._describe(c)
        parts = [
            f"GoogLeNet {html.escape(c.label())}, seed {c.seed}",
            f"<b>{ui.fmt_int(d['params'])}</b> parameters",
            f"<b>{d['forward_flops'] / 1e6:,.1f} MFLOPs</b> per {c.image_size}x{c.image_size} image (forward)",
            f"{d['steps_per_epoch']} steps/epoch x {c.epochs} = <b>{d['total_steps']}</b> steps",
            f"{d['train_flops_per_epoch'] / 1e9:,.0f} GFLOPs/epoch",
            f"lr {d['lr_first']:.3g} &rarr; {d['lr_peak']:.3g} &rarr; {d['lr_last']:.2g}" if c.schedule == "onecycle"
            else f"lr {c.lr:.3g}, x0.96 at epochs 8, 16, ...",
        ]
        if d["steps_per_epoch"] < 1:
            self.summary.value = ui.message(f"Batch {c.batch_size} is larger than the training set.")
            return
        self.summary.value = "<span class='lesson-summary' style='font-size:0.9em'>" + " &middot; ".join(parts) + "</span>"

    # ------------------------------------------------------------------ charts

    def _build_charts(self) -> None:
        self.loss_fig = ui.figure(300, title="Loss (cross-entropy of the main head)", xaxis_title="epoch",
                                  yaxis_title="loss (log scale)", yaxis_type="log")
        self.acc_fig = ui.figure(300, title="Accuracy", xaxis_title="epoch", yaxis_title="accuracy",
                                 yaxis_range=[0, 1.02])
        self.speed_fig = ui.figure(260, title="Learning rate and throughput", xaxis_title="epoch",
                                   yaxis_title="learning rate",
                                   yaxis2=dict(title="images/s", overlaying="y", side="right", rangemode="tozero"))
        for k in range(MAX_RUNS):
            col = COLORS[k]
            g = f"run{k}"
            common = dict(legendgroup=g, visible=False, x=[], y=[])
            self.loss_fig.add_trace(go.Scatter(name=f"#{k}", mode="lines", line=dict(color=col, width=1, dash="dot"),
                                               opacity=0.6, showlegend=False, **common))
            self.loss_fig.add_trace(go.Scatter(name=f"#{k}", mode="lines+markers", line=dict(color=col, width=2), **common))
            self.acc_fig.add_trace(go.Scatter(name=f"#{k}", mode="lines", line=dict(color=col, width=1, dash="dot"),
                                              opacity=0.5, showlegend=False, **common))
            self.acc_fig.add_trace(go.Scatter(name=f"#{k}", mode="lines+markers", line=dict(color=col, width=2), **common))
            self.acc_fig.add_trace(go.Scatter(name=f"#{k} top-5", mode="lines", line=dict(color=col, width=1, dash="dash"),
                                              showlegend=False, **common))
            self.speed_fig.add_trace(go.Scatter(name=f"#{k}", mode="lines", line=dict(color=col, width=2), **common))
            self.speed_fig.add_trace(go.Scatter(name=f"#{k} img/s", mode="lines", line=dict(color=col, width=1, dash="dot"),
                                                yaxis="y2", showlegend=False, **common))
        for fig in (self.loss_fig, self.acc_fig, self.speed_fig):
            fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.25, x=0, font=dict(size=11)),
                              margin=dict(l=55, r=60, t=40, b=90))
        self.live_numbers = ipw.HTML("")
        self.charts = ipw.VBox([
            ipw.HBox([self.loss_fig, self.acc_fig], layout=ipw.Layout(flex_flow="row wrap")),
            self.speed_fig, self.live_numbers,
            ipw.HTML("<span style='font-size:0.85em;color:#555'>Solid: test set, once per epoch (top-1; dashed: top-5). "
                     "Dotted: training batches, every step (loss of the main head only, so it compares with the test "
                     "loss; accuracy on the batch, with dropout on). The curves show the current weights; the "
                     "averaged (Polyak) model is evaluated once, at the end, under <i>After the run</i>. Right axis of the lower chart: images/s. "
                     f"The last {MAX_RUNS} runs stay overlaid; their settings are in the legend.</span>"),
        ])
        self.charts.add_class("lesson-live-charts")

    def _new_run(self, label: str) -> _Run:
        slot = self.next_slot
        self.next_slot = (self.next_slot + 1) % MAX_RUNS
        run = _Run(slot, label)
        self.runs[slot] = run
        self.current = run
        name = f"#{slot + 1}: {label}"
        with self.loss_fig.batch_update(), self.acc_fig.batch_update(), self.speed_fig.batch_update():
            # per slot: (figure, traces per slot, which of them carries the legend entry)
            for fig, per, legend in ((self.loss_fig, 2, 1), (self.acc_fig, 3, 1), (self.speed_fig, 2, 0)):
                for j in range(per):
                    tr = fig.data[slot * per + j]
                    tr.update(x=[], y=[], visible=True, name=name if j == legend else f"#{slot + 1}")
        return run

    def _redraw(self) -> None:
        run = self.current
        if run is None:
            return
        steps, epochs = run.snapshot()
        k = run.slot
        sx = [e["epoch"] for e in steps]
        ex = [e["epoch"] for e in epochs]
        with self.loss_fig.batch_update():
            self.loss_fig.data[2 * k].update(x=sx, y=[e["main_loss"] for e in steps])
            self.loss_fig.data[2 * k + 1].update(x=ex, y=[e["test_loss"] for e in epochs])
        with self.acc_fig.batch_update():
            self.acc_fig.data[3 * k].update(x=sx, y=[e["train_top1"] for e in steps])
            self.acc_fig.data[3 * k + 1].update(x=ex, y=[e["test_top1"] for e in epochs])
            self.acc_fig.data[3 * k + 2].update(x=ex, y=[e["test_top5"] for e in epochs])
        with self.speed_fig.batch_update():
            self.speed_fig.data[2 * k].update(x=sx, y=[e["lr"] for e in steps])
            self.speed_fig.data[2 * k + 1].update(x=sx, y=[e["images_per_s"] for e in steps])
        if steps:
            last = steps[-1]
            self.task.bar.value = min(1.0, last["step"] / max(1, self.total_steps))
            txt = (f"step {last['step']}/{self.total_steps}, epoch {last['epoch']:.2f}: loss {last['loss']:.3f}, "
                   f"lr {last['lr']:.3g}, {last['images_per_s']:,.0f} img/s")
            if epochs:
                txt += f"; test top-1 {epochs[-1]['test_top1']:.4f} (top-5 {epochs[-1]['test_top5']:.4f})"
            self.live_numbers.value = f"<span class='lesson-live' style='font-family:monospace'>{html.escape(txt)}</span>"

    # ------------------------------------------------------------------ training

    def make_callback(self, run: _Run, progress, note: str = ""):
        """The engine's callback: keep the event, redraw at most every REDRAW_INTERVAL seconds.
        (benchmarks/watch_cost.py times a run with and without it.)"""

        def on_event(ev: dict) -> None:
            if ev["event"] == "start":
                self.total_steps = max(1, ev["total_steps"])
                progress(0.0, f"training on {ev['device']}" + (f" with {note}" if note else "")
                         + f": {ev['total_steps']} steps")
            elif ev["event"] == "end" and ev.get("stopped"):
                progress(self.task.bar.value, f"Stopped at step {ev.get('step', '?')}; finishing…")
            run.add(ev)
            self.throttle()

        return on_event

    def _data(self, name: str) -> D.ImageData:
        if name not in self.datasets:
            self.datasets[name] = D.load_dataset(name, download=True)
        return self.datasets[name]

    def _on_train(self, _button=None) -> None:
        if self.task.running:
            self.task.status.value = ui.message("Already running: press Stop first, or wait.")
            return
        cfg = self.config()
        try:
            T.validate(cfg)
        except T.ConfigError as exc:
            self.task.status.value = ui.message(f"Cannot train: {exc}")
            return
        threads, why_threads = (None, "") if self.on_gpu else T.suggest_threads()
        cfg = dataclasses.replace(cfg, threads=threads)
        run = self._new_run(cfg.label())
        self.total_steps = self._describe(cfg)["total_steps"] or 1
        self.live_numbers.value = ""

        def work(progress, stop_event):
            progress(0.0, "loading data and building the model…")
            data = self._data(cfg.dataset)
            n_train = data.x_train.shape[0]
            self.total_steps = max(1, (n_train // cfg.batch_size) * cfg.epochs)

            result = T.train(cfg, self.make_callback(run, progress, why_threads), stop_event, data=data)
            self.throttle.flush()
            crops = None
            if result.model is not None and not result.stopped:
                progress(1.0, "evaluating 1 and 10 crops per test image…")
                crops = T.evaluate_crops(result.model, data, cfg)
            return result, data, crops

        def done(out):
            if out is None:
                return
            result, data, crops = out
            kind = "error" if result.diverged else "ok"
            self.task.status.value = ui.message(result.message, kind=kind)
            if result.diverged:
                self.task.bar.bar_style = "danger"
            elif result.model is not None:
                self.task.bar.value = 1.0 if not result.stopped else self.task.bar.value
                self._show_results(cfg, data, result.final, crops, source="this run")

        self.task.start(work, on_done=done)

    # ------------------------------------------------------------------ results

    def _build_results(self) -> None:
        self.conf_fig = ui.figure(380, title="Confusion matrix (test set)", xaxis_title="predicted",
                                  yaxis_title="true", yaxis_autorange="reversed", legend=None)
        self.conf_fig.add_trace(go.Heatmap(z=[[0]], x=["0"], y=["0"], colorscale="Blues", showscale=False,
                                           texttemplate="%{z}", hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>"))
        self.conf_fig.update_layout(width=430, xaxis=dict(type="category", side="bottom"), yaxis=dict(type="category"))
        self.grid_fig = ui.figure(300, title="Test images, mistakes first (red frame: wrong; label: predicted/true)",
                                  margin=dict(l=5, r=5, t=40, b=5))
        self.grid_fig.add_trace(go.Image(z=[[[255, 255, 255]]], hoverinfo="skip"))
        self.grid_fig.update_xaxes(visible=False)
        self.grid_fig.update_yaxes(visible=False, scaleanchor="x")
        self.crop_fig = ui.figure(300, title="Multi-crop evaluation: accuracy against cost", xaxis_title="MFLOPs per test image",
                                  yaxis_title="test top-1", width=430, xaxis_type="log")
        self.crop_fig.add_trace(go.Scatter(x=[], y=[], mode="markers+text", text=[], textposition="top center",
                                           marker=dict(size=12, color="#1f77b4"), name="top-1"))
        self.results_title = ipw.HTML("<i>The results of a run appear here when it ends.</i>")
        self.results_numbers = ipw.HTML("")
        self.results = ipw.VBox([
            self.results_title,
            ipw.HBox([self.conf_fig, self.crop_fig], layout=ipw.Layout(flex_flow="row wrap")),
            self.results_numbers, self.grid_fig,
        ])

    def _show_results(self, cfg: T.TrainConfig, data: D.ImageData, final: dict, crops: list[dict] | None,
                      source: str) -> None:
        preds = final.get("predictions")
        if not preds:
            return
        y = data.y_test.cpu()
        k = data.num_classes
        cm = T.confusion_matrix(y, preds, k)
        order = T.mistakes_first(y, preds, final.get("confidence", [1.0] * len(preds)))
        n_wrong = int((cm.sum() - cm.trace()).item())
        shown = order[: GRID_COLS * GRID_ROWS]
        frames = [(214, 39, 40) if preds[i] != int(y[i]) else (44, 160, 44) for i in shown]
        scale = 4 if data.native_size <= 8 else 1
        gap = 14
        tiles = D.tile_images(data.x_test, shown, GRID_COLS, frames, pad=2, scale=scale, gap=gap)
        th, tw = gap + data.native_size * scale + 4, data.native_size * scale + 4
        names = data.classes
        with self.conf_fig.batch_update():
            self.conf_fig.data[0].update(z=cm.tolist(), x=names, y=names)
        with self.grid_fig.batch_update():
            self.grid_fig.data[0].z = tiles.tolist()
            ann = []
            for j, i in enumerate(shown):
                r, c = divmod(j, GRID_COLS)
                ok = preds[i] == int(y[i])
                ann.append(dict(x=c * tw + tw / 2, y=r * th + gap / 2, showarrow=False, yanchor="middle",
                                text=f"{names[preds[i]][:5]}/{names[int(y[i])][:5]}",
                                font=dict(size=10, color="#2c7a2c" if ok else "#b00020")))
            self.grid_fig.layout.annotations = ann
            self.grid_fig.layout.height = 60 + GRID_ROWS * 110
        acc = final["test_top1"]
        rows = [("test top-1 / top-5", f"{acc:.4f} / {final['test_top5']:.4f}"),
                ("mistakes", f"{n_wrong} of {len(preds)} test images")]
        if "raw_test_top1" in final:
            rows.append(("without averaging (last weights)", f"{final['raw_test_top1']:.4f}"))
        if crops:
            with self.crop_fig.batch_update():
                xs, ys = [r["flops_per_image"] / 1e6 for r in crops], [r["top1"] for r in crops]
                self.crop_fig.data[0].update(x=xs, y=ys, textposition=["middle right", "middle left"],
                                             text=[f"{r['crops']} crop{'s' if r['crops'] > 1 else ''}: {r['top1']:.4f}"
                                                   for r in crops])
                lo, hi = min(ys), max(ys)
                self.crop_fig.layout.yaxis.range = [max(0.0, lo - 0.05 - 0.1 * (hi - lo)), min(1.02, hi + 0.03)]
                self.crop_fig.layout.xaxis.range = [math.log10(min(xs)) - 0.5, math.log10(max(xs)) + 0.5]
            for r in crops:
                how = ""
                if r["crops"] > 1:
                    how = (" (corners + centre, and their mirrors)" if r.get("mirrored", True) else
                           " (corners + centre at two sizes; no mirrors: a mirrored 2 is not a 2)")
                rows.append((f"{r['crops']} crop{'s' if r['crops'] > 1 else ''}{how}",
                             f"top-1 {r['top1']:.4f}, {r['flops_per_image'] / 1e6:,.1f} MFLOPs/image, "
                             f"{r['seconds'] * 1000:,.0f} ms for the test set"))
        self.results_title.value = (f"<b>Results of {html.escape(source)}</b>: GoogLeNet {html.escape(cfg.label())}")
        self.results_numbers.value = ui.stat_table(rows, css_class="lesson-results")

    # ------------------------------------------------------------------ replay

    def _build_replay(self) -> None:
        files = replay_files()
        self.replay_pick = ipw.Dropdown(options=[(p.name, str(p)) for p in files], description="Recorded run",
                                        style={"description_width": "initial"}, layout=ipw.Layout(width="360px"))
        self.replay_path = ipw.Text(value="", placeholder="or a path to a history JSON (python -m widgets.train --history)",
                                    description="Path", continuous_update=False, layout=ipw.Layout(width="440px"))
        self.replay_button = ipw.Button(description="Replay", icon="history")
        self.replay_button.on_click(ui.guarded(self._on_replay, self.task.status))
        self.replay_info = ipw.HTML("")
        self.replay_seconds = 6.0
        self.replay = ipw.VBox([ipw.HBox([self.replay_pick, self.replay_path, self.replay_button],
                                         layout=ipw.Layout(flex_flow="row wrap", align_items="center")),
                                self.replay_info])

    def _read_history(self) -> dict:
        src = self.replay_path.value.strip() or self.replay_pick.value
        if not src:
            raise ValueError("no recorded run to replay")
        if not Path(src).is_file():
            raise ValueError(f"no file {src}")
        return T.load_history(src)

    def _history_header(self, h: dict) -> str:
        cfg = T.TrainConfig.from_dict(h.get("config", {}))
        f = h.get("final", {})
        return (f"Recorded {html.escape(str(h.get('recorded')))} on <b>{html.escape(str(h.get('device')))}</b> "
                f"({html.escape(str(h.get('device_reason', '')))}): GoogLeNet {html.escape(cfg.label())}, "
                f"{h.get('seconds', 0):.1f} s, final test top-1 {f.get('test_top1', float('nan')):.4f}. "
                f"{html.escape(h.get('note', ''))}")

    def _on_replay(self, _button=None) -> None:
        if self.task.running:
            self.task.status.value = ui.message("Already running: press Stop first, or wait.")
            return
        try:
            h = self._read_history()
        except (ValueError, OSError) as exc:
            self.task.status.value = ui.message(f"Cannot replay: {exc}")
            return
        self.replay_info.value = self._history_header(h)
        cfg = T.TrainConfig.from_dict(h.get("config", {}))
        events = [e for e in h["events"] if e.get("event") in ("step", "epoch")]
        run = self._new_run(f"replay {h.get('device')}: {cfg.label()}")
        self.total_steps = max([e.get("step", 0) for e in events] + [1])
        pause = self.replay_seconds / max(1, len(events))

        def work(progress, stop_event):
            for ev in events:
                if stop_event.is_set():
                    break
                run.add(ev)
                self.throttle()
                time.sleep(pause)
            self.throttle.flush()
            return None if stop_event.is_set() else h

        def done(hist):
            if hist is None:
                return
            self.task.status.value = ui.message("Replay finished.", kind="ok")
            self._show_history_results(hist, cfg)

        self.task.start(work, on_done=done)

    def _show_history_results(self, h: dict, cfg: T.TrainConfig) -> None:
        if cfg.dataset != "digits" and cfg.dataset not in self.datasets:
            return  # the test images of CIFAR-10 are only shown when they are loaded
        data = self._data(cfg.dataset)
        extras = h.get("extras", {})
        self._show_results(cfg, data, h.get("final", {}), extras.get("crops"),
                           source=f"the recorded run ({h.get('device')}, {h.get('recorded')})")

    def _load_initial_replay(self) -> None:
        """Show the shipped recorded run at once (no animation), so the page starts with a finished run."""
        files = replay_files()
        if not files:
            return
        h = T.load_history(files[0])
        cfg = T.TrainConfig.from_dict(h.get("config", {}))
        run = self._new_run(f"recorded {h.get('device')}: {cfg.label()}")
        for ev in h["events"]:
            run.add(ev)
        self._redraw()
        self.task.bar.value = 0.0
        self.live_numbers.value = ""
        self.replay_info.value = self._history_header(h)
        self._show_history_results(h, cfg)

    # ------------------------------------------------------------------ layout

    def widget(self) -> ipw.Widget:
        def section(title, *children):
            return ipw.VBox([ipw.HTML(f"<h3 style='margin:14px 0 4px'>{title}</h3>"), *children])

        return ipw.VBox([
            self.banner,
            section("Settings", self.controls),
            section("Train", self.task.widget),
            section("Live curves", self.charts),
            section("After the run", self.results),
            section("Replay a recorded run", self.replay),
        ], layout=ipw.Layout(max_width="1300px"))


def live_training() -> ipw.Widget:
    """The lesson-5 dashboard: settings, Train/Stop, live curves, results, replay."""
    return LiveTraining().widget()
