# Two commands (see README): `make run` and `make test`. Everything else is set up by them.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
# Empty: DXBOT_PROGRAM, else the profile marked `demo_default: true` (no program id here).
PROGRAM ?=

.PHONY: run test lint install install-test bench clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

## Also compiles the project's modules: where PYTHONDONTWRITEBYTECODE is set, Python would
## otherwise compile them from source at every `dxbot` command's start (a quarter of a second);
## only changed files are recompiled. The .pyc files are not committed (.gitignore).
install: $(VENV)/.installed
	$(BIN)/python -m compileall -q bot handlers store reminders reports
install-test: $(VENV)/.installed-test

## Set up, migrate the embedded SQLite database, load the demo program, open the console chat
## on that program (`make run PROGRAM=nagano-2024`; an ended one runs on a clock inside its term).
run: install
	$(BIN)/dxbot db upgrade
	$(BIN)/dxbot seed $(if $(PROGRAM),--program $(PROGRAM)) --demo
	$(BIN)/dxbot run $(if $(PROGRAM),--program $(PROGRAM))

## Set up, check the layers and the types, and run the whole test suite (SQLite and PostgreSQL).
test: install-test
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: install-test
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: install-test
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) data out .pytest_cache
