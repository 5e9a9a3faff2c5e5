# Two commands on a fresh machine: `make run` and `make test`. Everything else is optional.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
STAGE ?= dev

export UV_PYTHON_DOWNLOADS := never
# Compile site-packages once at install: imports then never recompile, even where the
# environment sets PYTHONDONTWRITEBYTECODE (this machine does).
export UV_COMPILE_BYTECODE := 1
export UV_PROJECT_ENVIRONMENT := $(VENV)
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_DEPRECATED := quiet
export CDK_DISABLE_CLI_TELEMETRY := 1
export AWS_EC2_METADATA_DISABLED := true
export PYTHONPATH := $(CURDIR)/layers/core:$(CURDIR)

.PHONY: help setup run migrate test lint build synth snapshots openapi layout contract bench audit clean browser

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

# `catalog ...` in .venv/bin: the CLI (cli/) with this checkout's packages on its path. A
# wrapper, not a [project.scripts] entry: the project is not an installable package
# (tool.uv package = false; the layer's source is imported from layers/core).
$(VENV)/bin/catalog: $(VENV)/.synced
	printf '#!/bin/sh\nPYTHONPATH="%s/layers/core:%s$${PYTHONPATH:+:$$PYTHONPATH}" exec "%s/$(VENV)/bin/python" -m cli "$$@"\n' "$(CURDIR)" "$(CURDIR)" "$(CURDIR)" > $@
	chmod +x $@

setup: $(VENV)/.synced $(VENV)/bin/catalog  ## create .venv from the lock file (and the `catalog` CLI)

run: setup  ## start moto server, provision, seed and serve the API on 127.0.0.1:$${PORT:-3000}
	$(PY) -m infra.local

migrate: setup  ## apply pending data migrations to the local stack of `make run` (AWS_PORT)
	$(PY) -m cli migrate up

build: setup  ## build the Lambda layers into .build/ (arm64, Python 3.12)
	$(PY) scripts/build_layers.py

synth: build  ## write the CloudFormation template to cdk.out/ (offline)
	CDK_OUTDIR=cdk.out STAGE=$(STAGE) $(PY) infra/app.py

snapshots: build  ## rewrite tests/infra/snapshots/ from the stack (after a deliberate change)
	$(PY) -m tests.infra.template_snapshot

openapi: setup  ## regenerate functions/meta/openapi.json from the handlers
	$(PY) -m infra.openapi --write

layout: setup  ## rewrite docs/item-layout.json, the stored item layout (refused without a new migration)
	$(PY) scripts/item_layout.py

# Node tools (Optic), pinned and locked in tools/, installed into .tools/node: install
# scripts are not run (none of these needs one).
NODE_TOOLS := $(TOOLS)/node

$(NODE_TOOLS)/.installed: tools/package.json tools/package-lock.json
	mkdir -p $(NODE_TOOLS)
	cp tools/package.json tools/package-lock.json $(NODE_TOOLS)/
	cd $(NODE_TOOLS) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

contract: setup $(NODE_TOOLS)/.installed  ## fail on a breaking change against the released contract (api/)
	$(PY) -m infra.contract

lint: setup  ## ruff and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy layers/core/catalog functions infra cli

# Branch coverage of catalog, functions and infra (pyproject.toml's [tool.coverage]): 94%
# on a fresh clone (2026-12-02; 90% when the floor was first set, 2026-12-01); one point
# less, for the run-to-run spread of the threaded local system.
COVERAGE_FLOOR := 93

# Three workers on two cores: end-to-end tests spend much of their time waiting for events
# to be delivered, and a third worker uses it (6.3 against 8.4 minutes, with coverage).
TEST_WORKERS ?= 3

# The docs page's browser test (tests/e2e/test_docs_page.py) drives the system's Chromium
# through its chromedriver: installed here where missing and possible (apt-get, as root or
# through sudo); elsewhere the message says what to install.
CHROMIUM_PACKAGES := chromium chromium-driver
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo -n)

browser:  ## Chromium and chromedriver from the system packages, for the browser test
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then \
	  :; \
	elif command -v apt-get >/dev/null && $(SUDO) true 2>/dev/null; then \
	  echo "installing $(CHROMIUM_PACKAGES) (apt-get) for the docs page's browser test"; \
	  $(SUDO) apt-get install -y --no-install-recommends $(CHROMIUM_PACKAGES) \
	    || { $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends $(CHROMIUM_PACKAGES); }; \
	else \
	  echo "make test needs Chromium and chromedriver for the docs page's browser test, and" \
	    "cannot install them here. Install them (Debian/Ubuntu: apt-get install" \
	    "$(CHROMIUM_PACKAGES); Fedora: dnf install chromium chromedriver; macOS: brew" \
	    "install --cask chromium chromedriver), then run make test again." >&2; \
	  exit 1; \
	fi

# --tb=native: pytest's own traceback format parses the test's source, and on CPython 3.11.7
# that parse can fail ("AST constructor recursion depth mismatch", after Hypothesis moved
# the recursion limit), which crashed a worker and ended the whole run (INTERNALERROR).
test: build browser $(NODE_TOOLS)/.installed  ## every test: unit, integration, end to end, infrastructure, the contract gate, lint; coverage
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadgroup --tb=native --durations=15 --cov --cov-report=term --cov-fail-under=$(COVERAGE_FLOOR)
	$(MAKE) --no-print-directory lint

# The peers of `make bench` live in their own environment: `uv sync` is exact, so one venv
# synced with and without the bench group would lose packages on every switch.
BENCH_VENV := .venv-bench

$(BENCH_VENV)/.synced: uv.lock pyproject.toml | $(UV)
	UV_PROJECT_ENVIRONMENT=$(BENCH_VENV) $(UV) sync --frozen --no-default-groups --group bench --python $(PYTHON)
	touch $@

bench: build $(BENCH_VENV)/.synced  ## benchmarks (not tests): ours against peers -> benchmarks/results/
	$(PY) benchmarks/bench.py
	$(PY) benchmarks/images.py
	$(PY) benchmarks/migrations.py
	$(PY) benchmarks/partitions.py
	$(PY) benchmarks/imports.py
	$(PY) benchmarks/exports.py
	$(PY) benchmarks/revocation.py

# pip-audit asks PyPI's JSON API about each package of the lock (every group: the tools run
# in CI with deploy credentials); --strict fails on a package it could not look up, instead of
# passing it by. Needs the network: CI runs it (.github/workflows/pipeline.yml).
AUDIT_VENV := .venv-audit

$(AUDIT_VENV)/.synced: uv.lock pyproject.toml | $(UV)
	UV_PROJECT_ENVIRONMENT=$(AUDIT_VENV) $(UV) sync --frozen --only-group audit --python $(PYTHON)
	touch $@

audit: $(AUDIT_VENV)/.synced  ## known vulnerabilities in uv.lock's packages (pip-audit; needs the network)
	mkdir -p .build
	$(UV) export --frozen --all-groups --no-emit-project --format requirements-txt --quiet -o .build/audit-requirements.txt
	$(AUDIT_VENV)/bin/pip-audit --requirement .build/audit-requirements.txt --require-hashes --disable-pip --strict --progress-spinner off

clean:
	rm -rf .build cdk.out .pytest_cache .mypy_cache .ruff_cache
