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

# The address the demo is served on: the links it prints and mails carry it (make run PORT=5101).
DEV_BASE_URL = LMS_PUBLIC_BASE_URL=$${LMS_PUBLIC_BASE_URL:-http://$(HOST):$(PORT)}

seed: migrate
	$(DEV_BASE_URL) $(FLASK) seed-demo

run: seed
	@echo "Serving on http://$(HOST):$(PORT) (Ctrl-C stops)"
	$(DEV_BASE_URL) $(FLASK) run --host $(HOST) --port $(PORT)

# Production-style serving: migrations on start, then gunicorn with gunicorn.conf.py.
# Locally, LMS_PUBLIC_BASE_URL defaults to gunicorn's address, and without LMS_REDIS_URL one
# worker counts the rate limits; in production set the real address and a shared Redis.
serve-prod: migrate
	env LMS_PUBLIC_BASE_URL=$${LMS_PUBLIC_BASE_URL:-http://$${LMS_BIND:-127.0.0.1:8000}} \
	  $$( [ -n "$${LMS_REDIS_URL:-}" ] || echo LMS_WORKERS=1 LMS_RATELIMIT_PER_PROCESS=true ) \
	  $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

# Two workers by default (the CI machine has two cores); TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2
test: install
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

e2e: install
	$(BIN)/python -m pytest tests/e2e

screenshots: install
	$(BIN)/python -m pytest tests/e2e -m screenshots -q

# Benchmarks (not tests): each prints its figures beside a baseline measured in the same run,
# writes bench/results/<name>.json, and the last step writes the table in docs/PERFORMANCE.md.
# BENCH_PG names a PostgreSQL server whose bench_* databases the benchmarks may drop and make.
BENCH_STAMP := $(VENV)/.bench-installed
export BENCH_PG ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres

$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python bench/run_all.py

lint: install
	$(BIN)/ruff check lms tests bench
	$(BIN)/ruff format --check lms tests bench
	$(BIN)/bandit -ll -q -r lms

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
