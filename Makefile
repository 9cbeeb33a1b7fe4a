# Waymark: `make run` serves the demo on SQLite; `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install install-dev lint typecheck layers pytest bench bench-quick clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Waymark needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	@echo "Waymark: open http://$(HOST):$(PORT)/ (API docs at http://$(HOST):$(PORT)/docs)"
	@echo "Demo sign-ins (one user per role) are printed below once the store is ready."
	$(BIN)/waymark serve --host $(HOST) --port $(PORT) --demo

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install-dev
	$(BIN)/mypy

layers: install-dev
	$(BIN)/lint-imports

# pytest exits 5 when it collected no tests: that is a failure here.
pytest: install-dev
	@set +e; $(BIN)/pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest ran no tests: failing" >&2; exit 1; fi; exit $$rc

# Every benchmark at 10k, 100k and 1M events on PostgreSQL (long: see docs/PERFORMANCE.md).
bench: install-dev
	$(BIN)/python -m bench.suite

# The same at 5,000 events, to show the benchmarks still run; no figure is checked.
bench-quick: install-dev
	$(BIN)/python -m bench.suite --quick

test: lint typecheck layers pytest bench-quick

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
