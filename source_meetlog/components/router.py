"""The fetch plan's two adapters: the router that turns a list into detail partitions, and the record
filter that tells the plan each answer.

The decisions (new, pending, already handed out, gone) are plain Python in core/fetch_plan.py; the
router reads the list through the CDK, hands its items to the plan page by page, yields a detail
partition for each fetch the plan asks for, and keeps the list's state in the plan's words
(core/list_state.py). Each detail partition carries its plan (`extra_fields`), so the stream's record
filter, SendWhenChanged, tells that plan each answer: the two are wired through the stream's slices.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable, Mapping, Optional, Set, Tuple

from airbyte_cdk.sources.declarative.partition_routers.substream_partition_router import (
    ParentStreamConfig,
    SubstreamPartitionRouter,
    iterate_with_last_flag,
)
from airbyte_cdk.sources.declarative.extractors.record_filter import RecordFilter
from airbyte_cdk.sources.types import StreamSlice, StreamState

from source_meetlog import cdk_internals
from source_meetlog.components.list_pages import LIST_PAGE_FIELD, LIST_PAGES_FIELD, LIST_TOTAL_FIELD, PAGE_WITHOUT_ITEMS
from source_meetlog.components.read_context import ReadContext
from source_meetlog.components.signals import deletion_marker
from source_meetlog.core.config import EARLIEST_START_DATE
from source_meetlog.core.fetch_plan import Fetch, FetchPlan, ListRules
from source_meetlog.core.list_state import ListState
from source_meetlog.core.timestamps import format_cursor_value, parse_cursor_value, utc_now

logger = logging.getLogger("airbyte")

# A list that changes on every read is being written to heavily; after this many extra reads the
# sync goes on, and the next sync picks up what moved (the cursor stays where it was).
MAX_RESCANS = 2
# A record stamped further ahead than this is told once: the server's clock may run a little ahead.
FUTURE_TOLERANCE = timedelta(days=1)
# The stream whose records list the reports' ids (core/links.py).
RELINKED_STREAM = "transcripts"
# Where a detail partition carries the plan that asked for it, for the stream's record filter.
PLAN_FIELD = "meetlog_plan"


@dataclass
class ChangedRecordsPartitionRouter(SubstreamPartitionRouter):
    """<- list page [{id: a, created_at: 10:00, status: completed}, {id: b, created_at: 08:00, …}]
       with the list partition starting at 09:00 (the last sync settled there)
    -> [{"id": "a", "parent_slice": {}}]           (b was synced by an earlier sync)

    $parameters: name (the public stream), cursor_field, status_field (absent: always final),
    documented_newest_first (the list's own parameter).
    """

    def stream_slices(self) -> Iterable[StreamSlice]:
        for parent_config in self.parent_stream_configs:
            parent = parent_config.stream
            partition_field = parent_config.partition_field.eval(self.config)
            for partition, is_last_partition in iterate_with_last_flag(parent.generate_partitions()):
                if partition is None:
                    break
                plan = self._plan_for(parent_config, partition.to_slice())
                for fetch in self._read_list(plan, partition, parent_config):
                    yield self._detail_partition(partition_field, fetch, plan)
                for fetch in plan.finish():
                    yield self._detail_partition(partition_field, fetch, plan)
                for fetch in self._relinks(plan):
                    yield self._detail_partition(partition_field, fetch, plan)
                if parent_config.incremental_dependency:
                    self._send_deletion_markers(parent, plan)
                plan.close()
                parent.cursor.close_partition(partition)
                if is_last_partition:
                    parent.cursor.ensure_at_least_one_state_emitted()

    def _plan_for(self, parent_config: ParentStreamConfig, list_slice: Optional[Mapping[str, Any]]) -> FetchPlan:
        cursor_field = self.parameters["cursor_field"]
        saved = ListState.read(parent_config.stream.cursor.state if parent_config.incremental_dependency else None,
                               cursor_field)
        # The list partition starts where the last sync settled (less the lookback window); on a
        # first sync it starts at start_date, which is inclusive.
        resume_after = parse_cursor_value((list_slice or {}).get("start_time"))
        start_date = parse_cursor_value(self._config.start_date)
        inclusive = resume_after is not None and resume_after == start_date
        rules = ListRules(
            cursor_field=cursor_field,
            status_field=self.parameters.get("status_field"),
            newest_first=bool(self.parameters.get("documented_newest_first")),
            reconcile_deletions=self._config.reconcile_deletions and parent_config.incremental_dependency,
            start_date=self._config.start_date,
            link_field=self.parameters.get("link_field"),
        )
        self._plan = FetchPlan(rules, saved, resume_after, inclusive, now=utc_now(),
                               first_sync=resume_after in (None, start_date or parse_cursor_value(EARLIEST_START_DATE)))
        if self._plan.start_date_changed and rules.reconcile_deletions:
            logger.info(f"start_date changed since the last sync of '{self.parameters['name']}': "
                        "deletions are reconciled from the next sync.")
        return self._plan

    def _read_list(self, plan: FetchPlan, partition: Any, parent_config: ParentStreamConfig) -> Iterable[Fetch]:
        """The list's items, as fetches, each record once even if the list shifts while paged.

        Records added or deleted while the list is paged move others across page boundaries: a
        deletion can hide a record, an insertion can show one twice. Either changes meta.total,
        and then the list is read again; the plan hands out no record twice.
        """
        parent_key = parent_config.parent_key.eval(self.config)
        for _ in range(1 + MAX_RESCANS):
            plan.new_read()
            totals: Set[Any] = set()
            page = None
            for record in partition.read():
                item = record.data
                totals.add(item.get(LIST_TOTAL_FIELD))
                if item.get(LIST_PAGE_FIELD) != page:
                    plan.page_done(next_item=item)  # every fetch of the page before is handed out
                    page = item.get(LIST_PAGE_FIELD)
                if PAGE_WITHOUT_ITEMS in item:
                    plan.unreliable = True
                    self._report_page_without_items(item)
                    continue
                if page is not None and page == item.get(LIST_PAGES_FIELD):
                    plan.read_to_the_end = True
                record_id = item.get(parent_key)
                cursor_value = parse_cursor_value(item.get(self.parameters["cursor_field"]))
                self._report_odd_item(item, record_id, cursor_value)
                fetch = plan.see(item, page, record_id, cursor_value)
                if fetch is not None:
                    yield fetch
            plan.page_done()
            if len(totals) <= 1:
                return
            logger.info(
                f"The '{self.parameters['name']}' list changed while it was paged (its total went through "
                f"{sorted(t for t in totals if t is not None)}); reading it again so that no record is skipped."
            )
        # Records may have slipped past every read: the cursor stays where it was, so the next
        # sync reads this stretch again rather than skip them.
        plan.unreliable = True
        logger.warning(
            f"The '{self.parameters['name']}' list kept changing over {1 + MAX_RESCANS} reads; its cursor stays "
            "where the last sync left it, so the next sync reads these records again."
        )

    def _relinks(self, plan: FetchPlan) -> Iterable[Fetch]:
        """Reports hand over the transcripts whose report_ids changed; transcripts fetch them once (core/links.py)."""
        links = self._report_links
        if links is None:
            return
        if self.parameters.get("link_field"):
            plan.relink_later(links.offer(plan.changed_links()))
        elif self.parameters["name"] == RELINKED_STREAM:
            for transcript_id in sorted(links.take()):
                fetch = plan.fetch_link(transcript_id)
                if fetch is not None:
                    yield fetch

    def _send_deletion_markers(self, parent: Any, plan: FetchPlan) -> None:
        gone = plan.deleted()
        for record_id in gone:
            # Through the stream's message queue, so they reach the destination before the state that forgets their ids.
            cdk_internals.message_repository_of(parent.cursor).emit_message(
                deletion_marker(self.parameters["name"], record_id, self.parameters["cursor_field"])
            )
        if gone:
            logger.info(f"{len(gone)} '{self.parameters['name']}' record(s) synced before are no longer listed: deletion markers sent.")

    @staticmethod
    def _detail_partition(partition_field: str, fetch: Fetch, plan: FetchPlan) -> StreamSlice:
        return StreamSlice(partition={partition_field: fetch.record_id, "parent_slice": {}}, cursor_slice={},
                           extra_fields={PLAN_FIELD: plan})

    def get_stream_state(self) -> Optional[Mapping[str, StreamState]]:
        """Each list's state in the plan's words: its cursor, the pending records, and while the list is
        read the progress of this sync (list_state.py)."""
        state = {}
        for parent_config in self.parent_stream_configs:
            if not parent_config.incremental_dependency:
                continue
            name = parent_config.stream.name
            if self._plan is None:  # not read yet: what the last sync left, in our words
                list_state = ListState.read(parent_config.stream.cursor.state, self.parameters["cursor_field"])
            else:
                list_state = self._plan.state()
            # Asked after every detail partition: the same state is written once, not each time.
            if self._written is None or self._written[0] is not list_state:
                self._written = (list_state, list_state.written(self.parameters["cursor_field"], self._config.reconcile_deletions))
            state[name] = self._written[1]
        return state

    def worth_a_checkpoint(self) -> bool:
        """With reconcile_deletions the state carries every id: a checkpoint must be worth its bytes."""
        return self._plan is None or self._plan.worth_a_checkpoint()

    # ------------------------------------------------------------------ telling the user

    def _report_page_without_items(self, page: Mapping[str, Any]) -> None:
        self._report_once("items", (
            f"Page {page.get(PAGE_WITHOUT_ITEMS)} of the '{self.parameters['name']}' list came without its items "
            f"although its meta.total is {page.get(LIST_TOTAL_FIELD)}: the records on it are missed by this sync, and "
            "the stream's cursor stays where the last sync left it, so the next sync reads them."
        ))

    def _report_odd_item(self, item: Mapping[str, Any], record_id: Any, cursor_value: Optional[datetime]) -> None:
        """Meetlog documents an id and a date-time cursor on every item; say so when one is not."""
        stream, cursor_field = self.parameters["name"], self.parameters["cursor_field"]
        if record_id is None:
            self._report_once("id", (
                f"A '{stream}' list item came without an id, so its detail cannot be fetched and it is skipped "
                f"({cursor_field}: {str(item.get(cursor_field))[:40]})."
            ))
        elif cursor_value is None:
            self._report_once(cursor_field, (
                f"The '{stream}' list item {record_id} has {cursor_field} {str(item.get(cursor_field))[:40]!r}, "
                "which is not a date-time: it is fetched on every sync until it reads as one."
            ))
        elif cursor_value > utc_now() + FUTURE_TOLERANCE:
            self._report_once("future", (
                f"The '{stream}' record {record_id} has {cursor_field} {format_cursor_value(cursor_value)}, ahead "
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
        read = ReadContext.of(self)
        self._config = read.config
        self._report_links = read.report_links
        self._plan: Optional[FetchPlan] = None
        self._written: Optional[Tuple[ListState, Mapping[str, Any]]] = None


@dataclass
class SendWhenChanged(RecordFilter):
    """Tells the plan that asked for a detail its answer, and keeps it when the plan says it is news.

    <- the detail of pending transcript b, fingerprint as sent last sync   -> [] (nothing changed)
    <- the detail of b, now completed                                       -> [b], and b is no longer pending
    """

    def filter_records(
        self,
        records: Iterable[Mapping[str, Any]],
        stream_state: StreamState,
        stream_slice: Optional[StreamSlice] = None,
        next_page_token: Optional[Mapping[str, Any]] = None,
    ) -> Iterable[Mapping[str, Any]]:
        plan = stream_slice.extra_fields.get(PLAN_FIELD) if stream_slice else None
        fetched_as = (stream_slice.partition if stream_slice else {}).get("id")
        for record in records:
            if plan is None or fetched_as is None or plan.answered(fetched_as, record):
                yield record
