# Two commands for a fresh machine: `make run` (demo city) and `make test` (whole suite).
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: run test lint format install migrate seed messages bench worker beat

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

run: seed
	$(PY) manage.py runserver 127.0.0.1:8000

test: install
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

messages: install
	$(PY) manage.py makemessages -l fr -l en --ignore=.venv --ignore=tests
	$(PY) manage.py compilemessages --ignore=.venv

bench: install
	$(PY) bench/ledger.py

worker: install
	$(VENV)/bin/celery -A smartb worker --loglevel=INFO

beat: install
	$(VENV)/bin/celery -A smartb beat --loglevel=INFO
