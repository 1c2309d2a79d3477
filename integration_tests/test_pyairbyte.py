"""examples/pyairbyte_to_duckdb.py, end to end, both ways it shows: PyAirbyte runs the installed
`source-meetlog`, or PyAirbyte installs the connector itself from the wheel built from this
repository (into its own virtual environment, as its users get it). Either way it reads the local
Meetlog API into DuckDB, and each table must hold exactly the server's records, value by value.

Needs the `pyairbyte` extra (pip install -e '.[pyairbyte]'); skipped without it. The example runs
as a subprocess, as a user runs it: PyAirbyte reads its settings from the environment when it is
imported, and that import alone takes ~10-25 s, so this module does not import it (no
`pytest.importorskip`, which would pay that at collection time of every test session).
With the wheel, PyAirbyte installs the CDK with uv, from the package index or uv's cache.
"""

import importlib.util
import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Dict, Tuple

import pytest

from integration_tests.harness import expected_project_transcripts
from integration_tests.meetlog_server import MeetlogServer, build_dataset
from integration_tests.secrets_scan import assert_no_key_fragment
from integration_tests.wheel_build import DISTRIBUTION

pytestmark = [
    pytest.mark.skipif(
        importlib.util.find_spec("airbyte") is None or importlib.util.find_spec("duckdb") is None,
        reason="PyAirbyte is not installed: pip install -e '.[pyairbyte]'",
    ),
    pytest.mark.slow,
]

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "pyairbyte_to_duckdb.py"
STREAMS = ("transcripts", "reports", "projects")
TIMEOUT_SECONDS = 600  # with the wheel, a cold uv cache downloads the CDK and its dependencies
INSTALLED, WHEEL = "installed executable", "wheel"


@pytest.fixture(scope="module")
def wheel(connector_wheel: Path) -> Path:
    return connector_wheel  # conftest: built once per run, shared with test_wheel.py


def _expected_cell(value, duckdb_type: str):
    """A served JSON value as DuckDB gives it back for the column's type."""
    if value is None:
        return None
    if duckdb_type == "TIMESTAMP":  # UTC, without a zone
        return datetime.fromisoformat(value).astimezone(timezone.utc).replace(tzinfo=None)
    if duckdb_type.startswith("DECIMAL"):
        return Decimal(str(value))
    return value


def _cell(value, duckdb_type: str):
    return json.loads(value) if duckdb_type == "JSON" and value is not None else value


def _rows(connection, stream: str) -> Tuple[Dict[str, str], dict]:
    """The column types, and each row as {column: value} by its primary key, without PyAirbyte's
    own _airbyte_* columns."""
    columns = connection.execute(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position", [stream],
    ).fetchall()
    kept = [(name, kind) for name, kind in columns if not name.startswith("_airbyte_")]
    rows = connection.execute(f"SELECT {', '.join(name for name, _ in kept)} FROM main.{stream}").fetchall()
    types = dict(kept)
    keyed = {}
    for row in rows:
        cells = {name: _cell(value, types[name]) for (name, _), value in zip(kept, row)}
        keyed[(cells["project_id"], cells["transcript_id"]) if stream == "project_transcripts" else cells["id"]] = cells
    assert len(keyed) == len(rows), f"{stream}: {len(rows)} rows, {len(keyed)} keys"
    return types, keyed


def _differences(row: dict, served: dict, types: dict) -> list:
    """Column by column; a served field without a column is lost data. bool is not int, Decimal not float."""
    found = [f"{field}: no column" for field in served if field not in types]
    for column, kind in types.items():
        expected = _expected_cell(served.get(column), kind)
        actual = row[column]
        if actual != expected or (expected is not None and type(actual) is not type(expected)):
            found.append(f"{column}: {actual!r:.80} in DuckDB, served {served.get(column)!r:.80}")
    return found


@pytest.mark.parametrize("way", [INSTALLED, WHEEL])
def test_given_the_local_api_when_the_example_runs_then_duckdb_holds_exactly_the_servers_records(way, tmp_path, request):
    command = [sys.executable, str(EXAMPLE), "--config", str(tmp_path / "config.json")]
    install_root = tmp_path / "pyairbyte-venvs"
    if way == WHEEL:
        wheel = request.getfixturevalue("wheel")
        command += ["--pip-url", str(wheel), "--install-root", str(install_root)]
    # The real limit, 60 a minute: a check (3 requests) and a full read (24) fit in one window.
    with MeetlogServer(dataset=build_dataset(), requests_per_window=60) as server:
        key = server.add_key(label="pyairbyte")
        (tmp_path / "config.json").write_text(json.dumps({"api_key": key, "base_url": server.base_url}))
        finished = subprocess.run(
            command,
            cwd=tmp_path,  # the default cache lives under the working directory
            env={**os.environ, "AIRBYTE_LOGGING_ROOT": str(tmp_path / "logs")},
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
        )
        details = {stream: {d["id"]: d for d in server.dataset.details(stream)} for stream in STREAMS}
        links = {pair: {"project_id": pair[0], "transcript_id": pair[1], **fields}
                 for pair, fields in expected_project_transcripts(server).items()}

    logs = "\n".join(p.read_text(errors="replace") for p in (tmp_path / "logs").rglob("*") if p.is_file())
    assert_no_key_fragment(finished.stdout + finished.stderr + logs, key)
    assert finished.returncode == 0, f"exit {finished.returncode}\n{finished.stdout}\n{finished.stderr[-3000:]}"
    printed = finished.stdout.splitlines()
    for stream in STREAMS:
        assert f"main.{stream}: {len(details[stream])} rows" in printed, finished.stdout
    assert f"main.project_transcripts: {len(links)} rows" in printed, finished.stdout
    if way == WHEEL:
        # PyAirbyte's own environment, holding this build's wheel (pip's record of where it came from).
        [record] = (install_root / ".venv-source-meetlog").glob(f"lib/python*/site-packages/{DISTRIBUTION.replace('-', '_')}-*.dist-info")
        assert json.loads((record / "direct_url.json").read_text())["url"].endswith("/" + wheel.name)

    import duckdb  # installed with PyAirbyte; cheap to import, unlike airbyte itself

    database = tmp_path / ".cache" / "default_cache" / "default_cache.duckdb"
    expected = {**details, "project_transcripts": links}
    differing = []
    with duckdb.connect(str(database), read_only=True) as connection:
        for stream, served in expected.items():
            types, rows = _rows(connection, stream)
            assert sorted(rows) == sorted(served), stream
            for row_key, row in rows.items():
                differing += [f"{stream} {row_key}: {found}" for found in _differences(row, served[row_key], types)]
    assert not differing, "rows that differ from the server's records:\n" + "\n".join(differing)
