# Rapport: the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# Tests never need a real secret; a deployment's own DJANGO_SECRET_KEY wins when it is set.
TEST_SECRET := test-only-secret-key-not-for-production

.PHONY: run test test-clock lint venv install messages screenshots backup restore clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Rapport needs Python 3.11 or newer."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

venv install: $(VENV)/.installed

## make run: the embedded first run (SQLite, tasks in-process), with demo data, on http://127.0.0.1:$(PORT)
run: install
	DJANGO_DEBUG=1 $(PY) manage.py migrate --no-input
	DJANGO_DEBUG=1 $(PY) manage.py seed_demo
	@echo "Rapport is starting on http://127.0.0.1:$(PORT)/  (Ctrl-C to stop)"
	DJANGO_DEBUG=1 $(PY) manage.py runserver 127.0.0.1:$(PORT)

## make test: lint, migrations check, then the whole suite (PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set)
test: install lint
	DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-$(TEST_SECRET)} $(PY) manage.py makemigrations --check --dry-run
	DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-$(TEST_SECRET)} $(PY) -m pytest -rs $(PYTEST_ARGS)

## make test-clock: the date-sensitive suites again, with the whole clock moved (tests/clock.py); CI runs it
# A year end (late in the day, as a firm west of UTC would see it) and a 29th of February: the days on
# which "today minus N days", month ends and quarter ends go wrong. The browser suite, the slowest,
# runs at the first of them only.
CLOCK_DATES ?= 2027-12-31T22:30:00+00:00 2028-02-29T09:00:00+00:00
CLOCK_SUITES ?= tests/health tests/dashboard tests/portal tests/engagements tests/feedback tests/calendars \
                --ignore=tests/health/test_evaluation.py
# (The evaluation harness replays fixed dates of its own, from 2025-03-03: the clock does not reach it.)
CLOCK_BROWSER_SUITES ?= tests/browser
test-clock: install
	@for moment in $(CLOCK_DATES); do \
	  echo "== the clock moved to $$moment: $(CLOCK_SUITES)"; \
	  RAPPORT_TEST_NOW=$$moment DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-$(TEST_SECRET)} \
	    $(PY) -m pytest -q -rs $(CLOCK_SUITES) $(PYTEST_ARGS) || exit 1; \
	done
	@echo "== the clock moved to $(firstword $(CLOCK_DATES)): $(CLOCK_BROWSER_SUITES)"
	@RAPPORT_TEST_NOW=$(firstword $(CLOCK_DATES)) DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-$(TEST_SECRET)} \
	  $(PY) -m pytest -q -rs $(CLOCK_BROWSER_SUITES) $(PYTEST_ARGS)

## make lint: ruff, and the import contract in .importlinter (which app may import which: docs/architecture.md)
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-logo --no-cache

## make screenshots: re-take docs/screenshots/*.png from the browser tests
screenshots: install
	UPDATE_SCREENSHOTS=1 DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-$(TEST_SECRET)} $(PY) -m pytest tests/browser -q

## make backup [BACKUP_FILE=…]: pg_dump -Fc of $$DATABASE_URL into backups/
backup:
	ops/backup.sh $(BACKUP_FILE)

## make restore BACKUP_FILE=…: pg_restore a dump into $$DATABASE_URL (replaces its content)
restore:
	ops/restore.sh $(BACKUP_FILE)

# Not the npm tools' folders (Lighthouse, the Nu checker): makemessages would read their JavaScript.
MESSAGES_IGNORE := --ignore=.venv --ignore=staticfiles --ignore=bench/node --ignore=.ci/node
## make messages: refresh the French catalogue after changing strings (needs GNU gettext); commit both files
messages: install
	DJANGO_DEBUG=1 $(PY) manage.py makemessages -l fr $(MESSAGES_IGNORE) --no-obsolete
	DJANGO_DEBUG=1 $(PY) manage.py makemessages -d djangojs -l fr $(MESSAGES_IGNORE) --no-obsolete
	DJANGO_DEBUG=1 $(PY) manage.py compilemessages $(MESSAGES_IGNORE)

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
