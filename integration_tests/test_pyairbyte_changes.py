"""Four incremental PyAirbyte syncs into one DuckDB cache while Meetlog's data change (issue #19).

Messy data (60 transcripts, one in seven stuck `processing`; two reports each, one in ten stuck),
reconcile_deletions on, transcripts, reports and projects selected. Between the syncs:

    sync 1   everything
    sync 2   after: an old pending transcript completes; a report is added to an old transcript
    sync 3   after: a transcript is renamed; a report of another old transcript is deleted
    sync 4   after: nothing

After each sync the cache's tables, deduplicated as Append + Deduped keeps them (PyAirbyte merges
rows by primary key; a row whose `_ab_cdc_deleted_at` is set is a deleted record), must equal
what the server serves then, field by field, null included. What 0.2.0 got wrong has a test of
its own, written as an xfail before 0.3.0: the first three, issue #19's, pass since. The last is not
issue #19's and is still a strict xfail: a project row whose nested `transcripts` goes stale when a
member transcript is renamed, a known limitation (docs/meetlog.md, project_transcripts is the workaround).

PyAirbyte runs in one subprocess for the four syncs (pyairbyte_syncs.py): its import alone takes
~10-25 s. Needs the `pyairbyte` extra; skipped without it.
"""

import importlib.util
import json
import os
import queue
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Dict, List, Tuple

import pytest

from integration_tests.killed_sync import REPO, console_script
from integration_tests.meetlog_server import MeetlogServer, build_dataset
from integration_tests.pyairbyte_syncs import SYNCED
from integration_tests.secrets_scan import assert_no_key_fragment
from integration_tests.served_records import served_records

pytestmark = [
    pytest.mark.skipif(
        importlib.util.find_spec("airbyte") is None or importlib.util.find_spec("duckdb") is None,
        reason="PyAirbyte is not installed: pip install -e '.[pyairbyte]'",
    ),
    pytest.mark.slow,
]

STREAMS = ("transcripts", "reports", "projects")
SYNC_TIMEOUT_SECONDS = 180  # the first one includes PyAirbyte's import
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
RENAMED = "Переименовано ✏️ — renamed"


@dataclass
class Changes:
    completed: str = ""  # an old transcript that was pending and completes before sync 2
    gained_report: str = ""  # an old transcript given a new report before sync 2
    added_report: str = ""
    renamed: str = ""  # a transcript renamed before sync 3
    renamed_in: Tuple[str, ...] = ()  # the projects that list it
    lost_report: str = ""  # an old transcript whose report is deleted before sync 3
    deleted_report: str = ""


@dataclass
class Snapshot:
    tables: Dict[str, Dict[str, dict]]  # stream -> id -> row, deleted rows left out
    served: Dict[str, Dict[str, dict]]  # stream -> id -> the detail the server answers then
    markers: Dict[str, List[str]] = field(default_factory=dict)  # stream -> ids of deleted rows


# ------------------------------------------------------------------------------ the four syncs


@pytest.fixture(scope="module")
def synced(tmp_path_factory) -> Tuple[List[Snapshot], Changes]:
    folder = tmp_path_factory.mktemp("pyairbyte-changes")
    dataset = build_dataset(transcripts=60, reports_per_transcript=2, projects=3, stuck_every=7, stuck_reports_every=10)
    with MeetlogServer(dataset=dataset, requests_per_window=None) as server:
        key = server.add_key(label="pyairbyte")
        config = {"api_key": key, "base_url": server.base_url, "requests_per_minute": 100_000, "reconcile_deletions": True}
        (folder / "config.json").write_text(json.dumps(config))
        driver = subprocess.Popen(
            [sys.executable, "-m", "integration_tests.pyairbyte_syncs", str(folder / "config.json"), console_script(),
             str(folder / "meetlog.duckdb"), str(folder), *STREAMS],
            cwd=folder, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "PYTHONPATH": str(REPO), "AIRBYTE_LOGGING_ROOT": str(folder / "logs"),
                 "AIRBYTE_CACHE_ROOT": str(folder / "cache")},
        )
        lines: "queue.Queue[str]" = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in driver.stdout], daemon=True).start()
        printed: List[str] = []
        try:
            def sync() -> Snapshot:
                driver.stdin.write("sync\n")
                driver.stdin.flush()
                return _snapshot(_next_tables(lines, printed, driver), served_records(server))

            snapshots, changes = [sync()], Changes()
            _before_sync_2(server, changes)
            snapshots.append(sync())
            _before_sync_3(server, changes)
            snapshots.append(sync())
            snapshots.append(sync())
        finally:
            driver.stdin.close()
            try:
                driver.wait(timeout=30)
            except subprocess.TimeoutExpired:
                driver.kill()
    logs = "".join(p.read_text(errors="replace") for p in (folder / "logs").rglob("*") if p.is_file())
    assert_no_key_fragment("".join(printed) + logs, key)
    return snapshots, changes


