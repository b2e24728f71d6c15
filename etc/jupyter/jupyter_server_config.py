# Kernel settings for every server that shows the lessons to learners: Voilà (`make serve`, through
# voila.py, which loads this file) and a Jupyter Server with the voila extension (Binder's
# /voila/render route, a JupyterHub user's server). Read when JUPYTER_CONFIG_PATH names this folder:
# the Makefile, binder/start and the JupyterHub snippet in the README set it. `make lab` and
# `make notebook` do not, so the notebooks there run as usual.
import os

# A closed or reloaded tab ends its kernel: Voilà's page posts its shutdown call with the page's
# `_xsrf` cookie, which widgets.serve has the page handler issue (XSRF checks stay on). A kernel whose
# page never said goodbye (a crashed browser, a lost network) is culled after 5 idle minutes, checked
# every minute. LESSONS_CULL_IDLE_S shortens it for the tests that watch kernels go.
_idle_s = int(os.environ.get("LESSONS_CULL_IDLE_S", "300"))
c.MappingKernelManager.cull_idle_timeout = _idle_s  # noqa: F821 (c is the config object Jupyter passes in)
c.MappingKernelManager.cull_interval = max(1, min(60, _idle_s // 3))  # noqa: F821
c.MappingKernelManager.cull_connected = False  # noqa: F821

# The browser may only talk to a kernel through widgets: the list standalone Voilà uses. An
# execute_request sent over the websocket is dropped, so a page cannot be made to run code. On a
# Jupyter Server this holds for every kernel: JupyterLab opened there cannot run cells (that server
# is for the dashboards; the notebooks are run with `make lab`).
c.MappingKernelManager.allowed_message_types = [  # noqa: F821
    "comm_open", "comm_close", "comm_msg", "comm_info_request", "kernel_info_request", "shutdown_request",
]

# Every run (lesson 5's training, any long task of a page) stops after LESSONS_MAX_RUN_S seconds, and
# once its page has sent no heartbeat for LESSONS_PAGE_SILENT_S (a crashed browser, a lost network):
# widgets/views/alive.py. Kernels inherit the server's environment; a value already set wins, and one
# that is not a number in range falls back to the default in alive.py.
os.environ.setdefault("LESSONS_MAX_RUN_S", "1800")
os.environ.setdefault("LESSONS_PAGE_SILENT_S", "90")

# widgets.serve as a server extension (Binder's /voila/render route, a JupyterHub user's server): Voilà's
# page handler issues the `_xsrf` cookie its shutdown call needs, and when this server checks the Host
# header (it listens on loopback: ServerApp.allow_remote_access False) Voilà's static routes check it too.
# Standalone Voilà ignores this line; `python -m widgets.serve` does both there.
c.ServerApp.jpserver_extensions.update({"widgets.serve": True})  # noqa: F821
