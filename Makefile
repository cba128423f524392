# vidpipe: every task a developer or CI runs. `make help` lists them.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

SPECS  := $(filter-out specs/openapi-python-client.yaml,$(wildcard specs/*.yaml))

.PHONY: help install demo test lint typecheck pytest regen bench clean

help:
	@echo "make demo   run the example storyboard on the embedded emulator"
	@echo "make test   lint, type-check and run the test suite"
	@echo "make regen  regenerate generated/ (and adapters/registry.py) from specs/"
	@echo "make bench  run the benchmarks in bench/"

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/vidpipe run examples/storyboard.yaml --out out

lint: $(STAMP)
	$(BIN)/ruff check pipeline emulator tests bench specs setup.py
	$(BIN)/ruff format --check pipeline emulator tests bench specs setup.py

# mypy cannot follow setuptools' package_dir mapping, so it reads a tree of links that
# lays the folders out as the installed package is (the same as `setup.py` maps them).
TYPECHECK_TREE := $(VENV)/typecheck
typecheck: $(STAMP)
	rm -rf $(TYPECHECK_TREE) && mkdir -p $(TYPECHECK_TREE)/vidpipe
	ln -s $(CURDIR)/pipeline/* $(TYPECHECK_TREE)/vidpipe/
	ln -s $(CURDIR)/emulator $(TYPECHECK_TREE)/vidpipe/emulator
	ln -s $(CURDIR)/generated $(TYPECHECK_TREE)/vidpipe/generated
	ln -s $(CURDIR)/specs $(TYPECHECK_TREE)/vidpipe/openapi
	ln -s $(CURDIR)/templates $(TYPECHECK_TREE)/vidpipe/prompt_templates
	MYPYPATH=$(TYPECHECK_TREE) $(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

test: lint typecheck pytest

regen: $(STAMP)
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m vidpipe.codegen --specs specs --out generated \
		--registry pipeline/adapters/registry.py

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) out .vidpipe .pytest_cache .mypy_cache .ruff_cache
