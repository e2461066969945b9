# Two commands on a fresh machine (Python 3.11+):  make run   |   make test
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_WORKSPACE := data/workspace.duckdb
WORKSPACE ?= $(or $(CURATION_WORKSPACE),$(DEMO_WORKSPACE))
PORT ?= 8501
ADDRESS ?= 127.0.0.1

.PHONY: setup demo run test test-fast lint chromium bench clean-demo

$(STAMP): requirements.txt requirements-nodeps.txt
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps -r requirements-nodeps.txt
	@touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/python -m curation --workspace $(WORKSPACE) demo

# The dashboard starts at once; on the demo workspace, the demo builds in a background process (resuming where an
# earlier start stopped; instant once built) and the pages fill in as its steps finish (progress in the sidebar).
run: setup
	@mkdir -p $(dir $(WORKSPACE))
	@if [ "$(WORKSPACE)" = "$(DEMO_WORKSPACE)" ]; then \
		echo "building the demo workspace in the background (log: data/demo_build.log)"; \
		$(BIN)/python -m curation --workspace $(WORKSPACE) demo >> data/demo_build.log 2>&1 & \
	fi
	CURATION_WORKSPACE=$(abspath $(WORKSPACE)) $(BIN)/python -m streamlit run app.py \
		--server.address $(ADDRESS) --server.port $(PORT)

# Debian's Chromium for the browser tests (Playwright drives /usr/bin/chromium; it cannot download its own).
chromium:
	@test -x /usr/bin/chromium || { \
		if [ "$$(id -u)" = 0 ]; then (apt-get update -qq && apt-get install -y -qq chromium) >/dev/null; \
		else (sudo -n apt-get update -qq && sudo -n apt-get install -y -qq chromium) >/dev/null; fi; } \
		|| echo "warning: could not install chromium (needs root or sudo); the browser tests will be skipped"

lint: setup
	$(BIN)/ruff check .

test: setup chromium lint
	$(BIN)/python -m pytest -q

# the quick loop: no test marked slow (> ~20 s), browser (Chromium) or model (loads a language model)
test-fast: setup lint
	$(BIN)/python -m pytest -q -m "not slow and not browser and not model"

bench: setup
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean-demo:
	rm -rf $(DEMO_WORKSPACE) $(DEMO_WORKSPACE).wal data/demo_source data/demo_build.log
