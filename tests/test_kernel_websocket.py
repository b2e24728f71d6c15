"""The course's kernel websocket reads each outgoing message's header in the protocol its connection
speaks, within the frame's bounds, and drops execute_input in every form (widgets/serve.py, 3.)."""
from __future__ import annotations

import json
import time

import pytest
from jupyter_client.session import Session
from jupyter_server.services.kernels.connection.base import serialize_binary_message, serialize_msg_to_ws_v1
from voila.tornado.kernel_websocket_handler import VoilaKernelWebsocketHandler

from widgets.serve import V1_PROTOCOL, CourseKernelWebsocket, message_header

HEADER = {"msg_type": "comm_msg", "msg_id": "m1", "session": "s", "username": "u", "version": "5.3",
          "date": "2026-01-01T00:00:00Z"}


def older_frame(msg_type: str = "comm_msg", buffers=(b"\x00" * 64,)) -> bytes:
    """A binary frame of Jupyter's older websocket protocol, as Jupyter Server writes it."""
    return serialize_binary_message({"header": dict(HEADER, msg_type=msg_type), "parent_header": {},
                                     "metadata": {}, "content": {}, "channel": "iopub",
                                     "buffers": list(buffers)})


def v1_frame(msg_type: str = "comm_msg") -> bytes:
    session = Session()
    parts = session.serialize(session.msg(msg_type, content={"data": {}}))
    return serialize_msg_to_ws_v1([*parts[2:], b"\x00" * 64], "iopub")


def test_an_older_protocol_frame_is_read_as_one_and_at_once():
    frame = older_frame()
    # What Voilà read there: the first 8 bytes as a count of offsets, about 10^17 of them.
    assert int.from_bytes(frame[:8], "little") > 10**15
    start = time.perf_counter()
    assert message_header(frame, v1=False)["msg_type"] == "comm_msg"
    assert time.perf_counter() - start < 0.1


def test_v1_frames_text_frames_and_dicts():
    assert message_header(v1_frame("stream"), v1=True)["msg_type"] == "stream"
    assert message_header(json.dumps({"header": HEADER}), v1=False)["msg_type"] == "comm_msg"
    assert message_header({"header": HEADER}, v1=True)["msg_type"] == "comm_msg"


@pytest.mark.parametrize("frame", [
    b"", b"\x01", b"\xff" * 7, b"\xff" * 64,                        # counts the frame cannot hold
    (3).to_bytes(8, "little") + (900).to_bytes(8, "little") * 3,    # offsets past the end
    (3).to_bytes(8, "little") + b"".join(o.to_bytes(8, "little") for o in (40, 32, 48)) + b"x" * 16,
    (3).to_bytes(8, "little") + b"".join(o.to_bytes(8, "little") for o in (32, 34, 36)) + b"{}[]",   # a header that is not an object
])
def test_frames_that_do_not_hold_a_header_give_none(frame):
    for v1 in (True, False):
        assert message_header(frame, v1) is None
    assert message_header(older_frame()[:6], v1=False) is None
    assert message_header("not json", v1=False) is None and message_header("[1]", v1=False) is None
    assert message_header(12, v1=False) is None


class Sent(list):
    pass


@pytest.fixture
def handler(monkeypatch):
    """A CourseKernelWebsocket without a connection: what it passes on to Jupyter's write_message."""
    sent = Sent()
    parent = VoilaKernelWebsocketHandler.__mro__[1]  # Jupyter's kernel websocket
    monkeypatch.setattr(parent, "write_message", lambda self, message, binary=False: sent.append(message))
    h = object.__new__(CourseKernelWebsocket)
    h.sent = sent
    return h


@pytest.mark.parametrize("protocol", [V1_PROTOCOL, None])
def test_execute_input_is_dropped_in_every_form_and_the_rest_passes(handler, monkeypatch, protocol):
    monkeypatch.setattr(CourseKernelWebsocket, "selected_subprotocol", property(lambda self: protocol))
    hidden = [{"header": dict(HEADER, msg_type="execute_input")},
              json.dumps({"header": dict(HEADER, msg_type="execute_input")}),
              v1_frame("execute_input") if protocol else older_frame("execute_input")]
    for message in hidden:
        handler.write_message(message, binary=isinstance(message, bytes))
    assert handler.sent == [], "a cell's code never reaches the page"
    passed = [{"header": HEADER}, json.dumps({"header": HEADER}), v1_frame() if protocol else older_frame(),
              b"\xff" * 64]
    for message in passed:
        handler.write_message(message, binary=isinstance(message, bytes))
    assert handler.sent == passed
