# DakGhor: `make run` serves the embedded demo, `make test` runs the suite (see README).
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
SIM_PORT ?= 5001
SMS_SIM_PORT ?= 5002
CHAT_SIM_PORT ?= 5003
WORKERS ?= 2
PYTEST_ARGS ?=
MO := logistics/translations/bn/LC_MESSAGES/messages.mo

.PHONY: run test lint translations catalogs bench bench-routing bench-search bench-dhaka bench-vanday bench-parcels bench-dispatch bench-lastmile bench-payments bench-merchants bench-api bench-tracking bench-handoff bench-scale clean install install-test areas

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed-run

# The routing search's machine code (numba's cache, routing/__pycache__), compiled ahead of the
# first solve, which would otherwise spend tens of seconds of its time limit on it; compiled
# again when the compiled modules change.
COMPILED := routing/__pycache__/.compiled
$(COMPILED): routing/kernel.py routing/sisr.py | $(VENV)/.installed-run
	$(BIN)/python -m routing compile
	touch $@

install: $(VENV)/.installed-run $(COMPILED)
install-test: $(VENV)/.installed-test $(COMPILED)

## run: install, migrate the SQLite database, seed the Dhaka network, demo logins and (into an empty
## database) a day of 600 parcels, serve on PORT
## (with the operator, SMS gateway and chat simulators and a Celery worker + beat on a folder broker:
## no server needed)
run: $(VENV)/.installed-run $(COMPILED) $(MO)
	$(BIN)/dakghor db upgrade
	$(BIN)/dakghor seed --demo --demo-day 600
	@echo "DakGhor on http://127.0.0.1:$(PORT), operator simulator on http://127.0.0.1:$(SIM_PORT), SMS gateway simulator on http://127.0.0.1:$(SMS_SIM_PORT), chat simulator on http://127.0.0.1:$(CHAT_SIM_PORT)  (demo logins: see README)"
	$(BIN)/dakghor-operator-sim --port $(SIM_PORT) --db instance/operator-sim.sqlite3 \
		--callback-base http://127.0.0.1:$(PORT)/callbacks/dcb & SIM=$$!; \
	$(BIN)/dakghor-sms-sim --port $(SMS_SIM_PORT) --db instance/sms-sim.sqlite3 \
		--callback-base http://127.0.0.1:$(PORT)/callbacks/sms/isms > instance/sms-sim.log 2>&1 & SMS=$$!; \
	$(BIN)/dakghor-chat-sim --port $(CHAT_SIM_PORT) --db instance/chat-sim.sqlite3 \
		--webhook http://127.0.0.1:$(PORT)/callbacks/chat/whatsapp > instance/chat-sim.log 2>&1 & CHAT=$$!; \
	DAKGHOR_DEMO=1 SMS_SIM_PORT=$(SMS_SIM_PORT) CHAT_SIM_PORT=$(CHAT_SIM_PORT) PORT=$(PORT) $(BIN)/celery -A app worker -B --pool solo --loglevel INFO \
		-Q celery -n quick@%h -s instance/celerybeat-schedule > instance/worker.log 2>&1 & WORKER=$$!; \
	DAKGHOR_DEMO=1 SMS_SIM_PORT=$(SMS_SIM_PORT) CHAT_SIM_PORT=$(CHAT_SIM_PORT) PORT=$(PORT) $(BIN)/celery -A app worker --pool solo --loglevel INFO \
		-Q slow -n slow@%h > instance/worker-slow.log 2>&1 & SLOW=$$!; \
	trap 'kill $$SIM $$SMS $$CHAT $$WORKER $$SLOW 2>/dev/null' EXIT INT TERM; \
	DAKGHOR_DEMO=1 SMS_SIM_PORT=$(SMS_SIM_PORT) CHAT_SIM_PORT=$(CHAT_SIM_PORT) PORT=$(PORT) WORKERS=$(WORKERS) $(BIN)/gunicorn -c gunicorn.conf.py \
		'app:create_app()'

## test: install with test extras and run the whole suite (TEST_DATABASE_URL selects PostgreSQL)
test: $(VENV)/.installed-test $(COMPILED) $(MO)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/mypy

## bench: labels against raw ReportLab, then label and intake throughput, SQLite and PostgreSQL side by side
bench: $(VENV)/.installed-test $(MO)
	$(BIN)/python bench/bench_labels.py
	$(BIN)/python bench/bench_counter.py

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed-test
	$(BIN)/pip install -q -e '.[test,bench]'
	touch $@

## bench-routing: our core vs PyVRP, VROOM and plain OR-Tools on shared/bench/vrp (SAMPLE per family)
SAMPLE ?= 4
SECONDS ?= 10
bench-routing: $(VENV)/.installed-bench $(COMPILED)
	$(BIN)/python bench/bench_routing.py --time-limits $(SECONDS) --sample $(SAMPLE)

