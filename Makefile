# Two commands for a fresh machine: `make demo` (set up + main demo) and `make test` (set up + whole suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test test-binder test-browser lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m asanb demo --out demo-output

lint: $(STAMP)
	$(PY) -m ruff check asanb tests benchmarks
	$(VENV)/bin/lint-imports

# The notebooks run under nbval: outputs of cells marked NBVAL_CHECK_OUTPUT must match the saved ones.
NBVAL := --nbval-lax --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg

test: $(STAMP) lint
	$(PY) -m pytest -q -p no:cacheprovider tests notebooks $(NBVAL)

# Builds the Binder environment from binder/ alone in a fresh venv and runs a notebook in it (slow: CI step).
test-binder: $(STAMP)
	ASANB_BINDER=1 $(PY) -m pytest -q -p no:cacheprovider tests/test_binder.py

# Runs notebooks in JupyterLab inside headless chromium (Playwright drives Debian's /usr/bin/chromium; about a
# minute). Installs chromium when missing (CI runs as root) and the browser extra (JupyterLab, Playwright).
test-browser: $(STAMP)
	command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)
	$(PY) -m pip install --quiet -e ".[browser]"
	ASANB_BROWSER=1 $(PY) -m pytest -q -p no:cacheprovider tests/browser

bench: $(STAMP)
	$(PY) benchmarks/bench_engine.py

clean:
	rm -rf $(VENV) demo-output
