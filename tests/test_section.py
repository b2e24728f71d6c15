"""widgets.ui and the Section base class, without a browser (ipywidgets run without a kernel here)."""
import threading
import time

import ipywidgets as ipw
import plotly.graph_objects as go
import pytest

from widgets import ui
from widgets.views.section import Section


# --------------------------------------------------------------------------- NumberField
@pytest.mark.parametrize("raw,value", [("3", 3.0), (" 1,000 ", 1000.0), ("1_000", 1000.0), ("2.5e2", 250.0)])
def test_number_field_accepts(raw, value):
    f = ui.NumberField("n", 1, min=0, max=1e4)
    f.text.value = raw
    assert f.value == value and f.msg.value == ""


@pytest.mark.parametrize("raw,reason", [("", "Enter a number"), ("abc", "is not a number"), ("nan", "finite"),
                                        ("inf", "finite"), ("1e9", "from 0 to 10000"), ("2.5", "whole number")])
def test_number_field_refuses_and_keeps_the_last_good_value(raw, reason):
    f = ui.NumberField("n", 7, min=0, max=1e4, integer=True)
    f.text.value = raw
    assert f.value == 7 and reason in f.msg.value and "Keeping 7" in f.msg.value


def test_number_field_escapes_what_it_echoes():
    f = ui.NumberField("n", 1, min=0, max=2)
    f.text.value = "<script>x</script>"
    assert "<script>" not in f.msg.value and "&lt;script&gt;" in f.msg.value


# --------------------------------------------------------------------------- Throttle
def test_throttle_calls_at_most_every_interval_and_flush_forces():
    calls = []
    t = ui.Throttle(lambda: calls.append(1), interval=10.0)
    t(), t(), t()
    assert len(calls) == 1
    t.flush()
    assert len(calls) == 2


# --------------------------------------------------------------------------- BackgroundTask
def _wait(cond, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.01)
    return False


def test_background_task_runs_reports_progress_and_refuses_a_second_start():
    task, gate, done = ui.BackgroundTask("Run"), threading.Event(), []

    def work(progress, stop):
        progress(0.5, "half")
        gate.wait(5)
        return 42

    assert task.start(work, done.append)
    assert task.start_button.disabled and not task.stop_button.disabled
    assert not task.start(work)                      # refused while running
    assert "Already running" in task.status.value
    gate.set()
    task.join(5)
    assert done == [42] and task.bar.value == 0.5
    assert not task.start_button.disabled and task.stop_button.disabled


def test_background_task_stop_is_seen_between_steps():
    task = ui.BackgroundTask("Run")

    def work(progress, stop):
        for _ in range(500):
            if stop.is_set():
                raise ui.StopRequested
            time.sleep(0.01)
        return "finished"

    task.start(work)
    t0 = time.monotonic()
    task.stop()
    task.join(5)
    assert time.monotonic() - t0 < 1.0 and "Stopped" in task.status.value


def test_background_task_error_is_one_line_not_a_traceback():
    task = ui.BackgroundTask("Run")
    task.start(lambda p, s: 1 / 0)
    task.join(5)
    assert "division by zero" in task.status.value and "Traceback" not in task.status.value
    assert task.bar.bar_style == "danger"


# --------------------------------------------------------------------------- Section
class Demo(Section):
    name, title, css = "demo", "Demo", ("demo-css",)

    def build(self):
        self.calls = []
        self.slider("a", "a", 1.0, 0.0, 2.0, 0.1)
        self.slider("n", "n", 4, 1, 10, 1, kind=ipw.IntSlider)
        self.slider("lr", "lr", 0.1, -3, 0, 0.1, kind=ipw.FloatLogSlider, base=10)
        self.number("eps", "eps", 1e-5, min=1e-12, max=1.0)
        self.choice("act", "activation", ["tanh", "sigmoid"], "tanh")
        self.toggle("on", "on", False)
        self.figure("f")
        self.trace("f", "line", go.Scatter(mode="lines"))
        self.trace("f", "dot", go.Scatter(mode="markers"))

    def update(self, changed):
        self.calls.append(changed)
        if self.controls["a"].value == 2.0 and changed == "a":
            raise RuntimeError("boom")
        with self.drawing("f"):
            self.tr("f", "line").update(x=[0, 1], y=[0, self.controls["a"].value])

    def layout(self):
        return [*(c.widget for c in self.controls.values()), self.figures["f"], self.status]


def test_section_draws_once_at_start_and_names_its_box():
    s = Demo()
    assert s.calls == [None]
    assert {"lesson-section", "section-demo", "demo-css"} <= set(s.widget._dom_classes)
    assert s.tr("f", "line").y == (0, 1.0)