## bench-search: which OR-Tools search wins (rr, gls, ils from two starts), one process each
bench-search: $(VENV)/.installed-bench $(COMPILED)
	$(BIN)/python bench/bench_search.py --seconds $(SECONDS) --sample 2

## bench-dhaka: the seeded Dhaka van day, hub-and-spoke and a 300-stop last-mile round, vs peers
bench-dhaka: $(VENV)/.installed-bench $(COMPILED)
	$(BIN)/python bench/bench_dhaka.py --seconds $(SECONDS)

## bench-vanday: the city van day solved once per seed by ours and PyVRP (VROOM once), medians
bench-vanday: $(VENV)/.installed-bench $(COMPILED)
	$(BIN)/python bench/bench_vanday.py --seconds $(SECONDS) --runs $(or $(RUNS),8)

## bench-parcels: the Dhaka day one job per parcel (Li & Lim, 3,000 pairs) through the CLI and by VROOM
bench-parcels: $(VENV)/.installed-bench $(COMPILED)
	$(BIN)/python bench/bench_parcels.py --seconds $(SECONDS)

## bench-dispatch: the seeded Dhaka day from the database: load, build, solve, store, publish, render, by phase
bench-dispatch: $(VENV)/.installed-test $(COMPILED) $(MO)
	$(BIN)/python bench/bench_dispatch_day.py --seconds $(SECONDS)

## bench-modes: the seeded Dhaka day planned both ways (direct van day, hub and spoke) through the product, side by side
bench-modes: $(VENV)/.installed-test $(COMPILED) $(MO)
	$(BIN)/python bench/bench_modes.py --seconds $(SECONDS)

## bench-lastmile: the busiest delivery office's rounds planned through the product, 300 and 1,000
## stops, with PyVRP and VROOM on the same problems
bench-lastmile: $(VENV)/.installed-bench $(COMPILED) $(MO)
	$(BIN)/python bench/bench_lastmile.py --seconds $(SECONDS) --peers

## bench-payments: 2,000 airtime charges through the simulator with faults, then the audit
bench-payments: $(VENV)/.installed-test
	$(BIN)/python bench/bench_payments.py

## bench-merchants: a 10,000-row bulk booking checked and booked on SQLite and PostgreSQL, the
## API's bulk call of 500 bookings, and webhook deliveries per second to a loopback receiver
bench-merchants: $(VENV)/.installed-test $(MO)
	$(BIN)/python bench/bench_merchants.py $(ARGS)

## bench-api: the API's booking and tracking against bare Flask endpoints, with wrk under
## make run's gunicorn settings, on SQLite and PostgreSQL (needs wrk: apt-get install wrk)
bench-api: $(VENV)/.installed-test $(MO)
	$(BIN)/python bench/bench_api.py $(ARGS)

## bench-tracking: public tracking's CPU per call in process, through its fast lane, through
## Flask's own handling and a bare Flask endpoint, alternated, SQLite and PostgreSQL
bench-tracking: $(VENV)/.installed-test $(MO)
	$(BIN)/python bench/bench_tracking.py $(ARGS)

## bench-handoff: a booking's CPU with its messages queued one per id in the request against
## the hand-off thread (logistics/handoff.py), alternated in one process, SQLite and PostgreSQL
bench-handoff: $(VENV)/.installed-test $(MO)
	$(BIN)/python bench/bench_handoff.py $(ARGS)

## bench-scale: every role's pages timed on PostgreSQL holding a year of parcels (303,000), slowest
## first, with their statements
bench-scale: $(VENV)/.installed-test $(MO)
	$(BIN)/python bench/bench_scale.py $(ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache

## areas: rebuild logistics/data/dhaka_areas.csv from its two public sources (a 30 MB download)
$(VENV)/.installed-gazetteer: pyproject.toml $(VENV)/.installed-run
	$(BIN)/pip install -q -e '.[gazetteer]'
	touch $@
areas: $(VENV)/.installed-gazetteer
	$(BIN)/python -m logistics.data.build_areas

## translations: after adding or changing a string: extract it, merge it into the catalogs,
## then write its Bangla in logistics/translations/bn/LC_MESSAGES/messages.po
POT := logistics/translations/messages.pot
translations: $(VENV)/.installed-run
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_ngettext:1,2 --add-location=file --width=100 \
		--sort-output --project DakGhor --copyright-holder "Bangladesh Post" -o $(POT) .
	$(BIN)/pybabel update -i $(POT) -d logistics/translations --no-fuzzy-matching --ignore-obsolete --width=100

## catalogs: compile the .po catalogs the app reads (make run and make test do it first)
catalogs: $(MO)
$(MO): logistics/translations/bn/LC_MESSAGES/messages.po | $(VENV)/.installed-run
	$(BIN)/pybabel compile -d logistics/translations --statistics
