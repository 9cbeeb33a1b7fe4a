# Waymark: `make run` serves the demo on SQLite; `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test unit install install-dev assets lint typecheck layers pytest reliability docs bench bench-quick bench-writes bench-check clean

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

# Front-end packages come from the npm registry (package.json, package-lock.json);
# nothing third-party is committed. The pages' stylesheet is compiled from
# web/static/app/app.scss; built files go to the git-ignored web/static/vendor/.
VENDOR := web/static/vendor

node_modules/.package-lock.json: package.json $(wildcard package-lock.json)
	@command -v npm >/dev/null || { echo "the pages need Node.js and npm (apt-get install nodejs npm)" >&2; exit 1; }
	if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
	touch $@

$(VENDOR)/.built: node_modules/.package-lock.json web/static/app/app.scss
	rm -rf $(VENDOR)
	mkdir -p $(VENDOR)/assets
	cp -R node_modules/govuk-frontend/dist/govuk/assets/. $(VENDOR)/assets/
	cp -R node_modules/@ministryofjustice/frontend/moj/assets/. $(VENDOR)/assets/
	rm -rf $(VENDOR)/assets/fonts  # GDS Transport is for GOV.UK services only
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js $(VENDOR)/
	cp node_modules/chart.js/dist/chart.umd.min.js $(VENDOR)/
	cp node_modules/axe-core/axe.min.js $(VENDOR)/
	mkdir -p $(VENDOR)/swagger-ui  # the API docs page (/docs) serves these, not a CDN
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css \
		$(VENDOR)/swagger-ui/
	node_modules/.bin/sass --load-path=. --style=compressed --no-source-map --quiet-deps \
		web/static/app/app.scss $(VENDOR)/waymark.css
	touch $@

assets: $(VENDOR)/.built

# The logs are JSON lines; once it is serving, the server prints its address and the
# demo sign-ins as a plain block after them. `make run PORT=8080 HOST=0.0.0.0` to change.
run: install assets
	$(BIN)/waymark serve --host $(HOST) --port $(PORT) --demo

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install-dev
	$(BIN)/mypy

layers: install-dev
	$(BIN)/lint-imports

# pytest exits 5 when it collected no tests: that is a failure here. The tests run on
# one process per core (pytest-xdist; each test has its own store and PostgreSQL
# database): on this project's two cores, 13 minutes against 22 in one process
# (2026-12-01). Each file's tests go to one process (--dist loadscope), so that a
# file's shared site (the browser tests' server and demo record) is set up once.
# `make test PYTEST_WORKERS=0` runs them in one process.
PYTEST_WORKERS ?= auto
pytest: install-dev assets
	@set +e; $(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadscope $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest ran no tests: failing" >&2; exit 1; fi; exit $$rc

# The domain's rules on aggregates alone (tests/unit): no database, no application,
# no HTTP. Neither tests/conftest.py nor the plugins the unit layer does not use are
# loaded (importing them took most of the run): about three seconds.
unit: install-dev
	$(BIN)/pytest --confcutdir=tests/unit -p no:schemathesis -p no:hypothesispytest \
		-p no:anyio tests/unit

# Every benchmark at 10k, 100k and 1M events on PostgreSQL (long: see docs/PERFORMANCE.md).
bench: install-dev
	$(BIN)/python -m bench.suite

# The same at 5,000 events, to show the benchmarks still run; no figure is checked.
bench-quick: install-dev
	$(BIN)/python -m bench.suite --quick

# Only the write comparison: Waymark against the minimal app (bench/minimal_app.py),
# 8 clients, on PostgreSQL and SQLite, at 10,000 events (a few minutes).
bench-writes: install-dev
	$(BIN)/python -m bench.served 10000 --only-writes

# Every figure on record with a target, met or not; fails if one is not met.
bench-check: install-dev
	$(BIN)/python -m bench.report --check

test: lint typecheck layers pytest bench-quick

# A longer soak of the crash tests: many more SIGKILLs during the write load.
reliability: install-dev
	WAYMARK_RELIABILITY_ROUNDS=60 $(BIN)/pytest tests/test_reliability.py

# Rewrites the settings table of docs/CONFIGURATION.md from the Settings class.
docs: install
	$(BIN)/python -m services.settings_doc docs/CONFIGURATION.md

clean:
	rm -rf $(VENV) data data-checkpoints.ndjson data-signing-key.pem .pytest_cache .mypy_cache .ruff_cache node_modules $(VENDOR) test-artifacts
