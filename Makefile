# Two commands do all set-up on a fresh machine:
#   make serve   create .venv, install, serve every dashboard with Voila on 127.0.0.1:8866
#   make test    the same set-up plus Debian's chromium, then the whole test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8866
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install serve lab test test-fast chromium strip screenshot bench clean

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
	@chromium --version

serve: install
	@echo "Dashboards: http://127.0.0.1:$(PORT)/voila/render/00_index.ipynb   (Ctrl-C stops)"
	$(VENV)/bin/voila notebooks --port=$(PORT) --no-browser

lab: install
	$(VENV)/bin/jupyter lab --ip=127.0.0.1 --no-browser notebooks

test: install chromium
	$(PY) -m pytest

test-fast: install
	$(PY) -m pytest -m "not browser and not notebook"

strip: install
	$(VENV)/bin/nbstripout notebooks/*.ipynb

screenshot: install chromium
	$(PY) tools/screenshot.py 01_feature_scaling.ipynb docs/lesson1.png

bench: install
	@for f in benchmarks/*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
