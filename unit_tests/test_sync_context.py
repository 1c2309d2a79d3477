"""SyncContext: what one read shares (key pool, progress log, answers, statuses), bound while its streams are built."""

import threading

from airbyte_cdk.models import AirbyteStreamStatus, AirbyteStreamStatusTraceMessage, StreamDescriptor
from airbyte_cdk.sources.message import InMemoryMessageRepository

from source_meetlog import SourceMeetlog
from source_meetlog.components.sync_context import SyncContext

KEYS = ("tk_live_contextKeyOne1", "tk_live_contextKeyTwo2")
WAIT_SECONDS = 5


def test_a_context_is_bound_only_while_streams_are_built_and_only_in_that_thread():
    sync = SyncContext()
    seen_in_another_thread = []

    assert SyncContext.being_built() is None
    with sync.bound():
        assert SyncContext.being_built() is sync
        other = threading.Thread(target=lambda: seen_in_another_thread.append(SyncContext.being_built()))
        other.start()
        other.join(WAIT_SECONDS)
    assert SyncContext.being_built() is None
    assert seen_in_another_thread == [None]


def test_one_context_gives_one_pool_per_keys_and_limit_and_one_progress_log_per_keys():
    sync = SyncContext()

    assert sync.key_pool(KEYS, 60) is sync.key_pool(KEYS, 60)
    assert sync.key_pool(KEYS, 60) is not sync.key_pool(KEYS, 30)
    assert sync.key_pool(KEYS, 60) is not sync.key_pool(KEYS[:1], 60)
    assert sync.progress_log(KEYS) is sync.progress_log(KEYS)


def test_two_contexts_share_no_pool_no_progress_and_no_answers():
    first, second = SyncContext(), SyncContext()

    assert first.key_pool(KEYS, 60) is not second.key_pool(KEYS, 60)
    assert first.progress_log(KEYS) is not second.progress_log(KEYS)
    assert first.responses is not second.responses


def test_a_standalone_context_shares_no_answers_and_announces_nothing():
    sync = SyncContext.standalone()

    assert sync.responses is None
    assert sync.status.stream_of("transcripts") is None


def test_every_requester_of_the_manifest_is_named_for_the_stream_it_serves():
    """Statuses are announced for a requester's `$parameters.name`: each stream's requesters, its hidden
    list's included, carry that stream's name (the URL path is `parameters.path`)."""
    manifest = SourceMeetlog(config={"api_key": KEYS[0]}).resolved_manifest

    for stream in manifest["streams"]:
        names = set(_parameter_names(stream))
        assert names == {stream["name"]}, (stream["name"], names)


def _parameter_names(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("$parameters", "parameters") and isinstance(value, dict) and isinstance(value.get("name"), str):
                yield value["name"]
            yield from _parameter_names(value)
    elif isinstance(node, list):
        for item in node:
            yield from _parameter_names(item)


def test_when_the_read_reports_a_stream_complete_then_its_waits_are_no_longer_announced():
    repository = InMemoryMessageRepository()
    sync = SyncContext(repository, streams_read={"projects", "project_transcripts"})
    assert sync.status.stream_of("projects") == "projects"

    sync.observe(AirbyteStreamStatusTraceMessage(StreamDescriptor(name="projects"), AirbyteStreamStatus.COMPLETE))

    assert sync.status.stream_of("projects") is None
    assert sync.status.stream_of("project_transcripts") == "project_transcripts"


def test_a_source_hands_its_read_queues_message_repository_to_the_context():
    """cdk_internals.read_message_repository: statuses from worker threads must go through the read's queue."""
    from airbyte_cdk.sources.message.concurrent_repository import ConcurrentMessageRepository

    from source_meetlog.cdk_internals import read_message_repository

    assert isinstance(read_message_repository(SourceMeetlog(config={"api_key": KEYS[0]})), ConcurrentMessageRepository)
