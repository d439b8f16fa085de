# Two commands on a fresh machine: `make run` and `make test`. Both set everything up first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8501

.PHONY: setup system-deps runtimes run test lint bench check clean constraints

setup: $(STAMP) system-deps runtimes

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	touch $(STAMP)

# One venv per JAX runtime in runtimes.toml (under .runtimes/); unchanged ones are left alone, a
# runtime whose Python is missing is skipped with one line.
runtimes: $(STAMP)
	$(PY) scripts/setup_runtimes.py

# Debian packages: chromium for the browser tests, libseccomp2 for the sandbox's seccomp filter,
# postgresql for the store tests.
system-deps:
	@bash scripts/system-deps.sh

run: setup
	PORT=$(PORT) PYTHON=$(PY) scripts/serve.sh

# Three pytest processes: the fork-based runner tests (tests/runner: sandbox, supervisor, zygote,
# and the remote runner's worker hosts through a private Redis) must run where the JAX backend
# never started (a fork after it deadlocks), and the browser tests keep Playwright's driver away
# from tests that reap or kill stray processes.
test: lint
	$(PY) -m pytest tests/runner
	$(PY) -m pytest --ignore=tests/runner --ignore=tests/browser
	$(PY) -m pytest tests/browser

# Style (ruff), the import contracts of pyproject.toml (import-linter: what may import what, no
# cycles) and the types of app/ (mypy, configured in pyproject.toml).
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

bench: setup
	$(PY) -m app bench

check: setup
	$(PY) -m app check snippets/

# Pin every transitive dependency at what .venv holds now (after a change to requirements*.txt).
constraints: setup
	{ head -n 3 constraints.txt; $(PY) -m pip freeze --exclude-editable; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

clean:
	rm -rf $(VENV) .runtimes .pytest_cache .ruff_cache test-output
