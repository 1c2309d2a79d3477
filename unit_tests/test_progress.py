"""Progress lines: records done of meta.total, requests used, and time left at the current rate."""

import logging

import requests

from source_meetlog.components.signals import ProgressLog, format_duration


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def _response(body: bytes = b"{}", status: int = 200) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body
    return response


def _request(path: str) -> requests.PreparedRequest:
    return requests.Request("GET", "https://meetlog.ru" + path).prepare()


def test_given_a_listed_total_and_a_steady_rate_when_30_seconds_pass_then_one_line_says_done_total_and_time_left(caplog):
    """A detail every 0.5 s: at 30 s, 60 of 2,000 done, 61 requests in the last minute;
    1,940 left / 61 a minute = 31.8 -> "32 min"."""
    clock = FakeClock()
    progress = ProgressLog(clock=clock, interval=30)
    progress.count(_request("/api/v1/export/transcripts?page=1&page_size=100"), _response(b'{"items": [], "meta": {"total": 2000}}'))

    with caplog.at_level(logging.INFO, logger="airbyte"):
        for _ in range(60):
            clock.now += 0.5
            progress.count(_request("/api/v1/export/transcripts/t-1"), _response())

    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Progress")]
    assert lines == [
        "Progress of 'transcripts': 60 records fetched of at most 2,000 listed; 61 requests so far in this sync, "
        "61 in the last minute; at most 32 min left at this rate."
    ]


def test_given_failed_responses_when_counted_then_they_use_requests_but_finish_no_record(caplog):
    clock = FakeClock()
    progress = ProgressLog(clock=clock, interval=0)

    with caplog.at_level(logging.INFO, logger="airbyte"):
        progress.count(_request("/api/v1/export/reports/r-1"), _response(status=503))
        progress.count(_request("/api/v1/export/reports/r-1"), _response())

    assert caplog.records[-1].getMessage().startswith("Progress of 'reports': 1 records fetched; 2 requests so far")


def test_durations_read_like_a_person_would_say_them():
    assert [format_duration(s) for s in (20, 95, 3725)] == ["under a minute", "2 min", "1 h 2 min"]


def test_given_a_paced_burst_every_60_25_s_when_the_next_burst_starts_then_the_rate_still_counts_the_last_one(caplog):
    """The key pool's window: 60 requests at once, the next one 60.25 s later. The line taken then
    says 61 in the last minute and about a minute left, not 1 a minute and an hour and a half."""
    clock = FakeClock()
    progress = ProgressLog(clock=clock, interval=30)
    progress.count(_request("/api/v1/export/transcripts?page=1&page_size=100"), _response(b'{"items": [], "meta": {"total": 148}}'))
    for _ in range(59):
        progress.count(_request("/api/v1/export/transcripts/t-1"), _response())

    clock.now = 60.25
    with caplog.at_level(logging.INFO, logger="airbyte"):
        progress.count(_request("/api/v1/export/transcripts/t-1"), _response())

    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Progress")]
    assert lines == [
        "Progress of 'transcripts': 60 records fetched of at most 148 listed; 61 requests so far in this sync, "
        "61 in the last minute; at most 1 min left at this rate."
    ]
