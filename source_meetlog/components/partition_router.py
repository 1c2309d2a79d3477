"""Which listed records are worth a detail request, and where the next sync may resume.

A detail request costs one of the 60 requests a minute a key allows, so an incremental sync
asks for the detail of a listed record only when it is new since the last sync (its cursor
value is past where the last sync settled) — and never lets the cursor pass a record that is
not final yet, so that record is fetched again, with its final text, once it is final.

Beside the list cursor, its state carries what this sync has handed out so far (a resumed
attempt skips it, sync_progress.py) and, with reconcile_deletions, the ids synced (known_ids.py).
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Mapping, Optional, Set

from airbyte_cdk.sources.declarative.partition_routers.substream_partition_router import (
    SubstreamPartitionRouter,
    iterate_with_last_flag,
)
from airbyte_cdk.sources.types import Record, StreamSlice, StreamState

from source_meetlog.components.cursor_values import format_cursor_value, parse_cursor_value
from source_meetlog.components.known_ids import (
    KNOWN_IDS_KEY,
    KNOWN_IDS_START_DATE_KEY,
    SyncedIds,
    deletion_marker,
)
from source_meetlog.components.list_extractor import LIST_PAGE_FIELD, LIST_TOTAL_FIELD, PAGE_WITHOUT_ITEMS
from source_meetlog.components.sync_progress import PROGRESS_KEY, SyncProgress, fingerprint

logger = logging.getLogger("airbyte")

# Statuses after which a transcript's or report's heavy fields no longer change.
FINAL_STATUSES = frozenset({"completed", "failed"})
# Processing takes minutes. A record still not final after this long is stuck, and holding the
# cursor for it would re-fetch every newer record on every sync; it is treated as settled.
MAX_UNSETTLED_AGE = timedelta(days=7)
# A list that changes on every read is being written to heavily; after this many extra reads the
# sync goes on, and the next sync picks up what moved (the cursor has not passed it).
MAX_RESCANS = 2


class SettledPoint:
    """Where the next sync may resume: past every final record, short of any record that is not,
    and short of the second the list was read in.

    list read at 12:00:30; cursor values seen:
        final 10:00, final 09:00                      -> 10:00
        final 10:00, processing 09:30, final 09:00    -> 09:29:59 (09:30 is re-read)
        final 2099-01-01, final 10:00                 -> 12:00:29 (a clock far ahead must not hide
                                                         the transcripts made until 2099)
    The last whole second before the read is as far as any cursor can go: a record made later in
    the second the list was read shares its timestamp with the ones seen, and must not be passed.
    """

    def __init__(self, now: Optional[datetime] = None) -> None:
        self.unreliable = False
        self.newest_final: Optional[datetime] = None
        self.oldest_unsettled: Optional[datetime] = None
        now = now or datetime.now(timezone.utc).replace(tzinfo=None)
        self._stuck_before = now - MAX_UNSETTLED_AGE
        self.read_at = now.replace(microsecond=0)

    def see(self, moment: datetime, is_final: bool) -> None:
        if is_final or moment < self._stuck_before:
            if self.newest_final is None or moment > self.newest_final:
                self.newest_final = moment
        elif self.oldest_unsettled is None or moment < self.oldest_unsettled:
            self.oldest_unsettled = moment

    @property
    def value(self) -> Optional[str]:
        if self.unreliable:
            return None  # stay where the last sync settled
        if self.newest_final is None and self.oldest_unsettled is None:
            return None
        candidates = [self.read_at - timedelta(seconds=1)]
        if self.newest_final is not None:
            candidates.append(self.newest_final)
        if self.oldest_unsettled is not None:
            # One second before the oldest unsettled record keeps it, and all newer, in reach.
            candidates.append(self.oldest_unsettled - timedelta(seconds=1))
        return format_cursor_value(min(candidates))


@dataclass
class ChangedRecordsPartitionRouter(SubstreamPartitionRouter):
    """A SubstreamPartitionRouter that yields a detail partition only for records that may have changed.

    $parameters: cursor_field ("created_at" | "updated_at"), status_field ("status" or absent).

    <- list page [{id: a, created_at: 10:00, status: completed}, {id: b, created_at: 08:00, …}]
       with the list partition starting at 09:00 (the last sync settled there)
    -> [{"id": "a", "parent_slice": {…}}]           (b was synced by an earlier sync)
    """

    def stream_slices(self) -> Iterable[StreamSlice]:
        for parent_config in self.parent_stream_configs:
            parent = parent_config.stream
            partition_field = parent_config.partition_field.eval(self.config)
            list_state = parent.cursor.state or {}
            previously_synced = SyncedIds.from_list_state(list_state)
            self._progress = SyncProgress.from_list_state(list_state)
            for partition, is_last_partition in iterate_with_last_flag(parent.generate_partitions()):
                if partition is None:
                    break
                settled = SettledPoint()
                listed: Set[str] = set()
                for record in self._read_list(partition, settled, listed):
                    yield StreamSlice(partition={partition_field: record.data["id"], "parent_slice": {}}, cursor_slice={})
                self._progress = None  # the list is read: the cursor says the rest from here
                if self._reconciles_deletions and parent_config.incremental_dependency:
                    self._reconcile(parent, previously_synced, listed, settled)
                # The list cursor sees one value, at the end: where this sync settled.
                if settled.value is not None:
                    parent.cursor.observe(
                        Record(data={self.parameters["cursor_field"]: settled.value}, stream_name=parent.name,
                               associated_slice=partition.to_slice())
                    )
                parent.cursor.close_partition(partition)
                if is_last_partition:
                    parent.cursor.ensure_at_least_one_state_emitted()

    def _read_list(self, partition: Any, settled: "SettledPoint", listed: Set[str]) -> Iterable[Record]:
        """The listed records worth a detail request, each once, even if the list shifts while paged.

        Records added or deleted while the list is paged move others across page boundaries: a
        deletion can hide a record, an insertion can show one twice. Either changes meta.total,
        and then the list is read again; ids already yielded are not yielded twice.
        """
        cursor_field = self.parameters["cursor_field"]
        status_field = self.parameters.get("status_field")
        resume_after = parse_cursor_value(self._resume_after(partition.to_slice()))
        # On a first sync the partition starts at start_date, which is inclusive.
        inclusive = resume_after is not None and resume_after == parse_cursor_value(self.config.get("start_date"))
        yielded: Set[str] = set()
        progress = self._progress or SyncProgress(set())
        for scan in range(1 + MAX_RESCANS):
            totals: Set[Any] = set()
            page = None
            for record in partition.read():
                totals.add(record.data.get(LIST_TOTAL_FIELD))
                if record.data.get(LIST_PAGE_FIELD) != page:
                    page = record.data.get(LIST_PAGE_FIELD)
                    progress.page_done()
                if PAGE_WITHOUT_ITEMS in record.data:
                    settled.unreliable = True
                    self._report_page_without_items(record.data)
                    continue
                record_id = record.data.get("id")
                if record_id is not None:
                    listed.add(record_id)
                cursor_value = parse_cursor_value(record.data.get(cursor_field))
                if cursor_value is not None:
                    is_final = not status_field or record.data.get(status_field) in FINAL_STATUSES
                    settled.see(cursor_value, is_final)
                self._report_odd_item(record.data, cursor_value, settled.read_at)
                if record_id is not None and record_id not in yielded and self._may_have_changed(
                    cursor_value, resume_after, inclusive
                ):
                    yielded.add(record_id)
                    handed_out = fingerprint(record.data, cursor_field, status_field)
                    if progress.already_handed_out(handed_out):
                        continue  # sent by an earlier attempt of this sync, unchanged since
                    progress.hand_out(handed_out)
                    yield record
            if len(totals) <= 1:
                return
            logger.info(
                f"The '{self.parameters['name']}' list changed while it was paged (its total went through "
                f"{sorted(t for t in totals if t is not None)}); reading it again so that no record is skipped."
            )
        # Records may have slipped past every read: the cursor stays where it was, so the next
        # sync reads this stretch again rather than skip them.
        settled.unreliable = True
        logger.warning(
            f"The '{self.parameters['name']}' list kept changing over {1 + MAX_RESCANS} reads; its cursor stays "
            "where the last sync left it, so the next sync reads these records again."
        )

    def _reconcile(
        self, parent: Any, previously_synced: Optional[SyncedIds], listed: Set[str], settled: SettledPoint
    ) -> None:
        """Deletion markers for the ids the last sync had and this complete read of the list lacks."""
        stream, start_date = self.parameters["name"], self.config.get("start_date")
        if settled.unreliable:
            # Some records may not have been seen: none can be called deleted, and none forgotten.
            self._synced_ids = SyncedIds(listed | (previously_synced.ids if previously_synced else set()), start_date)
            return
        self._synced_ids = SyncedIds(listed, start_date)
        if previously_synced is None:
            return
        if previously_synced.start_date != start_date:
            logger.info(f"start_date changed since the last sync of '{stream}': deletions are reconciled from the next sync.")
            return
        gone = sorted(previously_synced.ids - listed)
        # Sent through the stream's message queue, so they reach the destination before the state
        # that forgets their ids.
        repository = parent.cursor._message_repository
        for record_id in gone:
            repository.emit_message(deletion_marker(stream, record_id, self.parameters["cursor_field"]))
        if gone:
            logger.info(f"{len(gone)} '{stream}' record(s) synced before are no longer listed: deletion markers sent.")

    def get_stream_state(self) -> Optional[Mapping[str, StreamState]]:
        """The list cursors; beside each, while the list is read, what this sync has handed out
        (sync_progress.py), and with reconcile_deletions the ids synced so far."""
        state = dict(super().get_stream_state() or {})
        for name, list_state in state.items():
            # Kept from the last state by the CDK: replaced here by this sync's values, or dropped.
            list_state = {k: v for k, v in list_state.items() if k != PROGRESS_KEY}
            if self._progress is not None:
                list_state.update(self._progress.as_list_state())
            if not self._reconciles_deletions:
                list_state = {k: v for k, v in list_state.items() if k not in (KNOWN_IDS_KEY, KNOWN_IDS_START_DATE_KEY)}
            elif self._synced_ids is not None:
                list_state = {**list_state, **self._synced_ids.as_list_state()}
            state[name] = list_state
        return state

    def _report_page_without_items(self, page: Mapping[str, Any]) -> None:
        self._report_once("items", (
            f"Page {page.get(PAGE_WITHOUT_ITEMS)} of the '{self.parameters['name']}' list came without its items "
            f"although its meta.total is {page.get(LIST_TOTAL_FIELD)}: the records on it are missed by this sync, and "
            "the stream's cursor stays where the last sync left it, so the next sync reads them."
        ))

    def _report_odd_item(self, item: Mapping[str, Any], cursor_value: Optional[datetime], now: datetime) -> None:
        """Meetlog documents an id and a date-time cursor on every item; say so when one is not."""
        stream, cursor_field = self.parameters["name"], self.parameters["cursor_field"]
        if item.get("id") is None:
            self._report_once("id", (
                f"A '{stream}' list item came without an id, so its detail cannot be fetched and it is skipped "
                f"({cursor_field}: {str(item.get(cursor_field))[:40]})."
            ))
        elif cursor_value is None:
            self._report_once(cursor_field, (
                f"The '{stream}' list item {item['id']} has {cursor_field} {str(item.get(cursor_field))[:40]!r}, "
                "which is not a date-time: it is fetched on every sync until it reads as one."
            ))
        elif cursor_value > now + timedelta(days=1):
            self._report_once("future", (
                f"The '{stream}' record {item['id']} has {cursor_field} {format_cursor_value(cursor_value)}, ahead "
                "of now: it is fetched on every sync until then, and the cursor does not follow it there."
            ))

    def _report_once(self, kind: str, message: str) -> None:
        if kind not in self._reported:
            self._reported.add(kind)
            logger.warning(message)

    @property
    def parameters(self) -> Mapping[str, Any]:
        return self._parameters

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self._parameters = parameters
        self._reported: Set[str] = set()  # each kind of odd list item is told once a sync
        self._reconciles_deletions = bool(self.config.get("reconcile_deletions"))
        self._synced_ids: Optional[SyncedIds] = None  # set once this sync's list read is complete
        self._progress: Optional[SyncProgress] = None  # while the list is read

    @staticmethod
    def _resume_after(list_slice: Optional[Mapping[str, Any]]) -> Optional[str]:
        """The list partition starts where the last sync settled (less the lookback window)."""
        return (list_slice or {}).get("start_time")

    @staticmethod
    def _may_have_changed(
        cursor_value: Optional[datetime], resume_after: Optional[datetime], inclusive: bool = False
    ) -> bool:
        if resume_after is None or cursor_value is None:
            return True
        return cursor_value >= resume_after if inclusive else cursor_value > resume_after