def test_every_control_feeds_the_one_update_path_with_its_name():
    s = Demo()
    s.controls["a"].set("1.5")
    s.controls["n"].set(7)
    s.controls["eps"].set("1e-3")
    s.controls["act"].set("sigmoid")
    s.controls["on"].set("yes")
    assert s.calls == [None, "a", "n", "eps", "act", "on"]
    assert s.tr("f", "line").y == (0, 1.5)
    assert s.changed_values() == {"a": 1.5, "n": 7, "eps": 1e-3, "act": "sigmoid", "on": True}


def test_traces_are_kept_by_name_not_position():
    s = Demo()
    assert s.tr("f", "dot") is s.figures["f"].data[-1]
    with pytest.raises(ValueError):
        s.trace("f", "dot", go.Scatter())


@pytest.mark.parametrize("name,raw,why", [
    ("a", "abc", "not a number"), ("a", "nan", "finite"), ("a", "3", "from 0 to 2"),
    ("n", "2.5", "whole number"), ("lr", "5", "from 0.001 to 1"), ("act", "relu", "one of tanh, sigmoid"),
    ("on", "maybe", "true or false"), ("eps", "2", "from 1e-12 to 1"), ("nope", "1", "no such control"),
])
def test_bad_values_keep_the_default_and_say_why(name, raw, why):
    s = Demo(**{name: raw})
    assert s.values() == Demo().values()
    assert why in s.status.value and "defaults are kept" in s.status.value


def test_values_in_range_are_taken_from_keywords():
    s = Demo(a="0.5", n=3, lr=0.01, act="sigmoid", on="true")
    assert s.values()["a"] == 0.5 and s.values()["n"] == 3 and s.values()["lr"] == 0.01
    assert s.values()["act"] == "sigmoid" and s.values()["on"] is True and s.status.value == ""


def test_html_in_a_bad_value_is_escaped():
    s = Demo(a="<img src=x onerror=alert(1)>")
    assert "<img" not in s.status.value and "&lt;img" in s.status.value


def test_an_exception_in_update_becomes_a_line_in_the_status():
    s = Demo()
    s.controls["a"].set(2.0)
    assert "boom" in s.status.value and "Traceback" not in s.status.value


class Worker(Demo):
    name = "worker"

    def build(self):
        super().build()
        self.gate, self.drawn = threading.Event(), []
        self.add_task("Run", self.start)
        self.second = self.task.add_start_button("Run 2", self.start)

    def start(self, *_):
        self.task.start(self.work, self.drawn.append)

    def work(self, progress, stop):
        self.gate.wait(5)
        return "result"


def test_one_worker_per_section_whichever_button_starts_it():
    s = Worker()
    s.task.start_button.click()
    assert s.task.running and s.second.disabled and s.task.start_button.disabled
    s.second.click()                                     # refused: the worker slot is taken
    assert "Already running" in s.task.status.value
    s.gate.set()
    s.task.join(5)
    assert s.drawn == ["result"] and not s.second.disabled


def test_cancel_drops_a_late_result():
    s = Worker()
    s.task.start_button.click()
    s.task.cancel()
    s.gate.set()
    s.task.join(5)
    assert s.drawn == []


def test_results_are_drawn_under_the_section_lock():
    s = Worker()
    seen = []
    s.task.start(lambda p, st: 1, lambda r: seen.append(s.lock._is_owned()))
    s.task.join(5)
    assert seen == [True]


def test_a_section_needs_a_name_and_one_task():
    class Nameless(Demo):
        name = ""

    with pytest.raises(TypeError):
        Nameless()
    s = Worker()
    with pytest.raises(ValueError):
        s.add_task("again", s.start)


def test_slider_values_are_kept_on_the_grid_the_browser_uses():
    """A log slider's 0.5 is not on its grid (10**-0.3 is): the browser would move it on opening."""
    s = Demo(lr=0.5, a="0.123", n=4)
    assert s.values()["lr"] == pytest.approx(10 ** -0.3) and s.values()["a"] == 0.1
    assert Demo().values()["a"] == 1.0 and Demo(n="7").values()["n"] == 7
    assert "lr" in s.changed_values()


def test_a_default_off_the_grid_is_snapped_when_registered():
    class OffGrid(Demo):
        name = "offgrid"

        def build(self):
            super().build()
            self.slider("half", "half", 0.5, -8, 0.5, 0.05, kind=ipw.FloatLogSlider, base=10)

    s = OffGrid()
    assert s.values()["half"] == pytest.approx(10 ** -0.3) and s.changed_values() == {}
