# Two commands do all set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
OUT    ?= runs/demo

.PHONY: install demo test pytest pytest-docs pytest-rest lint typecheck layers format bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# Re-install only when the dependency list changes: a second run starts in seconds.
# One resolve, torch pinned (an unpinned one pulls a multi-GB CUDA build). Where pip is
# pointed at a folder of local wheels holding torch 2.13.0 (PIP_FIND_LINKS, as on the
# build machine: the CPU build), uv installs the same set with torch from there: 30 s against pip's 121 s
# on a fresh clone here. Elsewhere, or if uv fails, pip does it.
$(STAMP): pyproject.toml | $(VENV)/bin/python
	@if ls "$$PIP_FIND_LINKS"/torch-2.13.0*.whl >/dev/null 2>&1 \
	  && $(PY) -m pip install --quiet uv \
	  && UV_FIND_LINKS="$$PIP_FIND_LINKS" $(VENV)/bin/uv pip install --python $(PY) \
	     --compile-bytecode --quiet -e ".[dev]" "torch==2.13.0"; then \
	  echo "installed with uv (local wheels: $$PIP_FIND_LINKS)"; \
	else \
	  echo "installing with pip"; \
	  $(PY) -m pip install --quiet -e ".[dev]" "torch==2.13.0"; \
	fi
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(VENV)/bin/cropmap demo --out $(OUT)

lint: install
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

# Types of src/ ([tool.mypy] in pyproject.toml). Errors read FILE:LINE: error: MESSAGE [code].
typecheck: install
	@echo "== mypy: type check of src/ (config: [tool.mypy] in pyproject.toml)"
	@$(VENV)/bin/mypy || { echo "mypy failed: fix the FILE:LINE errors above (make typecheck re-runs only this)"; exit 1; }

# Import layers of DESIGN.md ([tool.importlinter] in pyproject.toml).
layers: install
	@echo "== lint-imports: imports point down the layers, no loops (config: [tool.importlinter])"
	@$(VENV)/bin/lint-imports --no-cache || { echo "lint-imports failed: an import above points up a layer or closes a loop (make layers re-runs only this)"; exit 1; }

# The checks run side by side: mypy's ~35 s on one core (cold cache, as in CI) overlaps
# the tests instead of preceding them. The suite runs as two pytest processes: the docs
# pages (tests/docs: every shell block of README.md and docs/, waiting on commands) and
# the rest, spread over $(TEST_WORKERS) pytest-xdist workers. Each target's output is
# printed whole when it ends (-Otarget), so a failure's report is not interleaved; any
# failing check fails `make test`, after the others have finished.
TEST_WORKERS ?= 2
test: install
	@echo "== make test: ruff, mypy, lint-imports, the docs pages and the other tests run side by side; each prints its output when it ends (about 3 min here)"
	@$(MAKE) --no-print-directory -j5 --output-sync=target lint typecheck layers pytest-docs pytest-rest

# The whole suite in one process (the docs pages run in the background beside the rest).
pytest: install
	$(PY) -m pytest -q

pytest-docs: install
	$(PY) -m pytest -q tests/docs

pytest-rest: install
	$(PY) -m pytest -q --ignore=tests/docs -n $(TEST_WORKERS)

format: install
	$(VENV)/bin/ruff check --fix src tests benchmarks
	$(VENV)/bin/ruff format src tests benchmarks

bench: install
	$(PY) benchmarks/composite.py
	$(PY) benchmarks/simulate.py
	$(PY) benchmarks/train.py
	$(PY) benchmarks/predict.py

clean:
	rm -rf $(VENV) runs .pytest_cache
