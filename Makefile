# Front door: `make demo` (demo lake + catalog site, served locally) and `make test` (everything CI runs).
# Both set up what they need themselves on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup demo test lint typecheck unit chromium bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m pip --version >/dev/null 2>&1 || (apt-get update && apt-get install -y python3-pip python3-venv)
	$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(PYTHON) -m uv venv --quiet --allow-existing --python $(PYTHON) $(VENV)
	$(PYTHON) -m uv pip install --quiet --python $(BIN)/python -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

# Debian's chromium for the site's browser tests (Playwright's own browser download is not used).
chromium:
	@test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

demo: setup
	$(BIN)/neuralake demo

lint: setup
	$(BIN)/ruff check src tests examples bench
	$(BIN)/ruff format --check src tests examples bench

typecheck: setup
	$(BIN)/mypy

unit: setup chromium
	$(BIN)/pytest -q --doctest-modules src/neuralake
	$(BIN)/pytest -n 2 --dist loadgroup -q --ignore=tests/scaleout
	# The Ray cluster takes both cores: its suite runs alone, so timing tests never share them.
	$(BIN)/pytest -q tests/scaleout

test: lint typecheck unit

bench: setup
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) site lake .pytest_cache .mypy_cache .ruff_cache .hypothesis
