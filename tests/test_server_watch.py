"""The watch on the shared test server (tests/server_watch.py) says how the server ended and what it used."""
from __future__ import annotations

import subprocess
import sys

from server_watch import ServerWatch


def test_the_watch_reports_a_killed_server_with_its_log(tmp_path):
    log = tmp_path / "server.log"
    log.write_text("first line\nlast line of the server\n")
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        watch = ServerWatch(proc, log, every_s=0.05)
        watch.sample()
        assert "running" in watch.report().splitlines()[0]
        proc.kill()
        proc.wait(10)
        text = watch.report()
        assert "EXITED with code -9" in text.splitlines()[0]
        assert text.endswith("last line of the server\n")
        assert watch.samples and watch.min_available > 0
        watch.finish()
        assert watch.finished and watch.returncode == -9
    finally:
        proc.kill()
