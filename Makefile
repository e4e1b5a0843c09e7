# make run   - set up everything on a fresh machine and serve the demo on http://127.0.0.1:5000
# make test  - install and run the whole test suite (LMS_DATABASE_URL picks the database)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLASK := $(BIN)/flask --app lms
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run serve-prod install migrate seed test e2e screenshots bench lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) seed-demo

run: seed
	@echo "Serving on http://$(HOST):$(PORT) (Ctrl-C stops)"
	$(FLASK) run --host $(HOST) --port $(PORT)

# Production-style serving: migrations on start, then gunicorn with gunicorn.conf.py.
serve-prod: migrate
	$(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

test: install
	$(BIN)/python -m pytest

e2e: install
	$(BIN)/python -m pytest tests/e2e

screenshots: install
	$(BIN)/python -m pytest tests/e2e -m screenshots -q

# Benchmarks (not tests): they print their figures. BENCH_PG must name a scratch database.
BENCH_ROWS ?= 1000000
BENCH_PG ?= postgresql+psycopg://postgres@127.0.0.1:5432/bench
bench: install
	-createdb -h 127.0.0.1 -U postgres bench 2>/dev/null
	$(BIN)/python bench/export_bench.py --rows $(BENCH_ROWS) --postgres $(BENCH_PG)

lint: install
	$(BIN)/ruff check lms tests
	$(BIN)/ruff format --check lms tests
	$(BIN)/bandit -ll -q -r lms

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
