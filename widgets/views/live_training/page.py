"""Lesson 5's dashboard as one section ("train"): settings, Train/Stop, live charts, results, replay.

Training and replay draw into the same charts, so they are two start buttons of the section's one
task: at most one of them runs. The engine (`widgets.train`) knows nothing of this page; it calls
back from the worker thread, the page keeps each event in the run's columns and redraws at most
4 times a second (`ui.Throttle`), always through `task.draw` (the section's lock). A replay shows
its events in `history.REPLAY_SECONDS` whatever their number, and reads only checked histories
from the recordings folder and the learner's history folder (`widgets.history`).
"""
from __future__ import annotations

import dataclasses
import html
import time
from pathlib import Path

import ipywidgets as ipw

from widgets import data as D
from widgets import history as H
from widgets import run_results as R
from widgets import train as T
from widgets import ui
from widgets.views.live_training import settings as S
from widgets.views.live_training.charts import Run, RunCharts
from widgets.views.live_training.results import Results
from widgets.views.section import Section

RECORDINGS = Path(__file__).resolve().parents[2] / "recordings"
SHIPPED = RECORDINGS / "replay_cpu_digits.json"   # on the charts when the page opens
REDRAW_INTERVAL = 0.25  # seconds: at most 4 redraws a second, whatever the step rate


def replay_files() -> list[Path]:
    """Recorded run histories shipped with the package (widgets/recordings/*.json), the lesson's first."""
    return sorted(RECORDINGS.glob("*.json"), key=lambda p: (p != SHIPPED, p.name))


def heading(text: str) -> ipw.HTML:
    return ipw.HTML(f"<h3 style='margin:14px 0 4px'>{html.escape(text)}</h3>")


