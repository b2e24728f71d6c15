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
from widgets.views import index
from widgets.views.live_training import settings as S
from widgets.views.live_training.words import config_label, engine_line, say
from widgets.views.live_training.charts import Run, RunCharts
from widgets.views.live_training.results import Results
from widgets.views.section import Section

RECORDINGS = Path(__file__).resolve().parents[2] / "recordings"
SHIPPED = RECORDINGS / "replay_cpu_digits.json"   # on the charts when the page opens
REDRAW_INTERVAL = 0.25  # seconds: at most 4 redraws a second, whatever the step rate


def replay_files() -> list[Path]:
    """Recorded run histories shipped with the package (widgets/recordings/replay_*.json), the lesson's
    first. The folder holds other records too (Table 1's, the model costs): they are not runs to replay."""
    return sorted(RECORDINGS.glob("replay_*.json"), key=lambda p: (p != SHIPPED, p.name))


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
        timing = R.banner_timing(R.read_result("cpu_default"))
        measured = say(self.lang, timing) if timing else ""
        reason = self.reason if self.lang == "en" else index.device_sentence(self.lang)
        self.banner = ipw.HTML(S.banner_html(self, self.on_gpu, reason, measured))
        self.settings_rows = S.add_controls(self, self.base)
        self.summary = ipw.HTML("")
        self.add_task(self.t("train_button"), self.start_training)
        self.task.start_button.tooltip = self.t("train_tooltip")
        self.limits = ipw.HTML(S.run_limits(self))   # the server's limits on a run (widgets/views/alive.py)
        self.charts = RunCharts(self)
        self.results = Results(self)
        self.history_roots = [RECORDINGS, H.default_history_dir()]
        self.replay_pick, self.replay_path = S.replay_controls(self, replay_files(), H.default_history_dir())
        self.replay_button = self.task.add_start_button(self.t("replay_button"), lambda _b: self.start_replay())
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
        replay = ipw.HBox([self.replay_pick, self.replay_path, self.replay_button, ipw.HTML(S.replay_promise(self))],
                          layout=wrap)
        t = self.t
        return [self.banner, heading(t("h_settings")), *self.settings_rows, self.summary, self.status,
                heading(t("h_train")), self.task.widget, self.limits, heading(t("h_live")), self.charts.widget,
                heading(t("h_after")), self.results.widget, heading(t("h_replay")), replay,
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
            self.summary.value = ui.message(self.t("config_error", error=str(exc)))
            return
        self.summary.value = S.summary_html(self, c, self._describe(c))

    def _data(self, name: str) -> D.ImageData:
        if name not in self.datasets:
            self.datasets[name] = D.load_dataset(name, download=True)
        return self.datasets[name]

    def _redraw(self) -> None:
        if self.run is not None:
            self.charts.redraw(self.run, self.task.bar)

    def _busy(self) -> bool:
        if self.task.running:
            self.task.status.value = ui.message(self.t("common.already_running"))
        return self.task.running

    # ------------------------------------------------------------------ training
    def start_training(self) -> None:
        if self._busy():
            return
        cfg = self.config()
        try:
            T.validate(cfg)
        except T.ConfigError as exc:
            self.task.status.value = ui.message(self.t("cannot_train", error=str(exc)))
            return
        threads, why_threads = (None, "") if self.on_gpu else T.suggest_threads()
        cfg = dataclasses.replace(cfg, threads=threads)
        total = self._describe(cfg)["total_steps"]
        with self.lock:
            self.run = run = self.charts.new_run(config_label(self.lang, cfg), total)
        self.task.start(lambda progress, stop: self._train(cfg, run, why_threads, progress, stop),
                        on_done=lambda out: self._trained(cfg, out))

    def _train(self, cfg: T.TrainConfig, run: Run, note: str, progress, stop_event):
        """The worker: train, then evaluate 1 and 10 crops. (benchmarks/watch_cost.py times the callback.)"""
        t = self.t
        progress(0.0, t("p_loading"))
        data = self._data(cfg.dataset)
        run.total_steps = max(1, (data.x_train.shape[0] // cfg.batch_size) * cfg.epochs)
        result = T.train(cfg, self.event_callback(run, note, progress), stop_event, data=data)
        self.throttle.flush()
        crops = None
        if result.model is not None and not result.stopped:
            progress(1.0, t("p_crops"))
            crops = T.evaluate_crops(result.model, data, cfg)
        return result, data, crops

    def event_callback(self, run: Run, note: str, progress):
        """What the page does with each engine event: keep it in `run`, redraw at most 4x/s (throttled)."""
        t = self.t

        def on_event(ev: dict) -> None:
            if ev["event"] == "start":
                run.total_steps = max(1, ev["total_steps"])
                with_note = t("p_with", note=engine_line(self.lang, note)) if note else ""
                progress(0.0, t("p_training", device=ev["device"], note=with_note, steps=ev["total_steps"]))
            elif ev["event"] == "end" and ev.get("stopped"):
                progress(self.task.bar.value, t("p_stopped", step=ev.get("step", "?")))
            run.add(ev)
            self.throttle()

        return on_event

    def _trained(self, cfg: T.TrainConfig, out) -> None:
        """Runs under the section's lock when the worker is done."""
        if out is None:
            return
        result, data, crops = out
        self.task.status.value = ui.message(engine_line(self.lang, result.message),
                                            kind="error" if result.diverged else "ok")
        if result.diverged:
            self.task.bar.bar_style = "danger"
        elif result.model is not None:
            if not result.stopped:
                self.task.bar.value = 1.0
            self.results.show(config_label(self.lang, cfg), data, result.final, crops, source=self.t("this_run"))

    # ------------------------------------------------------------------ replay
    def read_replay(self) -> H.History:
        """The history the Path field (else the picker) names; HistoryError/OSError if it cannot be replayed."""
        text = self.replay_path.value.strip() or (self.controls["recording"].value or "")
        if not text:
            raise H.HistoryError("nothing_to_replay")
        return H.read_history(H.find_history(text, self.history_roots))

    def start_replay(self) -> None:
        if self._busy():
            return
        try:
            hist = self.read_replay()
        except H.HistoryError as exc:
            self.task.status.value = ui.message(self.t("cannot_replay", error=say(self.lang, exc.said)))
            return
        except OSError as exc:
            self.task.status.value = ui.message(self.t("cannot_read", error=exc.strerror))
            return
        self.replay_info.value = self._header(hist)
        with self.lock:
            self.run = run = self.charts.new_run(self.t("legend_replay", device=hist.device,
                                                        label=config_label(self.lang, hist.config)), hist.total_steps)
        self.task.start(lambda progress, stop: self._replay(hist, run, progress, stop), on_done=self._replayed)

    def _replay(self, hist: H.History, run: Run, progress, stop_event) -> H.History | None:
        """The worker: show the events at the pace that ends the replay after `replay_seconds`."""
        events, shown = hist.events, 0
        progress(0.0, self.t("p_replaying", n=len(events), seconds=self.replay_seconds))
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
            self.task.status.value = ui.message(self.t("replay_diverged", step=hist.total_steps))
        else:
            self.task.status.value = ui.message(self.t("replay_finished"), kind="ok")
        self._show_history_results(hist)

    def _show_recording_at_once(self) -> None:
        """The shipped recorded run, drawn at once (no animation): the page opens with a finished run."""
        if not SHIPPED.is_file():
            return
        try:
            hist = H.read_history(SHIPPED)
        except (H.HistoryError, OSError) as exc:
            error = say(self.lang, exc.said) if isinstance(exc, H.HistoryError) else str(exc)
            self.status.value = ui.message(self.t("recording_unreadable", error=error))
            return
        self.run = self.charts.new_run(self.t("legend_recorded", device=hist.device,
                                              label=config_label(self.lang, hist.config)), hist.total_steps)
        self.run.extend(hist.events)
        self.charts.redraw(self.run)
        self.charts.live.value = ""
        self.replay_info.value = self._header(hist)
        self._show_history_results(hist)

    def _show_history_results(self, hist: H.History) -> None:
        cfg = hist.config
        if cfg.dataset != "digits" and cfg.dataset not in self.datasets:
            self.results.say(self.t("recording_not_loaded", dataset=cfg.dataset))
            return
        if not hist.final.get("predictions"):
            self.results.say(self.t("recording_no_predictions"))
            return
        self.results.show(config_label(self.lang, cfg), self._data(cfg.dataset), hist.final, hist.crops,
                          source=self.t("recorded_source", device=hist.device, recorded=hist.recorded))

    def _header(self, h: H.History) -> str:
        """The recording's header; its device reason and note are the file's own text (quoted as recorded)."""
        t, e = self.t, html.escape
        top1 = h.final.get("test_top1")
        end = (t("header_top1", top1=top1) if top1 is not None else
               t("header_diverged") if h.diverged else t("header_no_top1"))
        secs = t("header_seconds", seconds=h.seconds) if h.seconds is not None else ""
        return t("header", recorded=e(h.recorded), device=e(h.device), reason=e(h.device_reason),
                 label=e(config_label(self.lang, h.config)), seconds=secs, end=end, note=e(h.note))


def live_training(**values) -> ipw.Widget:
    """The lesson-5 dashboard: settings, Train/Stop, live curves, results, replay."""
    return LiveTraining(**values).widget
