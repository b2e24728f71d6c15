# Voilà's settings, read by `voila` (`make serve`, the tests) and by Jupyter Server's voila extension
# (the /voila/render route that Binder and JupyterHub use) from the folders on JUPYTER_CONFIG_PATH.
# This file lives in etc/jupyter/, not in the repository root: a voila.py there would shadow the
# voila package for any Python started in the root.
import os
from pathlib import Path

_REPO = Path(__file__).resolve().parents[2]

# The kernel settings (culling, the message allowlist) are shared with Jupyter Server.
load_subconfig("jupyter_server_config.py")  # noqa: F821 (traitlets passes it in)

# The course's template (share/jupyter/voila/templates/course): Voilà's lab template without the
# CDN stylesheets (pages make no request to another host), and a server root that opens the course.
# Voilà finds templates on JUPYTER_PATH.
_data = str(_REPO / "share" / "jupyter")
if _data not in os.environ.get("JUPYTER_PATH", "").split(os.pathsep):
    os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in (_data, os.environ.get("JUPYTER_PATH")) if p)
c.VoilaConfiguration.template = "course"  # noqa: F821


def _bundled_mathjax(page_config: dict, **_) -> dict:
    """Typeset with the MathJax bundled in Voila's JavaScript, never from cdnjs: the page loads MathJax
    from `fullMathjaxUrl` unless it and `mathjaxConfig` are null. Standalone Voila leaves them null;
    inside Jupyter Server (Binder's route) they default to cdnjs, which fails offline."""
    page_config["fullMathjaxUrl"] = None
    page_config["mathjaxConfig"] = None
    return page_config


c.VoilaConfiguration.page_config_hook = _bundled_mathjax  # noqa: F821

# Loopback only; the page never shows a traceback or the notebooks' sources.
c.Voila.ip = "127.0.0.1"  # noqa: F821
# The Host names `python -m widgets.serve` (make serve) answers besides 127.0.0.1 and [::1]; any other
# gets 403 (DNS rebinding). LESSONS_HOSTS adds names, comma-separated, e.g. a reverse proxy's.
_hosts = [h.strip() for h in os.environ.get("LESSONS_HOSTS", "").split(",") if h.strip()]
c.CourseVoila.local_hostnames = ["localhost", *_hosts]  # noqa: F821
c.VoilaConfiguration.show_tracebacks = False  # noqa: F821
c.VoilaConfiguration.strip_sources = True  # noqa: F821


def _pool_size(per_kernel_gb: float = 0.6, keep_free_gb: float = 2.0) -> int:
    """Pre-heated kernels per notebook that fit in memory, allowing 0.6 GB each (lesson 5's kernel, the
    largest, holds torch; benchmarks/results/kernel_start.md has each lesson's). Voila pre-heats every
    notebook under notebooks/, translations included."""
    notebooks = max(1, sum(1 for _ in (_REPO / "notebooks").rglob("*.ipynb")))
    try:
        total_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        return 0
    # At most one per notebook: with both editions that is 12 kernels, each running its lesson at start. Two each (24) took minutes on 2 cores and the pool never filled in the class
    # benchmark (23 of 24 after 420 s); memory was never the limit, the cores were.
    return max(0, min(1, int((total_gb - keep_free_gb) / (per_kernel_gb * notebooks))))


# A pre-heated kernel has already imported torch and built the page, so a learner does not
# wait for it. LESSONS_PREHEAT=0 turns it off (the browser tests do, to spare 2 cores).
# Standalone Voilà only: inside Jupyter Server the server's kernel manager starts kernels on demand.
_preheat = os.environ.get("LESSONS_PREHEAT", "1") != "0" and _pool_size() > 0
c.VoilaConfiguration.preheat_kernel = _preheat  # noqa: F821
c.VoilaConfiguration.default_pool_size = _pool_size() if _preheat else 0  # noqa: F821

# A cell's output may reach the server after its execute_reply when many kernels start at once (a class
# opening a lesson together: 30 kernels on 2 cores). nbclient waits 4 s for it by default, then serves
# the page without that cell's widget, and the page never draws. Wait as long as it takes, up to 60 s.
c.VoilaExecutor.iopub_timeout = 60  # noqa: F821
