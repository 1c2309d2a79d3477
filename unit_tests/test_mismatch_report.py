"""Records that disagree with the documented schema flow as sent; each mismatch is told once a sync."""

import logging

import pytest

from airbyte_cdk.sources.types import StreamSlice

from source_meetlog.components.mismatches import ReportMismatches

FETCHED_AS = StreamSlice(partition={"id": "f3c8a47d"}, cursor_slice={})


@pytest.fixture
def report():
    return ReportMismatches(config={}, parameters={}, name="transcripts")


def warnings(caplog):
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_given_a_record_as_documented_then_it_passes_unchanged_and_nothing_is_said(report, caplog):
    record = {"id": "f3c8a47d", "title": "Standup", "duration_seconds": 1842, "created_at": "2026-05-08T09:14:22Z",
              "text": None, "report_ids": ["a"], "extra": {"kept": True}}
    before = dict(record)

    report.transform(record, stream_slice=FETCHED_AS)

    assert record == before and warnings(caplog) == []


def test_given_a_value_of_the_wrong_type_then_it_is_kept_and_the_stream_field_and_types_are_named(report, caplog):
    record = {"id": "f3c8a47d", "duration_seconds": "1842s"}

    report.transform(record, stream_slice=FETCHED_AS)

    assert record["duration_seconds"] == "1842s"
    assert warnings(caplog) == [
        "The 'transcripts' record f3c8a47d has duration_seconds as a string where Meetlog documents an integer. "
        "It is kept as sent (destinations may load the value as null); further records with this mismatch are not "
        "reported in this sync."
    ]


def test_given_a_timestamp_that_is_no_date_time_then_it_is_reported(report, caplog):
    report.transform({"id": "f3c8a47d", "created_at": "yesterday"}, stream_slice=FETCHED_AS)

    assert "created_at 'yesterday', which is not a date-time" in warnings(caplog)[0]


def test_given_a_detail_without_its_id_then_it_takes_the_id_it_was_fetched_by_and_says_so(report, caplog):
    record = {"title": "Standup"}

    report.transform(record, stream_slice=FETCHED_AS)

    assert record["id"] == "f3c8a47d"
    assert warnings(caplog) == ["The 'transcripts' record f3c8a47d came without its id; it was taken from the URL "
                                "the record was fetched from."]


def test_given_the_same_mismatch_in_many_records_then_it_is_reported_once(report, caplog):
    for n in range(5):
        report.transform({"id": f"r{n}", "duration_seconds": "long"}, stream_slice=FETCHED_AS)
    report.transform({"id": "r9", "file_size_mb": "big"}, stream_slice=FETCHED_AS)

    assert [m.split(" has ")[1].split(" as ")[0] for m in warnings(caplog)] == ["duration_seconds", "file_size_mb"]
