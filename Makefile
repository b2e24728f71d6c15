# Two commands do all set-up on a fresh machine:
#   make serve   create .venv, install, serve the course with Voila on http://127.0.0.1:8866/
#   make test    the same set-up plus Debian's chromium, then the whole test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8866
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Voila's settings (voila.py) and the kernel settings (jupyter_server_config.py) for every server
# that shows the course; binder/start sets the same.
COURSE_ENV := JUPYTER_CONFIG_PATH=$(CURDIR)/etc/jupyter
BRANCH ?= main

.PHONY: install serve lab notebook binder-url test test-fast chromium hub-proxy strip screenshot bench clean

# Re-installs only when pyproject.toml changes (a second run takes seconds).
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium (browser tests)"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; }
	@fc-list :lang=zh family | grep -q . || { \
	  echo "installing fonts-noto-cjk (Chinese glyphs for the zh pages)"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq fonts-noto-cjk >/dev/null; }
	@chromium --version

# JupyterHub's proxy, from npm (the JupyterHub test; JupyterHub itself is a test extra)
HUB_PROXY := $(VENV)/hub/node_modules/.bin/configurable-http-proxy
$(HUB_PROXY):
	@command -v npm >/dev/null 2>&1 || { \
	  echo "installing Debian's npm (JupyterHub's proxy)"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq npm >/dev/null; }
	npm install --prefix $(VENV)/hub --no-audit --no-fund --loglevel=error configurable-http-proxy@5.3.0

hub-proxy: $(HUB_PROXY)

serve: install
	@echo "The course: http://127.0.0.1:$(PORT)/   (every file: /voila/tree; Ctrl-C stops)"
	$(COURSE_ENV) $(PY) -m widgets.serve notebooks --port=$(PORT) --no-browser

lab: install
	$(VENV)/bin/jupyter lab --ip=127.0.0.1 --no-browser notebooks

notebook: install
	$(VENV)/bin/jupyter notebook --ip=127.0.0.1 --no-browser notebooks

# The Binder badge for a repository on GitHub: make binder-url REPO=owner/name [BRANCH=main]
binder-url:
	@[[ "$(REPO)" =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$$ ]] || { echo "usage: make binder-url REPO=owner/name [BRANCH=main]"; exit 2; }
	@echo "https://mybinder.org/v2/gh/$(REPO)/$(BRANCH)?urlpath=voila%2Frender%2Fnotebooks%2F00_index.ipynb"
	@echo "[![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/$(REPO)/$(BRANCH)?urlpath=voila%2Frender%2Fnotebooks%2F00_index.ipynb)"

test: install chromium hub-proxy
	$(PY) -m pytest

test-fast: install
	$(PY) -m pytest -m "not browser and not notebook"

strip: install
	$(VENV)/bin/nbstripout notebooks/*.ipynb notebooks/*/*.ipynb

screenshot: install chromium
	$(PY) tools/screenshot.py 01_feature_scaling.ipynb docs/lesson1.png

bench: install
	@for f in benchmarks/*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
