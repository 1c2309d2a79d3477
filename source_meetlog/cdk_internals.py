"""Every place where the connector leans on a private attribute or behaviour of airbyte-cdk.

Each use below names the CDK file it depends on and says why no public setting does the job.
setup.py pins the CDK to the minor version these were read from, and
unit_tests/test_cdk_internals.py checks every attribute named here, failing with its name and the
CDK version when a release removes or renames one.
"""

import json
import logging
import time
from importlib.metadata import version
from typing import Any, Callable, Iterable, List, Optional

import orjson
import requests

from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.models import AirbyteMessage, AirbyteMessageSerializer, Type
from airbyte_cdk.sources.concurrent_source.concurrent_source import ConcurrentSource
from airbyte_cdk.sources.concurrent_source.thread_pool_manager import ThreadPoolManager
from airbyte_cdk.sources.declarative.incremental.concurrent_partition_cursor import ConcurrentPerPartitionCursor
from airbyte_cdk.sources.message import MessageRepository


class CdkInternalMissing(AttributeError):
    """A CDK release removed or renamed something this module relies on: say which, and where."""

    def __init__(self, owner: Any, attribute: str) -> None:
        name = owner.__name__ if isinstance(owner, type) else type(owner).__name__
        super().__init__(
            f"airbyte-cdk {version('airbyte-cdk')} has no {name}.{attribute}, which source_meetlog/cdk_internals.py "
            "relies on: keep the CDK at the version setup.py pins, or adapt cdk_internals.py to the new release."
        )


def _private(owner: Any, attribute: str) -> Any:
    try:
        return getattr(owner, attribute)
    except AttributeError:
        raise CdkInternalMissing(owner, attribute) from None


def adapt_read(source: Any, streams: Iterable[Any]) -> None:
    """Everything a read needs of the CDK that no setting gives, installed at once, once its streams are
    built and before the first task runs (ConcurrentDeclarativeSource.read calls streams() first). Each
    adaptation below says why, and which CDK file it depends on. The record writer is the one exception:
    the entrypoint takes it before the read starts, so SourceMeetlog installs it when it is constructed
    (keep_null_fields_in_records)."""
    streams = list(streams)
    bound_pending_partitions(source, source.logger)  # one detail partition per record: the CDK must not hold them all
    checkpoint_as_records_are_sent(streams)
    bound_partition_cursors(streams)  # memory stays flat with the records


# ------------------------------------------------------------------ the incremental streams' checkpoints, partitions and messages

# Detail partitions made ahead of the detail requests: at 60 a minute a key reads one a second, and
# even with no limit 200 outlast the generator's 0.1 s pause when the pool is full. Must exceed the
# partition generators' own tasks (at most 16 // 2), which count too, or they would wait for good.
PENDING_PARTITIONS = 200
# Partition cursors kept, oldest closed partition's dropped first: five times the pending
# partitions, so that an open partition's cursor is never dropped (harmless with a global cursor,
# but the CDK warns).
KEPT_PARTITION_CURSORS = 5 * PENDING_PARTITIONS


def bound_pending_partitions(source: Any, logger: logging.Logger) -> None:
    """One detail partition per listed record: the CDK must not queue them by the ten thousand.

    A missing setting: ConcurrentSource.create (concurrent_source/concurrent_source.py) builds its
    ThreadPoolManager without max_concurrent_tasks (default 10,000). Swapped for one with a bound,
    over the same workers, in ConcurrentDeclarativeSource._concurrent_source
    (declarative/concurrent_declarative_source.py), before read() makes the first task.
    """
    concurrent_source: ConcurrentSource = _private(source, "_concurrent_source")
    workers = _private(_private(concurrent_source, "_threadpool"), "_threadpool")
    concurrent_source._threadpool = ThreadPoolManager(workers, logger, max_concurrent_tasks=PENDING_PARTITIONS)


def bound_partition_cursors(streams: Iterable[Any]) -> None:
    """Closed detail partitions' cursors are not kept by the twenty-five thousand.

    A missing setting: ConcurrentPerPartitionCursor.DEFAULT_MAX_PARTITIONS_NUMBER
    (declarative/incremental/concurrent_partition_cursor.py, 25,000), set here per instance. Only
    where the cursor is global (global_substream_cursor and a state that says so): it never reads a
    partition's cursor again once the partition's slices are made. A per-partition state is left alone.
    """
    for cursor in _per_partition_cursors(streams):
        if cursor.state.get("use_global_cursor"):
            _private(cursor, "DEFAULT_MAX_PARTITIONS_NUMBER")
            cursor.DEFAULT_MAX_PARTITIONS_NUMBER = KEPT_PARTITION_CURSORS


def checkpoint_as_records_are_sent(streams: Iterable[Any]) -> None:
    """A state message as soon as a detail stream's committed list state has moved (it moves with
    each record sent) and the plan's state budget has room, not at most every 600 s: at 60 requests
    a minute that is up to 600 details an interrupted sync would fetch again.

    A missing setting: ConcurrentPerPartitionCursor asks its _throttle_state_message whether to emit
    (a time) or not (None), hard-wired to 600 s, and replaces _parent_state with a new object each
    time its committed parent state moves (declarative/incremental/concurrent_partition_cursor.py).
    Its _partition_router is our ChangedRecordsPartitionRouter, which asks the plan whether a
    checkpoint is due (core/fetch_plan.py: all state messages within 5% of the record bytes).
    """
    for cursor in _per_partition_cursors(streams):
        _emit_when_the_parent_state_moves(cursor)


