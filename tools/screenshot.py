"""Screenshot a dashboard as served by Voila in headless Chromium (used by `make screenshot`).

    python tools/screenshot.py 01_feature_scaling.ipynb docs/lesson1.png [--full]
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from widgets.devtools.serving import (
    CHROMIUM_ARGS, assert_no_error, close, free_port, open_dashboard, start_voila, stop, wait_http,
)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("notebook")
    ap.add_argument("out")
    ap.add_argument("--full", action="store_true", help="the whole page, not the first screen")
    ap.add_argument("--ready", default=".js-plotly-plot")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    port = free_port()
    proc = start_voila(port, Path(tempfile.mkdtemp()) / "voila.log")
    try:
        wait_http(f"http://127.0.0.1:{port}/", 60, proc)
        with sync_playwright() as pw:
            b = pw.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
            page = open_dashboard(b, f"http://127.0.0.1:{port}", args.notebook, ready=args.ready)
            if args.full:  # Voila scrolls inside its own container: grow the viewport instead
                h = page.evaluate("Math.max(...[...document.querySelectorAll('*')].map(e => e.scrollHeight))")
                page.set_viewport_size({"width": 1400, "height": min(int(h) + 50, 12000)})
            page.wait_for_timeout(1500)
            assert_no_error(page)
            page.screenshot(path=args.out, full_page=args.full)
            close(page)
            b.close()
    finally:
        stop(proc)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
