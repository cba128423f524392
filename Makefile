# vidpipe: every task a developer or CI runs. `make help` lists them.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

SPECS  := $(filter-out specs/openapi-python-client.yaml,$(wildcard specs/*.yaml))

.PHONY: help install demo test lint typecheck pytest check-docs regen bench clean

help:
	@echo "make demo   run the example storyboard on the embedded emulator"
	@echo "make test   lint, type-check, check the specs against their documents, run the tests"
	@echo "make regen  regenerate generated/ (and adapters/registry.py) from specs/"
	@echo "make bench  run the benchmarks in bench/ (BENCH=name runs one)"

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/vidpipe run examples/storyboard.yaml --out out

# mypy and lint-imports cannot follow setuptools' package_dir mapping, so they read a tree
# of links that lays the folders out as the installed package is (as `setup.py` maps them).
TREE := $(VENV)/typecheck
.PHONY: tree
tree: $(STAMP)
	rm -rf $(TREE) && mkdir -p $(TREE)/vidpipe
	ln -s $(CURDIR)/pipeline/* $(TREE)/vidpipe/
	ln -s $(CURDIR)/emulator $(TREE)/vidpipe/emulator
	ln -s $(CURDIR)/generated $(TREE)/vidpipe/generated
	ln -s $(CURDIR)/specs $(TREE)/vidpipe/openapi
	ln -s $(CURDIR)/templates $(TREE)/vidpipe/prompt_templates

# lint-imports checks the import contracts in pyproject.toml (docs/architecture.md).
lint: tree
	$(BIN)/ruff check pipeline emulator tests bench specs setup.py
	$(BIN)/ruff format --check pipeline emulator tests bench specs setup.py
	PYTHONPATH=$(TREE) $(BIN)/lint-imports --no-cache

typecheck: tree
	MYPYPATH=$(TREE) $(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

# The provider documents are inputs beside the project, not part of it: every spec is
# checked against its document there (and a document changed since is reported).
DOCS ?= ../shared/seeds
check-docs: $(STAMP)
	@if [ -d "$(DOCS)" ]; then $(BIN)/vidpipe specs check-docs --all $(DOCS); \
	else echo "check-docs: skipped, no provider documents at $(DOCS)"; fi

test: lint typecheck check-docs pytest

regen: $(STAMP)
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m vidpipe.codegen --specs specs --out generated \
		--registry pipeline/adapters/registry.py

# make bench BENCH=polling runs the benchmarks whose name holds one of the words given.
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH)

clean:
	rm -rf $(VENV) out .vidpipe .pytest_cache .mypy_cache .ruff_cache
