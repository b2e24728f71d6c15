"""What the shared test server did: a sampler of the machine's memory, the server's and its kernels',
printed with the end of the server's log when a session fails.

In CI a failure of the browser tests is seen only through pytest's output: a server that hung and then
vanished left nothing else to go on. This records, every few seconds, the memory available, the
server's resident size and its kernels' count and size, and at the end how the server ended.
"""
from __future__ import annotations

import os
import threading
import time
from collections import deque
from pathlib import Path


def _kib(status: str, field: str) -> int:
    for line in status.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def proc_status(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return ""


def children(pid: int) -> list[int]:
    """The server's direct children (its kernels), from /proc."""
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(d.name))
            except (OSError, IndexError, ValueError):
                continue
    return out


def mem_available_mib() -> int:
    return _kib(Path("/proc/meminfo").read_text(), "MemAvailable") // 1024


class ServerWatch:
    """Samples every `every_s` seconds in a daemon thread; keeps the last `keep` samples and the extremes."""

    def __init__(self, proc, log: Path, every_s: float = 5.0, keep: int = 24):
        self.proc, self.pid, self.log, self.every_s = proc, proc.pid, log, every_s
        self.samples: deque[str] = deque(maxlen=keep)
        self.min_available = None
        self.max_server_rss = self.max_kernels = 0
        self.returncode = None   # the server's when the session ended (finish())
        self.finished = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="server-watch", daemon=True)
        self._thread.start()

    def sample(self) -> str:
        avail = mem_available_mib()
        server = _kib(proc_status(self.pid), "VmRSS") // 1024
        kernels = children(self.pid)
        krss = sum(_kib(proc_status(k), "VmRSS") for k in kernels) // 1024
        load = os.getloadavg()[0]
        self.min_available = avail if self.min_available is None else min(self.min_available, avail)
        self.max_server_rss = max(self.max_server_rss, server)
        self.max_kernels = max(self.max_kernels, len(kernels))
        line = (f"{time.strftime('%H:%M:%S')} load {load:.1f}, available {avail} MiB, server {server} MiB, "
                f"{len(kernels)} kernels {krss} MiB")
        self.samples.append(line)
        return line

    def _run(self):
        while not self._stop.wait(self.every_s):
            self.sample()

    def finish(self):
        """At the end of the session, before the server is stopped."""
        self.returncode, self.finished = self.proc.poll(), True
        self.max_server_rss = max(self.max_server_rss, _kib(proc_status(self.pid), "VmHWM") // 1024)
        self._stop.set()

    def report(self, tail_chars: int = 6000) -> str:
        returncode = self.returncode if self.finished else self.proc.poll()
        if returncode is None:
            ended = "still running at the end of the session" if self.finished else "running"
        else:
            ended = f"EXITED with code {returncode} (-9: killed, e.g. by the OOM killer)"
        head = [f"the shared Voila server (pid {self.pid}): {ended}",
                f"lowest memory available {self.min_available} MiB; server peak RSS "
                f"{self.max_server_rss} MiB; at most {self.max_kernels} kernels at once",
                "last samples:", *self.samples, f"end of {self.log}:"]
        try:
            tail = self.log.read_text(errors="replace")[-tail_chars:]
        except OSError as exc:
            tail = f"(cannot read: {exc})"
        return "\n".join(head) + "\n" + tail
