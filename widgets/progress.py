"""How long work reports and is stopped: one protocol for the training engine (lesson 5) and the
lesson-2 experiments (widgets.bn_training).

A worker takes `callback(event: dict)` and `stop_event` (a threading.Event, or anything with
`.is_set()`). It checks the stop between steps and reports events, dicts with
    "event"     what happened: "start", "step", "epoch", "end"
    "progress"  the fraction of the whole work done, 0..1
    "text"      (some events) one line for a status bar
and the numbers of that event. `ui.BackgroundTask` hands its work a `progress(fraction, text)`;
`from_progress` turns that into a callback.
"""
from __future__ import annotations

from typing import Callable

Callback = Callable[[dict], None]


class NeverStop:
    """A stop_event that is never set (work run without a Stop button)."""

    @staticmethod
    def is_set() -> bool:
        return False


def _ignore(_event: dict) -> None:
    pass


def from_progress(progress: Callable[[float, str], None]) -> Callback:
    """A callback that shows each event's progress (and text) through `progress(fraction, text)`."""

    def callback(event: dict) -> None:
        if "progress" in event:
            progress(event["progress"], event.get("text", ""))

    return callback


class Reporter:
    """A worker's end of the protocol: `emit` events, ask `stop_requested` between steps.

    `part(i, n)` is the same reporter for the i-th of n equal parts of the work: its progress is
    mapped into [i/n, (i+1)/n] of the whole, and its text gets a prefix naming the part.
    """

    def __init__(self, callback: Callback | None = None, stop_event=None, lo: float = 0.0, hi: float = 1.0,
                 prefix: str = ""):
        self.callback = callback or _ignore
        self.stop_event = stop_event if stop_event is not None else NeverStop()
        self.lo, self.hi, self.prefix = lo, hi, prefix

    @property
    def stop_requested(self) -> bool:
        return bool(self.stop_event.is_set())

    def emit(self, event: str, progress: float, **fields) -> dict:
        """Send {"event": event, **fields, "progress": ...} (progress given as a fraction of this part)."""
        ev = {"event": event, **fields, "progress": self.lo + (self.hi - self.lo) * min(max(progress, 0.0), 1.0)}
        if self.prefix and "text" in ev:
            ev["text"] = self.prefix + ev["text"]
        self.callback(ev)
        return ev

    def part(self, i: int, n: int, prefix: str = "") -> "Reporter":
        span = self.hi - self.lo
        return Reporter(self.callback, self.stop_event, self.lo + span * i / n, self.lo + span * (i + 1) / n,
                        self.prefix + prefix)


def reporter(callback: Callback | None = None, stop_event=None, *, progress=None, stop=None) -> Reporter:
    """The Reporter for a worker given `callback`/`stop_event`, or the older pair
    `progress(fraction, text)`/`stop` (ui.BackgroundTask's names, still accepted)."""
    if callback is None and progress is not None:
        callback = from_progress(progress)
    return Reporter(callback, stop_event if stop_event is not None else stop)
