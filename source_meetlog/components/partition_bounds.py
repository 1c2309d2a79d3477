"""A sync's memory stays flat however many records it reads: the CDK holds a bounded number of detail partitions.

Each public stream reads one detail partition per listed record (ChangedRecordsPartitionRouter), so
20,000 transcripts are 20,000 partitions. At the CDK's defaults a full refresh held about 3.5 KB per
partition, measured with tracemalloc (BENCHMARKS.md, "Peak RSS"): peak RSS went from 92 MB at
2,000 transcripts to 188 MB at 20,000. Two CDK limits bound that, set here lower for this
connector, where the manifest cannot reach them:

- ThreadPoolManager's max_concurrent_tasks (10,000): partitions generated ahead of the workers,
  and done futures kept until 10,000 of them are listed.
- ConcurrentPerPartitionCursor's DEFAULT_MAX_PARTITIONS_NUMBER (25,000): a cursor built per partition
  and kept after the partition closed, dropped only past that number, oldest closed one first.
"""

import logging
from typing import Iterable

from airbyte_cdk.sources.concurrent_source.concurrent_source import ConcurrentSource
from airbyte_cdk.sources.concurrent_source.thread_pool_manager import ThreadPoolManager
from airbyte_cdk.sources.declarative.incremental.concurrent_partition_cursor import (
    ConcurrentPerPartitionCursor,
)
from airbyte_cdk.sources.streams.concurrent.abstract_stream import AbstractStream

# Partitions queued for the workers (at most 16) while one waits on the rate limit: a 60-a-minute
# key uses one a second. Must stay above the partition generators, whose own tasks count too
# (at most 16 // 2), or they would wait on each other for good.
PENDING_PARTITIONS = 200
# Cursors kept, oldest closed partition's dropped first: five times the pending partitions, so that
# an open partition's cursor is never dropped (harmless with a global cursor, but the CDK warns).
KEPT_PARTITION_CURSORS = 5 * PENDING_PARTITIONS


def bound_pending_partitions(source: ConcurrentSource, logger: logging.Logger) -> None:
    """ConcurrentSource.create builds its ThreadPoolManager without max_concurrent_tasks: the same
    workers, managed with it. (The sync has not started: read() makes the first task.)"""
    workers = source._threadpool._threadpool
    source._threadpool = ThreadPoolManager(workers, logger, max_concurrent_tasks=PENDING_PARTITIONS)


def bound_partition_cursors(streams: Iterable[AbstractStream]) -> None:
    """Only where the cursor is global (global_substream_cursor: true, and a state that says so):
    it never reads a partition's own cursor again once the partition's slices are made. A state
    without use_global_cursor runs per partition, and there each cursor is state: left alone."""
    for stream in streams:
        cursor = getattr(stream, "cursor", None)
        if isinstance(cursor, ConcurrentPerPartitionCursor) and cursor.state.get("use_global_cursor"):
            cursor.DEFAULT_MAX_PARTITIONS_NUMBER = KEPT_PARTITION_CURSORS
