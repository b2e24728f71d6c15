"""Issue 18, item 2: a run stops when its page is gone, and after the longest run the server allows.

No browser: the page's heartbeat arrives as the bridge's custom message (what the front end sends),
the clock is widgets/views/alive.py's, and the limits come from the environment as on a server.
tests/test_page_alive_browser.py shows the same in Chromium against a real kernel."""
from __future__ import annotations

import logging
import threading
import time

import pytest

from widgets import ui
from widgets.views import alive
from widgets.views.page import PageBridge
from widgets.views.section import Section


@pytest.fixture(autouse=True)
def quiet_clock(monkeypatch):
    """Each test starts with a page that never beat, and the defaults unless it sets them."""
    monkeypatch.delenv(alive.MAX_RUN_ENV, raising=False)
    monkeypatch.delenv(alive.SILENT_ENV, raising=False)
    alive.CLOCK.forget()
    yield
    alive.CLOCK.forget()


def forever(progress, stop):
    """Work that only ends when told to (checks its stop event 20 times a second, as the engine does)."""
    while not stop.wait(0.05):
        pass
    return "stopped"


def beat_from_page(bridge: PageBridge) -> None:
    """What the front end's heartbeat does: a custom message on the bridge's comm."""
    bridge._handle_custom_msg({"beat": 1}, [])


class FakeTime:
    def __init__(self):
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


# ---------------------------------------------------------------- the limits from the environment
@pytest.mark.parametrize("raw,expected", [("600", 600.0), (" 45.5 ", 45.5), ("86400", 86400.0)])
def test_the_max_run_comes_from_the_environment(monkeypatch, raw, expected):
    monkeypatch.setenv("LESSONS_MAX_RUN_S", raw)
    assert alive.max_run_s() == expected


@pytest.mark.parametrize("raw", ["", "abc", "-5", "0", "1e12", "nan", "inf", "-inf", "30min", "0x10", "1" * 400])
def test_a_bad_limit_means_the_default_without_a_traceback(monkeypatch, caplog, raw):
    monkeypatch.setenv("LESSONS_MAX_RUN_S", raw)
    monkeypatch.setenv("LESSONS_PAGE_SILENT_S", raw)
    with caplog.at_level(logging.INFO, logger="widgets"):
        assert alive.max_run_s() == alive.DEFAULT_MAX_RUN_S == 1800
        assert alive.silent_limit_s() == alive.DEFAULT_SILENT_S == 90
    assert ("LESSONS_MAX_RUN_S" in caplog.text) == bool(raw.strip())   # refused values are logged, not raised


def test_the_page_beats_several_times_within_the_silence_limit(monkeypatch):
    monkeypatch.setenv("LESSONS_PAGE_SILENT_S", "4")
    assert PageBridge().beat_ms == 1000
    monkeypatch.setenv("LESSONS_PAGE_SILENT_S", "90")
    assert PageBridge().beat_ms == 5000   # at most every 5 s; a throttled tab still beats once a minute < 90 s
    assert "new Worker" in PageBridge._esm.default_value and "model.send({ beat: 1 })" in PageBridge._esm.default_value


# ---------------------------------------------------------------- the clock and the decision
def test_the_clock_counts_from_the_last_beat_of_the_bridge():
    now = FakeTime()
    clock = alive.PageClock(now)
    assert clock.silent_for() is None
    clock.beat()
    now.t += 7
    assert clock.silent_for() == 7
    alive.CLOCK.forget()
    beat_from_page(PageBridge())
    assert alive.CLOCK.silent_for() is not None and alive.CLOCK.silent_for() < 1
    PageBridge()._handle_custom_msg({"other": 1}, [])   # any other message is not a beat
    PageBridge()._handle_custom_msg("beat", [])


def test_the_watchdog_decides_page_gone_max_run_or_nothing():
    now = FakeTime()
    clock = alive.PageClock(now)
    dog = alive.Watchdog(clock, max_s=100, silent_s=10, now=now)
    now.t += 50
    assert dog.reason() is None                       # no page ever beat: never "gone"
    clock.beat()
    now.t += 10
    assert dog.reason() is None                       # silent exactly the limit: not yet
    now.t += 0.5
    assert dog.reason() == ("page_gone", 10.5)
    clock.beat()
    assert dog.reason() is None
    now.t += 39.5                                     # 100 s since the run started, the page alive
    clock.beat()
    assert dog.reason() == ("max_run", 100)


