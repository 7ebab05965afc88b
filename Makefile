# Two commands from a fresh clone: `make dev` and `make test`. Each sets up the virtualenv by itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# npm dependencies (firebase-tools for the Auth emulator), pinned by package-lock.json.
NODE_STAMP := node_modules/.installed
NPM_CI := npm ci --no-audit --no-fund --loglevel=error
# The dashboard (web/): its own npm dependencies, built into web/dist.
WEB_STAMP := web/node_modules/.installed
WEB_BUILT := web/dist/index.html
WEB_SOURCES := $(shell find web/src -type f) web/index.html web/vite.config.ts web/tsconfig.json
# The customers' TypeScript client (clients/typescript): its npm dependencies (runtime and generator), built
# into clients/typescript/dist; the dashboard is its first user.
CLIENT_TS := clients/typescript
CLIENT_TS_STAMP := $(CLIENT_TS)/node_modules/.installed
CLIENT_TS_BUILT := $(CLIENT_TS)/dist/index.js
CLIENT_TS_SOURCES := $(wildcard $(CLIENT_TS)/src/*.ts) $(CLIENT_TS)/tsconfig.json $(CLIENT_TS)/tsconfig.cjs.json $(CLIENT_TS)/package.json
CLIENTS_DIST := clients/dist
CLIENTS_DIST_STAMP := $(CLIENTS_DIST)/.built
CLIENT_PY_SOURCES := $(shell find clients/python/credits_client -name '*.py') clients/python/pyproject.toml clients/python/README.md clients/python/LICENSE
# The browser test drives Debian's chromium (never a downloaded browser).
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: dev test lint typecheck check clean build-functions deploy deploy-plan web browser demo redis-server clients clients-dist

# The shared store of rate limits and usage (Memorystore in production); installed only when missing.
redis-server:
	@command -v redis-server >/dev/null 2>&1 || { $(SUDO) apt-get update && $(SUDO) apt-get install -y redis-server; }

$(STAMP): pyproject.toml clients/python/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' -e ./clients/python
	touch $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	$(NPM_CI)
	touch $(NODE_STAMP)

$(CLIENT_TS_STAMP): $(CLIENT_TS)/package.json $(CLIENT_TS)/package-lock.json
	cd $(CLIENT_TS) && $(NPM_CI)
	touch $(CLIENT_TS_STAMP)

$(CLIENT_TS_BUILT): $(CLIENT_TS_STAMP) $(CLIENT_TS_SOURCES)
	cd $(CLIENT_TS) && npm run --silent build

$(WEB_STAMP): web/package.json web/package-lock.json $(CLIENT_TS_STAMP)
	cd web && $(NPM_CI)
	touch $(WEB_STAMP)

$(WEB_BUILT): $(WEB_STAMP) $(WEB_SOURCES) $(CLIENT_TS_BUILT)
	cd web && npm run --silent build

# The clients from the code's OpenAPI description (no server): clients/openapi.json, the Python client's
# generated package and the TypeScript client's types (clients/generate.py). `make test` fails while the
# committed ones differ from what this writes.
clients: $(STAMP) $(CLIENT_TS_STAMP)
	$(BIN)/python clients/generate.py
	cd $(CLIENT_TS) && npm run --silent build

# The clients as published: the Python wheel and sdist and the npm tarball in clients/dist, and the wheels the
# Python client depends on (clients/dist/wheelhouse), so that the tests install each artifact into a clean
# environment without reaching a registry.
$(CLIENTS_DIST_STAMP): $(STAMP) $(CLIENT_TS_BUILT) $(CLIENT_PY_SOURCES) clients/CHANGELOG.md
	rm -rf $(CLIENTS_DIST) && mkdir -p $(CLIENTS_DIST)
	$(BIN)/python -m build --quiet --outdir $(CLIENTS_DIST) clients/python >/dev/null
	cd $(CLIENT_TS) && npm pack --silent --pack-destination ../dist >/dev/null
	# npm's cache gets the tarball's dependencies, for the tests' offline installs.
	mkdir -p $(CLIENTS_DIST)/npm-warm && cd $(CLIENTS_DIST)/npm-warm && echo '{"private": true}' > package.json && \
		npm install --no-audit --no-fund --loglevel=error ../credits-client-*.tgz >/dev/null && cd .. && rm -rf npm-warm
	$(BIN)/python -m pip download --quiet --dest $(CLIENTS_DIST)/wheelhouse $(CLIENTS_DIST)/credits_client-*.whl
	$(BIN)/python -m pip download --quiet --dest $(CLIENTS_DIST)/wheelhouse "setuptools>=77"  # builds the sdist
	touch $@

clients-dist: $(CLIENTS_DIST_STAMP)

web: $(WEB_BUILT)

# Debian's chromium for the browser test, installed only when missing.
browser:
	@test -x $(CHROMIUM) || { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; }

dev: $(STAMP) $(NODE_STAMP) $(WEB_BUILT) redis-server
	$(BIN)/python -m localdev.dev

# The quickstart, against a running `make dev` (another terminal).
demo: $(STAMP)
	$(BIN)/python -m localdev.demo

test: $(STAMP) $(NODE_STAMP) $(CLIENT_TS_BUILT) $(WEB_BUILT) $(CLIENTS_DIST_STAMP) browser redis-server
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP) $(WEB_STAMP) $(CLIENT_TS_BUILT)
	$(BIN)/mypy shared functions localdev bench tests clients/generate.py clients/python/credits_client
	cd web && npm run --silent typecheck

check: lint typecheck test

# Deployment (docs/deploy.md). `make deploy-plan PROJECT=my-project` prints every command and runs nothing.
PROJECT ?=
REGION ?= us-central1
FIRESTORE_LOCATION ?= nam5
# TRUSTED_PROXY_HOPS=1: the API sits behind a load balancer of ours (docs/deploy.md); its function then
# accepts traffic only through the balancer (--ingress-settings=internal-and-gclb).
TRUSTED_PROXY_HOPS ?=
DEPLOY_ARGS = --project '$(PROJECT)' --region '$(REGION)' --firestore-location '$(FIRESTORE_LOCATION)' \
	$(if $(TRUSTED_PROXY_HOPS),--env 'TRUSTED_PROXY_HOPS=$(TRUSTED_PROXY_HOPS)')

build-functions: $(STAMP)
	$(BIN)/python -m localdev.build_functions --out build/functions

deploy-plan: $(STAMP)
	@$(BIN)/python -m localdev.deploy $(DEPLOY_ARGS) --dry-run

deploy: build-functions $(WEB_BUILT)
	$(BIN)/python -m localdev.deploy $(DEPLOY_ARGS)

clean:
	rm -rf $(VENV) build node_modules web/node_modules web/dist $(CLIENT_TS)/node_modules $(CLIENT_TS)/dist $(CLIENT_TS)/build-test $(CLIENTS_DIST) .pytest_cache .mypy_cache .ruff_cache
