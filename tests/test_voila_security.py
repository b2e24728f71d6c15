"""The browser side of a dashboard cannot run code: Voila drops execute_request on the kernel websocket."""
import asyncio
import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

pytestmark = pytest.mark.browser


def kernel_ws_url(page) -> str:
    urls = []
    page.on("websocket", lambda ws: urls.append(ws.url))
    page.reload()
    page.wait_for_timeout(100)
    for _ in range(300):
        chans = [u for u in urls if "/api/kernels/" in u and "/channels" in u]
        if chans:
            return chans[0]
        page.wait_for_timeout(100)
    raise AssertionError(f"no kernel websocket seen: {urls}")


def message(msg_type: str, content: dict) -> str:
    return json.dumps({
        "header": {"msg_id": uuid.uuid4().hex, "username": "test", "session": uuid.uuid4().hex,
                   "msg_type": msg_type, "version": "5.3", "date": "2026-01-01T00:00:00Z"},
        "parent_header": {}, "metadata": {}, "content": content, "channel": "shell", "buffers": [],
    })


def probe_execute(ws_url: str, marker) -> list[str]:
    """Send kernel_info_request and an execute_request that would write `marker` over the kernel's
    websocket; the types of the messages that come back within 8 s."""
    from tornado.websocket import websocket_connect

    async def probe():
        conn = await websocket_connect(ws_url)
        conn.write_message(message("kernel_info_request", {}))
        conn.write_message(message("execute_request", {
            "code": f"open({str(marker)!r}, 'w').write('x')", "silent": False, "store_history": False,
            "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}))
        replies = []
        while True:  # read whatever comes back within 8 s
            try:
                raw = await asyncio.wait_for(conn.read_message(), timeout=8)
            except TimeoutError:
                break
            if raw is None:
                break
            if isinstance(raw, str):
                replies.append(json.loads(raw)["header"]["msg_type"])
        conn.close()
        return replies

    # Playwright's sync API owns this thread's event loop: talk to the kernel from another thread
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, probe()).result(timeout=60)


def assert_code_not_run(replies: list[str], marker) -> None:
    assert "kernel_info_reply" in replies, f"the channel works (control): {replies}"
    assert "execute_reply" not in replies and "execute_input" not in replies, replies
    assert not marker.exists(), "the kernel ran code sent from the browser side"


def test_execute_request_is_ignored(dashboard, tmp_path):
    page = dashboard("01_feature_scaling.ipynb", ready=".js-plotly-plot", count=1)
    url = kernel_ws_url(page)
    page.wait_for_selector(".js-plotly-plot", timeout=120_000)
    marker = tmp_path / "pwned"
    assert_code_not_run(probe_execute(url.split("?")[0], marker), marker)
