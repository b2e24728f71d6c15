"""Serve the course: Voilà 0.5.13 with two fixes it lacks. `make serve` and the tests run
`python -m widgets.serve notebooks --port=8866` (the `voila` command plus these); a Jupyter Server
(Binder, JupyterHub) loads this module as a server extension (etc/jupyter/jupyter_server_config.py).

1. A closed or reloaded tab ends its kernel, with XSRF protection on. On `beforeunload` Voilà's page
   posts `/voila/api/shutdown/<kernel_id>` with `navigator.sendBeacon`, a form whose `_xsrf` field is
   read from the page's `_xsrf` cookie. Jupyter Server refuses a POST whose `_xsrf` field does not match
   that cookie, and Voilà's page handler never issues the cookie: every call was refused (403 "'_xsrf'
   argument missing") and the kernel ran on until the idle cull. `CoursePageHandler` is Voilà's page
   handler issuing the cookie with the page (tornado sets it the first time a handler reads
   `xsrf_token`; under JupyterHub that token is the hub's own). The check itself is unchanged.
2. Only the server's own names are answered (DNS rebinding: a page on evil.example whose name is
   made to point at 127.0.0.1). Standalone Voilà hard-codes `allow_remote_access=True`, which turns off
   Jupyter Server's Host check, and Voilà's static-file and query-socket handlers are plain tornado
   handlers that never make it. `ForeignHost` is one routing rule, placed before every route, that
   refuses (403) a request whose Host is neither a loopback address nor one of the allowed names,
   before any handler runs: no page, static file, kernel, websocket or shutdown call. This is Jupyter
   Server's own rule (`ServerApp.local_hostnames`), applied to every route. (Voilà's
   `allow_remote_access=True` stays: no request with another Host reaches Jupyter's check.)
3. A kernel websocket in Jupyter's older protocol cannot hang the server. Voilà's kernel websocket
   drops `execute_input` (it carries a cell's code) by reading each outgoing message's header, and
   reads every binary frame as the v1 protocol's (an 8-byte little-endian count of offsets). A frame of
   the older protocol, which a client gets when it asks for no subprotocol, starts with a 4-byte
   big-endian count followed by offsets, so that count comes out as about 10^17: the server spent its
   event loop building a list that long (about 2 GB a minute) until the OOM killer ended it, and every
   page hung meanwhile. One websocket from any client that could reach a kernel was enough; a widget
   update with a binary buffer (a plotly figure's arrays) set it off. `CourseKernelWebsocket` reads
   the header in the format the connection speaks, checks each count against the frame's length, and
   drops `execute_input` in text frames too (Voilà let those through to an older-protocol client).
"""
from __future__ import annotations

import ipaddress
import json

from tornado.httputil import split_host_and_port
from tornado.routing import Matcher, Rule
from tornado.web import HTTPError, RequestHandler
from traitlets import List, Unicode
from voila.app import Voila
from voila.tornado.handler import TornadoVoilaHandler
from voila.tornado.kernel_websocket_handler import VoilaKernelWebsocketHandler


def host_allowed(host: str, names: list[str]) -> bool:
    """A loopback address (127.0.0.1, [::1]) or one of `names` (names or addresses; browsers send
    names in lower case). Jupyter Server's `check_host`, except that `names` may list addresses too:
    serving a room (`--Voila.ip=0.0.0.0`), the machine's address is one of its names."""
    name = split_host_and_port(host)[0]  # "[::1]:8866" -> "[::1]"
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    if name in names:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class ForeignHost(Matcher):
    """Matches the requests whose Host header is not one of the server's own names."""

    def __init__(self, names: list[str]):
        self.names = list(names)

    def match(self, request):
        return None if host_allowed(request.host, self.names) else {}


class RefuseHost(RequestHandler):
    """403 for any method, before anything else happens (a websocket upgrade is a GET)."""

    def prepare(self):
        raise HTTPError(403, "Host %r is not one of this server's names", self.request.host)


def refuse_foreign_hosts(names: list[str]) -> Rule:
    return Rule(ForeignHost(names), RefuseHost)


class CoursePageHandler(TornadoVoilaHandler):
    """Voilà's page, sent with the `_xsrf` cookie that its shutdown call on page close needs."""

    async def get(self, path=None):
        self.xsrf_token  # noqa: B018 (the first read sets the cookie; the page's headers are not sent yet)
        return await super().get(path)


V1_PROTOCOL = "v1.kernel.websocket.jupyter.org"


