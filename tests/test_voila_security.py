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


def probe(ws_url: str, marker, listen_s: float = 8.0) -> tuple[list[str], list[str]]:
    """A client of Jupyter's older websocket protocol (it asks for no subprotocol): send
    kernel_info_request and an execute_request that would write `marker`, then listen for `listen_s`
    seconds. The types of the text messages and of the binary ones (read as that protocol's frames)."""
    from jupyter_server.services.kernels.connection.base import deserialize_binary_message
    from tornado.websocket import websocket_connect

    async def listen():
        conn = await websocket_connect(ws_url)
        conn.write_message(message("kernel_info_request", {}))
        conn.write_message(message("execute_request", {
            "code": f"open({str(marker)!r}, 'w').write('x')", "silent": False, "store_history": False,
            "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}))
        texts, binaries = [], []
        deadline = asyncio.get_running_loop().time() + listen_s
        # The page beats every few seconds, so the kernel is never quiet for long: listen to a deadline.
        while (left := deadline - asyncio.get_running_loop().time()) > 0:
            try:
                raw = await asyncio.wait_for(conn.read_message(), timeout=left)
            except TimeoutError:
                break
            if raw is None:
                break
            if isinstance(raw, str):
                texts.append(json.loads(raw)["header"]["msg_type"])
            else:
                binaries.append(deserialize_binary_message(raw)["header"]["msg_type"])
        conn.close()
        return texts, binaries

    # Playwright's sync API owns this thread's event loop: talk to the kernel from another thread
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, listen()).result(timeout=listen_s + 60)


def assert_code_not_run(replies: list[str], marker) -> None:
    assert "kernel_info_reply" in replies, f"the channel works (control): {replies}"
    assert "execute_reply" not in replies and "execute_input" not in replies, replies
    assert not marker.exists(), "the kernel ran code sent from the browser side"


def test_execute_request_is_ignored(dashboard, tmp_path):
    page = dashboard("01_feature_scaling.ipynb", ready=".js-plotly-plot", count=1)
    url = kernel_ws_url(page)
    page.wait_for_selector(".js-plotly-plot", timeout=120_000)
    marker = tmp_path / "pwned"
    texts, _ = probe(url.split("?")[0], marker)
    assert_code_not_run(texts, marker)


def test_an_older_protocol_client_cannot_hang_the_server(dashboard, voila_url, tmp_path):
    """A figure update carries binary buffers. Voilà read every binary frame as the v1 protocol's; an
    older-protocol frame made it build a list of ~10^17 offsets, holding the event loop (every page
    hung) and growing ~2 GB a minute until the OOM killer ended the server (widgets/serve.py, 3.)."""
    import urllib.request

    from browser import press_slider

    page = dashboard("01_feature_scaling.ipynb", ready=".js-plotly-plot", count=1)
    url = kernel_ws_url(page)
    page.wait_for_selector(".js-plotly-plot", timeout=120_000)
    with ThreadPoolExecutor(1) as pool:
        listening = pool.submit(probe, url.split("?")[0], tmp_path / "pwned", 12.0)
        page.wait_for_timeout(2000)          # the client is connected and listening
        press_slider(page, 0, times=3)       # the kernel redraws: comm messages with binary buffers
        texts, binaries = listening.result(timeout=120)
    assert "comm_msg" in binaries, f"the client got the figure's binary updates, readable: {binaries}"
    with urllib.request.urlopen(voila_url + "/", timeout=10) as r:
        assert r.status == 200, "the server still answers at once"
    assert_code_not_run(texts, tmp_path / "pwned")
