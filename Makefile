# strikeflow: `make run` starts everything in the foreground, `make test` runs every test.
SHELL := /bin/bash
UV ?= uv
STACK := $(UV) run --frozen python -m deploy.local.stack

.PHONY: help install run up down status test test-unit test-integration test-e2e lint bench clean

help:
	@echo "make run     - install what is missing, start Kafka, PostgreSQL and the five services (foreground)"
	@echo "make up      - the same in the background; returns when healthy"
	@echo "make down    - stop everything make up/run started"
	@echo "make status  - process state and health"
	@echo "make test    - unit, integration and end-to-end tests against real Kafka and PostgreSQL"
	@echo "make lint    - ruff and mypy"
	@echo "make bench   - benchmarks, one JSON object per figure"

install:
	@command -v $(UV) >/dev/null 2>&1 || python3 -m pip install --quiet uv
	@$(UV) sync --frozen --quiet
	@$(STACK) install

run: install
	@$(STACK) run

up: install
	@$(STACK) up

down:
	@$(STACK) down

status:
	@$(STACK) status

test: install
	@bash deploy/local/run-tests.sh all

test-unit:
	@bash deploy/local/run-tests.sh unit

test-integration: install
	@bash deploy/local/run-tests.sh integration

test-e2e: install
	@bash deploy/local/run-tests.sh e2e

lint:
	@$(UV) run --frozen ruff check .
	@$(UV) run --frozen ruff format --check libs services deploy cli sim
	@$(UV) run --frozen mypy libs services deploy cli sim

bench: install
	@bash deploy/local/run-bench.sh

clean: down
	rm -rf .state