def _frame_offsets(frame: bytes, size: int, order: str) -> list[int] | None:
    """The offsets at the head of a binary frame (a count, then that many offsets, each `size` bytes,
    byte order `order`), or None if the frame cannot hold them or they do not rise within it."""
    if len(frame) < size:
        return None
    count = int.from_bytes(frame[:size], order)
    if not 1 <= count or size * (count + 1) > len(frame):
        return None
    offsets = [int.from_bytes(frame[size * (i + 1): size * (i + 2)], order) for i in range(count)]
    if offsets != sorted(offsets) or offsets[-1] > len(frame):
        return None
    return offsets


def _json(data: bytes | str) -> dict | None:
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def message_header(message, v1: bool) -> dict | None:
    """The header of a message going to a page: a dict; a JSON text frame; a v1 binary frame (offsets
    as 8-byte little-endian numbers, the header the second part); an older-protocol binary frame
    (4-byte big-endian, the header inside the first part's JSON). None when it cannot be read."""
    if isinstance(message, dict):
        header = message.get("header")
    elif isinstance(message, str):
        header = (_json(message) or {}).get("header")
    elif isinstance(message, (bytes, bytearray, memoryview)):
        frame = bytes(message)
        offsets = _frame_offsets(frame, *((8, "little") if v1 else (4, "big")))
        if offsets is None or (v1 and len(offsets) < 3):
            return None
        first = frame[offsets[1]: offsets[2]] if v1 else frame[offsets[0]: (offsets + [None])[1]]
        parsed = _json(first)
        header = parsed if v1 else (parsed or {}).get("header")
    else:
        header = None
    return header if isinstance(header, dict) else None


class CourseKernelWebsocket(VoilaKernelWebsocketHandler):
    """Voilà's kernel websocket (`execute_input` never reaches the page) reading each message's header
    in the protocol the connection speaks, with bounds (see 3. above)."""

    def write_message(self, message, binary: bool = False):
        header = message_header(message, self.selected_subprotocol == V1_PROTOCOL)
        if header and header.get("msg_type") == "execute_input":
            return None
        # Past Voilà's write_message (the reading this one replaces), to Jupyter's.
        return super(VoilaKernelWebsocketHandler, self).write_message(message, binary)


_SWAPS = {TornadoVoilaHandler: CoursePageHandler, VoilaKernelWebsocketHandler: CourseKernelWebsocket}


class CourseVoila(Voila):
    """`voila`, answering only to loopback addresses and `local_hostnames`, ending a page's kernel
    when the page closes, with a kernel websocket no client can hang."""

    local_hostnames = List(
        Unicode(), ["localhost"], config=True,
        help="Host names (or addresses) answered besides loopback addresses (127.0.0.1, [::1]); any "
             "other Host header gets 403. etc/jupyter/voila.py adds the names in LESSONS_HOSTS.")

    def init_handlers(self):
        handlers = [(route[0], _SWAPS[route[1]], *route[2:]) if route[1] in _SWAPS else route
                    for route in super().init_handlers()]
        return [refuse_foreign_hosts(self.local_hostnames), *handlers]


# --- inside a Jupyter Server (Binder's /voila/render route, JupyterHub) ---------------------------

def _jupyter_server_extension_points():
    return [{"module": "widgets.serve"}]


def _load_jupyter_server_extension(serverapp) -> None:
    """Swap Voilà's page handler for CoursePageHandler (same route, same arguments), and refuse
    foreign Host names on Voilà's routes too when the server refuses them on its own: Jupyter Server
    checks the Host only when `allow_remote_access` is False (it listens on loopback). Binder and
    JupyterHub, behind their proxies, allow remote access and keep their token or hub login.

    Extensions load in alphabetical order, so Voilà's ("voila") are in place before this one's."""
    routers = [rule.target for rule in serverapp.web_app.default_router.rules]
    swapped = 0
    for router in routers:
        for rule in getattr(router, "rules", []):
            if rule.target is TornadoVoilaHandler:
                rule.target, swapped = CoursePageHandler, swapped + 1
    if not swapped:
        serverapp.log.warning("widgets.serve: Voilà's page route not found; closed pages keep their kernels")
    if not serverapp.allow_remote_access:
        # First in the table (add_handlers would put it after Voilà's routes, which would win).
        serverapp.web_app.default_router.rules.insert(0, refuse_foreign_hosts(serverapp.local_hostnames))


main = CourseVoila.launch_instance

if __name__ == "__main__":
    main()
