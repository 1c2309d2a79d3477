"""What Airbyte shows while a sync waits for Meetlog's rate limit: the console script's own stdout.

The platform shows a stream's STREAM_STATUS RUNNING with reason RATE_LIMITED as "rate limited…
resumes in …", from its quota_reset, until the next RUNNING without a reason. The server here
allows 6 requests per 6 s per key; the connector's window is set to match through
SOURCE_MEETLOG_TEST_WINDOW_SECONDS (key_pool.py: for tests only, not in the spec), its limit
through `requests_per_minute` (requests per window). Each line is loaded with the CDK's
AirbyteMessageSerializer (integration_tests/rate_limited_statuses.py), so every status is valid
protocol, and is compared with when the server saw that stream's next request.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from integration_tests.meetlog_server import MeetlogServer, build_dataset, faults
from integration_tests.rate_limited_statuses import (
    quota_reset_errors,
    rate_limited,
    stream_statuses,
    wall_offset,
)
from source_meetlog.components.key_pool import TEST_WINDOW_ENVIRONMENT_VARIABLE

pytestmark = pytest.mark.slow  # real rate-limit windows, and the connector as a process

LIMIT, WINDOW = 6, 6.0
HONEST_WITHIN_SECONDS = 2.0
COMMAND_TIMEOUT_SECONDS = 120
CATALOG_STREAMS = ("transcripts", "reports")  # projects is not read: none of its waits may be announced
SCRIPT = shutil.which("source-meetlog", path=str(Path(sys.executable).parent))


def read_with_the_console_script(server, keys, tmp_path, requests_per_window):
    config, catalog = tmp_path / "config.json", tmp_path / "catalog.json"
    config.write_text(json.dumps({"api_key": ",".join(keys), "base_url": server.base_url,
                                  "requests_per_minute": requests_per_window}))
    catalog.write_text(json.dumps({"streams": [
        {"stream": {"name": name, "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
         "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}
        for name in CATALOG_STREAMS
    ]}))
    env = {**os.environ, TEST_WINDOW_ENVIRONMENT_VARIABLE: str(WINDOW)}
    before = len(server.requests)
    result = subprocess.run([SCRIPT, "read", "--config", str(config), "--catalog", str(catalog)],
                            capture_output=True, text=True, timeout=COMMAND_TIMEOUT_SECONDS, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert '"failure_type"' not in result.stdout
    return result.stdout.splitlines(), server.requests.snapshot()[before:], wall_offset()


def records_of(lines, stream):
    return sum(1 for line in lines if line.startswith('{"type":"RECORD"') and f'"stream":"{stream}"' in line)


@pytest.mark.parametrize("key_count", [1, 2], ids=["one-key", "two-keys"])
def test_given_6_per_6_s_when_read_then_every_wait_is_announced_with_an_honest_quota_reset_and_cleared(
    tmp_path, key_count
):
    dataset = build_dataset(transcripts=10, reports_per_transcript=1, projects=2)
    with MeetlogServer(dataset=dataset, requests_per_window=LIMIT, window_seconds=WINDOW) as server:
        keys = [server.add_key() for _ in range(key_count)]
        lines, requests, offset = read_with_the_console_script(server, keys, tmp_path, LIMIT)

        assert records_of(lines, "transcripts") == len(dataset.list_items("transcripts"))
        assert server.count(status=429) == 0
    statuses = stream_statuses(lines)
    announced = rate_limited(statuses)
    # More requests than one window holds: the pool must have waited, so something is announced.
    assert len(requests) > LIMIT * key_count and announced, [s.line for s in statuses]
    assert {s.stream for s in statuses} <= set(CATALOG_STREAMS)
    errors = quota_reset_errors(statuses, requests, offset)
    assert max(errors) <= HONEST_WITHIN_SECONDS, list(zip(errors, [s.line for s in announced]))
    for stream in CATALOG_STREAMS:
        # RATE_LIMITED, cleared by a RUNNING without reason, and again: never two in a row.
        own = [s.rate_limited for s in statuses if s.stream == stream]
        first = own.index(False)  # the CDK's RUNNING when the stream's first record arrives
        after = own[first + 1 :]
        assert all(a != b for a, b in zip(after, after[1:])), own
        assert not after or after[-1] is False, "every announced wait is cleared"


def test_given_no_limit_to_hit_when_read_then_no_rate_limited_status(tmp_path):
    with MeetlogServer(dataset=build_dataset(transcripts=10), requests_per_window=None) as server:
        lines, requests, _ = read_with_the_console_script(server, [server.add_key()], tmp_path, 100_000)

    statuses = stream_statuses(lines)
    assert rate_limited(statuses) == []
    # Only the CDK's own RUNNING, once per stream.
    assert sorted(s.stream for s in statuses) == sorted(CATALOG_STREAMS)


@pytest.mark.parametrize(
    "retry_after, retry_after_format",
    [(5, "seconds"), (6, "http-date")],
    ids=["seconds", "http-date"],  # an HTTP-date has whole seconds: 6 s ahead may be as little as 5
)
def test_given_a_429_when_read_then_its_status_carries_the_retry_after_as_quota_reset(
    tmp_path, retry_after, retry_after_format
):
    with MeetlogServer(dataset=build_dataset(transcripts=3), requests_per_window=None) as server:
        server.inject(faults.rate_limited(retry_after=retry_after, retry_after_format=retry_after_format),
                      path_prefix="/api/v1/export/transcripts/", times=1)
        lines, requests, offset = read_with_the_console_script(server, [server.add_key()], tmp_path, 100_000)

    statuses = stream_statuses(lines)
    announced = rate_limited(statuses)
    # The only key rests, so every stream with a request left waits for it: one status each, the
    # connector's, with quota_reset from Retry-After. The CDK's own RATE_LIMITED (without quota_reset)
    # is not sent. The transcripts stream, whose request got the 429, always waits; whether another
    # stream still had a request to send in those seconds is up to the threads' timing.
    waited = sorted(s.stream for s in announced)
    assert "transcripts" in waited and len(waited) == len(set(waited)) and set(waited) <= set(CATALOG_STREAMS), \
        [s.line for s in statuses]
    limited = next(r for r in requests if r.status == 429)
    for status in announced:
        asked = status.quota_reset - (limited.timestamp + offset)
        assert retry_after - 1.5 <= asked <= retry_after + 0.5, (asked, status.line)
    assert max(quota_reset_errors(statuses, requests, offset)) <= HONEST_WITHIN_SECONDS
