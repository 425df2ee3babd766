# Welfare visit map: the two commands are `make demo` and `make test` (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
VISITMAP := $(VENV)/bin/visitmap
PGPORT ?= 54329
export VISITMAP_PGPORT := $(PGPORT)

# The project cluster (scripts/pgcluster.sh) as its application role `visitmap` (not a
# superuser). Its password is in var/pgpass (mode 0600, made by pgcluster.sh), which libpq reads
# (geo.db passes it; PGPASSFILE overrides): no password in URLs or command lines. The superuser
# `postgres` is reachable only through a private unix socket, by root or the server's user.
LOCAL_URL := postgresql+psycopg://visitmap@127.0.0.1:$(PGPORT)
# A VISITMAP_DATABASE_URL from the environment points the demo at another server; then the
# project cluster is not started.
VISITMAP_DATABASE_URL ?= $(LOCAL_URL)/visitmap
VISITMAP_TEST_DATABASE_URL ?= $(LOCAL_URL)/visitmap_test
export VISITMAP_DATABASE_URL VISITMAP_TEST_DATABASE_URL

DEMO_DIR := var/demo
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: help demo test db-start db-stop db-status system-deps venv lint format bench clean

help:
	@echo "make demo      set everything up and serve the map on http://$(HOST):$(PORT)"
	@echo "make test      set up what the tests need and run the whole suite"
	@echo "make db-stop   stop the project's PostgreSQL cluster"
	@echo "make lint      ruff check + format check"

$(VENV)/.installed: setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

system-deps:
	scripts/system-deps.sh demo

db-start: system-deps
ifeq ($(findstring $(LOCAL_URL),$(VISITMAP_DATABASE_URL)),$(LOCAL_URL))
	scripts/pgcluster.sh start
	scripts/pgcluster.sh createdb visitmap
else
	@echo "VISITMAP_DATABASE_URL points at another server; not starting the project cluster"
endif

db-stop:
	scripts/pgcluster.sh stop

db-status:
	scripts/pgcluster.sh status

demo: venv db-start
	$(VISITMAP) db upgrade
	$(VISITMAP) demo load --dir $(DEMO_DIR)
	$(VISITMAP) score --unless-scored --publish
	$(VISITMAP) runs tiles
	$(VISITMAP) support warnings --refresh --format csv > var/support_warnings.csv
	$(VISITMAP) eligibility screen --refresh --summary --format csv > var/eligibility.csv
	$(VISITMAP) blindspots hotspots --refresh --format csv > var/hotspots.csv
	$(VISITMAP) blindspots refresh
	$(VISITMAP) users create-demo
	$(VISITMAP) status
	VISITMAP_DEMO=1 $(VISITMAP) serve --host $(HOST) --port $(PORT)

test: venv
	scripts/system-deps.sh test
	scripts/pgcluster.sh start
	scripts/pgcluster.sh createdb visitmap_test
	$(PY) -m pytest

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: venv db-start
	$(PY) bench/import_bench.py

clean:
	rm -rf $(VENV) *.egg-info
