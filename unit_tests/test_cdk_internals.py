"""The CDK internals source_meetlog/cdk_internals.py relies on are still there, named as it expects.

setup.py pins airbyte-cdk to the minor version these were read from. To move to a newer CDK: bump
the pin, run this module, then the whole suite (README.md, "Moving to a newer CDK").
"""

from importlib.metadata import version

import pytest

from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.sources.concurrent_source.concurrent_source import ConcurrentSource
from airbyte_cdk.sources.concurrent_source.thread_pool_manager import ThreadPoolManager
from airbyte_cdk.sources.declarative.incremental.concurrent_partition_cursor import ConcurrentPerPartitionCursor
from airbyte_cdk.sources.streams.concurrent.cursor import ConcurrentCursor

from source_meetlog import SourceMeetlog

CDK_VERSION = version("airbyte-cdk")
CONFIG = {"api_key": "tk_live_guardtestkey", "base_url": "http://127.0.0.1:9"}


def require(owner: object, attribute: str, expected_type: type = object) -> object:
    """owner.attribute, or a failure that names it, the CDK version and the module that needs it."""
    name = owner.__name__ if isinstance(owner, type) else type(owner).__name__
    if not hasattr(owner, attribute):
        pytest.fail(
            f"airbyte-cdk {CDK_VERSION} has no {name}.{attribute}, which source_meetlog/cdk_internals.py relies on: "
            "read the new CDK's code for what replaced it, adapt cdk_internals.py, or keep the pin.",
            pytrace=False,
        )
    value = getattr(owner, attribute)
    if not isinstance(value, expected_type):
        pytest.fail(f"airbyte-cdk {CDK_VERSION}: {name}.{attribute} is a {type(value).__name__}, not the "
                    f"{expected_type.__name__} cdk_internals.py expects.", pytrace=False)
    return value


@pytest.fixture(scope="module")
def source():
    built = SourceMeetlog(config=CONFIG)
    built.streams(CONFIG)  # what a read does first: cdk_internals.adapt_read installs its adaptations then
    return built


@pytest.fixture(scope="module")
def detail_cursor(source):
    streams = {stream.name: stream for stream in source.streams(CONFIG)}
    cursor = streams["transcripts"].cursor
    assert isinstance(cursor, ConcurrentPerPartitionCursor), f"airbyte-cdk {CDK_VERSION}: {type(cursor).__name__}"
    return cursor


def test_the_declarative_source_keeps_its_concurrent_source_config_and_message_repository(source):
    concurrent_source = require(source, "_concurrent_source", ConcurrentSource)
    require(source, "_message_repository")
    require(concurrent_source, "_threadpool", ThreadPoolManager)


def test_the_thread_pool_manager_keeps_its_workers_and_takes_a_task_bound(source):
    manager = require(source._concurrent_source, "_threadpool", ThreadPoolManager)
    require(manager, "_threadpool")
    assert manager._max_concurrent_tasks == 200, "bound_pending_partitions took effect"


def test_the_partition_cursor_keeps_its_throttle_parent_state_router_and_partition_bound(detail_cursor):
    require(ConcurrentPerPartitionCursor, "DEFAULT_MAX_PARTITIONS_NUMBER", int)
    require(detail_cursor, "_throttle_state_message")
    require(detail_cursor, "_parent_state")
    router = require(detail_cursor, "_partition_router")
    assert hasattr(router, "checkpoint_is_due"), "the router ConcurrentPerPartitionCursor holds is ours"
    assert detail_cursor._throttle_state_message.__name__ == "emit_on_each_new_parent_state", "checkpoint_as_records_are_sent took effect"


def test_the_list_cursor_keeps_its_message_repository(detail_cursor):
    parent_config, *_ = detail_cursor._partition_router.parent_stream_configs  # the stream's own list first
    list_cursor = parent_config.stream.cursor
    assert isinstance(list_cursor, ConcurrentCursor), f"airbyte-cdk {CDK_VERSION}: {type(list_cursor).__name__}"
    require(list_cursor, "_message_repository")


def test_the_entrypoint_still_serialises_through_airbyte_message_to_string(source):
    writer = require(AirbyteEntrypoint, "airbyte_message_to_string")
    assert writer.__name__ == "message_to_string", "keep_null_fields_in_records took effect"


def test_the_http_requester_keeps_the_helpers_send_request_builds_its_url_with():
    from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester

    require(HttpRequester, "_get_url")
    require(HttpRequester, "_request_params")
