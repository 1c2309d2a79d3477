"""Progress lines: records done of meta.total, requests used, and time left at the current rate."""

import logging

from source_meetlog.components.signals import ProgressLog, format_duration


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def progress_lines(caplog):
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("Progress")]


def test_given_a_listed_total_and_a_steady_rate_when_30_seconds_pass_then_one_line_says_done_total_and_time_left(caplog):
    """A record every 0.5 s: at 30 s, 60 of 2,000 done, as the 60th detail's record is done: 60 requests
    so far (the list page and 59 details); 1,940 left at 60 records a minute = 32.3 -> "32 min"."""
    clock = FakeClock()
    progress = ProgressLog(clock=clock, interval=30)
    progress.request_done()
    progress.listed("transcripts", 2000)

    with caplog.at_level(logging.INFO, logger="airbyte"):
        for _ in range(60):
            clock.now += 0.5
            progress.record_done("transcripts")
            progress.request_done()

    assert progress_lines(caplog) == [
        "Progress of 'transcripts': 60 records fetched of at most 2,000 listed; 60 requests so far in this sync, "
        "60 in the last minute; at most 32 min left at this rate."
    ]


def test_given_a_failed_request_then_it_uses_a_request_but_finishes_no_record(caplog):
    progress = ProgressLog(clock=FakeClock(), interval=0)

    with caplog.at_level(logging.INFO, logger="airbyte"):
        progress.request_done()  # a 503, retried
        progress.request_done()
        progress.record_done("reports")

    assert progress_lines(caplog)[-1].startswith("Progress of 'reports': 1 records fetched; 2 requests so far")


def test_given_a_stream_read_from_its_list_pages_then_its_records_count_without_a_request_each(caplog):
    """A list-only stream: one request brings 100 records, and the time left follows the records."""
    clock = FakeClock()
    progress = ProgressLog(clock=clock, interval=30)
    progress.listed("reports", 1000)
    progress.request_done()
    for _ in range(100):
        progress.record_done("reports")

    clock.now = 30
    with caplog.at_level(logging.INFO, logger="airbyte"):
        progress.request_done()

    assert progress_lines(caplog) == [
        "Progress of 'reports': 100 records fetched of at most 1,000 listed; 2 requests so far in this sync, "
        "2 in the last minute; at most 9 min left at this rate."
    ]


def test_durations_read_like_a_person_would_say_them():
    assert [format_duration(s) for s in (20, 95, 3725)] == ["under a minute", "2 min", "1 h 2 min"]


def test_given_a_paced_burst_every_60_25_s_when_the_next_burst_starts_then_the_rate_still_counts_the_last_one(caplog):
    """The key pool's window: 60 requests at once, the next one 60.25 s later. The line taken then
    says 61 in the last minute and about a minute left, not 1 a minute and an hour and a half."""
    clock = FakeClock()
    progress = ProgressLog(clock=clock, interval=30)
    progress.listed("transcripts", 148)
    progress.request_done()
    for _ in range(59):
        progress.request_done()
        progress.record_done("transcripts")

    clock.now = 60.25
    with caplog.at_level(logging.INFO, logger="airbyte"):
        progress.record_done("transcripts")
        progress.request_done()

    assert progress_lines(caplog) == [
        "Progress of 'transcripts': 60 records fetched of at most 148 listed; 60 requests so far in this sync, "
        "60 in the last minute; at most 1 min left at this rate."
    ]
