# Two commands for a new user: `make demo` and `make test`. `make lint` is what CI checks too.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# The CPU build of torch from local disk first: a bare `torch` requirement
	# would otherwise pull a multi-GB CUDA build.
	$(VENV)/bin/pip install --quiet torch==2.13.0
	# The distribution was called `ledger` before it became agent-loop-ledger: drop an old
	# install of that name so only one distribution owns the `ledger` package.
	$(VENV)/bin/pip uninstall --quiet --yes ledger
	$(VENV)/bin/pip install --quiet -e '.[torch,test]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash scripts/demo.sh

test: $(STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m pytest

# ruff (lint and format) and mypy on ledger/, configured in pyproject.toml. All three run
# even when one fails, so one pass shows every problem.
lint: $(STAMP)
	@status=0; \
	$(VENV)/bin/ruff check ledger || status=1; \
	$(VENV)/bin/ruff format --check ledger || status=1; \
	$(VENV)/bin/mypy || status=1; \
	exit $$status

bench: $(STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) demo