# ---------------------------------------------------------------- a run that would go on forever
def test_a_run_stops_within_a_second_of_its_page_going_silent(monkeypatch):
    monkeypatch.setenv("LESSONS_PAGE_SILENT_S", "3")   # well above a beat's gap on a loaded machine
    bridge, task = PageBridge(), ui.BackgroundTask("Run")
    beat_from_page(bridge)
    task.start(forever)
    beating_until = time.monotonic() + 4            # the page beats for 4 s: the run goes on
    while time.monotonic() < beating_until:
        beat_from_page(bridge)
        last_beat = time.monotonic()
        time.sleep(0.2)
    assert task.running                              # then the page falls silent
    task.join(10)
    stopped_after = time.monotonic() - last_beat
    assert not task.running
    assert 3.0 <= stopped_after < 6.0, stopped_after   # the limit, then the watchdog's poll + a step (slack for load)
    assert "gave no sign of life for 3 s" in task.status.value, task.status.value


def test_a_page_that_never_beat_does_not_stop_its_run(monkeypatch):
    monkeypatch.setenv("LESSONS_PAGE_SILENT_S", "1")
    task = ui.BackgroundTask("Run")
    task.start(forever)
    time.sleep(2.5)
    assert task.running                              # headless nbclient runs, pages without the header
    task.stop()
    task.join(5)
    assert not task.running and "Stopped." in task.status.value


@pytest.mark.parametrize("lang,words", [("en", "this server ends every run after 1.5 s"),
                                         ("zh", "本服务器限定每次运行最长 1.5 秒")])
def test_a_run_stops_at_the_servers_longest_run(monkeypatch, lang, words):
    monkeypatch.setenv("LESSONS_MAX_RUN_S", "1.5")
    task = ui.BackgroundTask("Run", lang=lang)
    beat_from_page(PageBridge())                     # a live page: only the limit stops it
    t0 = time.monotonic()
    task.start(forever)
    while task.running and time.monotonic() - t0 < 10:
        alive.CLOCK.beat()
        time.sleep(0.05)
    took = time.monotonic() - t0
    assert 1.5 <= took < 5, took                     # the limit, then the watchdog's poll (slack for load)
    assert words in task.status.value, task.status.value


def test_the_limit_in_minutes_reads_as_minutes():
    assert ui.duration("en", 1800) == "30 min" and ui.duration("zh", 1800) == "30 分钟"
    assert ui.duration("en", 90) == "90 s" and ui.duration("zh", 90) == "90 秒"


class Looping(Section):
    name = "looping"
    words = "common"

    def build(self):
        self.add_task("Run", lambda: self.task.start(forever, on_done=self.finished.append))
        self.finished = []

    def update(self, changed):
        pass

    def layout(self):
        return [self.task.widget]


def test_a_section_task_stops_and_still_finishes_under_its_lock(monkeypatch):
    monkeypatch.setenv("LESSONS_MAX_RUN_S", "1")
    s = Looping()
    s.task.start(forever, on_done=s.finished.append)
    s.task.join(5)
    assert not s.task.running and s.finished == ["stopped"]
    assert "ends every run after 1 s" in s.task.status.value


# ---------------------------------------------------------------- lesson 5
def test_lesson5_training_stops_at_the_limit_and_says_so(monkeypatch, tmp_path):
    from widgets.views.live_training import LiveTraining

    monkeypatch.setenv("WIDGETS_HISTORY_DIR", str(tmp_path))
    monkeypatch.setenv("LESSONS_MAX_RUN_S", "4")
    page = LiveTraining()
    assert "ends a run after 4 s, and 90 s after its page stops answering" in page.limits.value
    # 200 epochs take minutes; no averaging, so the engine's wrap-up after a stop is one test pass
    for name, value in {"width": 0.0625, "size": 16, "epochs": 200, "lr": 0.1, "averaging": False}.items():
        page.controls[name].set(value)
    t0 = time.monotonic()
    page.start_training()
    page.task.join(60)
    took = time.monotonic() - t0
    assert not page.task.running and 4 <= took < 10, took   # the limit, the poll, a step, the test pass (load 7.5: 5.8 s)
    status = page.task.status.value
    assert "this server ends every run after 4 s" in status and "Stopped by request at step" in status, status


def test_lesson5_states_the_servers_limits():
    from widgets.views.live_training import LiveTraining

    assert "ends a run after 30 min, and 90 s after its page stops answering" in LiveTraining().limits.value
    assert "最长 30 分钟" in LiveTraining(lang="zh").limits.value
