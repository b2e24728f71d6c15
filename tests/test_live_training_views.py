"""Lesson 5's dashboard built without a browser: controls by name, the summary they drive, training
and replay drawing into named traces, and replay of untrusted histories (issue 18 items 10-13)."""
from __future__ import annotations

import dataclasses
import json
import re
import time
from pathlib import Path

import pytest

from widgets import history as H
from widgets import train as T
from widgets.views import live_training as L
from widgets.views.live_training import charts as C

VIEWS = Path(L.__file__).resolve().parent


@pytest.fixture
def page(tmp_path, monkeypatch):
    """The dashboard with the learner's history folder in a temporary directory."""
    monkeypatch.setenv("WIDGETS_HISTORY_DIR", str(tmp_path))
    s = L.LiveTraining()
    yield s
    s.task.stop_event.set()
    s.task.join(10)


def replay(s, text: str = "", timeout: float = 30.0) -> str:
    """Press Replay with `text` in the Path field; wait for the worker; return the status line."""
    s.replay_path.value = text
    s.start_replay()
    s.task.join(timeout)
    assert not s.task.running
    return s.task.status.value


def legend_names(s) -> list[str]:
    return [tr.name for f in ("loss", "acc", "speed") for tr in s.figures[f].data]


def write(tmp_path: Path, name: str, h: dict) -> str:
    (tmp_path / name).write_text(json.dumps(h))
    return name


def shipped() -> dict:
    return json.loads(L.page.SHIPPED.read_text())


# ---------------------------------------------------------------- the page at its defaults
def test_defaults_summary_and_recorded_run(page):
    d = T.describe_run(T.lesson_default("digits"))
    assert f"{d['params']:,}" in page.summary.value and f"{d['forward_flops'] / 1e6:,.1f} MFLOPs" in page.summary.value
    assert "Recorded 2026" in page.replay_info.value and "Results of the recorded run" in page.results.title.value
    top1 = page.tr("acc", "top1_0")
    assert len(top1.x) == 5 and top1.name.startswith("#1: recorded cpu: digits, w0.25")
    assert page.tr("loss", "batch0").visible and not page.tr("loss", "batch1").visible
    assert "lesson-results" in page.results.numbers.value and "10 crops" in page.results.numbers.value
    assert page.status.value == ""


def test_banner_quotes_the_measured_run_not_a_typed_time(page):
    runs = json.loads((Path(T.__file__).parents[1] / "benchmarks/results/cpu_default.json").read_text())["runs"]
    best = min(runs, key=lambda r: r["seconds"])
    assert f"a run took {best['seconds']:.1f} s" in page.banner.value
    assert "half a minute" not in page.banner.value


def test_every_setting_changes_the_summary(page):
    changes = {"width": 0.125, "size": 24, "schedule": "step", "dataset": "cifar10", "bn": False, "aux": False,
               "averaging": False, "augment": True, "lr": 0.05, "batch": 32, "epochs": 3, "seed": 3}
    for name, value in changes.items():
        before = page.summary.value
        page.controls[name].set(value)
        assert page.summary.value != before and "lesson-summary" in page.summary.value, name
        page.controls[name].set(page.controls[name].default)
        assert page.summary.value == before, name


def test_a_bad_value_keeps_the_default_with_a_message():
    s = L.LiveTraining(lr="abc", batch=0, colour="red")
    assert s.controls["lr"].value == 0.2 and s.controls["batch"].value == 64
    assert "Ignored" in s.status.value and "lr = abc" in s.status.value and "colour" in s.status.value
    s.controls["lr"].widget.text.value = "-3"
    assert s.controls["lr"].value == 0.2 and "Enter a value from" in s.controls["lr"].widget.msg.value


