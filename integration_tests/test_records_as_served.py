"""What `source-meetlog read` and `python main.py read` print is what Meetlog served: each RECORD
line, parsed, has the keys and values of the detail answer for its id, with null where the API
said null (issue #10). Every stream, in full refresh and in incremental.

Parsed with json.loads and compared with `differences` (served_records.py): a key that is absent
is a difference, never read with .get() as if it were null.
"""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from integration_tests.meetlog_server import MeetlogServer, build_dataset
from integration_tests.secrets_scan import assert_no_key_fragment
from integration_tests.served_records import (
    STREAMS,
    configured_catalog,
    dataset_with_every_kind_of_null,
    describe,
    differences,
    null_fields,
    records_by_stream,
    served_records,
)

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
COMMAND_TIMEOUT_SECONDS = 180
LAUNCHERS = {
    "console script": [shutil.which("source-meetlog", path=str(Path(sys.executable).parent)) or "source-meetlog"],
    "python main.py": [sys.executable, str(REPO / "main.py")],
}
DATA_SETS = {
    "sample data": {},  # build_dataset's defaults: what `make read` serves
    "230 transcripts": {"transcripts": 230, "reports_per_transcript": 1, "projects": 12},
}


def read(launcher: str, folder: Path, config: dict, mode: str, state=None) -> list:
    """Runs `read` and returns every stdout line parsed; fails on a non-zero exit or an error trace."""
    paths = {"config": folder / "config.json", "catalog": folder / f"catalog-{mode}.json", "state": folder / "state.json"}
    paths["config"].write_text(json.dumps(config))
    paths["catalog"].write_text(json.dumps(configured_catalog(mode)))
    command = [*LAUNCHERS[launcher], "read", "--config", str(paths["config"]), "--catalog", str(paths["catalog"])]
    if state is not None:
        paths["state"].write_text(json.dumps(state))
        command += ["--state", str(paths["state"])]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_SECONDS, cwd=REPO)
    assert_no_key_fragment(finished.stdout + finished.stderr, config["api_key"])
    messages = [json.loads(line) for line in finished.stdout.splitlines() if line.strip()]
    errors = [m["trace"]["error"]["message"] for m in messages if m["type"] == "TRACE" and "error" in m["trace"]]
    assert finished.returncode == 0 and errors == [], f"exit {finished.returncode}, {errors}\n{finished.stderr[-2000:]}"
    return messages


def last_states(messages: list) -> list:
    """The last STATE message of each stream: what the platform passes to the next sync."""
    latest = {}
    for message in messages:
        if message["type"] == "STATE":
            latest[message["state"]["stream"]["stream_descriptor"]["name"]] = message["state"]
    return list(latest.values())


@pytest.fixture(scope="module", params=list(DATA_SETS))
def server(request):
    with MeetlogServer(dataset=dataset_with_every_kind_of_null(**DATA_SETS[request.param]), requests_per_window=None) as server:
        yield server


@pytest.fixture
def config(server):
    return {"api_key": server.add_key(), "base_url": server.base_url, "requests_per_minute": 100_000}


def test_given_the_data_sets_then_every_stream_has_fields_served_as_null(server):
    """Without nulls in what is served, the comparisons below would prove nothing."""
    counts = null_fields(served_records(server))

    assert all(counts[stream] > 0 for stream in STREAMS), counts


@pytest.mark.parametrize("mode", ["full_refresh", "incremental"])
@pytest.mark.parametrize("launcher", list(LAUNCHERS))
def test_given_the_local_api_when_read_then_every_record_line_equals_its_detail_answer_key_by_key(
    launcher, mode, server, config, tmp_path
):
    messages = read(launcher, tmp_path, config, mode)

    emitted, expected = records_by_stream(messages), served_records(server)
    assert differences(emitted, expected) == [], describe(emitted, expected)
    print(f"{launcher}, {mode}: {describe(emitted, expected)}")  # the evidence, with -s


def test_given_records_deleted_between_incremental_syncs_when_read_then_markers_keep_their_own_shape(server, config, tmp_path):
    """A deletion marker carries its id, its cursor field and _ab_cdc_deleted_at, each set: no
    field it declares vanishes, and it gets none of the record's other fields."""
    config = {**config, "reconcile_deletions": True}
    first = read("console script", tmp_path, config, "incremental")
    transcript = server.add_transcript(status="processing")["id"]  # with nulls, so that a marker cannot borrow them
    second = read("console script", tmp_path, config, "incremental", state=last_states(first))
    server.delete_transcript(transcript)

    third = read("console script", tmp_path, config, "incremental", state=last_states(second))

    [added] = [r for r in records_by_stream(second)["transcripts"] if r["id"] == transcript]
    assert added["text"] is None and "summary" in added and added["summary"] is None
    markers = [r for r in records_by_stream(third).get("transcripts", []) if r["id"] == transcript]
    assert len(markers) == 1 and set(markers[0]) == {"id", "created_at", "_ab_cdc_deleted_at"}, markers
    assert all(value is not None for value in markers[0].values())


def null_when_column() -> dict:
    """docs/meetlog.md's streams table: each stream's "Null when" cell."""
    lines = [line for line in (REPO / "docs" / "meetlog.md").read_text().splitlines() if line.startswith("| ")]
    header = [cell.strip() for cell in next(line for line in lines if "Null when" in line).strip("|").split("|")]
    rows = {}
    for line in lines:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == len(header) and cells[0].strip("`") in STREAMS:
            rows[cells[0].strip("`")] = cells[header.index("Null when")]
    return rows


@pytest.mark.parametrize("sizes", list(DATA_SETS.values()), ids=list(DATA_SETS))
def test_given_the_seeded_nulls_then_the_docs_streams_table_names_each_field_that_can_be_null(sizes):
    """The seed's nulls are the API's cases (processing, failed, no source link, a report being
    generated, no description); the untitled transcript the tests above add is not one of them."""
    seeded = served_records(SimpleNamespace(dataset=build_dataset(**sizes)))
    served_null = {stream: {field for record in by_key.values() for field, value in record.items() if value is None}
                   for stream, by_key in seeded.items()}
    documented = {stream: set(re.findall(r"`([^`]+)`", cell)) for stream, cell in null_when_column().items()}

    assert documented.keys() == set(STREAMS)
    assert all(served_null[stream] <= documented[stream] for stream in STREAMS), (served_null, documented)
