# Authcore: `make run` serves the app; `make test` installs and starts everything the suite needs,
# then runs lint, types and the whole suite on PostgreSQL and Redis.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := tests/node/node_modules/.installed
SERVICES_ENV = $(shell scripts/services.sh env | tr '\n' ' ')
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help run test lint fmt types pytest services services-stop bench lock clean system node

help:
	@echo "make run    install, migrate (SQLite) and serve http://localhost:8000"
	@echo "make test   install, start PostgreSQL/Redis/peers, run lint, types and the suite"
	@echo "make bench  benchmark against a bare Django view (ratios)"
	@echo "make lint | fmt | types | lock | services | services-stop | clean"

$(STAMP): requirements/lock.txt pyproject.toml
	@echo "install: Python packages into $(VENV) (pinned, hash-checked)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) \
		|| { echo "install: '$(PYTHON) -m venv' failed; on Debian: apt-get install python3-venv"; exit 1; }
	@$(BIN)/pip install -q --require-hashes -r requirements/lock.txt > $(VENV)/install.log 2>&1 \
		|| { cat $(VENV)/install.log; exit 1; }
	@$(BIN)/pip install -q --no-deps --no-build-isolation -e . >> $(VENV)/install.log 2>&1 \
		|| { cat $(VENV)/install.log; exit 1; }
	@$(BIN)/python -c "import django, rest_framework, webauthn, jwt" || { echo "install failed"; exit 1; }
	@touch $@

venv: $(STAMP)

run: $(STAMP)
	@echo "run: migrating the SQLite database"
	@$(BIN)/python manage.py migrate --noinput -v 0
	@$(BIN)/python manage.py rotate_keys >/dev/null 2>&1 || true
	@echo "run: serving http://localhost:8000 (demo page at /, admin at /admin/)"
	@$(BIN)/python manage.py runserver 127.0.0.1:8000

system:
	@scripts/system-packages.sh

$(NODE_STAMP): tests/node/package.json tests/node/package-lock.json
	@echo "install: Node packages for the test peers (jose, oidc-provider)"
	@cd tests/node && npm ci --no-fund --no-audit --loglevel=error >/dev/null
	@touch $@

node: $(NODE_STAMP)

services: system
	@scripts/services.sh start

services-stop:
	@scripts/services.sh stop

lint: $(STAMP)
	@echo "lint: ruff"
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .

fmt: $(STAMP)
	@$(BIN)/ruff format .
	@$(BIN)/ruff check --fix .

types: $(STAMP)
	@echo "types: mypy"
	@$(BIN)/mypy .

pytest: $(STAMP) services node
	@echo "test: pytest on PostgreSQL and Redis"
	@env $(SERVICES_ENV) APP_ENVIRONMENT=test AUTHCORE_TEST_DB_SUFFIX=$$$$ \
		AUTHCORE_REDIS_PREFIX=test$$$$ $(BIN)/pytest $(PYTEST_ARGS)

test: system $(STAMP) lint types pytest

bench: $(STAMP) services
	@env $(SERVICES_ENV) $(BIN)/python -m bench $(BENCH_ARGS)

lock:
	@$(BIN)/pip-compile -q --extra dev --generate-hashes --no-emit-index-url --no-emit-find-links \
		--strip-extras --allow-unsafe -o requirements/lock.txt pyproject.toml

clean:
	rm -rf $(VENV) .services .static tests/node/node_modules db.sqlite3
