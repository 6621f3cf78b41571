# Fresh machine: `make demo` sets up and runs the demo; `make test` sets up and runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The oldest Python that requires-python admits; `make test-floor` runs the suite on it.
PYTHON_FLOOR ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.9.*/bin/python3.9) python3.9)

.PHONY: demo test test-fast test-torch test-floor notebooks lab docs lint typecheck bench clean

$(BIN)/python:
	@echo "Creating $(VENV) with $(PYTHON)..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the project's metadata changes. pip runs quietly: each step says
# first what it installs and about how long it takes.
$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	@echo "Installing autograd-tiny and its test tools (pytest, hypothesis, nbmake, ruff, mypy) into $(VENV): about 45 s the first time..."
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

$(VENV)/.installed-demo: pyproject.toml | $(BIN)/python
	@echo "Installing autograd-tiny and matplotlib into $(VENV): about 20 s the first time..."
	$(BIN)/python -m pip install --quiet -e '.[plot]'
	touch $@

$(VENV)/.installed-torch: pyproject.toml | $(VENV)/.installed-test
	@echo "Installing torch 2.13.0 into $(VENV) for the PyTorch parity tests..."
	$(BIN)/python -m pip install --quiet -e '.[test,torch]'
	touch $@

$(VENV)/.installed-notebook: pyproject.toml | $(BIN)/python
	@echo "Installing autograd-tiny and JupyterLab into $(VENV)..."
	$(BIN)/python -m pip install --quiet -e '.[notebook]'
	touch $@

$(VENV)/.installed-docs: pyproject.toml | $(BIN)/python
	@echo "Installing autograd-tiny, MkDocs (material, mkdocstrings, mkdocs-jupyter) and Playwright into $(VENV): under a minute the first time..."
	$(BIN)/python -m pip install --quiet -e '.[docs]'
	touch $@

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	@echo "Installing autograd-tiny, micrograd 0.1.0, HIPS autograd and JAX (CPU) into $(VENV) for the benchmark: about 30 s the first time..."
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $@

demo: $(VENV)/.installed-demo
	$(BIN)/autograd-tiny demo

lint: $(VENV)/.installed-test
	$(BIN)/ruff check autograd_tiny tests bench docs
	$(BIN)/ruff format --check autograd_tiny tests bench docs

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/python -m pytest

# The edit-run loop: ruff, mypy and every test but the slow ones (the notebooks, the
# browser, kill -9 and Ctrl-C fault loops, the million-deep chain); `make test` runs all.
test-fast: lint typecheck
	$(BIN)/python -m pytest -m "not slow"

# The whole suite with torch installed, so the PyTorch parity tests run instead of skipping.
test-torch: $(VENV)/.installed-torch test

# The suite (not ruff and mypy: their checks do not depend on the interpreter) on the
# oldest Python the package claims, in a venv of its own. The versions are pinned in
# .ci/floor-constraints.txt: left free, pip's resolver backtracks for many minutes on 3.9
# (through selenium's and ipython's dependencies) before it finds a set.
test-floor:
	@$(PYTHON_FLOOR) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 9))' 2>/dev/null || { echo "no Python 3.9 at '$(PYTHON_FLOOR)': requires-python says >=3.9, so the suite must run on it (set PYTHON_FLOOR=/path/to/python3.9)"; exit 1; }
	@echo "Installing autograd-tiny and its test tools into .venv-floor with $(PYTHON_FLOOR): about 50 s the first time..."
	test -x .venv-floor/bin/python || $(PYTHON_FLOOR) -m venv .venv-floor
	.venv-floor/bin/python -m pip install --quiet -c .ci/floor-constraints.txt -e '.[test]'
	.venv-floor/bin/python -m pytest

# JupyterLab on notebooks/ (it prints the address to open; Ctrl-C stops it).
notebooks lab: $(VENV)/.installed-notebook
	$(BIN)/jupyter lab --ServerApp.root_dir=notebooks

# The docs site in site/: the README as the guide, the notebooks executed with their
# pictures, the API reference from the docstrings; any warning fails the build.
# `make test` then checks its pages in headless Chromium (tests/test_docs_site.py).
docs: $(VENV)/.installed-docs
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# Every workload and the graph layout times; W6 alone: $(BIN)/python bench/run.py --only w6.
# W6 also times torch when it is installed (make .venv/.installed-torch), else skips it.
bench: $(VENV)/.installed-bench
	$(BIN)/python bench/run.py
	$(BIN)/python bench/viz.py

clean:
	rm -rf $(VENV) .venv-floor site .cache .pytest_cache .mypy_cache .ruff_cache .hypothesis autograd-tiny-demo
