"""ReadContext: what one read shares (config, key pool, progress log, answers, statuses), bound while its streams are built."""

import threading

import pytest

from airbyte_cdk.models import SyncMode
from airbyte_cdk.sources.message import InMemoryMessageRepository
from airbyte_cdk.test.catalog_builder import CatalogBuilder

from source_meetlog import SourceMeetlog
from source_meetlog.components.read_context import ComponentOutsideRead, ReadContext
from source_meetlog.components.signals import RateLimitStatus
from unit_tests.read_contexts import a_read

KEYS = ("tk_live_contextKeyOne1", "tk_live_contextKeyTwo2")
WAIT_SECONDS = 5
FULL, INCREMENTAL = SyncMode.full_refresh, SyncMode.incremental


def test_a_context_is_bound_only_while_streams_are_built_and_only_in_that_thread():
    read = a_read(KEYS)
    seen_in_another_thread = []

    with read.bound():
        assert ReadContext.of("a component") is read
        other = threading.Thread(target=lambda: seen_in_another_thread.append(_bound_or_none()))
        other.start()
        other.join(WAIT_SECONDS)
    assert _bound_or_none() is None
    assert seen_in_another_thread == [None]


def _bound_or_none():
    try:
        return ReadContext.of("a component")
    except ComponentOutsideRead:
        return None


def test_a_component_built_outside_a_read_is_told_what_to_do():
    with pytest.raises(ComponentOutsideRead) as refused:
        ReadContext.of(object())

    assert "object was built outside a read" in str(refused.value)
    assert "SourceMeetlog(config=...).streams(config)" in str(refused.value)


def test_each_build_of_the_streams_makes_a_read_of_its_own():
    source = SourceMeetlog(catalog=_catalog(("projects", FULL), ("project_transcripts", FULL)), config={"api_key": ",".join(KEYS)})

    source.streams({})
    first = source._read
    source.streams({})
    second = source._read

    assert first is not second
    assert first.key_pool is not second.key_pool and first.progress is not second.progress
    assert first.answers is not None and first.answers is not second.answers
    assert first.config is second.config, "the config is parsed once, when the source is made"


@pytest.mark.parametrize(
    "streams, shared",
    [
        pytest.param((("projects", FULL), ("project_transcripts", FULL)), True, id="projects and project_transcripts"),
        pytest.param((("transcripts", INCREMENTAL), ("reports", FULL)), True, id="incremental transcripts link reports"),
        pytest.param((("projects", FULL),), False, id="projects alone"),
        pytest.param((("project_transcripts", FULL),), False, id="project_transcripts alone"),
        pytest.param((("reports", INCREMENTAL),), False, id="reports alone"),
        pytest.param((("transcripts", FULL), ("reports", FULL)), False, id="full refresh transcripts fetch every detail"),
        pytest.param((), False, id="no catalog (check, discover)"),
    ],
)
def test_a_read_keeps_answers_only_where_two_of_its_streams_read_the_same_urls(streams, shared):
    """Where one stream alone reads a URL, keeping its answer would only hold memory until the sync ends."""
    source = SourceMeetlog(catalog=_catalog(*streams) if streams else None, config={"api_key": KEYS[0]})

    source.streams({})

    assert (source._read.answers is not None) == shared


def _catalog(*streams):
    builder = CatalogBuilder()
    for name, mode in streams:
        builder = builder.with_stream(name, mode)
    return builder.build()


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
    status = RateLimitStatus(InMemoryMessageRepository(), streams_read={"projects", "project_transcripts"})
    assert status.stream_of("projects") == "projects"

    status.stream_done("projects")

    assert status.stream_of("projects") is None
    assert status.stream_of("project_transcripts") == "project_transcripts"


def test_a_source_hands_its_read_queues_message_repository_to_the_context():
    """cdk_internals.read_message_repository: statuses from worker threads must go through the read's queue."""
    from airbyte_cdk.sources.message.concurrent_repository import ConcurrentMessageRepository

    from source_meetlog.cdk_internals import read_message_repository

    assert isinstance(read_message_repository(SourceMeetlog(config={"api_key": KEYS[0]})), ConcurrentMessageRepository)


def test_a_read_parses_the_config_once_and_makes_one_key_pool(monkeypatch):
    """source.py parses the config when the source is made; every component then takes it from the read."""
    from airbyte_cdk.test.entrypoint_wrapper import read
    from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse

    import source_meetlog.source as source_module
    from source_meetlog.core.config import MeetlogConfig

    parsed, pools = [], []
    real_init, real_pool = MeetlogConfig.__init__, source_module.KeyPool
    monkeypatch.setattr(MeetlogConfig, "__init__", lambda self, *a, **k: parsed.append(a or k) or real_init(self, *a, **k))
    monkeypatch.setattr(source_module, "KeyPool", lambda *args, **kwargs: pools.append(args) or real_pool(*args, **kwargs))
    config = {"api_key": ",".join(KEYS)}
    catalog = CatalogBuilder().with_stream("transcripts", SyncMode.full_refresh).with_stream("reports", SyncMode.full_refresh).build()
    empty = '{"items": [], "meta": {"page": 1, "page_size": 100, "total": 0, "total_pages": 0}}'
    with HttpMocker() as http:
        for stream in ("transcripts", "reports"):
            http.get(HttpRequest(f"https://meetlog.ru/api/v1/export/{stream}", query_params={"page_size": "100"}), HttpResponse(empty))
        output = read(SourceMeetlog(catalog=catalog, config=config), config, catalog)

    assert output.errors == []
    assert len(parsed) == 1, "one parse for the whole read: not per command, not per requester"
    assert len(pools) == 1, "one key pool for every requester of the read"
