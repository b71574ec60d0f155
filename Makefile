# Two commands for everyone: `make run` and `make test`. Everything else they need is here.
VENV      := .venv
PY        := $(VENV)/bin/python
FLASK     := FLASK_APP=portal $(VENV)/bin/flask
STAMP     := $(VENV)/.installed-stamp
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
HOST      ?= 127.0.0.1
PORT      ?= 5000

.PHONY: install translations messages db run test test-fast test-pg test-browser system-packages lint format screenshots clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP) translations

translations: $(STAMP)
	@if [ -d portal/translations ]; then $(VENV)/bin/pybabel -q compile -d portal/translations; fi

# After adding or changing UI text: re-extract every _()/_l()/pgettext() string (babel.cfg) and
# merge it into the English catalogue, then translate the new or fuzzy entries in
# portal/translations/en/LC_MESSAGES/messages.po (message ids are the Chinese text).
messages: $(STAMP)
	$(VENV)/bin/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext --add-comments=TRANSLATORS: \
	  --project="Ring Route Portal" -o $(VENV)/messages.pot .
	$(VENV)/bin/pybabel -q update -i $(VENV)/messages.pot -d portal/translations --ignore-obsolete
	rm -f $(VENV)/messages.pot

db: install
	$(FLASK) db upgrade
	$(FLASK) portal load-demo

run: db system-packages
	@echo ""
	@echo "  环线培训门户 Ring Route Portal: http://$(HOST):$(PORT)"
	@echo "  Demo accounts are listed above (one password for all of them)."
	@echo ""
	$(FLASK) run --host $(HOST) --port $(PORT)

lint: install
	$(VENV)/bin/ruff check portal plugins tests bench
	$(VENV)/bin/ruff format --check portal plugins tests bench

format: install
	$(VENV)/bin/ruff format portal plugins tests bench
	$(VENV)/bin/ruff check --fix portal plugins tests bench

# Debian packages the tests use: Chromium for the browser journeys, the CJK font that PDFs
# embed and the screenshots show, poppler-utils to read PDFs back. Installed when we may
# (root with apt); otherwise the tests that need them skip (and fail under CI=true).
SYSTEM_PACKAGES := chromium fonts-noto-cjk poppler-utils
system-packages:
	@{ test -x /usr/bin/chromium && command -v pdffonts >/dev/null && fc-list 2>/dev/null | grep -q 'Noto Sans CJK'; } || \
	  { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null); } || \
	  echo "Could not install $(SYSTEM_PACKAGES): the tests that need them will be skipped (CI fails instead)."

# SQLite run of everything, then the data tests again on PostgreSQL.
test: install system-packages lint test-fast test-pg

test-fast: install
	$(PY) -m pytest

test-pg: install
	PORTAL_TEST_DATABASE_URL=$(PG_TEST_URL) $(PY) -m pytest -m db

test-browser: install system-packages
	$(PY) -m pytest -m browser

screenshots: install system-packages
	PORTAL_SCREENSHOTS=docs/screenshots $(PY) -m pytest -m browser

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# ---------------------------------------------------------------- benchmarks (docs/benchmarks.md)
# `make bench`: gunicorn (2 × cores + 1 workers) driven by locust on a generated consortium
# (portal/scale.py) on SQLite and PostgreSQL, in-process service timings, a 1,000-attempt
# booking burst on PostgreSQL; writes bench/results/ and the results in docs/benchmarks.md.
BENCH_SCALE    ?= 20
BENCH_DURATION ?= 20
BENCH_USERS    ?= 50

.PHONY: bench bench-deps bench-quick test-perf

bench-deps: install
	$(PY) -m pip install -q 'gunicorn>=23' 'locust>=2.30'

bench: bench-deps translations
	$(PY) bench/run.py --scale $(BENCH_SCALE) --duration $(BENCH_DURATION) --users $(BENCH_USERS) \
	  --pg-url $(PG_TEST_URL) --write-docs
	$(MAKE) bench-trainees

# The trainee side (issue 20, docs/benchmarks.md): on PostgreSQL, 1,000 trainees rushing 200
# seats of an open run, 10 classes × 46 trainees signing in within 60 s, and the morning
# rush (/me, the organizer's class pages, the member's inbox), beside the hello ceiling.
# bench-cluster: the rush and the sign-in burst through nginx in front of two gunicorn
# servers sharing PostgreSQL and Redis, the timers running on both (needs nginx and
# redis-server: `apt-get install -y nginx redis-server`).
BENCH_TRAINEES ?= 1000
BENCH_SEATS    ?= 200
.PHONY: bench-trainees bench-cluster
bench-trainees: bench-deps translations
	$(PY) bench/trainees.py --scale $(BENCH_SCALE) --duration $(BENCH_DURATION) --users $(BENCH_USERS) \
	  --trainees $(BENCH_TRAINEES) --seats $(BENCH_SEATS) --pg-url $(PG_TEST_URL) --write-docs

bench-cluster: bench-deps translations
	$(PY) bench/trainees.py --cluster --scale $(BENCH_SCALE) --trainees $(BENCH_TRAINEES) \
	  --seats $(BENCH_SEATS) --pg-url $(PG_TEST_URL) --write-docs

# The season planner: planner vs first come, first served vs the proven bound at 20, 60 and
# 150 generated requests (bench/planner.py, docs/planner.md).
.PHONY: bench-planner
bench-planner: install translations
	$(PY) bench/planner.py --sizes 20 60 150 --time-limit 30 --workers 2

# A one-minute run to try the harness (results are not written into the docs).
bench-quick: bench-deps
	$(PY) bench/run.py --scale 2 --duration 5 --burst 100 --pg-url $(PG_TEST_URL)

# Query budgets and the deployment guide's commands (also part of `make test`).
test-perf: install
	$(PY) -m pytest tests/perf
