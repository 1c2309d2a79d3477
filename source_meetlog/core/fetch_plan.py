"""One sync of one list: which records to send, how far to read, and the list's next state. Plain Python.

A detail request costs one of the 60 requests a minute a key allows, so a sync asks for the detail of a
listed record only when it may have changed since it was sent (core/decision.py), when its report_ids
changed (core/links.py), when it is pending and the pages read do not reach it (core/list_depth.py), or
when an interrupted attempt of this sync delivered it and it changed since (core/resume.py).

Its phases, in order (a call out of order raises PlanOutOfOrder):
  reading   new_read, see (-> fetches), wants_next_page, list_unreliable, last_page_read
  finished  finish (-> the rest of the fetches), then relinks (-> fetches), deleted
  closed    close; state() is the sync's outcome from now on, and before it a checkpoint
answered() and state() may come at any time, from the CDK's worker threads.
"""

import threading
from datetime import datetime
from itertools import chain
from typing import Any, Iterable, Iterator, List, Mapping, Optional

import orjson

from source_meetlog.core.checkpoints import CHECKPOINT_BYTES, StateBudget, final_state_estimate
from source_meetlog.core.decision import ChangeRule, ListRules, read_at
from source_meetlog.core.legacy_state import was_handed_out
from source_meetlog.core.links import ReportSets, relinked
from source_meetlog.core.list_depth import ListShape, wants_next_page
from source_meetlog.core.list_state import ListState
from source_meetlog.core.next_state import Answer, next_state, written
from source_meetlog.core.pending import PendingWatch
from source_meetlog.core.resume import EarlierAttempts
from source_meetlog.core.sent import NOT_KNOWN, Sent, fingerprint, sent_value
from source_meetlog.core.sync_memory import CLOSED, FINISHED, READING, Fetch, ListPass, Seen, SyncFacts, SyncMemory
from source_meetlog.core.this_attempt import NewestFirstWalk, PrefixWalk, progress_of
from source_meetlog.core.timestamps import format_cursor_value, parse_cursor_value

__all__ = ["Fetch", "FetchPlan", "ListRules", "PlanOutOfOrder", "StateBudget"]


class PlanOutOfOrder(RuntimeError):
    """A FetchPlan method called in a phase it does not belong to (see the module's docstring)."""


