# The two commands: `make run` starts the platform, `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test unit lint web bench-flow clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The web app (web/): npm ci when the lock file changed, a build when its sources or the API
# (whose OpenAPI document its types are generated from) changed; both cached by stamp files.
WEB_DEPS := web/node_modules/.installed
WEB_STAMP := web/dist/.built
WEB_SOURCES := $(shell find web/src web/h5 web/scripts -type f 2>/dev/null) web/index.html \
	web/package.json web/vite.config.ts web/tsconfig.json \
	$(wildcard gateway/*.py gateway/routes/*.py common/schemas.py services/*/schemas.py)
NODE_CHECK = command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || { \
	echo "未找到 Node.js 和 npm，无法构建网页工作台（需要 Node 20.19 或更高版本）。" >&2; \
	echo "解决办法：Debian/Ubuntu 运行 sudo apt-get install -y nodejs npm，然后重新运行本命令。" >&2; exit 1; }

$(WEB_DEPS): web/package.json web/package-lock.json
	@$(NODE_CHECK)
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(WEB_STAMP): $(WEB_DEPS) $(STAMP) $(WEB_SOURCES)
	cd web && PYTHON="$(abspath $(PY))" npm run build --silent
	touch $@

web: $(WEB_STAMP)  ## build the web app if its sources changed

run: $(STAMP) $(WEB_STAMP)  ## set up, migrate, load the demo district if empty, start everything (ARGS="--scale dispatch=3")
	$(PY) -m cli.main run $(ARGS)

test: $(STAMP) $(WEB_STAMP)  ## lint, then unit, integration and end-to-end tests (SQLite and PostgreSQL)
	$(VENV)/bin/ruff check .
	cd web && npm run lint --silent && npx vitest run
	$(PY) -m tests.parallel  # the SQLite and PostgreSQL runs side by side, then the browser tests

unit: $(STAMP)  ## the fast tests only: no broker, no database server
	$(PY) -m pytest tests/unit -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench-flow: $(STAMP)  ## against a platform started with `make run`
	$(PY) bench/flow.py

clean:
	rm -rf var .pytest_cache
