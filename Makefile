# Two commands for a fresh machine: `make run` (demo city) and `make test` (whole suite).
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: run test lint format install migrate seed messages bench worker beat audit bandit pip-audit

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

# Security audit: no high-severity bandit finding in our code ([tool.bandit] in pyproject),
# no known vulnerability in the installed dependencies (pip-audit, PyPI's advisories).
audit: bandit pip-audit

bandit: install
	$(VENV)/bin/bandit -c pyproject.toml -r . -q --severity-level high

# pip-audit asks PyPI's JSON API about each installed package and version (--strict: one it
# cannot look up is a failure, not a skip). Where that API cannot be reached (probed with
# pip-audit's own release), it stops and says so, never a silent pass; AUDIT_OFFLINE=warn
# turns that stop into a warning (CI on a machine without access to PyPI).
PYPI_PROBE := import importlib.metadata as m, urllib.request as u; \
	u.urlopen("https://pypi.org/pypi/pip-audit/" + m.version("pip-audit") + "/json", timeout=15)
pip-audit: install
	@if $(PY) -c '$(PYPI_PROBE)' 2>/dev/null; then \
		$(VENV)/bin/pip-audit --strict --skip-editable --progress-spinner off; \
	else \
		echo "pip-audit: NOT AUDITED: PyPI's JSON API (https://pypi.org/pypi/<name>/<version>/json) cannot be reached from this machine." >&2; \
		test "$(AUDIT_OFFLINE)" = warn; \
	fi

messages: install
	$(PY) manage.py makemessages -l fr -l en --ignore=.venv --ignore=tests
	$(PY) manage.py compilemessages --ignore=.venv

bench: install
	$(PY) bench/ledger.py

# Mixed load on gunicorn + PostgreSQL + a Celery worker (bench/README.md): needs PostgreSQL
# and Redis (DB 12) on 127.0.0.1, creates and drops its own database smartb_load.
.PHONY: bench-load
bench-load: install
	$(PY) bench/load.py

worker: install
	$(VENV)/bin/celery -A smartb worker --loglevel=INFO

beat: install
	$(VENV)/bin/celery -A smartb beat --loglevel=INFO
