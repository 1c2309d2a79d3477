# One command sets up and runs the tests; one runs the fast tier of them; one lints; one runs a read
# against a local Meetlog API.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
# The agent connector's SDK (extra `agent`) needs cryptography>=48.0.1 and PyAirbyte (extra
# `pyairbyte`) needs <47: one environment cannot hold both, so the agent tests get their own.
AGENT_VENV ?= .cache/agent-venv
AGENT_PY := $(AGENT_VENV)/bin/python
AGENT_TESTS := integration_tests/test_agent_connector.py
# pytest-xdist workers: one per core. A worker more (cores + 1) saved 4 s of make test-fast on 2
# cores, but starved the connector processes that test_killed_sync.py kills mid-read: their answers
# outran their checkpoints, and a resume fetched 21 details again where the test allows 20. Each test
# goes to whichever worker is free, but the modules conftest.py's WHOLE_MODULES names, whose module
# fixtures are expensive, stay whole on one worker.
WORKERS ?= auto
# More pytest options, e.g. `make test ARGS=--durations=20`.
ARGS ?=
XDIST := -n $(WORKERS) --dist load

.PHONY: setup test test-fast lint read clean setup-agent test-agent agent-example

setup: $(VENV)/.installed

$(VENV)/.installed: setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
# 0.1.0 was installed as `source-meetlog`: remove it, so that only airbyte-source-meetlog owns
# the console script and the import package (a no-op in a new .venv).
	$(PY) -m pip uninstall --quiet --yes source-meetlog
	$(PY) -m pip install --quiet -e '.[tests,pyairbyte]'
	touch $@

# The whole suite, the slow tier included (what CI runs).
test: setup
	$(PY) -m pytest $(XDIST) $(ARGS)
	$(MAKE) --no-print-directory test-agent

# All but the slow tier (Docker, PyAirbyte, the wheel, the connector as a process, real rate-limit
# windows, the long model run): the edit loop, in under a minute.
test-fast: setup
	$(PY) -m pytest $(XDIST) -m "not slow" $(ARGS)

# ruff (ruff.toml) and mypy (mypy.ini) on the connector; both run, and either failing fails the target.
lint: setup
	$(PY) -m ruff check source_meetlog; ruff=$$?; $(PY) -m mypy source_meetlog && exit $$ruff

setup-agent: $(AGENT_VENV)/.installed

$(AGENT_VENV)/.installed: setup.py
	$(PYTHON) -m venv $(AGENT_VENV)
	$(AGENT_PY) -m pip install --quiet --upgrade pip
	$(AGENT_PY) -m pip install --quiet -e '.[tests,agent]'
	$(AGENT_PY) -m pip check
	touch $@

# The agent connector's tests, in the environment that has airbyte-agent-sdk (skipped in .venv).
test-agent: setup-agent
	$(AGENT_PY) -m pytest $(AGENT_TESTS)

# Lists recent transcripts and gets one through the agent connector, from a local Meetlog API.
agent-example: setup-agent
	$(AGENT_PY) examples/agent_connector.py --local

# A full read of every stream from a local Meetlog API seeded with sample data.
read: setup
	$(PY) -m integration_tests.demo_read

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .cache/wheel-venv $(AGENT_VENV)
