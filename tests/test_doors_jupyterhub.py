"""JupyterHub: the README's jupyterhub_config.py snippet (etc/jupyterhub/jupyterhub_config.py), with
the hub's test settings around it (dummy logins, servers as local processes, loopback ports). Two
learners log in; each lands on the course as a Voila page, on a server of their own, and no page
asks another host for anything."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from browser import LESSON_READY, assert_no_error, wait_until
from conftest import IN_CI
from widgets.devtools.serving import REPO, OffHostRequests, free_port, stop, wait_http, wait_rendered

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SNIPPET = REPO / "etc" / "jupyterhub" / "jupyterhub_config.py"
LEARNERS = ("alice", "bob")


def proxy_command() -> str:
    """configurable-http-proxy, from npm (`make test` installs it into .venv/hub)."""
    path = REPO / ".venv" / "hub" / "node_modules" / ".bin" / "configurable-http-proxy"
    found = str(path) if path.exists() else shutil.which("configurable-http-proxy")
    if found is None:
        if IN_CI:
            pytest.fail("configurable-http-proxy is not installed (CI=true): `make test` installs it")
        pytest.skip("configurable-http-proxy not installed: `make test` installs it from npm")
    return found


def hub_config(tmp: Path, port: int) -> str:
    snippet = SNIPPET.read_text()
    assert snippet.count('COURSE = "/srv/course"') == 1
    bin_dir = Path(sys.executable).parent
    return snippet.replace('COURSE = "/srv/course"', f"COURSE = {str(REPO)!r}") + f"""
# --- the test's hub: loopback ports, dummy logins, each server a local process of this user
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {free_port()}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{free_port()}"
c.ConfigurableHTTPProxy.command = [{proxy_command()!r}]
c.JupyterHub.db_url = "sqlite:///{tmp / 'hub.sqlite'}"
c.JupyterHub.cookie_secret_file = {str(tmp / 'cookie_secret')!r}
c.JupyterHub.pid_file = {str(tmp / 'hub.pid')!r}
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = {str(tmp / 'home' / '{username}')!r}
c.Spawner.cmd = [{str(bin_dir / 'jupyterhub-singleuser')!r}]
c.Spawner.args = ["--allow-root"] if {os.geteuid() == 0} else []
c.Spawner.start_timeout = 300
c.Spawner.http_timeout = 300
"""


@pytest.fixture(scope="module")
def hub(tmp_path_factory, chromium_path):
    tmp = tmp_path_factory.mktemp("hub")
    port = free_port()
    (tmp / "jupyterhub_config.py").write_text(hub_config(tmp, port))
    env = {k: v for k, v in os.environ.items() if k != "JUPYTER_CONFIG_PATH"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    log_path = tmp / "hub.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([str(Path(sys.executable).parent / "jupyterhub"), "-f",
                                 str(tmp / "jupyterhub_config.py")], cwd=tmp, env=env, stdout=log,
                                stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/hub/login", 120, proc)
    except RuntimeError as exc:
        stop(proc)
        pytest.fail(f"JupyterHub did not start: {exc}\n{log_path.read_text()[-3000:]}")
    yield url, log_path
    stop(proc)


def test_the_snippet_is_the_one_in_the_readme():
    assert SNIPPET.read_text().strip() in (REPO / "README.md").read_text()


def test_two_learners_land_on_the_course(hub, browser):
    url, log_path = hub
    contexts, pages = [], []
    try:
        for name in LEARNERS:  # both log in; both servers run at once
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            watch = OffHostRequests(context, url)
            contexts.append((name, context, watch))
            page = context.new_page()
            page.goto(f"{url}/hub/login", timeout=120_000)
            page.fill("input[name=username]", name)
            page.fill("input[name=password]", "any")
            page.click("input[type=submit], button[type=submit]")
            pages.append(page)
        for name, page in zip(LEARNERS, pages):
            landing = f"/user/{name}/voila/render/notebooks/00_index.ipynb"
            wait_until(page, lambda: page.url.startswith(url + landing), 300, f"{name}'s server and landing page")
            wait_rendered(page, f"{name}'s landing page", *LESSON_READY["00_index"], timeout_ms=300_000)
            assert_no_error(page)
            assert page.locator("a.lesson-link").count() >= 5, f"{name}: the lessons are not all linked"
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n--- hub log ---\n{log_path.read_text()[-3000:]}") from exc
    finally:
        for page in pages:
            page.close(run_before_unload=True)
        for name, context, watch in contexts:
            context.close()
            watch.assert_none(f"JupyterHub, {name}")
