# ttl-kernels: `make run` (main job on the embedded default) and `make test` bootstrap .venv themselves.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# Environment defaults (OMP_WAIT_POLICY, HF offline, ...) live in ttl_kernels/env.py: every entry point applies them.
export PYTHONUNBUFFERED := 1

.PHONY: venv run kernels lint test test-fast test-thorough compile-check bench train clean

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@set -e; if [ ! -x $(PY) ]; then py=$$(tools/find_python.sh); echo "creating $(VENV) with $$py"; "$$py" -m venv $(VENV); fi
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $@

run: $(STAMP)
	$(PY) models/qwen3_dflash.py

kernels: $(STAMP)
	$(PY) -m ttl_kernels

lint: $(STAMP)
	$(VENV)/bin/ruff check .

test: lint
	$(PY) -m pytest -q

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not compile and not slow"

test-thorough: $(STAMP)
	TTL_HYPOTHESIS_PROFILE=thorough $(PY) -m pytest -q

compile-check: $(STAMP)
	$(PY) -m pytest -q -m compile

# every benchmark -> bench/results/REPORT.md + JSON + plots (14 min measured on 2 cores; BENCH_ARGS=--quick ~6-10 min)
bench: $(STAMP)
	$(PY) bench/report.py $(BENCH_ARGS)

# trains the tiny targets and their drafts from the stdlib sources (CPU ~3.5-4 h on 2 quiet cores; see training/README.md)
train: $(STAMP)
	bash training/run_all.sh

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
