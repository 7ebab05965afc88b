# Two commands from a fresh clone: `make dev` and `make test`. Each sets up the virtualenv by itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: dev test lint typecheck check clean build-functions deploy deploy-plan redis-server

# The shared store of rate limits and usage (Memorystore in production); installed only when missing.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
redis-server:
	@command -v redis-server >/dev/null 2>&1 || { $(SUDO) apt-get update && $(SUDO) apt-get install -y redis-server; }

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

dev: $(STAMP) redis-server
	$(BIN)/python -m localdev.dev

test: $(STAMP) redis-server
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy shared functions localdev

check: lint typecheck test

# Deployment (docs/deploy.md). `make deploy-plan PROJECT=my-project` prints every command and runs nothing.
PROJECT ?=
REGION ?= us-central1
FIRESTORE_LOCATION ?= nam5
DEPLOY_ARGS = --project '$(PROJECT)' --region '$(REGION)' --firestore-location '$(FIRESTORE_LOCATION)'

build-functions: $(STAMP)
	$(BIN)/python -m localdev.build_functions --out build/functions

deploy-plan: $(STAMP)
	@$(BIN)/python -m localdev.deploy $(DEPLOY_ARGS) --dry-run

deploy: build-functions
	$(BIN)/python -m localdev.deploy $(DEPLOY_ARGS)

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
