"""The synced ids kept in state for reconcile_deletions, and the markers sent for deleted ones."""

import uuid
from datetime import datetime, timezone

from source_meetlog.components.known_ids import SyncedIds, decode_ids, deletion_marker, encode_ids


def test_ids_survive_the_round_trip_through_the_state():
    ids = {str(uuid.uuid4()) for _ in range(500)}

    assert decode_ids(encode_ids(ids)) == ids
    assert decode_ids(encode_ids(set())) == set()


def test_uuids_take_about_27_bytes_each_in_the_state():
    ids = {str(uuid.uuid4()) for _ in range(20_000)}

    assert len(encode_ids(ids)) / len(ids) < 30


def test_a_value_it_did_not_write_reads_as_no_ids_known():
    for foreign in (None, 12, "", "not base64!", "aGVsbG8=", ["a"]):
        assert decode_ids(foreign) is None


def test_a_list_state_without_ids_means_nothing_to_reconcile_against():
    assert SyncedIds.from_list_state({"created_at": "2026-05-08T09:14:22Z"}) is None
    kept = SyncedIds({"a", "b"}, "2026-01-01T00:00:00Z")
    assert SyncedIds.from_list_state({"created_at": "x", **kept.as_list_state()}) == kept


def test_a_marker_carries_the_id_and_the_moment_in_the_cursor_field_and_in_ab_cdc_deleted_at():
    marker = deletion_marker("projects", "5af5", "updated_at", now=datetime(2026, 11, 29, 12, 0, 30, tzinfo=timezone.utc))

    assert marker.record.stream == "projects"
    assert marker.record.data == {"id": "5af5", "updated_at": "2026-11-29T12:00:30Z",
                                  "_ab_cdc_deleted_at": "2026-11-29T12:00:30Z"}
