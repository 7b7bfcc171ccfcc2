# guidepath — two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
PORT   ?= 8000
QUICK  ?=

.PHONY: run test install services test-python test-js bench-web bench-console bench-tenancy bench-events bench-webhooks bench-paths bench-relay bench-plugins clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e ".[test]"
	touch $@

# uPlot for the analytics dashboard: from sdk_js's devDependencies (package-lock.json),
# copied into plugins/analytics/static/vendor/ (git-ignored); redone when the lock changes.
UPLOT := plugins/analytics/static/vendor/uPlot.iife.min.js

$(UPLOT): sdk_js/package-lock.json
	cd sdk_js && npm ci --no-audit --no-fund && npm run vendor

install: $(VENV)/.installed $(UPLOT)

## Start the app in embedded mode (SQLite, in-process cache and bus) with demo data.
run: install
	$(VENV)/bin/guidepath run --demo --port $(PORT)

services:
	bash .ci/services

## Python and JS suites against real PostgreSQL, Redis and a Kafka-protocol broker.
test: install services test-python test-js

test-python:
	$(PY) -m pytest -q -p no:cacheprovider --durations=15

test-js:
	@if [ -f sdk_js/package.json ]; then cd sdk_js && npm ci --no-audit --no-fund && npm test; \
	else echo "no JS suite yet (sdk_js/package.json absent)"; fi

bench-web: install services
	QUICK=$(QUICK) $(PY) benchmarks/web/bench_web.py

## Console pages and API (server time) against a bare Flask app, and WebSocket latency across two app nodes.
bench-console: install services
	QUICK=$(QUICK) $(PY) benchmarks/console/bench_console.py

bench-tenancy: install services
	QUICK=$(QUICK) $(PY) benchmarks/tenancy/bench_tenancy.py

bench-events: install services
	QUICK=$(QUICK) $(PY) benchmarks/events/bench_outbox.py

## Webhook deliveries per worker against a bare client, latency at half that rate, a dead endpoint beside.
bench-webhooks: install services
	QUICK=$(QUICK) $(PY) benchmarks/events/bench_webhooks.py

## Hook call overhead against bare pluggy (pure Python, no services).
bench-plugins: install
	QUICK=$(QUICK) $(PY) benchmarks/plugins/bench_hooks.py

bench-paths: install
	QUICK=$(QUICK) $(PY) benchmarks/paths/bench_paths.py

## Throughput against websockify, latency at 30 fps, concurrent sessions at 5 fps (three RESULT lines).
bench-relay: install
	QUICK=$(QUICK) $(PY) benchmarks/relay/bench_relay.py
	QUICK=$(QUICK) $(PY) benchmarks/relay/bench_latency.py
	QUICK=$(QUICK) $(PY) benchmarks/relay/bench_sessions.py

## Regenerate the Hook reference of docs/plugins.md from the hook specs' docstrings
## (tests/plugins/test_hookspecs_documented.py fails while it is stale).
.PHONY: docs screenshots
docs: install
	$(PY) -m guidepath.core.plugins.reference

## Regenerate docs/screenshots/ (the README's pictures) from the browser tests.
screenshots: install services
	GUIDEPATH_SCREENSHOTS=1 $(PY) -m pytest -q -p no:cacheprovider -m browser -k embedded tests/console tests/guided_paths tests/plugins

clean:
	rm -rf $(VENV) var build *.egg-info
