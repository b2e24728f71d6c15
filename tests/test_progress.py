"""widgets.progress: the event protocol shared by the training engine and the lesson-2 experiments."""
import threading

import pytest

from widgets.progress import NeverStop, Reporter, from_progress, reporter


def test_parts_map_progress_and_prefix_text():
    seen = []
    whole = Reporter(seen.append)
    whole.part(1, 4, "b: ").part(1, 2, "x ").emit("step", 0.5, text="step 1")
    assert seen == [{"event": "step", "text": "b: x step 1", "progress": pytest.approx(0.25 + 0.125 * 1.5)}]
    whole.emit("end", 7.0)  # clamped into the part
    assert seen[-1]["progress"] == 1.0


def test_old_progress_and_stop_pair_is_adapted():
    calls = []
    stop = threading.Event()
    r = reporter(progress=lambda f, t="": calls.append((f, t)), stop=stop)
    r.emit("step", 0.5, text="half")
    r.emit("tick", 0.6)
    assert calls == [(0.5, "half"), (0.6, "")]
    assert not r.stop_requested
    stop.set()
    assert r.stop_requested


def test_defaults_ignore_events_and_never_stop():
    r = reporter()
    assert r.emit("start", 0.0) == {"event": "start", "progress": 0.0}
    assert not r.stop_requested and not NeverStop.is_set()
    cb = from_progress(lambda f, t: (_ for _ in ()).throw(AssertionError("called")))
    cb({"event": "x"})  # no progress field: nothing to show