class FetchPlan:
    def __init__(self, rules: ListRules, saved: ListState, resume_after: Optional[datetime],
                 inclusive: bool, now: datetime, budget: Optional[StateBudget] = None) -> None:
        # The rows synced so far lack a column selected now (a detail-only one, or one deselected before): read it all again.
        restarts = rules.reads_all_again(saved.list_only, saved.columns)
        self._rules, self._budget = rules, budget or StateBudget()
        self._saved = ListState(saved=saved.saved, progress=saved.progress) if restarts else saved
        self._sync = SyncFacts(read_at(now), len(orjson.dumps(self._saved.saved)), self._saved.reports_until, self._saved.links,
                               parse_cursor_value(rules.start_date), left=saved)
        self._change = ChangeRule.for_sync(rules, self._saved.sent, self._saved.start_date,
                                           None if restarts else resume_after, inclusive)
        self._earlier = EarlierAttempts(self._saved.progress)
        self._walk = NewestFirstWalk(self._sync.read_at) if rules.newest_first else PrefixWalk()
        self._shape, self._walked, self._memory = ListShape(), ListPass(), SyncMemory()
        self._pending = PendingWatch(self._saved.pending)
        self._lock = threading.Lock()  # answers arrive on the CDK's worker threads

    # ------------------------------------------------------------------ reading the list

    def new_read(self) -> None:
        """The list is read (again) from page 1: what was handed out stays handed out."""
        self._expect(READING)
        self._walked, self._memory.queued = ListPass(), {}
        if self._rules.newest_first:
            self._walk = NewestFirstWalk(self._sync.read_at)  # the region is walked again, from the top

    def list_unreliable(self) -> None:
        """A page came without its items, or the list kept shifting: some records may not have been seen."""
        self._sync.unreliable = True

    def last_page_read(self) -> None:
        self._walked.to_the_end = True

    @property
    def read_to_the_end(self) -> bool:
        return self._walked.to_the_end

    def links_from(self, reports: ReportSets) -> None:
        """The reports list, read before the transcripts list: a transcript is marked with its report_ids too,
        so a report moved between two attempts sends again what the first delivered (core/resume.py)."""
        self._expect(READING)
        self._sync.reports = reports

    def see(self, item: Mapping[str, Any], page: Any, record_id: Optional[str], cursor_value: Optional[datetime],
            total: Optional[int] = None, pages: Optional[int] = None) -> Iterable[Fetch]:
        """The fetches this listed item calls for. `total`, `pages`: the page's meta."""
        self._expect(READING)
        self._walked.note(page, cursor_value, self._sync)
        self._shape.note(total, pages)
        rules = self._rules
        created = cursor_value if rules.cursor_field == "created_at" else parse_cursor_value(item.get("created_at"))
        if record_id is None or (self._sync.start and created and created < self._sync.start):
            if record_id is not None and rules.reconcile_deletions:
                self._memory.before_start[record_id] = self._sync.left.entry(record_id)[0] or NOT_KNOWN  # listed: not gone
            return ()  # created before start_date: never synced (one without created_at is kept)
        seen = self._seen(record_id, item, cursor_value, created)
        saved, was_pending = self._saved.entry(record_id)
        if was_pending:
            self._pending.met(record_id, saved, seen.listed)
        reports = self._sync.reports
        # The list fingerprint, and a transcript's report_ids where they are known: what a resume digest sums.
        mark = seen.listed + (reports.report_ids_of(record_id) if reports is not None else b"")
        if seen.covered:
            self._earlier.check(record_id, mark)
            if rules.list_only:
                self._memory.items[record_id] = item
        fetch = self._decide(record_id, item, seen, saved, was_pending, mark)
        if not rules.newest_first:
            if fetch is not None:
                self._memory.queued[record_id] = fetch
            return ()
        if self._sync.in_order:
            self._walk.walk(record_id, created, mark, summed=not seen.covered)
        handed = [self._hand_out(fetch)] if fetch is not None else []
        lowest = self._earlier.lowest_unsettled()
        if lowest is not None and cursor_value is not None and cursor_value < lowest:
            return chain(self._memory.send_again(self._earlier, self._hand_out), handed)  # the earlier attempts' region is passed
        return handed

    def wants_next_page(self) -> bool:
        """After a page: whether the rest of the list can change what this sync sends."""
        self._expect(READING)
        last = self._walked.last_value
        self._pending.read_down_to(last, self._saved.pending_low)
        return wants_next_page(
            read_whole=self._rules.remembers_all, in_order=self._sync.in_order,
            may_be_new=last is None or self._change.new_below(last), unseen=len(self._pending.unseen),
            rechecks_by_detail=self._rechecks_by_detail,
            pages_left=self._shape.pages_down_to(self._saved.pending_low) - self._walked.pages,
            unsettled=self._earlier.lowest_unsettled() is not None)

    def finish(self) -> Iterator[Fetch]:
        """The list is read: what it still calls for, handed out as they are taken. Re-sends of what an
        earlier attempt delivered and changed since; a list read whole, in sort_key order; then the pending
        records the list did not reach, one request each."""
        self._expect(READING)
        self._sync.phase = FINISHED
        if self._walked.to_the_end and not self._sync.unreliable:
            self._pending.all_met()  # a complete list no longer names them: gone
        # By id where they are re-checked by detail; else kept for a sync whose pages reach them.
        rechecks = sorted(str(key) for key in self._pending.unseen) if self._rechecks_by_detail else []
        for record_id in rechecks:
            self._memory.rechecks[record_id] = self._saved.pending.entries[record_id]
        in_order = () if self._rules.newest_first else self._memory.in_sort_order(self._walk, self._hand_out)
        return chain(self._memory.send_again(self._earlier, self._hand_out), in_order, (self._hand_out(Fetch(i)) for i in rechecks))

    def relinks(self, reports: ReportSets) -> List[Fetch]:
        """Transcripts whose report_ids changed: a report added or deleted (core/links.py)."""
        self._expect(FINISHED)
        until = parse_cursor_value(self._sync.reports_until)
        changed = relinked(reports, lambda i: self._memory.report_ids_sent(i, self._saved), list(self._memory.seen), until,
                           self._saved.links, sent_before=self._saved.sent is not None)
        # Even from a reports list that shifted while paged: what it missed or showed twice makes the next
        # sync's digest differ in that bucket, or is newer than reports_until, and is caught then.
        if reports.newest is not None and not self._sync.unreliable:
            newest = max(reports.newest, until or reports.newest)
            self._sync.reports_until, self._sync.links = format_cursor_value(newest), reports.link_digest(newest)
        return [self._hand_out(Fetch(t)) for t in sorted(changed - self._memory.handed_out)]

    def deleted(self) -> List[str]:
        """With reconcile_deletions: the ids sent before that this complete read no longer lists."""
        self._expect(FINISHED, CLOSED)
        saved = self._sync.left
        if not self._rules.reconcile_deletions or self._sync.unreliable or not self._walked.to_the_end \
                or saved.sent is None or not saved.sent.by_id:
            return []
        named = set(saved.sent.entries) | set(saved.pending.entries if saved.pending.by_id else ())
        return sorted(str(key) for key in named.difference(self._memory.seen, self._memory.before_start))

    def close(self) -> None:
        """Every fetch is handed out. The state asked for from now on is the sync's outcome: the CDK asks
        only once every detail has been answered, or not at all."""
        self._expect(FINISHED)
        self._sync.phase = CLOSED

    # ------------------------------------------------------------------ answers and state

    def answered(self, record_id: str, record: Mapping[str, Any]) -> bool:
        """The detail (or list item) of `record_id` arrived: whether to send it."""
        seen, fields = self._memory.seen.get(record_id), self._memory.list_fields
        listed = seen.listed if seen is not None else fingerprint(
            {k: v for k, v in record.items() if (k in fields if fields else k not in self._rules.detail_fields)})
        value = sent_value(record, listed, self._rules.remembered_detail)
        final = self._rules.is_final(record.get(self._rules.status_field) if self._rules.status_field else None)
        cursor = parse_cursor_value(record.get(self._rules.cursor_field))
        last_sent = self._memory.rechecks.get(record_id)
        send = record_id in self._memory.resend or last_sent is None or last_sent.listed is None or last_sent != value
        # A transcript relinked to its reports may be older than start_date: it was never to be synced.
        send = send and not (self._sync.start and cursor and cursor < self._sync.start)
        with self._lock:  # a final record's cursor is never read again: not kept, a datetime less a record
            self._memory.answers[record_id] = Answer(value, final, None if final else cursor)
        if send:
            self._budget.sent(len(orjson.dumps(record)))
        return send

    def state(self) -> Mapping[str, Any]:
        """The list's state now: the saved one with this sync's progress until `close`, then the outcome."""
        with self._lock:
            if self._sync.phase != CLOSED:
                return self._saved.with_progress(progress_of(self._earlier, self._walk))
            if self._sync.written is None:
                self._sync.written = written(self.outcome(), self._rules, self._shape)
            return self._sync.written

    def outcome(self) -> ListState:
        """What this sync leaves for the next one, once every fetch is handed out and answered."""
        self._expect(CLOSED)
        if self._sync.outcome is None:
            self._sync.outcome = next_state(self._rules, self._saved, self._memory, self._earlier, self._pending.unseen,
                                            self._shape, self._sync)
        return self._sync.outcome

    def checkpoint_is_due(self) -> bool:
        """Whether the read's state budget has room for a checkpoint now, the final states set aside."""
        memory = self._memory
        final = final_state_estimate(self._sync.saved_bytes, len(memory.seen) + len(self._pending.unseen), self._rules,
                                     len(memory.answers) / max(len(memory.handed_out), 1))
        return self._budget.has_room(self, self._sync.saved_bytes + CHECKPOINT_BYTES, final)

    def checkpointed(self) -> None:
        self._budget.spend(self._sync.saved_bytes + CHECKPOINT_BYTES)

    # ------------------------------------------------------------------ decisions

    @property
    def _rechecks_by_detail(self) -> bool:
        """Pending records not on the pages read are re-checked by detail where the state names them by id."""
        return self._rules.rechecks_pending and self._saved.pending.by_id

    def _expect(self, *phases: str) -> None:
        if self._sync.phase not in phases:
            raise PlanOutOfOrder(f"called in the {self._sync.phase} phase; it belongs to: {', '.join(phases)}")

    def _seen(self, record_id: str, item: Mapping[str, Any], cursor_value: Optional[datetime], created: Optional[datetime]) -> Seen:
        """A listed record as this sync knows it, remembered where the next state may name it."""
        rules, walked = self._rules, self._walked
        final = rules.is_final(item.get(rules.status_field) if rules.status_field else None)
        covered = self._earlier.covers(record_id, created)
        legacy = not covered and was_handed_out(self._saved.legacy_handed_out, item, rules.cursor_field, rules.status_field)
        seen = Seen(fingerprint(item), final, cursor_value, created, walked.position, walked.pages == 1, covered, legacy)
        if rules.remembers_all or seen.on_first_page or not final or covered:
            self._memory.seen[record_id] = seen
        self._memory.list_fields = self._memory.list_fields or frozenset(item)
        walked.position += 1
        return seen

    def _decide(self, record_id: str, item: Mapping[str, Any], seen: Seen, saved: Optional[Sent], was_pending: bool,
                mark: bytes) -> Optional[Fetch]:
        memory = self._memory
        if seen.legacy or record_id in memory.handed_out:
            return None
        if seen.covered:
            delivered = self._earlier.delivered_as(record_id)
            if delivered is None or delivered == mark:
                return None  # decided when the region settles, or reached the destination as listed now
            memory.resend.add(record_id)  # listed otherwise since the region settled: sent again
        elif not self._change.changed(saved, was_pending, seen.listed, seen.final, seen.cursor):
            if not self._rules.recheck_listed or saved is None:
                return None
            memory.rechecks[record_id] = saved  # its detail is read anyway (a shared answer): sent if it changed
        return Fetch(record_id, listed=item if self._rules.list_only else None)

    def _hand_out(self, fetch: Fetch) -> Fetch:
        with self._lock:
            self._memory.handed_out.add(fetch.record_id)
        return fetch