def test_the_number_fields_take_the_engines_bounds(page):
    """One set of ranges: every value a field accepts is one TrainConfig's own bounds accept."""
    for name, field in {"lr": "lr", "batch": "batch_size", "epochs": "epochs", "seed": "seed"}.items():
        spec = next(f for f in dataclasses.fields(T.TrainConfig) if f.name == field).metadata["spec"]
        w = page.controls[name].widget
        assert (w.min, w.max) == L.settings.bounds(name) and spec.contains(w.min) and spec.contains(w.max), name
    specs = {f.name: f.metadata["spec"] for f in dataclasses.fields(T.TrainConfig)}
    assert set(page.controls["dataset"].widget.options[i][1] for i in range(2)) <= set(specs["dataset"].choices)
    assert {v for _, v in page.controls["schedule"].widget.options} <= set(specs["schedule"].choices)


def test_no_positional_trace_lookups_and_no_unread_state(page):
    for path in VIEWS.glob("*.py"):
        assert not re.search(r"\.data\[ *[0-9]", path.read_text()), path
    assert not hasattr(page, "last")    # issue 10: `self.last` was written and never read


# ---------------------------------------------------------------- training
def test_a_short_run_grows_its_own_slot_and_shows_results(page):
    for name, value in {"width": 0.0625, "epochs": 1, "lr": 0.1}.items():
        page.controls[name].set(value)
    page.start_training()
    page.task.join(300)
    assert "Finished 1 epoch in" in page.task.status.value, page.task.status.value
    test = page.tr("loss", "test1")
    assert len(test.x) == 1 and test.name.startswith("#2: digits, w0.0625")
    assert len(page.tr("loss", "batch1").x) == 22 and len(page.tr("acc", "top1_0").x) == 5  # the recording stays
    assert "Results of this run" in page.results.title.value
    assert "step 22/22" in page.charts.live.value


def test_train_and_replay_share_one_worker(page):
    page.controls["width"].set(0.0625)
    page.start_training()
    try:
        page.start_replay()
        assert "Already running" in page.task.status.value
        assert not page.task.start_button.disabled and not page.replay_button.disabled
    finally:
        page.task.stop_event.set()
        page.task.join(60)


# ---------------------------------------------------------------- replay (issue 18)
def test_the_shipped_recording_replays(page):
    page.replay_seconds = 0.5
    assert "Replay finished" in replay(page)
    assert len(page.tr("acc", "top1_1").x) == 5 and page.tr("acc", "top1_1").name.startswith("#2: replay cpu")


@pytest.mark.parametrize("text", ["/etc/passwd", "/etc/shadow", "/no/such/run.json", "/tmp", "../../etc/passwd",
                                  str(Path(T.__file__))])
def test_the_path_field_reads_only_histories_in_the_two_folders(page, text):
    status = replay(page, text)
    assert "Cannot replay: no file " in status and "among the run histories this page reads" in status
    assert str(H.default_history_dir()) in status and "JSON" not in status and "exists" not in status


def test_a_history_in_the_learners_folder_replays(page, tmp_path):
    page.replay_seconds = 0.5
    assert "Replay finished" in replay(page, write(tmp_path, "mine.json", shipped()))


def test_markup_from_a_history_never_reaches_a_legend(page, tmp_path):
    h = shipped()
    h["device"] = "<a href='https://evil.example'>cpu</a>"
    page.replay_seconds = 0.5
    assert "Replay finished" in replay(page, write(tmp_path, "dev.json", h))
    assert not any("<" in n or "href" in n for n in legend_names(page))
    assert "href" not in page.replay_info.value
    h["config"]["dataset"] = "<a href='https://evil.example'>digits</a>"
    status = replay(page, write(tmp_path, "ds.json", h))
    assert "config.dataset must be one of digits, cifar10" in status and "<a href" not in status
    assert not any("href" in n for n in legend_names(page))


@pytest.mark.parametrize("field,value,words", [("main_loss", float("nan"), "field &#x27;main_loss&#x27; is nan"),
                                               ("step", -111, "field &#x27;step&#x27; is -111"),
                                               ("train_top1", -1.98, "field &#x27;train_top1&#x27; is -1.98")])
