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
"""
from __future__ import annotations

import ipaddress

from tornado.httputil import split_host_and_port
from tornado.routing import Matcher, Rule
from tornado.web import HTTPError, RequestHandler
from traitlets import List, Unicode
from voila.app import Voila
from voila.tornado.handler import TornadoVoilaHandler


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


class CourseVoila(Voila):
    """`voila`, answering only to loopback addresses and `local_hostnames`, and ending a page's
    kernel when the page closes."""

    local_hostnames = List(
        Unicode(), ["localhost"], config=True,
        help="Host names (or addresses) answered besides loopback addresses (127.0.0.1, [::1]); any "
             "other Host header gets 403. etc/jupyter/voila.py adds the names in LESSONS_HOSTS.")

    def init_handlers(self):
        handlers = [(route[0], CoursePageHandler, *route[2:]) if route[1] is TornadoVoilaHandler else route
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
