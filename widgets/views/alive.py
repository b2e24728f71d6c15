"""Runs end with their page: the page's heartbeat clock and the watchdog of every background run.

A kernel serves one page. The page's front-end bridge (widgets/views/page.py, `PageBridge`) beats
every few seconds while the page exists, hidden tab included (the beat comes from a Web Worker,
whose timers browsers do not throttle to once a minute as they do a background tab's). `CLOCK`
keeps the time of the last beat. The watchdog of a running task (`ui.BackgroundTask`) stops the run

- when the page has beaten and then been silent for `silent_limit_s()` (a crashed or killed browser,
  a lost network, a closed JupyterLab tab: nothing else tells the kernel, and a training thread's
  widget updates count as activity, so the idle culler never stops that kernel), and
- when the run has lasted `max_run_s()`, the longest run the server allows.

A kernel whose page never beat (a notebook executed headless by nbclient, a page without the
header) is never stopped for silence. Both limits come from the server's environment, which
kernels inherit: LESSONS_MAX_RUN_S and LESSONS_PAGE_SILENT_S (etc/jupyter/jupyter_server_config.py
sets them for every server of the course). A value that is not a number in range is replaced by
the default (said in the log at INFO level, never on the page, never a traceback).
"""
from __future__ import annotations

import logging
import math
import os
import threading
import time
from typing import Callable

log = logging.getLogger("widgets")

MAX_RUN_ENV, SILENT_ENV = "LESSONS_MAX_RUN_S", "LESSONS_PAGE_SILENT_S"
DEFAULT_MAX_RUN_S = 1800.0      # 30 minutes: lesson 5's default run takes a few on the course's CPU
MAX_RUN_RANGE = (1.0, 86400.0)  # at most a day: a larger value is a typo, not a policy
# A hidden tab whose worker is throttled anyway (or a browser without workers) still beats once a
# minute (Chrome's intensive throttling); 90 s leaves half a minute of margin on that.
DEFAULT_SILENT_S = 90.0
SILENT_RANGE = (1.0, 3600.0)
POLL_S = 0.2                    # the watchdog looks this often: the run is told within 0.2 s


def seconds_from_env(name: str, default: float, low: float, high: float) -> float:
    """The number of seconds the environment variable `name` sets, if it is a number in [low, high];
    else `default` (a line in the log when the variable is set but refused)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and low <= value <= high):
        # INFO, not WARNING: a kernel's stderr is shown on its page, and the learner cannot fix the server
        log.info("%s=%r is not a number of seconds from %g to %g: using %g", name, raw[:40], low, high, default)
        return default
    return value


def max_run_s() -> float:
    """The longest run the server allows, in seconds (LESSONS_MAX_RUN_S)."""
    return seconds_from_env(MAX_RUN_ENV, DEFAULT_MAX_RUN_S, *MAX_RUN_RANGE)


def silent_limit_s() -> float:
    """How long a page that has beaten may be silent before its runs stop (LESSONS_PAGE_SILENT_S)."""
    return seconds_from_env(SILENT_ENV, DEFAULT_SILENT_S, *SILENT_RANGE)


def beat_interval_s(silent_s: float) -> float:
    """How often the page beats: several beats per silence limit, at most every 5 s, at least every 0.5 s."""
    return max(0.5, min(5.0, silent_s / 4))


class PageClock:
    """The time of the page's last heartbeat (thread-safe; `now` is replaceable for tests)."""

    def __init__(self, now: Callable[[], float] = time.monotonic):
        self._now = now
        self._lock = threading.Lock()
        self._last: float | None = None

    def beat(self) -> None:
        with self._lock:
            self._last = self._now()

    def silent_for(self) -> float | None:
        """Seconds since the last beat; None if the page never beat."""
        with self._lock:
            return None if self._last is None else self._now() - self._last

    def forget(self) -> None:
        """As if no page had ever beaten (tests)."""
        with self._lock:
            self._last = None


CLOCK = PageClock()


class Watchdog:
    """Decides when a run must stop: its page gone silent, or the server's longest run reached.

    `reason()` is the decision: None, or ("page_gone", seconds silent) or ("max_run", the limit).
    `watch(done, stop)` calls `stop(why, seconds)` once when a reason appears, and returns when
    `done` is set (the run ended) or after stopping."""

    def __init__(self, clock: PageClock = CLOCK, max_s: float | None = None, silent_s: float | None = None,
                 now: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.max_s = max_run_s() if max_s is None else max_s
        self.silent_s = silent_limit_s() if silent_s is None else silent_s
        self.now = now
        self.started = now()

    def reason(self) -> tuple[str, float] | None:
        silent = self.clock.silent_for()
        if silent is not None and silent > self.silent_s:
            return "page_gone", silent
        if self.now() - self.started >= self.max_s:
            return "max_run", self.max_s
        return None

    def watch(self, done: threading.Event, stop: Callable[[str, float], None], poll: float = POLL_S) -> None:
        while not done.wait(poll):
            why = self.reason()
            if why is not None:
                log.info("stopping a run: %s (%.1f s)", *why)
                stop(*why)
                return
