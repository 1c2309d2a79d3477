"""The fetch plan's two adapters: the router that turns a list into detail partitions, and the record
filter that tells the plan each answer.

The decisions (new, changed, pending, already handed out, gone, how deep to read) are plain Python
in core/fetch_plan.py; the router reads the list through the CDK, hands its items to the plan, stops
paging when the plan needs no more, yields a detail partition for each fetch the plan asks for, and
writes the plan's state as the list's state (core/list_state.py). Each detail partition carries its
plan (and, for a stream read from its list pages only, the list item that answers for its detail),
so the stream's record filter, SendWhenChanged, tells that plan each answer: the two are wired
through the stream's slices.
"""

import logging
from dataclasses import dataclass, field
from typing import Any, Iterable, List, Mapping, Optional, Set

from airbyte_cdk.sources.declarative.extractors.record_filter import RecordFilter
from airbyte_cdk.sources.declarative.partition_routers.substream_partition_router import (
    ParentStreamConfig,
    SubstreamPartitionRouter,
    iterate_with_last_flag,
)
from airbyte_cdk.sources.types import StreamSlice, StreamState

from source_meetlog import cdk_internals
from source_meetlog.components.list_items import LISTED_FIELD
from source_meetlog.components.list_pages import (
    LAST_ON_PAGE_FIELD,
    LIST_PAGE_FIELD,
    LIST_PAGES_FIELD,
    LIST_TOTAL_FIELD,
    PAGE_PAST_THE_END,
    PAGE_WITHOUT_ITEMS,
    without_list_fields,
)
from source_meetlog.components.mismatches import ListMismatches
from source_meetlog.components.read_context import ReadContext
from source_meetlog.components.signals import deletion_marker
from source_meetlog.core.fetch_plan import Fetch, FetchPlan, ListRules
from source_meetlog.core.links import ReportSets
from source_meetlog.core.list_state import ListState
from source_meetlog.core.timestamps import parse_cursor_value, utc_now

logger = logging.getLogger("airbyte")

# A list that changes on every read is being written to heavily; after this many extra reads the
# sync goes on, and the next sync picks up what moved (the cursor stays where it was).
MAX_RESCANS = 2
# What a detail partition carries beside its id: the plan that asked (and a list-only stream's item, LISTED_FIELD).
PLAN_FIELD = "meetlog_plan"