class LiveTraining(Section):
    """The whole lesson-5 dashboard (see the module docstring)."""

    name, title, css = "train", "Train GoogLeNet live", ("lesson-live-training",)
    replay_seconds = H.REPLAY_SECONDS

    def __init__(self, **values):
        super().__init__(**values)
        self.widget.layout.max_width = "1300px"

    # ------------------------------------------------------------------ the shape
    def build(self) -> None:
        self.device, self.reason = T.select_device("auto")
        self.on_gpu = self.device.type == "cuda"
        self.base = S.base_config(self.on_gpu)
        self.datasets: dict[str, D.ImageData] = {}
        self.describe_cache: dict[tuple, dict] = {}
        self.run: Run | None = None
        measured = R.banner_timing(R.read_result("cpu_default"))
        self.banner = ipw.HTML(S.banner_html(self.on_gpu, self.reason, measured))
        self.settings_rows = S.add_controls(self, self.base)
        self.summary = ipw.HTML("")
        self.add_task("Train", self.start_training)
        self.task.start_button.tooltip = "Train with the settings above (in a worker thread)"
        self.charts = RunCharts(self)
        self.results = Results(self)
        self.history_roots = [RECORDINGS, H.default_history_dir()]
        self.replay_pick, self.replay_path = S.replay_controls(self, replay_files(), H.default_history_dir())
        self.replay_button = self.task.add_start_button("Replay", lambda _b: self.start_replay())
        self.replay_button.icon, self.replay_button.button_style = "history", ""
        self.replay_info = ipw.HTML("")
        self._keep_buttons_pressable()
        self.throttle = ui.Throttle(lambda: self.task.draw(self._redraw), REDRAW_INTERVAL)

    def update(self, changed: str | None) -> None:
        if changed == "recording":
            return  # read when Replay is pressed
        self._show_summary()
        if changed is None:
            self._show_recording_at_once()

    def layout(self) -> list[ipw.Widget]:
        wrap = ipw.Layout(flex_flow="row wrap", align_items="center")
        replay = ipw.HBox([self.replay_pick, self.replay_path, self.replay_button, ipw.HTML(S.replay_promise())], layout=wrap)
        return [self.banner, heading("Settings"), *self.settings_rows, self.summary, self.status,
                heading("Train"), self.task.widget, heading("Live curves"), self.charts.widget,
                heading("After the run"), self.results.widget, heading("Replay a recorded run"), replay,
                self.replay_info]

    def _keep_buttons_pressable(self) -> None:
        """Train/Replay while running and Stop while idle answer with a message (a greyed-out
        button, ui.BackgroundTask's default, tells a learner nothing)."""
        for b in (*self.task.start_buttons, self.task.stop_button):
            b.disabled = False
            b.observe(lambda ch, b=b: setattr(b, "disabled", False) if ch["new"] else None, names="disabled")

    # ------------------------------------------------------------------ settings
    def config(self) -> T.TrainConfig:
        return S.config(self, self.base, self.on_gpu)

    def _describe(self, c: T.TrainConfig) -> dict:
        key = (c.dataset, c.width, c.image_size, c.bn, c.aux, c.batch_size, c.epochs, c.lr, c.schedule)
        if key not in self.describe_cache:
            self.describe_cache[key] = T.describe_run(c)
        return self.describe_cache[key]

    def _show_summary(self) -> None:
        c = self.config()
        try:
            T.validate(c)
        except T.ConfigError as exc:
            self.summary.value = ui.message(str(exc))
            return
        self.summary.value = S.summary_html(c, self._describe(c))

    def _data(self, name: str) -> D.ImageData:
        if name not in self.datasets:
            self.datasets[name] = D.load_dataset(name, download=True)
        return self.datasets[name]

    def _redraw(self) -> None:
        if self.run is not None:
            self.charts.redraw(self.run, self.task.bar)

    def _busy(self) -> bool:
        if self.task.running:
            self.task.status.value = ui.message("Already running: press Stop first, or wait.")
        return self.task.running

    # ------------------------------------------------------------------ training
    def start_training(self) -> None:
        if self._busy():
            return
        cfg = self.config()
        try:
            T.validate(cfg)
        except T.ConfigError as exc:
            self.task.status.value = ui.message(f"Cannot train: {exc}")
            return
        threads, why_threads = (None, "") if self.on_gpu else T.suggest_threads()
        cfg = dataclasses.replace(cfg, threads=threads)
        total = self._describe(cfg)["total_steps"]
        with self.lock:
            self.run = run = self.charts.new_run(cfg.label(), total)
        self.task.start(lambda progress, stop: self._train(cfg, run, why_threads, progress, stop),
                        on_done=lambda out: self._trained(cfg, out))

    def _train(self, cfg: T.TrainConfig, run: Run, note: str, progress, stop_event):
        """The worker: train, then evaluate 1 and 10 crops. (benchmarks/watch_cost.py times the callback.)"""
        progress(0.0, "loading data and building the model…")
        data = self._data(cfg.dataset)
        run.total_steps = max(1, (data.x_train.shape[0] // cfg.batch_size) * cfg.epochs)

        def on_event(ev: dict) -> None:
            if ev["event"] == "start":
                run.total_steps = max(1, ev["total_steps"])
                progress(0.0, f"training on {ev['device']}" + (f" with {note}" if note else "")
                         + f": {ev['total_steps']} steps")
            elif ev["event"] == "end" and ev.get("stopped"):
                progress(self.task.bar.value, f"Stopped at step {ev.get('step', '?')}; finishing…")
            run.add(ev)
            self.throttle()

        result = T.train(cfg, on_event, stop_event, data=data)
        self.throttle.flush()
        crops = None
        if result.model is not None and not result.stopped:
            progress(1.0, "evaluating 1 and 10 crops per test image…")
            crops = T.evaluate_crops(result.model, data, cfg)
        return result, data, crops

    def _trained(self, cfg: T.TrainConfig, out) -> None:
        """Runs under the section's lock when the worker is done."""
        if out is None:
            return
        result, data, crops = out
        self.task.status.value = ui.message(result.message, kind="error" if result.diverged else "ok")
        if result.diverged:
            self.task.bar.bar_style = "danger"
        elif result.model is not None:
            if not result.stopped:
                self.task.bar.value = 1.0
            self.results.show(cfg.label(), data, result.final, crops, source="this run")

    # ------------------------------------------------------------------ replay
    def read_replay(self) -> H.History:
        """The history the Path field (else the picker) names; HistoryError/OSError if it cannot be replayed."""
        text = self.replay_path.value.strip() or (self.controls["recording"].value or "")
        if not text:
            raise H.HistoryError("no recorded run to replay")
        return H.read_history(H.find_history(text, self.history_roots))

    def start_replay(self) -> None:
        if self._busy():
            return
        try:
            hist = self.read_replay()
        except H.HistoryError as exc:
            self.task.status.value = ui.message(f"Cannot replay: {exc}")
            return
        except OSError as exc:
            self.task.status.value = ui.message(f"Cannot replay: the file could not be read ({exc.strerror}).")
            return
        self.replay_info.value = self._header(hist)
        with self.lock:
            self.run = run = self.charts.new_run(f"replay {hist.device}: {hist.config.label()}", hist.total_steps)
        self.task.start(lambda progress, stop: self._replay(hist, run, progress, stop), on_done=self._replayed)

    def _replay(self, hist: H.History, run: Run, progress, stop_event) -> H.History | None:
        """The worker: show the events at the pace that ends the replay after `replay_seconds`."""
        events, shown = hist.events, 0
        progress(0.0, f"replaying {len(events):,} events in {self.replay_seconds:g} s")
        t0 = time.monotonic()
        while shown < len(events):
            if stop_event.wait(min(REDRAW_INTERVAL, self.replay_seconds)):
                return None
            due = H.replay_due(time.monotonic() - t0, len(events), self.replay_seconds)
            run.extend(events[shown:due])
            shown = due
            self.task.draw(self._redraw)
        return hist

    def _replayed(self, hist: H.History | None) -> None:
        if hist is None:
            return
        if hist.diverged:
            self.task.status.value = ui.message(
                f"Replay finished: this run diverged after step {hist.total_steps} (its loss became infinite "
                "or NaN), so its curves end there.")
        else:
            self.task.status.value = ui.message("Replay finished.", kind="ok")
        self._show_history_results(hist)

    def _show_recording_at_once(self) -> None:
        """The shipped recorded run, drawn at once (no animation): the page opens with a finished run."""
        if not SHIPPED.is_file():
            return
        try:
            hist = H.read_history(SHIPPED)
        except (H.HistoryError, OSError) as exc:
            self.status.value = ui.message(f"The recorded run cannot be shown: {exc}")
            return
        self.run = self.charts.new_run(f"recorded {hist.device}: {hist.config.label()}", hist.total_steps)
        self.run.extend(hist.events)
        self.charts.redraw(self.run)
        self.charts.live.value = ""
        self.replay_info.value = self._header(hist)
        self._show_history_results(hist)

    def _show_history_results(self, hist: H.History) -> None:
        cfg = hist.config
        if cfg.dataset != "digits" and cfg.dataset not in self.datasets:
            self.results.say(f"The recorded run's test images ({cfg.dataset}) are not loaded here; "
                             "they are shown after a run on that data set.")
            return
        if not hist.final.get("predictions"):
            self.results.say("The recorded run has no test predictions (it did not finish).")
            return
        self.results.show(cfg.label(), self._data(cfg.dataset), hist.final, hist.crops,
                          source=f"the recorded run ({hist.device}, {hist.recorded})")

    @staticmethod
    def _header(h: H.History) -> str:
        top1 = h.final.get("test_top1")
        end = (f"final test top-1 {top1:.4f}" if top1 is not None else
               "diverged" if h.diverged else "no final test accuracy")
        secs = f"{h.seconds:.1f} s, " if h.seconds is not None else ""
        e = html.escape
        return (f"Recorded {e(h.recorded)} on <b>{e(h.device)}</b> ({e(h.device_reason)}): GoogLeNet "
                f"{e(h.config.label())}, {secs}{end}. {e(h.note)}")


def live_training(**values) -> ipw.Widget:
    """The lesson-5 dashboard: settings, Train/Stop, live curves, results, replay."""
    return LiveTraining(**values).widget
