"""Deletions reach destinations as markers, when reconcile_deletions is on.

A record the last sync had and a complete read of its list lacks was deleted: the next sync sends
its id with `_ab_cdc_deleted_at` set (and its cursor field at that moment, so that Append +
Deduped ranks the marker above the last version it holds, and deletes the row). The lists say it
for free: reports and projects are read whole anyway, and transcripts are then read whole too.
"""

import json
from typing import Dict, List, Set

import pytest

from airbyte_cdk.models import AirbyteStateMessageSerializer, SyncMode

from integration_tests.harness import STREAMS, Sync, config_for, run_sync
from integration_tests.meetlog_server import MeetlogServer, build_dataset
from source_meetlog.core.list_state import Table

INCREMENTAL = SyncMode.incremental
CURSORS = {"transcripts": "created_at", "reports": "created_at", "projects": "updated_at"}


@pytest.fixture
def config(config):
    """conftest's config, with reconcile_deletions on."""
    return {**config, "reconcile_deletions": True}


def listed(server: MeetlogServer) -> Dict[str, Set[str]]:
    return {stream: {item["id"] for item in server.dataset.list_items(stream)} for stream in CURSORS}


def saved_state(sync: Sync) -> str:
    return json.dumps([AirbyteStateMessageSerializer.dump(message) for message in sync.state])


def markers(sync: Sync, stream: str) -> List[dict]:
    return [r for r in sync.records(stream) if r.get("_ab_cdc_deleted_at")]


def remembered_by_id(sync: Sync) -> Dict[str, bool]:
    """Each stream: whether its state names the records sent by their ids (what deletion markers need),
    rather than by 4-byte hashes."""
    lists = {m.stream.stream_descriptor.name: m.stream.stream_state.parent_state for m in sync.state}
    return {stream: Table.decoded(next(iter(lists[stream].values()))["sent"]).by_id for stream in lists}


def test_given_records_deleted_between_two_syncs_then_the_second_sends_one_marker_each_and_no_detail_request(
    server, config
):
    first = run_sync(server, config, mode=INCREMENTAL)
    before = listed(server)
    server.delete_transcript(sorted(before["transcripts"])[2])  # its reports go with it
    server.delete_report(sorted(listed(server)["reports"])[0])
    server.delete_project(sorted(before["projects"])[0])
    gone = {stream: before[stream] - ids for stream, ids in listed(server).items()}

    second = run_sync(server, config, mode=INCREMENTAL, state=first.state)

    assert second.errors == []
    for stream, cursor_field in CURSORS.items():
        sent = markers(second, stream)
        assert sorted(m["id"] for m in sent) == sorted(gone[stream]), stream
        assert all(m["_ab_cdc_deleted_at"] == m[cursor_field] for m in sent)
    assert second.records("reports") == markers(second, "reports") and second.records("projects") == markers(second, "projects")
    [transcript] = [r for r in second.records("transcripts") if not r.get("_ab_cdc_deleted_at")]
    assert transcript == server.dataset.transcript_detail(transcript["id"]), "sent again with its report_ids as they are now"
    assert sorted(r.path for r in second.requests) == sorted(
        [f"/api/v1/export/{s}" for s in CURSORS] + [f"/api/v1/export/transcripts/{transcript['id']}"]
    ), "the lists, and the one transcript whose report was deleted"


def test_given_deletions_already_sent_when_synced_again_then_no_marker_is_sent_twice(server, config):
    first = run_sync(server, config, mode=INCREMENTAL)
    server.delete_project(sorted(listed(server)["projects"])[0])
    second = run_sync(server, config, mode=INCREMENTAL, state=first.state)

    third = run_sync(server, config, mode=INCREMENTAL, state=second.state)

    assert len(markers(second, "projects")) == 1 and third.output.records == []


def test_given_a_record_added_and_another_deleted_then_the_new_one_arrives_and_the_old_one_is_marked(server, config):
    first = run_sync(server, config, streams=("transcripts",), mode=INCREMENTAL)
    victim = sorted(listed(server)["transcripts"])[0]
    server.delete_transcript(victim)
    added = server.add_transcript()["id"]

    second = run_sync(server, config, streams=("transcripts",), mode=INCREMENTAL, state=first.state)

    assert [m["id"] for m in markers(second, "transcripts")] == [victim]
    assert [r["id"] for r in second.records("transcripts") if not r.get("_ab_cdc_deleted_at")] == [added]


def test_given_reconcile_deletions_off_then_no_marker_and_no_id_in_the_state(server):
    config = config_for(server, server.add_key())
    first = run_sync(server, config, mode=INCREMENTAL)
    server.delete_project(sorted(listed(server)["projects"])[0])

    second = run_sync(server, config, mode=INCREMENTAL, state=first.state)

    assert second.output.records == []
    assert not any({**remembered_by_id(first), **remembered_by_id(second)}.values()), "hashes only: no id in the state"


def test_given_reconcile_deletions_turned_off_then_the_ids_leave_the_state(server, config):
    first = run_sync(server, config, mode=INCREMENTAL)
    assert remembered_by_id(first) == {stream: True for stream in CURSORS}

    second = run_sync(server, {**config, "reconcile_deletions": False}, mode=INCREMENTAL, state=first.state)

    assert remembered_by_id(second) == {stream: False for stream in CURSORS}


def test_given_a_changed_start_date_then_records_before_it_are_not_called_deleted(server, config):
    first = run_sync(server, config, streams=("transcripts",), mode=INCREMENTAL)
    newest = server.dataset.list_items("transcripts")[0]["created_at"]

    second = run_sync(server, {**config, "start_date": newest}, streams=("transcripts",), mode=INCREMENTAL,
                      state=first.state)

    assert markers(second, "transcripts") == []


def test_given_a_full_refresh_then_no_marker_is_sent(server, config):
    first = run_sync(server, config, streams=STREAMS, mode=INCREMENTAL)
    server.delete_project(sorted(listed(server)["projects"])[0])

    refresh = run_sync(server, config, streams=STREAMS, mode=SyncMode.full_refresh, state=first.state)

    assert all(not markers(refresh, stream) for stream in CURSORS)


@pytest.mark.parametrize("reconcile, list_pages", [(False, 1), (True, 3)], ids=["off_stops_at_the_cursor", "on_reads_all"])
def test_given_250_transcripts_and_no_change_then_the_list_is_read_whole_only_to_reconcile(reconcile, list_pages):
    with MeetlogServer(dataset=build_dataset(transcripts=250), requests_per_window=None) as server:
        config = {**config_for(server, server.add_key()), "reconcile_deletions": reconcile}
        first = run_sync(server, config, streams=("transcripts",), mode=INCREMENTAL)

        second = run_sync(server, config, streams=("transcripts",), mode=INCREMENTAL, state=first.state)

    assert second.output.records == []
    assert [r.path for r in second.requests] == ["/api/v1/export/transcripts"] * list_pages
