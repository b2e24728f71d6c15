# Voila's settings, read from the working directory by `make serve`, by the tests, and by
# Jupyter Server's /voila/render/... route (Binder starts in the repository root).
import os

# Loopback only; the page never shows a traceback or the notebooks' sources.
c.Voila.ip = "127.0.0.1"  # noqa: F821 (c is the config object Voila passes in)
c.VoilaConfiguration.show_tracebacks = False  # noqa: F821
c.VoilaConfiguration.strip_sources = True  # noqa: F821


def _pool_size(per_kernel_gb: float = 0.6, notebooks: int = 6, keep_free_gb: float = 2.0) -> int:
    """Pre-heated kernels per notebook that fit in memory: each holds torch and plotly (~0.6 GB)."""
    try:
        total_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        return 0
    return max(0, min(2, int((total_gb - keep_free_gb) / (per_kernel_gb * notebooks))))


# A pre-heated kernel has already imported torch and built the page, so a learner does not
# wait for it. LESSONS_PREHEAT=0 turns it off (the browser tests do, to spare 2 cores).
_preheat = os.environ.get("LESSONS_PREHEAT", "1") != "0" and _pool_size() > 0
c.VoilaConfiguration.preheat_kernel = _preheat  # noqa: F821
c.VoilaConfiguration.default_pool_size = _pool_size() if _preheat else 0  # noqa: F821

# Voila leaves a kernel running for each closed tab: cull kernels idle for 5 minutes
# (pre-heated kernels in the pool are exempt).
c.MappingKernelManager.cull_idle_timeout = 300  # noqa: F821
c.MappingKernelManager.cull_interval = 60  # noqa: F821
c.MappingKernelManager.cull_connected = False  # noqa: F821
