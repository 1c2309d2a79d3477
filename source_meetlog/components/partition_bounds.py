"""Peak memory stays flat however many records a sync reads: the CDK holds a bounded number of partitions.

Each public stream reads one detail partition per listed record (ChangedRecordsPartitionRouter), so
20,000 transcripts are 20,000 partitions. At the CDK's defaults a full refresh held them by the
thousand, and peak RSS went from 101 MB at 2,000 transcripts to 197 MB at 20,000 (BENCHMARKS.md,
"Peak RSS before and after"). Two CDK limits bound that; the manifest reaches neither, so they are set here:

- ThreadPoolManager's max_concurrent_tasks (10,000): how far partition generation runs ahead of the
  detail requests, and how many finished tasks' futures stay listed until pruned.
- ConcurrentPerPartitionCursor's DEFAULT_MAX_PARTITIONS_NUMBER (25,000): how many partitions keep the
  cursor built for them after they closed.
"""

import logging
from typing import Iterable

from airbyte_cdk.sources.concurrent_source.concurrent_source import ConcurrentSource
from airbyte_cdk.sources.concurrent_source.thread_pool_manager import ThreadPoolManager
from airbyte_cdk.sources.declarative.incremental.concurrent_partition_cursor import (
    ConcurrentPerPartitionCursor,
)
from airbyte_cdk.sources.streams.concurrent.abstract_stream import AbstractStream

# Partitions made ahead of the detail requests: at 60 a minute a key reads one a second, and even
# with no limit 200 outlast the generator's 0.1 s pause when the pool is full. Must exceed the
# partition generators' own tasks (at most 16 // 2), which count too, or they would wait for good.
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
