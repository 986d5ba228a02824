# Two commands for a newcomer:  `make dev` (install, then chat with the bot)  and  `make test` (install, run all tests).
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python

.PHONY: install dev test bench
install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml setup.py bot/nlp/_speedups.pyx
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

dev: install
	$(VENV)/bin/siang dev

test: install
	scripts/test-services
	$(PY) -m pytest

bench: install
	scripts/test-services
	scripts/bench-tools
	for b in bench/*.py; do $(PY) $$b || exit 1; done
