# Two commands for a newcomer: `make demo` and `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: install test lint demo clean

install: $(STAMP)

# torch is pinned on this path so CI takes the CPU wheel from local disk instead of
# letting pip resolve a multi-GB CUDA build; users may install any torch>=2.2.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "torch==2.13.0"
	$(BIN)/python -m pip install -q -e ".[test]" "torch==2.13.0"
	touch $(STAMP)

lint: install
	$(BIN)/ruff check src tests benchmarks

test: install lint
	$(BIN)/python -m pytest

demo: install
	$(BIN)/skipsnn demo --out runs/demo

clean:
	rm -rf $(VENV) runs .pytest_cache