def _before_sync_2(server: MeetlogServer, changes: Changes) -> None:
    listed = server.dataset.list_items("transcripts")  # newest first
    changes.completed = next(t["id"] for t in reversed(listed) if t["status"] == "processing")
    server.update_transcript(changes.completed, status="completed", text="Готово ✅ at last", summary="Final summary")
    changes.gained_report = next(t["id"] for t in reversed(listed) if t["status"] == "completed")
    changes.added_report = server.add_report(changes.gained_report, template_code="action_items")["id"]


def _before_sync_3(server: MeetlogServer, changes: Changes) -> None:
    listed = server.dataset.list_items("transcripts")
    changes.renamed = listed[len(listed) // 2]["id"]
    server.rename_transcript(changes.renamed, RENAMED)
    changes.renamed_in = tuple(p["id"] for p in server.dataset.details("projects")
                               if changes.renamed in [t["id"] for t in p["transcripts"]])
    older = [t["id"] for t in reversed(listed) if server.dataset.transcript_detail(t["id"])["report_ids"]]
    changes.lost_report = next(i for i in older if i != changes.gained_report)
    changes.deleted_report = server.dataset.transcript_detail(changes.lost_report)["report_ids"][0]
    server.delete_report(changes.deleted_report)


def _next_tables(lines: "queue.Queue[str]", printed: List[str], driver: subprocess.Popen) -> Dict[str, List[dict]]:
    deadline = time.monotonic() + SYNC_TIMEOUT_SECONDS
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            driver.kill()
            pytest.fail(f"no sync within {SYNC_TIMEOUT_SECONDS} s\n{''.join(printed)[-3000:]}")
        printed.append(line)
        if SYNCED in line:
            path = line.split(SYNCED, 1)[1].split()[1]
            with open(path, encoding="utf-8") as tables:
                return json.load(tables)
        if driver.poll() is not None and lines.empty():
            pytest.fail(f"PyAirbyte stopped (exit {driver.returncode})\n{''.join(printed)[-3000:]}")


def _snapshot(tables: Dict[str, List[dict]], served) -> Snapshot:
    snapshot = Snapshot(tables={}, served={stream: served[stream] for stream in STREAMS})
    for stream, rows in tables.items():
        assert len({row["id"] for row in rows}) == len(rows), f"{stream}: a primary key in two rows"
        snapshot.markers[stream] = [row["id"] for row in rows if row.get("_ab_cdc_deleted_at") is not None]
        snapshot.tables[stream] = {row["id"]: row for row in rows if row.get("_ab_cdc_deleted_at") is None}
    return snapshot


# ------------------------------------------------------------------------------ comparing a row with its record


def _as_served(stored, served):
    """A cell as the driver wrote it, in the form the API served the value in."""
    if isinstance(stored, dict) and "$datetime" in stored:
        moment = datetime.fromisoformat(stored["$datetime"])
        return (moment.astimezone(timezone.utc) if moment.tzinfo else moment).strftime(TIME_FORMAT)
    if isinstance(stored, dict) and "$decimal" in stored:
        exact = Decimal(stored["$decimal"])
        return served if isinstance(served, (int, float)) and Decimal(str(served)) == exact else float(exact)
    return stored


def row_differences(snapshot: Snapshot, stream: str, skip=()) -> List[str]:
    """Every way the table differs from the server: rows missing or extra, and each served field
    whose cell differs (null included), but the (id, field) pairs in `skip`."""
    rows, served = snapshot.tables[stream], snapshot.served[stream]
    found = [f"{stream} {i}: served, no row" for i in served.keys() - rows.keys()]
    found += [f"{stream} {i}: a row, not served" for i in rows.keys() - served.keys()]
    for record_id in served.keys() & rows.keys():
        row, record = rows[record_id], served[record_id]
        for name, value in record.items():
            if (record_id, name) in skip:
                continue
            if name not in row:
                found.append(f"{stream} {record_id}: no column {name!r}")
            elif _differs(_as_served(row[name], value), value):
                found.append(f"{stream} {record_id} {name}: {json.dumps(row[name], ensure_ascii=False)[:70]} in DuckDB, "
                             f"served {json.dumps(value, ensure_ascii=False)[:70]}")
    return found


def _differs(cell, value) -> bool:
    """As JSON values: null is only null, True is not 1."""
    return cell != value or (cell is None) != (value is None) or (value is not None and type(cell) is not type(value))


def field_after(snapshot: Snapshot, record_id: str, name: str) -> Tuple[object, object]:
    """(the transcript row's cell, the served value) after a sync."""
    served = snapshot.served["transcripts"][record_id][name]
    return _as_served(snapshot.tables["transcripts"][record_id][name], served), served


# ------------------------------------------------------------------------------ whole tables after every sync


def test_given_four_syncs_with_changes_between_then_after_each_the_reports_table_equals_the_server_field_by_field(synced):
    """Reports are listed whole on every sync: the added report arrives in sync 2, the deleted one is a
    deleted row from sync 3 on, and the stuck reports stay `processing` with null content."""
    snapshots, changes = synced

    for number, snapshot in enumerate(snapshots, start=1):
        assert row_differences(snapshot, "reports") == [], f"after sync {number}"
    assert changes.added_report in snapshots[1].tables["reports"]
    assert [s.markers["reports"] for s in snapshots] == [[], [], [changes.deleted_report], [changes.deleted_report]]
    assert any(r["content"] is None and r["status"] == "processing" for r in snapshots[-1].tables["reports"].values())


def test_given_four_syncs_then_every_project_row_equals_the_server_but_for_the_renamed_transcripts_entry(synced):
    """Every project field after every sync, but, after syncs 3 and 4, the `transcripts` of the project
    that lists the renamed transcript (the xfail test at the end is about that cell)."""
    snapshots, changes = synced
    renamed_entry = {(project, "transcripts") for project in changes.renamed_in}

    assert changes.renamed_in, "the renamed transcript belongs to a project"
    for number, snapshot in enumerate(snapshots, start=1):
        assert row_differences(snapshot, "projects", renamed_entry if number >= 3 else ()) == [], f"after sync {number}"


def test_given_four_syncs_then_every_transcript_row_equals_the_server_field_by_field(synced):
    """Every transcript field after every sync, the cells 0.2.0 left stale for a sync included
    (report_ids of the transcript that gained a report, after sync 2; of the one that lost a report,
    after sync 3; the renamed title, after syncs 3 and 4): the tests below single each out."""
    snapshots, _ = synced

    for number, snapshot in enumerate(snapshots, start=1):
        assert row_differences(snapshot, "transcripts") == [], f"after sync {number}"


def test_given_an_old_pending_transcript_that_completes_then_the_next_sync_brings_its_final_text(synced):
    snapshots, changes = synced

    assert field_after(snapshots[0], changes.completed, "status") == ("processing", "processing")
    assert field_after(snapshots[0], changes.completed, "text") == (None, None)
    assert field_after(snapshots[1], changes.completed, "status") == ("completed", "completed")
    assert field_after(snapshots[1], changes.completed, "text") == ("Готово ✅ at last",) * 2


# ------------------------------------------------------------------------------ issue #19: what 0.2.0 missed


def test_given_a_report_added_to_an_old_transcript_when_synced_then_its_row_lists_the_report_in_that_sync(synced):
    snapshots, changes = synced

    cell, served = field_after(snapshots[1], changes.gained_report, "report_ids")
    assert changes.added_report in served
    assert cell == served, f"after sync 2, report_ids {cell} in DuckDB, served {served}"


def test_given_a_report_deleted_from_an_old_transcript_when_synced_then_its_row_drops_the_report_in_that_sync(synced):
    snapshots, changes = synced

    cell, served = field_after(snapshots[2], changes.lost_report, "report_ids")
    assert changes.deleted_report not in served
    assert cell == served, f"after sync 3, report_ids {cell} in DuckDB, served {served}"


def test_given_a_renamed_transcript_when_synced_then_its_row_has_the_new_title(synced):
    snapshots, changes = synced

    assert [field_after(s, changes.renamed, "title")[1] for s in snapshots[2:]] == [RENAMED] * 2
    assert [field_after(s, changes.renamed, "title")[0] for s in snapshots[2:]] == [RENAMED] * 2


# ------------------------------------------------------------------------------ beyond issue #19


@pytest.mark.xfail(strict=True, reason="a known limitation (docs/meetlog.md): renaming a transcript does not move its "
                                       "projects' updated_at, so incremental projects alone keeps the old title in "
                                       "`transcripts`; with project_transcripts selected too, every project's detail "
                                       "is read and a changed one is sent again (test_incremental.py)")
def test_given_a_renamed_transcript_when_synced_then_its_projects_rows_list_it_under_the_new_title(synced):
    snapshots, changes = synced

    for number, snapshot in enumerate(snapshots[2:], start=3):
        assert row_differences(snapshot, "projects") == [], f"after sync {number}"
