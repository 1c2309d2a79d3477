"""A state message after every list page, not only every ten minutes.

The CDK's ConcurrentPerPartitionCursor, which keeps the state of our detail streams, emits it
at most once every 600 s. At 60 requests a minute that is up to 600 details an interrupted sync
would fetch again. The state it holds changes once per list page (ChangedRecordsPartitionRouter's
progress, see sync_progress.py) and only after every detail before it was emitted, so each
change is worth a checkpoint: about one state message per 100 records.
"""

import time
from typing import Any, Iterable, Optional

from airbyte_cdk.sources.declarative.incremental.concurrent_partition_cursor import ConcurrentPerPartitionCursor


def checkpoint_every_page(streams: Iterable[Any]) -> None:
    for stream in streams:
        cursor = getattr(stream, "cursor", None)
        if isinstance(cursor, ConcurrentPerPartitionCursor):
            _emit_when_the_parent_state_moves(cursor)


def _emit_when_the_parent_state_moves(cursor: ConcurrentPerPartitionCursor) -> None:
    # The cursor asks _throttle_state_message whether to emit (a time) or not (None); it replaces
    # _parent_state with a new object each time its committed parent state moves.
    ten_minute_throttle = cursor._throttle_state_message
    last_sent: list = [None]

    def emit_on_each_new_parent_state() -> Optional[float]:
        parent_state = cursor._parent_state
        if parent_state is not None and parent_state is not last_sent[0]:
            last_sent[0] = parent_state
            return time.time()
        return ten_minute_throttle()

    cursor._throttle_state_message = emit_on_each_new_parent_state  # type: ignore[method-assign]
