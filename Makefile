# The two commands: `make run` starts the platform, `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test unit lint bench-flow clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)  ## set up, migrate, load the demo district if empty, start everything (ARGS="--scale dispatch=3")
	$(PY) -m cli.main run $(ARGS)

test: $(STAMP)  ## lint, then unit, integration and end-to-end tests (SQLite and PostgreSQL)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

unit: $(STAMP)  ## the fast tests only: no broker, no database server
	$(PY) -m pytest tests/unit -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench-flow: $(STAMP)  ## against a platform started with `make run`
	$(PY) bench/flow.py

clean:
	rm -rf var .pytest_cache
