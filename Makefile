# One command sets up and runs the tests; one runs a read against a local Meetlog API.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python

.PHONY: setup test read clean

setup: $(VENV)/.installed

$(VENV)/.installed: setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
# 0.1.0 was installed as `source-meetlog`: remove it, so that only airbyte-source-meetlog owns
# the console script and the import package (a no-op in a new .venv).
	$(PY) -m pip uninstall --quiet --yes source-meetlog
	$(PY) -m pip install --quiet -e '.[tests,pyairbyte]'
	touch $@

test: setup
	$(PY) -m pytest

# A full read of every stream from a local Meetlog API seeded with sample data.
read: setup
	$(PY) -m integration_tests.demo_read

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .cache/wheel-venv