def _emit_when_the_parent_state_moves(cursor: ConcurrentPerPartitionCursor) -> None:
    _private(cursor, "_throttle_state_message")
    router = _private(cursor, "_partition_router")
    _private(cursor, "_parent_state")
    last_sent: List[Optional[object]] = [None]

    def emit_on_each_new_parent_state() -> Optional[float]:
        # Never on the CDK's 600 s clock instead: a large state every 10 minutes would break the budget.
        parent_state = cursor._parent_state
        if parent_state is not None and parent_state is not last_sent[0] and router.checkpoint_is_due():
            last_sent[0] = parent_state
            router.checkpointed()
            return time.time()
        return None

    cursor._throttle_state_message = emit_on_each_new_parent_state  # type: ignore[method-assign]


def message_repository_of(list_cursor: Any) -> MessageRepository:
    """The message queue of a detail stream's list cursor, for deletion markers: they must reach the
    destination before the state that forgets their ids. ConcurrentCursor keeps it as
    _message_repository (streams/concurrent/cursor.py); no public accessor."""
    return _private(list_cursor, "_message_repository")


def _per_partition_cursors(streams: Iterable[Any]) -> Iterable[ConcurrentPerPartitionCursor]:
    for stream in streams:
        cursor = getattr(stream, "cursor", None)
        if isinstance(cursor, ConcurrentPerPartitionCursor):
            yield cursor


def url_of_request(requester: Any, stream_state: Any, stream_slice: Any, next_page_token: Any,
                   path: Optional[str] = None, request_params: Any = None) -> str:
    """The URL, query included, that HttpRequester.send_request would send, for the answers projects
    and project_transcripts share: built with the two helpers send_request itself uses,
    HttpRequester._get_url and _request_params (declarative/requesters/http_requester.py); the
    public get_url/get_request_params leave out what send_request adds (pagination, the page size)."""
    url = _private(requester, "_get_url")(
        path=path, stream_state=stream_state, stream_slice=stream_slice, next_page_token=next_page_token
    )
    params = _private(requester, "_request_params")(stream_state, stream_slice, next_page_token, request_params)
    return str(requests.Request("GET", url, params=params).prepare().url)


# ------------------------------------------------------------------ one read's context and its statuses


def read_message_repository(source: Any) -> MessageRepository:
    """The message repository of the read: a ConcurrentMessageRepository over the read's queue, so a
    status a worker thread sends (components/signals.py) reaches stdout in order with the records.
    ConcurrentDeclarativeSource keeps it as _message_repository and offers no public accessor
    (declarative/concurrent_declarative_source.py; `message_repository` is AbstractSource's default)."""
    return _private(source, "_message_repository")


# ------------------------------------------------------------- null fields in records (issue #10)
# Why: airbyte_cdk/models/airbyte_protocol_serializers.py builds AirbyteMessageSerializer with
# omit_none=True, which drops record.data's top-level None values: a field Meetlog served as null
# reached stdout as no key. airbyte_cdk/entrypoint.py writes every message through
# AirbyteEntrypoint.airbyte_message_to_string, looked up on the class (`map(AirbyteEntrypoint.
# airbyte_message_to_string, ...)`), so only replacing that class attribute reaches read's records on
# every path: the console script, main.py, Docker, PyAirbyte, and the CDK's entrypoint_wrapper and
# standard tests, which build a plain AirbyteEntrypoint. No public setting does it.
# unit_tests/test_null_fields_in_records.py fails if the CDK stops dispatching through that
# attribute, or starts keeping nulls itself (then this section should go).

# The CDK's own function, kept for every message but records (and kept, not re-read, on a reload).
_CDK_MESSAGE_TO_STRING: Callable[[AirbyteMessage], str] = globals().get(
    "_CDK_MESSAGE_TO_STRING", _private(AirbyteEntrypoint, "airbyte_message_to_string")
)


def message_to_string(message: AirbyteMessage) -> str:
    """A message as one line of JSON; a record's data exactly as given, its None values as null.

    RECORD {stream: "transcripts", data: {"id": "t1", "text": None}}
      -> {"type":"RECORD","record":{"stream":"transcripts","data":{"id":"t1","text":null},"emitted_at":…}}
    Any other message -> what the CDK writes for it, byte for byte.
    """
    if message.type != Type.RECORD or message.record is None:
        return _CDK_MESSAGE_TO_STRING(message)
    dumped = AirbyteMessageSerializer.dump(message)
    dumped["record"]["data"] = message.record.data
    try:
        return orjson.dumps(dumped).decode()
    except Exception:  # what orjson cannot write (an integer beyond 64 bits): json, as the CDK falls back to
        try:
            return json.dumps(dumped)
        except Exception:
            return _CDK_MESSAGE_TO_STRING(message)  # the CDK's own failure: a system_error trace


def keep_null_fields_in_records() -> None:
    """Makes the CDK's entrypoint write records with their null fields; calling it again does nothing."""
    AirbyteEntrypoint.airbyte_message_to_string = staticmethod(message_to_string)  # type: ignore[method-assign, assignment]
