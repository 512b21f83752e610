# Two commands for a fresh machine: `make demo` (set up + main demo) and `make test` (set up + whole suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test test-binder test-browser chromium lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test,browser]"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m asanb demo --out demo-output

lint: $(STAMP)
	$(PY) -m ruff check asanb tests benchmarks
	$(VENV)/bin/lint-imports
	$(PY) -m mypy asanb

# The notebooks run under nbval: outputs of cells marked NBVAL_CHECK_OUTPUT must match the saved ones.
NBVAL := --nbval-lax --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg

# The real-browser tests (JupyterLab in headless chromium) run whenever Debian's chromium is present; `make test`
# installs it when it is missing and the machine allows it (root, as in CI), else they are skipped and say so.
test: $(STAMP) lint chromium
	$(PY) -m pytest -q -p no:cacheprovider tests notebooks $(NBVAL)

chromium:
	@command -v chromium >/dev/null || [ "$$(id -u)" != 0 ] || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
		echo "chromium could not be installed: the browser tests will be skipped"

# Builds the Binder environment from binder/ alone in a fresh venv and runs a notebook in it (slow: CI step).
test-binder: $(STAMP)
	ASANB_BINDER=1 $(PY) -m pytest -q -p no:cacheprovider tests/test_binder.py

# Only the browser tests (they are also part of `make test`).
test-browser: $(STAMP) chromium
	$(PY) -m pytest -q -p no:cacheprovider tests/browser

bench: $(STAMP)
	$(PY) benchmarks/bench_engine.py

clean:
	rm -rf $(VENV) demo-output
