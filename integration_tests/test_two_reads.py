"""Two reads in one process share nothing: each builds its own ReadContext (key pool, progress, answers).

PyAirbyte in a notebook, a test run or an orchestrator that imports the source may read twice in
one process; the second read must not inherit the first one's rejected keys or progress counts.
"""

import re

import pytest

from airbyte_cdk.models import SyncMode

from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import read

from integration_tests.harness import STREAMS, config_for
from integration_tests.meetlog_server import MeetlogServer, build_dataset
from source_meetlog import SourceMeetlog
from source_meetlog.components import signals as progress  # ProgressLog lives with the signals

PROGRESS_PREFIX = "Progress of "
CONCURRENT_SLICES = 5  # the manifest's concurrency for two keys: 2 * 2 + 1 workers


def requests_so_far(progress_line: str) -> int:
    return int(re.search(r"; ([\d,]+) requests so far in this sync", progress_line).group(1).replace(",", ""))


@pytest.fixture
def progress_on_every_response(monkeypatch):
    """A progress line after every response, so each read's first line shows where its count starts."""
    monkeypatch.setattr(progress, "INTERVAL_SECONDS", 0.0)


def catalog():
    builder = CatalogBuilder()
    for stream in STREAMS:
        builder = builder.with_stream(stream, SyncMode.full_refresh)
    return builder.build()


def test_given_a_key_rejected_by_read_1_when_read_2_runs_with_the_same_config_then_it_uses_that_key_again_and_progress_starts_at_zero(
    progress_on_every_response,
):
    """Each read is a new SourceMeetlog, as with PyAirbyte or the platform: the CDK's concurrent
    source shuts its thread pool down after a read, so one instance cannot read twice anyway."""
    with MeetlogServer(dataset=build_dataset(transcripts=5, projects=2), requests_per_window=None) as server:
        flaky, steady = server.add_key(label="flaky"), server.add_key(label="steady")
        config = config_for(server, f"{flaky},{steady}")
        server.keys.set_state(flaky, "revoked")
        first = read(SourceMeetlog(catalog=catalog(), config=config), config, catalog())
        first_requests = len(server.requests)
        server.keys.set_state(flaky, "active")  # the account owner restored it between the syncs
        second = read(SourceMeetlog(catalog=catalog(), config=config), config, catalog())
        second_requests = server.requests.snapshot()[first_requests:]

    assert first.errors == [] and second.errors == []
    assert any("API key #1 of 2 was rejected" in m.log.message for m in first.logs)
    assert not any("was rejected" in m.log.message for m in second.logs)
    by_flaky = [r.status for r in second_requests if r.key == "flaky"]
    assert by_flaky and set(by_flaky) == {200}, "read 2 must sign with the key read 1 dropped"
    first_lines = [m.log.message for m in first.logs if m.log.message.startswith(PROGRESS_PREFIX)]
    second_lines = [m.log.message for m in second.logs if m.log.message.startswith(PROGRESS_PREFIX)]
    assert f"; {first_requests:,} requests so far in this sync" in first_lines[-1]
    # The streams are read side by side, so read 2's first line may count another stream's request
    # too; a count carried over from read 1 would start above all of read 1's requests.
    assert 1 <= requests_so_far(second_lines[0]) <= CONCURRENT_SLICES < first_requests, second_lines[:3]
    assert f"; {len(second_requests):,} requests so far in this sync" in second_lines[-1]
