# The two commands a newcomer needs: `make up` and `make test`. Each installs what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: up down test lint typecheck pytest bench demo install clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Dudao needs Python 3.11+"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,embedded]'
	@touch $(STAMP)

install: $(STAMP)

up: $(STAMP)
	$(BIN)/dudao up

down: $(STAMP)
	$(BIN)/dudao down

lint: $(STAMP)
	$(BIN)/ruff check shared services tests bench
	$(BIN)/ruff format --check shared services tests bench

typecheck: $(STAMP)
	$(BIN)/mypy shared/src services/governance/src services/school-inspection/src services/monitoring/src services/accountability/src

pytest: $(STAMP)
	$(BIN)/pytest

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python bench/run.py

demo: $(STAMP)
	$(BIN)/dudao demo

clean:
	rm -rf $(VENV) .dudao .pytest_cache .mypy_cache .ruff_cache
