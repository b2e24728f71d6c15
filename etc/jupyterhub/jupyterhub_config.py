# JupyterHub: every learner lands on the course as a Voila page (tested by tests/test_doors_jupyterhub.py).
# COURSE is where this repository is checked out, readable by every user, with the course installed
# (`pip install -e .`) in the Python environment the users' servers run in.
COURSE = "/srv/course"
c = get_config()  # noqa: F821 (JupyterHub passes it in)
c.Spawner.notebook_dir = COURSE
c.Spawner.default_url = "/voila/render/notebooks/00_index.ipynb"
# The course's settings for each user's server: Voila's (no tracebacks, sources stripped) and the
# kernels' (idle ones culled, no code run from the browser).
c.Spawner.environment = {"JUPYTER_CONFIG_PATH": f"{COURSE}/etc/jupyter"}
