"""PyAirbyte into DuckDB keeps Meetlog's nulls (issue #10): what PyAirbyte receives from the
installed `source-meetlog` has every served key, null included, and the DuckDB tables have a column
for each field, NULL where the API said null.

DuckDB alone cannot tell a dropped key from a null (PyAirbyte's StreamRecord fills every key of the
stream's schema with None before it writes a row), so the executable PyAirbyte runs is a small
wrapper that keeps a copy of the connector's stdout: the bytes PyAirbyte read, compared key by key.

Needs the `pyairbyte` extra; skipped without it. PyAirbyte runs in a subprocess, as in
test_pyairbyte.py: its import alone takes ~10-25 s and reads settings from the environment.
"""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from integration_tests.meetlog_server import MeetlogServer
from integration_tests.secrets_scan import assert_no_key_fragment
from integration_tests.served_records import (
    STREAMS,
    dataset_with_every_kind_of_null,
    describe,
    differences,
    null_fields,
    record_key,
    records_by_stream,
    served_records,
)

pytestmark = [
    pytest.mark.skipif(
        importlib.util.find_spec("airbyte") is None or importlib.util.find_spec("duckdb") is None,
        reason="PyAirbyte is not installed: pip install -e '.[pyairbyte]'",
    ),
    pytest.mark.slow,
]

TIMEOUT_SECONDS = 300
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # the API's
# Every stream into one DuckDB file; prints each stream's row count.
PYAIRBYTE_READ = """
import json, os, sys
os.environ.setdefault("AIRBYTE_OFFLINE_MODE", "1")  # not in Airbyte's registry: nothing to download
import airbyte as ab
from airbyte.caches import DuckDBCache
config_path, executable, database = sys.argv[1:4]
source = ab.get_source("source-meetlog", config=json.load(open(config_path)), local_executable=executable)
source.select_all_streams()
result = source.read(cache=DuckDBCache(db_path=database, schema_name="main"))
for name in sorted(result.streams):
    print(f"{name}: {len(result[name])} rows")
"""
# Runs the real connector, and keeps a copy of what it prints for PyAirbyte.
TEE = """#!/usr/bin/env bash
set -o pipefail
"{executable}" "$@" | tee -a "{copy}"
"""


def connector_executable() -> str:
    found = shutil.which("source-meetlog", path=str(Path(sys.executable).parent))
    assert found, "the console script source-meetlog is not installed in this environment"
    return found


def as_served(stored, value):
    """A DuckDB value in the served value's JSON form: DECIMAL for numbers, TIMESTAMPTZ for date-times,
    JSON text for arrays and objects."""
    if value is None or stored is None:
        return stored
    if isinstance(stored, datetime):
        return stored.astimezone(timezone.utc).strftime(TIME_FORMAT)
    if isinstance(value, float):
        return float(stored)
    if isinstance(value, (list, dict)) and isinstance(stored, str):
        return json.loads(stored)
    return stored


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    """One PyAirbyte read of every stream: (what the server serves, the stdout copy, the DuckDB file)."""
    folder = tmp_path_factory.mktemp("pyairbyte-nulls")
    with MeetlogServer(dataset=dataset_with_every_kind_of_null(), requests_per_window=None) as server:
        key = server.add_key(label="pyairbyte")
        config = folder / "config.json"
        config.write_text(json.dumps({"api_key": key, "base_url": server.base_url, "requests_per_minute": 100_000}))
        copy, wrapper, database = folder / "stdout.jsonl", folder / "source-meetlog", folder / "meetlog.duckdb"
        wrapper.write_text(TEE.format(executable=connector_executable(), copy=copy))
        wrapper.chmod(0o755)
        finished = subprocess.run(
            [sys.executable, "-c", PYAIRBYTE_READ, str(config), str(wrapper), str(database)],
            cwd=folder,
            env={**os.environ, "AIRBYTE_LOGGING_ROOT": str(folder / "logs"), "AIRBYTE_CACHE_ROOT": str(folder / "cache")},
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
        )
        expected = served_records(server)
    assert_no_key_fragment(finished.stdout + finished.stderr + copy.read_text(), key)
    assert finished.returncode == 0, f"exit {finished.returncode}\n{finished.stdout}\n{finished.stderr[-3000:]}"
    return expected, copy, database, finished.stdout


def test_given_pyairbyte_when_it_reads_every_stream_then_each_record_it_receives_equals_its_detail_answer(synced):
    expected, copy, _, _ = synced
    messages = [json.loads(line) for line in copy.read_text().splitlines() if line.strip()]

    emitted = records_by_stream(messages)
    assert all(null_fields(expected)[stream] for stream in STREAMS), null_fields(expected)
    assert differences(emitted, expected) == [], describe(emitted, expected)
    print(f"PyAirbyte received: {describe(emitted, expected)}")  # the evidence, with -s


def test_given_pyairbyte_into_duckdb_then_every_served_field_is_a_column_and_holds_null_where_served_null(synced):
    expected, _, database, printed = synced
    import duckdb  # installed with PyAirbyte; cheap to import, unlike airbyte itself

    checked = nulls = 0
    with duckdb.connect(str(database), read_only=True) as connection:
        for stream in STREAMS:
            assert f"{stream}: {len(expected[stream])} rows" in printed.splitlines(), printed
            cursor = connection.execute(f"SELECT * FROM main.{stream}")
            columns = [column[0] for column in cursor.description]
            rows = {record_key(stream, dict(zip(columns, row))): dict(zip(columns, row)) for row in cursor.fetchall()}
            assert rows.keys() == expected[stream].keys(), stream
            for key, served in expected[stream].items():
                assert served.keys() <= set(columns), f"{stream}: no column for {sorted(served.keys() - set(columns))}"
                for field, value in served.items():
                    stored = rows[key][field]
                    assert (stored is None) == (value is None), f"{stream} {key} {field}: served {value!r}, DuckDB {stored!r}"
                    assert as_served(stored, value) == value, f"{stream} {key} {field}: served {value!r}, DuckDB {stored!r}"
                    checked += 1
                    nulls += value is None
    assert nulls == sum(null_fields(expected).values()) > 0
    print(f"DuckDB: {checked} fields of {sum(len(v) for v in expected.values())} records equal to the served values, "
          f"{nulls} of them NULL as served, 0 differences")
