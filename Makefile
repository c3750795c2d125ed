# The two set-up commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
WIDGET := src/tokentrail/static/widget.js
PYTEST_ARGS ?=

.PHONY: install widget browser lint typecheck pytest pytest-pure jstest test demo demo-headless bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

js/node_modules/.package-lock.json: js/package.json js/package-lock.json
	cd js && npm ci --no-audit --no-fund
	touch $@

$(WIDGET): js/node_modules/.package-lock.json $(wildcard js/src/*.js) js/build.mjs
	cd js && npm run build

widget: $(WIDGET)

# hatch_build.py compiles the optional C modules (src/tokentrail/*/*.c, their shared header) in place
$(STAMP): $(BIN)/python pyproject.toml hatch_build.py $(wildcard src/tokentrail/*/*.c) src/tokentrail/_slots.h $(WIDGET)
	SKIP_JUPYTER_BUILDER=1 $(BIN)/python -m pip install -q -e ".[test]"  # the widget is built above
	touch $@

install: $(STAMP)

# Debian's chromium for the browser tests (root on these machines; a no-op where it is present).
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -q && apt-get install -y -q chromium; }

lint: install
	$(BIN)/ruff check src tests benchmarks hatch_build.py
	$(BIN)/ruff format --check src tests benchmarks hatch_build.py

typecheck: install
	$(BIN)/mypy

jstest: js/node_modules/.package-lock.json
	cd js && npm test

pytest: install browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# the unit and integration tests again on the pure-Python path (no C modules), as where no compiler is
pytest-pure: install
	TOKENTRAIL_NO_SPEEDUPS=1 $(BIN)/python -m pytest -q tests/unit tests/integration

test: lint typecheck jstest pytest pytest-pure

demo: install
	$(BIN)/python -m tokentrail.demo lab notebooks/quickstart.ipynb

demo-headless: install
	$(BIN)/python -m tokentrail.demo execute notebooks/quickstart.ipynb

bench: install
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) js/node_modules $(WIDGET)
