# The two commands: `make run` and `make test`. Both set up .venv from the requirements first.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test bench lint install install-dev messages screenshots image rum clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## make messages: compile the translations (locale/*/LC_MESSAGES/*.po) with Babel
messages: $(VENV)/.installed
	$(PY) scripts/compile_messages.py

## make run: migrate and serve on http://127.0.0.1:8000 (starts an embedded Redis if none answers)
run: $(VENV)/.installed messages
	DJANGO_DEBUG=$${DJANGO_DEBUG:-true} $(PY) scripts/run_dev.py

## make test: ruff (lint and format), the layers' contracts, the migrations check and the whole pytest suite
test: $(VENV)/.installed-dev messages
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-logo
	DJANGO_SETTINGS_MODULE=jiwoo.test_settings $(PY) manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=jiwoo.test_settings $(VENV)/bin/pytest $(PYTEST_ARGS)

## make bench: observability on vs off under load (PostgreSQL, Redis, wrk); appends to docs/BENCHMARKS.md
bench: $(VENV)/.installed-dev messages
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(PY) -m bench.run $(BENCH_ARGS)

## make screenshots: run the browser journey and keep its desktop screenshots in docs/screenshots
screenshots: $(VENV)/.installed-dev messages
	rm -rf test-artifacts/screenshots
	DJANGO_SETTINGS_MODULE=jiwoo.test_settings $(VENV)/bin/pytest -q tests/e2e
	mkdir -p docs/screenshots
	for file in test-artifacts/screenshots/*/*-desktop.png; do \
	  lang=$$(basename $$(dirname $$file)); cp $$file docs/screenshots/$$lang-$$(basename $$file); \
	done

## make rum: rebuild the committed browser-telemetry bundle static/js/rum.min.js and its licences
## from frontend/ (needs Node and npm; run, test and the image use the committed file)
rum:
	cd frontend && npm ci --no-audit --no-fund && node build.mjs

## make image: build the Dockerfile with buildah (no Docker engine needed) as $(IMAGE)
IMAGE ?= localhost/jiwoo:dev
image:
	scripts/image/build.sh $(IMAGE)

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) var/staticfiles .pytest_cache .ruff_cache locale/*/LC_MESSAGES/*.mo
