"""components/partition_bounds.py: the CDK holds a bounded number of detail partitions, and only where that
changes nothing a sync emits or saves (the sync itself: integration_tests/test_incremental.py)."""

import threading

from airbyte_cdk.models import SyncMode
from airbyte_cdk.sources.declarative.incremental.concurrent_partition_cursor import ConcurrentPerPartitionCursor
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.state_builder import StateBuilder

from source_meetlog import SourceMeetlog
from source_meetlog.components.partition_bounds import KEPT_PARTITION_CURSORS, PENDING_PARTITIONS

from .integration.config import ConfigBuilder

CDK_DEFAULT = ConcurrentPerPartitionCursor.DEFAULT_MAX_PARTITIONS_NUMBER  # 25,000


def build_source(state=None):
    config = ConfigBuilder().build()
    catalog = CatalogBuilder().with_stream("transcripts", SyncMode.incremental).build()
    return SourceMeetlog(catalog=catalog, config=config, state=state), config


def kept_cursors_per_stream(state=None):
    source, config = build_source(state)
    return {
        stream.name: stream.cursor.DEFAULT_MAX_PARTITIONS_NUMBER
        for stream in source.streams(config)
        if isinstance(stream.cursor, ConcurrentPerPartitionCursor)
    }


def test_given_no_state_when_streams_are_built_then_each_detail_stream_keeps_at_most_1000_partition_cursors():
    assert kept_cursors_per_stream() == {name: KEPT_PARTITION_CURSORS for name in ("transcripts", "reports", "projects")}


def test_given_a_state_saved_per_partition_when_streams_are_built_then_that_stream_keeps_the_cdk_limit():
    """A state without use_global_cursor makes the CDK keep a cursor per partition as state: none may go."""
    state = StateBuilder().with_stream_state("transcripts", {
        "state": {"created_at": "2026-05-01T00:00:00Z"},
        "states": [{"partition": {"id": "tr_1", "parent_slice": {}}, "cursor": {"created_at": "2026-05-01T00:00:00Z"}}],
    }).build()

    kept = kept_cursors_per_stream(state)

    assert kept == {"transcripts": CDK_DEFAULT, "reports": KEPT_PARTITION_CURSORS, "projects": KEPT_PARTITION_CURSORS}


def test_when_the_source_is_built_then_at_most_200_partitions_wait_for_the_workers():
    """The partition generator waits while this many tasks are not done (ThreadPoolManager.max_concurrent_tasks)."""
    source, _ = build_source()
    pool = source._concurrent_source._threadpool  # not public: the CDK offers no setting for it
    release = threading.Event()
    try:
        for _ in range(PENDING_PARTITIONS - 1):
            pool.submit(release.wait)
        assert not pool.prune_to_validate_has_reached_futures_limit()
        pool.submit(release.wait)
        assert pool.prune_to_validate_has_reached_futures_limit()
    finally:
        release.set()
