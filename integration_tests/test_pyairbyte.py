"""examples/pyairbyte_to_duckdb.py, end to end: PyAirbyte runs the installed `source-meetlog`
against the local Meetlog API and leaves one DuckDB table per stream with the account's records.

Needs the `pyairbyte` extra (pip install -e '.[pyairbyte]'); skipped without it. The example runs
as a subprocess, as a user runs it: PyAirbyte reads its settings from the environment when it is
imported, and that import alone takes ~10-25 s, so this module does not import it (no
`pytest.importorskip`, which would pay that at collection time of every test session).
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from integration_tests.meetlog_server import MeetlogServer, build_dataset
from integration_tests.secrets_scan import assert_no_key_fragment

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("airbyte") is None or importlib.util.find_spec("duckdb") is None,
    reason="PyAirbyte is not installed: pip install -e '.[pyairbyte]'",
)

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "pyairbyte_to_duckdb.py"
STREAMS = ("transcripts", "reports", "projects")
TIMEOUT_SECONDS = 300


def test_given_the_local_api_when_the_example_runs_then_duckdb_holds_every_record_of_every_stream(tmp_path):
    # The real limit, 60 a minute: a check (3 requests) and a full read (24) fit in one window.
    with MeetlogServer(dataset=build_dataset(), requests_per_window=60) as server:
        key = server.add_key(label="pyairbyte")
        config_path = tmp_path / "config.json"
        config_path.write_text(json.dumps({"api_key": key, "base_url": server.base_url}))
        finished = subprocess.run(
            [sys.executable, str(EXAMPLE), "--config", str(config_path)],
            cwd=tmp_path,  # the default cache lives under the working directory
            env={**os.environ, "AIRBYTE_LOGGING_ROOT": str(tmp_path / "logs")},
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
        )
        expected = {stream: {record["id"] for record in server.dataset.list_items(stream)} for stream in STREAMS}

    assert_no_key_fragment(finished.stdout + finished.stderr, key)
    assert finished.returncode == 0, f"exit {finished.returncode}\n{finished.stdout}\n{finished.stderr[-3000:]}"
    for stream in STREAMS:
        assert f"main.{stream}: {len(expected[stream])} rows" in finished.stdout.splitlines(), finished.stdout

    import duckdb  # installed with PyAirbyte; cheap to import, unlike airbyte itself

    database = tmp_path / ".cache" / "default_cache" / "default_cache.duckdb"
    with duckdb.connect(str(database), read_only=True) as connection:
        tables = {row[0] for row in connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()}
        assert set(STREAMS) <= tables, tables
        for stream in STREAMS:
            ids = [row[0] for row in connection.execute(f"SELECT id FROM main.{stream}").fetchall()]
            assert sorted(ids) == sorted(expected[stream]), stream