@dataclass
class ChangedRecordsPartitionRouter(SubstreamPartitionRouter):
    """<- list page [{id: a, created_at: 10:00, status: completed}, {id: b, created_at: 08:00, …}]
       with the list partition starting at 09:00 (the last sync settled there)
    -> [{"id": "a", "parent_slice": {}}]           (b was sent by an earlier sync, unchanged since)

    The first parent is the stream's own list; a second one (transcripts) is the reports list, read
    for report_ids (core/links.py). $parameters: name (the public stream), cursor_field,
    status_field, documented_newest_first, detail_fields, remembered_detail: declared fields below.
    """

    # Each stream's, from its $parameters in manifest.yaml (the CDK copies them onto these fields).
    name: str = ""  # the public stream
    cursor_field: str = ""
    status_field: Optional[str] = None  # None: every record is final as soon as it exists
    documented_newest_first: bool = False
    detail_fields: List[str] = field(default_factory=list)
    remembered_detail: Optional[str] = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self._read = ReadContext.of(self)
        self._config = self._read.config
        self._plan: Optional[FetchPlan] = None
        self._mismatches = ListMismatches(self.name, self.cursor_field)

    def stream_slices(self) -> Iterable[StreamSlice]:
        own, *report_lists = self.parent_stream_configs
        parent = own.stream
        for partition, is_last_partition in iterate_with_last_flag(parent.generate_partitions()):
            if partition is None:
                break
            plan = self._plan_for(own, partition.to_slice())
            # Read first: what an interrupted attempt delivered of a transcript includes its report_ids.
            reports = self._report_sets(report_lists[0]) if report_lists and self._read.selection.links_reports else None
            if reports is not None:
                plan.links_from(reports)
            yield from self._partitions(self._read_list(plan, partition, own), plan)
            yield from self._partitions(plan.finish(), plan)
            if reports is not None:
                yield from self._partitions(plan.relinks(reports), plan)
            if own.incremental_dependency:
                self._send_deletion_markers(parent, plan)
            plan.close()
            parent.cursor.close_partition(partition)
            if is_last_partition:
                parent.cursor.ensure_at_least_one_state_emitted()

    def _plan_for(self, parent_config: ParentStreamConfig, list_slice: Optional[Mapping[str, Any]]) -> FetchPlan:
        name, cursor_field = self.name, self.cursor_field
        saved = ListState.read(parent_config.stream.cursor.state if parent_config.incremental_dependency else None,
                               cursor_field)
        # The list partition starts where the last sync settled (less the lookback window); on a
        # first sync it starts at start_date, which is inclusive.
        resume_after = parse_cursor_value((list_slice or {}).get("start_time"))
        inclusive = resume_after is not None and resume_after == parse_cursor_value(self._config.start_date)
        rules = ListRules(
            cursor_field, self.status_field, self.documented_newest_first,
            reconcile_deletions=self._config.reconcile_deletions and parent_config.incremental_dependency,
            start_date=self._config.start_date, detail_fields=frozenset(self.detail_fields),
            remembered_detail=self.remembered_detail, list_only=name in self._read.selection.list_only,
            list_columns_only=name in self._read.selection.list_columns_only,
            recheck_listed=name in self._read.selection.details_read_anyway, columns=self._read.selection.columns.get(name))
        self._plan = FetchPlan(rules, saved, resume_after, inclusive, now=utc_now(), budget=self._read.state_budget)
        if rules.list_only:
            logger.info(f"'{name}' is read from its list pages only: every column selected is on them, so no detail "
                        "request is made (one request per 100 records).")
        if rules.reads_all_again(saved.list_only):
            logger.info(f"'{name}' was read from its list pages alone until now, and a column only its details hold is "
                        "selected now: every record is read again with its detail, one request each.")
        elif rules.reads_all_again(saved.list_only, saved.columns):
            logger.info(f"'{name}' was synced with some of its columns until now, and one it lacked is selected now: "
                        "every record is sent again, so that no row lacks it.")
        return self._plan

    def _read_list(self, plan: FetchPlan, partition: Any, parent_config: ParentStreamConfig) -> Iterable[Fetch]:
        """The list's items, as fetches, each record once even if the list shifts while paged.

        Records added or deleted while the list is paged move others across page boundaries: a
        deletion can hide a record, an insertion can show one twice. Either changes meta.total,
        and then the list is read again; the plan hands out no record twice. After each page the
        plan says whether the next one can change anything: if not, it is never requested.
        """
        parent_key = parent_config.parent_key.eval(self.config)  # type: ignore[union-attr]  # built as an InterpolatedString
        for _ in range(1 + MAX_RESCANS):
            plan.new_read()
            totals: Set[Any] = set()
            for record in partition.read():
                item = record.data
                totals.add(item.get(LIST_TOTAL_FIELD))
                if item.get(LIST_PAGE_FIELD) == 1 or item.get(PAGE_WITHOUT_ITEMS) == 1:
                    self._read.progress.listed(self.name, item.get(LIST_TOTAL_FIELD))
                if PAGE_WITHOUT_ITEMS in item:
                    plan.list_unreliable()
                    self._mismatches.page_without_items(item.get(PAGE_WITHOUT_ITEMS), item.get(LIST_TOTAL_FIELD))
                    continue
                if PAGE_PAST_THE_END in item:
                    continue  # its total differs from the pages before: the list is read again
                if item.get(LIST_PAGE_FIELD) == item.get(LIST_PAGES_FIELD):
                    plan.last_page_read()
                record_id = item.get(parent_key)
                cursor_value = parse_cursor_value(item.get(self.cursor_field))
                self._mismatches.odd_item(item, record_id, cursor_value)
                yield from plan.see(item, item.get(LIST_PAGE_FIELD), record_id, cursor_value,
                                    item.get(LIST_TOTAL_FIELD), item.get(LIST_PAGES_FIELD))
                if item.get(LAST_ON_PAGE_FIELD) and not plan.read_to_the_end and not plan.wants_next_page():
                    break
            if len(totals) <= 1:
                return
            logger.info(f"The '{self.name}' list changed while it was paged (its total went through "
                        f"{sorted(t for t in totals if t is not None)}); reading it again so that no record is skipped.")
        # Records may have slipped past every read: the cursor stays where it was, so the next
        # sync reads this stretch again rather than skip them.
        plan.list_unreliable()
        logger.warning(f"The '{self.name}' list kept changing over {1 + MAX_RESCANS} reads; its cursor stays "
                       "where the last sync left it, so the next sync reads these records again.")

    def _report_sets(self, reports_list: ParentStreamConfig) -> ReportSets:
        """The reports list, read through the answers this read shares with the reports stream."""
        sets, totals, last_page_read = ReportSets(), set(), True
        try:
            for partition in reports_list.stream.generate_partitions():
                for record in partition.read():
                    item = record.data
                    if PAGE_WITHOUT_ITEMS in item:
                        return ReportSets()  # reports missing from it: nothing relinked from this read
                    totals.add(item.get(LIST_TOTAL_FIELD))
                    if PAGE_PAST_THE_END in item:
                        continue
                    last_page_read = item.get(LIST_PAGE_FIELD) == item.get(LIST_PAGES_FIELD)
                    report_id, transcript_id = item.get("id"), item.get("transcription_id")
                    if isinstance(report_id, str) and isinstance(transcript_id, str):
                        sets.add(report_id, transcript_id, parse_cursor_value(item.get("created_at")))
        except Exception as error:  # the reports stream reports its own failure; transcripts go on
            logger.warning(f"The reports list could not be read for the transcripts' report_ids ({type(error).__name__}): "
                           "report_ids of transcripts synced before are checked again by the next sync.")
            return ReportSets()
        sets.complete = last_page_read and len(totals) <= 1
        return sets

    def _send_deletion_markers(self, parent: Any, plan: FetchPlan) -> None:
        gone = plan.deleted()
        for record_id in gone:
            # Through the stream's message queue, so they reach the destination before the state that forgets their ids.
            cdk_internals.message_repository_of(parent.cursor).emit_message(
                deletion_marker(self.name, record_id, self.cursor_field))
        if gone:
            logger.info(f"{len(gone)} '{self.name}' record(s) synced before are no longer listed: "
                        "deletion markers sent.")

    def _partitions(self, fetches: Iterable[Fetch], plan: FetchPlan) -> Iterable[StreamSlice]:
        for fetch in fetches:
            extra = {PLAN_FIELD: plan, LISTED_FIELD: without_list_fields(fetch.listed)} if fetch.listed else {PLAN_FIELD: plan}
            yield StreamSlice(partition={"id": fetch.record_id, "parent_slice": {}}, cursor_slice={}, extra_fields=extra)

    def get_stream_state(self) -> Optional[Mapping[str, StreamState]]:
        """Each list's state in the plan's words: its cursor, what was sent, the pending records, and
        while the list is read the progress of this sync (core/list_state.py)."""
        state = {}
        for parent_config in self.parent_stream_configs:
            if parent_config.incremental_dependency:
                # Not read yet: what the last sync left, as it was.
                state[parent_config.stream.name] = self._plan.state() if self._plan else parent_config.stream.cursor.state
        return state

    def checkpoint_is_due(self) -> bool:
        """All the state messages of a sync stay within a share of its records (core/fetch_plan.py)."""
        return self._plan is None or self._plan.checkpoint_is_due()

    def checkpointed(self) -> None:
        if self._plan is not None:
            self._plan.checkpointed()


@dataclass
class SendWhenChanged(RecordFilter):
    """Tells the plan that asked for a record its answer, and keeps it when the plan says it is news.

    <- the detail of pending transcript b, what was sent of it last sync   -> [] (nothing changed)
    <- the detail of b, now completed                                       -> [b], and b is no longer pending
    """

    name: str = ""  # the public stream, from its $parameters in manifest.yaml

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self._progress = ReadContext.of(self).progress

    def filter_records(self, records: Iterable[Mapping[str, Any]], stream_state: StreamState,
                       stream_slice: Optional[StreamSlice] = None,
                       next_page_token: Optional[Mapping[str, Any]] = None) -> Iterable[Mapping[str, Any]]:
        plan = stream_slice.extra_fields.get(PLAN_FIELD) if stream_slice else None
        fetched_as = (stream_slice.partition if stream_slice else {}).get("id")
        for record in records:
            self._progress.record_done(self.name)
            if plan is None or fetched_as is None or plan.answered(fetched_as, record):
                yield record
