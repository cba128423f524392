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
	@echo "make regen  regenerate generated/ from specs/"
	@echo "make bench  run the benchmarks in bench/"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/vidpipe run examples/storyboard.yaml --out out

lint: $(STAMP)
	$(BIN)/ruff check pipeline emulator tests bench specs
	$(BIN)/ruff format --check pipeline emulator tests bench specs

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

test: lint typecheck pytest

regen: $(STAMP)
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m pipeline.codegen --specs specs --out generated

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) out .vidpipe .pytest_cache .mypy_cache .ruff_cache