def test_bad_events_are_refused_by_name(page, tmp_path, field, value, words):
    h = shipped()
    h["events"][3][field] = value
    status = replay(page, write(tmp_path, "bad.json", h))
    assert "Cannot replay: event 3 (step)" in status and words in status


def test_a_long_replay_ends_when_its_label_says_and_draws_at_most_2000_points(page, tmp_path):
    """50,000 step events (the cap): today's page took minutes (one sleep and one full redraw per event)."""
    h = shipped()
    step = next(e for e in h["events"] if e["event"] == "step")
    n = H.MAX_EVENTS - 5
    steps = [{**step, "step": i + 1, "epoch": 5 * (i + 1) / n, "main_loss": 2.3 / (1 + i / 1000)} for i in range(n)]
    epochs = [e for e in h["events"] if e["event"] == "epoch"]
    h["events"] = steps + epochs
    name = write(tmp_path, "long.json", h)
    assert f"plays back in {H.REPLAY_SECONDS:g} s" in L.page.S.replay_promise(page)
    t0 = time.monotonic()
    status = replay(page, name, timeout=60)
    took = time.monotonic() - t0
    assert "Replay finished" in status and took < H.REPLAY_SECONDS + 4.0, f"{took:.1f} s"
    batch = page.tr("loss", "batch1")
    assert len(batch.x) <= H.MAX_POINTS and batch.x[-1] == pytest.approx(5.0)
    assert max(batch.y) == pytest.approx(2.3)


def test_a_file_over_the_cap_is_refused(page, tmp_path, monkeypatch):
    monkeypatch.setattr(H, "MAX_BYTES", 10_000)
    status = replay(page, write(tmp_path, "big.json", shipped()))
    assert "the page replays files up to" in status


def test_a_diverged_history_replays_and_says_so(page, tmp_path):
    h = shipped()
    h.update(diverged=True, final={}, extras={})
    h["events"] = [e for e in h["events"] if e["event"] == "step"][:30]
    page.replay_seconds = 0.5
    status = replay(page, write(tmp_path, "div.json", h))
    assert "Replay finished: this run diverged after step 30" in status
    assert len(page.tr("loss", "batch1").x) == 30 and "no test predictions" in page.results.title.value


def test_a_run_slot_thins_its_curves():
    run = C.Run(0, "x", 10)
    for i in range(10_000):
        run.add({"event": "step", "step": i + 1, "epoch": i / 100, "loss": 1.0, "main_loss": 1.0 + (i == 5000),
                 "train_top1": 0.5, "lr": 0.1, "images_per_s": 10.0})
    x, y = run.curve("steps", "main_loss")
    assert len(x) <= H.MAX_POINTS and y.max() == 2.0


# ---------------------------------------------------------------- the results figures, made when seen (issue 12)
@pytest.fixture
def lesson_page(tmp_path, monkeypatch):
    """Lesson 5 as its notebook builds it: page_header() first, then the dashboard."""
    from widgets.views import page as P

    monkeypatch.setenv("WIDGETS_HISTORY_DIR", str(tmp_path))
    monkeypatch.delenv("QUERY_STRING", raising=False)
    monkeypatch.delenv("LESSONS_LAZY", raising=False)
    monkeypatch.setattr(P, "lazy", False)
    P.page_header()
    s = L.LiveTraining()
    yield s
    s.task.stop_event.set()
    s.task.join(10)
    P.reset()


def decode_png(source: str):
    import base64

    import numpy as np
    from _plotly_utils import png

    assert source.startswith("data:image/png;base64,")
    w, h, rows, _ = png.Reader(bytes=base64.b64decode(source.split(",", 1)[1])).asRGB8()
    return np.array([np.frombuffer(bytes(r), np.uint8) for r in rows]).reshape(h, w, 3)


