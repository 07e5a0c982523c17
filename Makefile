# The two commands: `make run` and `make test`. Both set up .venv from the requirements first.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test lint install install-dev clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## make run: migrate and serve on http://127.0.0.1:8000 (starts an embedded Redis if none answers)
run: $(VENV)/.installed
	DJANGO_DEBUG=$${DJANGO_DEBUG:-true} $(PY) scripts/run_dev.py

## make test: ruff, the migrations check and the whole pytest suite
test: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	DJANGO_SETTINGS_MODULE=jiwoo.test_settings $(PY) manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=jiwoo.test_settings $(VENV)/bin/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
