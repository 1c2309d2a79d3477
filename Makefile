# One command sets up and runs the tests; one runs the fast tier of them; one lints; one runs a read
# against a local Meetlog API.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
# pytest-xdist workers: one per core. Each test goes to whichever worker is free, but the modules
# conftest.py's WHOLE_MODULES names, whose module fixtures are expensive, stay whole on one worker.
WORKERS ?= auto
# More pytest options, e.g. `make test ARGS=--durations=20`.
ARGS ?=
XDIST := -n $(WORKERS) --dist load

.PHONY: setup test test-fast lint read clean

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

# All but the slow tier (Docker, PyAirbyte, the wheel, the connector as a process, real rate-limit
# windows): the edit loop, in under a minute.
test-fast: setup
	$(PY) -m pytest $(XDIST) -m "not slow" $(ARGS)

# ruff (ruff.toml) and mypy (mypy.ini) on the connector; both run, and either failing fails the target.
lint: setup
	$(PY) -m ruff check source_meetlog; ruff=$$?; $(PY) -m mypy source_meetlog && exit $$ruff

# A full read of every stream from a local Meetlog API seeded with sample data.
read: setup
	$(PY) -m integration_tests.demo_read

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .cache/wheel-venv