def recorded_tiles(s):
    """The tiles of the shipped recording's results, made independently of the page's figure."""
    from widgets import augment
    from widgets.views.live_training import results as RS

    h = H.read_history(L.page.SHIPPED)
    data, preds = s._data("digits"), h.final["predictions"]
    y = data.y_test.cpu()
    shown = T.mistakes_first(y, preds, h.final["confidence"])[: RS.GRID_COLS * RS.GRID_ROWS]
    frames = [RS.rgb(RS.WRONG if preds[i] != int(y[i]) else RS.RIGHT) for i in shown]
    return augment.tile_images(data.x_test, shown, RS.GRID_COLS, frames, pad=2, scale=4, gap=14), h, data


def test_the_results_figures_are_made_when_they_come_into_view(lesson_page):
    s = lesson_page
    # the page opens with the recorded run's table, but none of the three results figures exists yet
    assert "Results of the recorded run" in s.results.title.value and "10 crops" in s.results.numbers.value
    assert not s.results.figures.built and not {"confusion", "grid", "crops"} & set(s.figures)
    assert type(s.results.figures.box.children[0]).__name__ == "Placeholder"
    s.results.figures.placeholder.visible = True          # what the page says when the place is seen
    assert s.results.figures.built and {"confusion", "grid", "crops"} <= set(s.figures)
    tiles, h, data = recorded_tiles(s)
    cm = T.confusion_matrix(data.y_test.cpu(), h.final["predictions"], data.num_classes)
    assert [list(r) for r in s.tr("confusion", "counts").z] == cm.tolist()
    assert (decode_png(s.tr("grid", "tiles").source) == tiles).all()
    assert [round(v, 4) for v in s.tr("crops", "top1").y] == [round(r["top1"], 4) for r in h.crops]


def test_a_note_after_a_waiting_drawing_cancels_it(lesson_page):
    s = lesson_page
    s.results.say("not shown")
    s.results.figures.placeholder.visible = True
    assert [list(r) for r in s.tr("confusion", "counts").z] == [[0]] and "not shown" in s.results.title.value


def test_the_tiles_are_sent_as_a_png_not_as_a_megabyte_of_nested_lists(page):
    tiles, _, _ = recorded_tiles(page)
    assert (decode_png(page.tr("grid", "tiles").source) == tiles).all() and page.tr("grid", "tiles").z is None
    state = json.dumps(page.figures["grid"].to_plotly_json())
    assert len(state) < 0.1 * len(json.dumps(tiles.tolist())), len(state)


def test_drawing_the_results_never_resizes_a_figure(lesson_page, monkeypatch):
    """A relayout of a figure's height or width makes plotly.js keep the other one fixed: the grid, drawn
    after it reached the page, stayed 1300 px wide on a 414 px screen (tests/test_access_browser.py). Each
    figure is made with its size; drawing the run into them sends no size."""
    import plotly.graph_objects as go

    results, sizes, drawing = lesson_page.results, [], []
    relayout, update, draw = go.FigureWidget._send_relayout_msg, go.FigureWidget._send_update_msg, results._draw

    def note(layout_data):
        sizes.extend(k for k in layout_data if drawing and k in ("width", "height", "autosize"))

    def send_relayout(self, layout_data, source_view_id=None):
        note(layout_data)
        return relayout(self, layout_data, source_view_id)

    def send_update(self, restyle_data, relayout_data, trace_indexes=None, source_view_id=None):
        note(relayout_data)
        return update(self, restyle_data, relayout_data, trace_indexes, source_view_id)

    def drawn(*args):
        drawing.append(True)
        draw(*args)

    monkeypatch.setattr(go.FigureWidget, "_send_relayout_msg", send_relayout)
    monkeypatch.setattr(go.FigureWidget, "_send_update_msg", send_update)
    monkeypatch.setattr(results, "_draw", drawn)
    results.figures.placeholder.visible = True     # made, then the recorded run drawn into them
    assert drawing and decode_png(lesson_page.tr("grid", "tiles").source).shape[0] > 100
    assert sizes == []
