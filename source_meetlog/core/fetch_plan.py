"""Which listed records get a detail request, how far a list is read, and what its state says next.

A detail request costs one of the 60 requests a minute a key allows, so a sync asks for the detail
of a listed record only when it may have changed since it was sent, as the list shows it:

- it is new: its cursor value is past where the last sync settled (less the lookback window);
- its list fields differ from what was sent (a rename, a report retitled, a pending record that is
  final now): the state keeps a fingerprint of what was sent (list_state.py);
- it is a transcript whose report_ids changed: a report was added or deleted (`relinks`);
- it is pending (not final when sent) and the pages this sync reads do not reach it: the plan reads
  on down to it, or re-checks it by a detail request, whichever costs fewer requests;
- and not if an earlier, interrupted attempt of this sync handed it out already (`progress`).

A list read whole (reports, projects, transcripts with reconcile_deletions) shows every record, so a
record it lists that was never sent is fetched too. The newest-first transcripts list is read only
as deep as the cursor, the pending records, and page 1 need.

<- saved: cursor 10:00, sent {b: fp(b)}, pending {p: fp(p processing)}
<- page 1: [a 10:05 completed, b 09:00 retitled, p 08:00 completed]
-> fetch a (new), b (changed), p (final now); stop paging: nothing pending is left below
"""

import math
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Dict, FrozenSet, List, Mapping, Optional, Set, Tuple

import orjson

from source_meetlog.core.links import ReportSets
from source_meetlog.core.list_state import (NOT_KNOWN, ListOrderProgress, ListState, NewestFirstProgress, Progress,
                                            Table, fingerprint, id_hash, legacy_fingerprint)
from source_meetlog.core.timestamps import format_cursor_value, parse_cursor_value

# Statuses after which a transcript's or report's fields no longer change.
FINAL_STATUSES = frozenset({"completed", "failed"})
# All the state messages of a sync together stay under this share of the record bytes it sends: a
# checkpoint is taken when the budget, less what the final states will weigh, has room for it.
STATE_BYTES_BUDGET = 0.05
# What a checkpoint weighs beside the saved list state: the CDK's message around it, and the progress;
# and what a RECORD line weighs beside the record's data: both are counted as the lines they are.
CHECKPOINT_BYTES = 350
RECORD_LINE_BYTES = 90
# Ids that mark where an interrupted read of an unordered list stopped: a few, so that one of
# them deleted between the attempts still leaves the place findable.
MARKERS = 3
_EMPTY_REPORTS = fingerprint([])


@dataclass(frozen=True)
class ListRules:
    """What a stream's list promises, and what the user asked for."""

    cursor_field: str
    status_field: Optional[str] = None  # None: every record is final as soon as it exists (projects)
    newest_first: bool = False  # documented newest first (transcripts): read only as deep as needed
    reconcile_deletions: bool = False
    start_date: Optional[str] = None
    detail_fields: FrozenSet[str] = frozenset()  # only the detail holds them: not in a list fingerprint
    # A detail-only field whose value as sent is remembered too: transcripts' report_ids (see relinks),
    # projects' transcripts (re-checked where project_transcripts reads every project's detail anyway).
    remembered_detail: Optional[str] = None
    list_only: bool = False  # the records are the list items: no detail request at all
    recheck_listed: bool = False  # every listed record's detail is read anyway: send it only if it changed


class StateBudget:
    """The state bytes one read may write: STATE_BYTES_BUDGET of the record bytes it sends, over every
    stream, so that a stream of small records may checkpoint on what a stream of large ones earned.

    sent(900 B) x 40 -> 36,000 B of records: 1,800 B of state, less the final states' share
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.record_bytes = 0
        self.state_bytes = 0
        self._finals: Dict[int, int] = {}  # each plan's final state, as it would weigh now

    def sent(self, size: int) -> None:
        with self._lock:
            self.record_bytes += size

    def has_room(self, plan: object, size: int, final: int) -> bool:
        with self._lock:
            self._finals[id(plan)] = final
            return self.state_bytes + size + sum(self._finals.values()) <= STATE_BYTES_BUDGET * self.record_bytes

    def spend(self, size: int) -> None:
        with self._lock:
            self.state_bytes += size


@dataclass(frozen=True)
class Fetch:
    """One record to send: by a detail request, or, with `listed`, from its list item."""

    record_id: str
    listed: Optional[Mapping[str, Any]] = None


@dataclass
class _Seen:
    fingerprint: bytes  # of the list item
    final: bool
    cursor: Optional[datetime]
    position: int
    on_first_page: bool
    sent_earlier: bool  # handed out by an earlier, interrupted attempt of this sync


class FetchPlan:
    """One sync of one list: which records to send, how far to read, and the list's next state.

    The router feeds it the listed items (`see`), asks after each page whether to read on
    (`wants_next_page`), then takes the re-checks (`finish`) and the relinks; the record filter
    tells it each answer (`answered`). `state()` is what a checkpoint saves: the saved state and
    this sync's progress until `close`, then the sync's outcome.
    """

    def __init__(self, rules: ListRules, saved: ListState, resume_after: Optional[datetime],
                 inclusive: bool, now: datetime, budget: Optional[StateBudget] = None) -> None:
        self._rules, self._budget, self._inclusive = rules, budget or StateBudget(), inclusive
        # A stream read from its list pages until now, whose details are wanted now: read it all again.
        self.restarts = saved.list_only and not rules.list_only
        self._saved = ListState(progress=saved.progress, saved=saved.saved) if self.restarts else saved
        self._resume_after = None if self.restarts else resume_after
        self._start_date = parse_cursor_value(rules.start_date)
        # A list read whole names every record, so one never sent is new; unless nothing was remembered.
        self._remembers_all = not rules.newest_first or rules.reconcile_deletions
        # (The newest-first list remembered all only if reconcile_deletions was on then: ids, not hashes.)
        self._knows_all = self._remembers_all and self._saved.sent is not None and (
            not rules.newest_first or self._saved.sent.by_id)
        # Pending records not on the pages read are re-checked by detail where the state names them by id.
        self._may_recheck = rules.newest_first and not rules.list_only
        self._rechecks_by_detail = self._may_recheck and self._saved.pending.by_id
        # No cursor may pass the last whole second before the list was read: a record made later
        # in that second shares its timestamp with the ones seen, and must not be passed.
        self._read_at = now.replace(microsecond=0) - timedelta(seconds=1)
        self._lock = threading.Lock()  # answers arrive on the CDK's worker threads
        # The listed records the next state may remember; every one where it remembers all (deleted() relies on it).
        self._seen: Dict[str, _Seen] = {}
        self._list_fields: FrozenSet[str] = frozenset()  # what a list item holds, to compare a detail with
        self._answers: Dict[str, Tuple[bytes, bool, Optional[datetime]]] = {}
        self._handed_out: Set[str] = set()
        self._rechecks: Dict[str, bytes] = {}  # id -> what was sent, for the pending re-checked by detail
        self._pending_unseen: Set[Any] = set(self._saved.pending.entries)
        self._reports_until = self._saved.reports_until
        self.unreliable = False  # some records may not have been seen: nothing is called gone
        self.read_to_the_end = False  # the last page was read: the list named every record
        self._newest = self._total = self._top = None
        self._per_page, self._in_order, self._finished = 100, True, False
        self._range: Optional[Tuple[datetime, datetime]] = None  # newest first: what this attempt covers
        self._last_ids: Tuple[str, ...] = ()
        self._progress_at: Optional[Tuple[Any, Tuple[str, ...], int]] = (None, (), 0)  # (range, last ids, pages)
        self._outcome: Optional[ListState] = None
        self._written: Optional[Mapping[str, Any]] = None
        self._saved_bytes = len(orjson.dumps(self._saved.saved))
        self.new_read()

    # ------------------------------------------------------------------ reading the list

    def new_read(self) -> None:
        """The list is read (again) from page 1: what was handed out stays handed out."""
        self._page, self._pages_read, self._position, self._last_value = None, 0, 0, None
        self.read_to_the_end = False
        progress = self._saved.progress
        self._skipping = _PrefixSkip(progress if isinstance(progress, ListOrderProgress) else None)

    def see(self, item: Mapping[str, Any], page: Any, record_id: Optional[str], cursor_value: Optional[datetime],
            total: Optional[int] = None, pages: Optional[int] = None) -> Optional[Fetch]:
        """The fetch this listed item calls for, if any. `total`, `pages`: the page's meta."""
        # A partition the router yields reaches the CDK only once the next one is asked for: what a
        # checkpoint may say is handed out stops before the record this item may hand out (a range
        # never takes in its own item's second; markers are the ids before it).
        ids_before, pages_before = self._last_ids, self._pages_read
        if page != self._page:
            self._page, self._pages_read = page, self._pages_read + 1
            self._skipping.page_begins()
        if isinstance(total, int) and isinstance(pages, int) and pages > 0:
            self._total, self._per_page = total, max(math.ceil(total / pages), 1)
        self._note_place(cursor_value)
        created = cursor_value if self._rules.cursor_field == "created_at" else parse_cursor_value(item.get("created_at"))
        if record_id is None or (self._start_date and created and created < self._start_date):
            return None  # created before start_date: never synced (one without created_at is kept)
        saved, was_pending = self._saved_entry(record_id)
        if was_pending:
            self._pending_unseen.discard(self._saved.pending.key_of(record_id))
        final = self._is_final(item.get(self._rules.status_field) if self._rules.status_field else None)
        listed_fp = fingerprint(item)
        self._list_fields = self._list_fields or frozenset(item)
        done_before = self._skipping.covers(record_id, cursor_value) or self._covered_by_earlier_attempt(
            record_id, cursor_value, item)
        if self._remembers_all or self._pages_read == 1 or not final:
            self._seen[record_id] = _Seen(listed_fp, final, cursor_value, self._position, self._pages_read == 1,
                                          done_before)
        self._position += 1
        self._last_ids = (self._last_ids + (id_hash(record_id).hex(),))[-MARKERS:]  # 8 characters: checkpoints stay small
        if record_id in self._handed_out or done_before:
            return None
        if not self._changed(saved, was_pending, listed_fp, final, cursor_value):
            if not self._rules.recheck_listed or saved is None:
                return None
            self._rechecks[record_id] = saved  # its detail is read anyway (a shared answer): sent if it changed
        self._progress_at = (self._range, ids_before, pages_before)
        return self._hand_out(record_id, item)

    def wants_next_page(self) -> bool:
        """After a page: whether the rest of the list can change what this sync sends."""
        if self._remembers_all or not self._in_order:
            return True
        if self._last_value is None or self._may_be_new(self._last_value):
            return True  # the cursor's records may go on
        unseen = len(self._pending_unseen)  # a tie goes to the detail requests: they bring each record whole
        pages_left = self._pages_down_to(self._saved.pending_low) - self._pages_read
        return unseen > 0 and not (self._rechecks_by_detail and unseen <= pages_left)

    def finish(self) -> List[Fetch]:
        """The list is read: the pending records it did not reach, to re-check one request each."""
        self._progress_at = None  # the list is read: every record of it is handed out
        if self.read_to_the_end and not self.unreliable:
            self._pending_unseen.clear()  # a complete list no longer names them: gone
        if not self._rechecks_by_detail:
            return []  # kept as they were, for a sync whose pages reach them
        for record_id in sorted(self._pending_unseen):
            self._rechecks[record_id] = self._saved.pending.entries[record_id]
        return [self._hand_out(record_id, None) for record_id in sorted(self._pending_unseen)]

    def relinks(self, reports: ReportSets) -> List[Fetch]:
        """Transcripts whose report_ids changed: a report added since, or, where the sent report_ids
        are remembered and the reports list was read whole, one added or deleted."""
        changed: Set[str] = set()
        until = parse_cursor_value(self._reports_until)
        for transcript_id, report_ids in reports.by_transcript.items():
            sent = _detail_part(self._entry_now(transcript_id))
            if sent is not None and reports.complete:
                if sent != fingerprint(sorted(report_ids)):
                    changed.add(transcript_id)
            elif until is not None and reports.newest_of(transcript_id) > until:
                changed.add(transcript_id)  # a report made since: its transcript was sent without it
        if reports.complete:
            for transcript_id in self._seen:
                sent = _detail_part(self._entry_now(transcript_id))
                if transcript_id not in reports.by_transcript and sent not in (None, _EMPTY_REPORTS):
                    changed.add(transcript_id)  # its last report was deleted
        if reports.newest is not None and not self.unreliable:
            self._reports_until = format_cursor_value(max(reports.newest, until or reports.newest))
        return [self._hand_out(t, None) for t in sorted(changed - self._handed_out)]

    def close(self) -> None:
        """Every fetch is handed out. The state asked for from now on is the sync's outcome: the CDK
        asks only once every detail has been answered, or not at all."""
        self._finished = True

    def deleted(self) -> List[str]:
        """With reconcile_deletions: the ids sent before that this complete read no longer lists."""
        saved = self._saved
        if not self._rules.reconcile_deletions or self.unreliable or not self.read_to_the_end or saved.sent is None \
                or saved.start_date != self._rules.start_date or not saved.sent.by_id:
            return []
        return sorted((set(saved.sent.entries) | set(saved.pending.entries if saved.pending.by_id else ())).difference(self._seen))

    # ------------------------------------------------------------------ answers

    def answered(self, record_id: str, record: Mapping[str, Any]) -> bool:
        """The detail (or list item) of `record_id` arrived: whether to send it."""
        value = self._value_of(record_id, record)
        status = record.get(self._rules.status_field) if self._rules.status_field else None
        cursor = parse_cursor_value(record.get(self._rules.cursor_field))
        last_sent = self._rechecks.get(record_id)
        send = last_sent is None or last_sent[:4] == NOT_KNOWN or last_sent != value
        # A transcript relinked to its reports may be older than start_date: it was never to be synced.
        send = send and not (self._start_date and cursor and cursor < self._start_date)
        with self._lock:
            self._answers[record_id] = (value, self._is_final(status), cursor)
        if send:
            self._budget.sent(len(orjson.dumps(record)) + RECORD_LINE_BYTES)
        return send

    # ------------------------------------------------------------------ state

    def state(self) -> Mapping[str, Any]:
        """The list's state now: the saved one with this sync's progress until `close`, then the sync's outcome."""
        with self._lock:
            if not self._finished:
                return self._saved.with_progress(self._merged_progress())
            if self._written is None:
                outcome = self.outcome()
                # Pending records by id where re-checking each by detail may be cheaper than the pages down to them.
                few = len(outcome.pending.entries) + 1 <= self._pages_down_to(outcome.pending_low)
                pending_by_id = self._rules.reconcile_deletions or (self._may_recheck and few)
                self._written = outcome.written(self._rules.cursor_field, self._rules.reconcile_deletions, pending_by_id)
            return self._written

    def outcome(self) -> ListState:
        """What this sync leaves for the next one, once every fetch is handed out and answered."""
        if self._outcome is None:
            self._outcome = self._next_state()
        return self._outcome

    def checkpoint_is_due(self) -> bool:
        """Whether the read's state budget has room for a checkpoint now, the final states set aside: the
        saved state, and what this sync adds to it in step with the records it has sent so far (a list
        read whole at once must not hold back every checkpoint until its records have earned its final)."""
        entry = (16 if self._rules.reconcile_deletions else 4) + (8 if self._rules.remembered_detail else 4)
        share = min(len(self._answers) / max(len(self._handed_out), 1), 1.0)
        final = self._saved_bytes + int((len(self._seen) + len(self._pending_unseen)) * entry * 4 / 3 * share)
        return self._budget.has_room(self, self._saved_bytes + CHECKPOINT_BYTES, final)

    def checkpointed(self) -> None:
        self._budget.spend(self._saved_bytes + CHECKPOINT_BYTES)

    def _next_state(self) -> ListState:
        """The records the next sync reads, with what was sent of each: every record of a list read
        whole, and of the newest-first list its first page; pending records apart."""
        width = 8 if self._rules.remembered_detail else 4
        sent, pending, lows = Table(width=width), Table(width=width), []
        for record_id, seen in self._seen.items():
            value, final, cursor = self._outcome_of(record_id, seen)
            if value is None:
                continue  # handed out and never answered: a 404, the record is gone
            if not final:
                pending.entries[record_id] = value
                lows.append((cursor, seen.position))
            elif self._remembers_all or seen.on_first_page:
                sent.entries[record_id] = value
        for key in self._pending_unseen:  # not reached, or re-checked by detail
            answer = self._answers.get(key) if isinstance(key, str) else None
            if answer is None and key in self._handed_out:
                continue  # gone
            value, final, cursor = answer or (self._saved.pending.entries[key], False, None)
            target = pending if not final else (sent if self._remembers_all else None)
            if target is not None:
                target.entries[key] = value
            lows += [(cursor, None)] if not final and cursor else []
        if self.unreliable and self._saved.sent is not None and self._remembers_all:
            for key, value in self._saved.sent.entries.items():  # some records may not have been seen
                sent.entries.setdefault(key, value)
        if pending.entries and not self._saved.pending.by_id and self._pending_unseen:
            pending.by_id = False  # keys of hashes carried over: the table stays by hash
        return ListState(
            cursor=self._next_cursor(), sent=sent, pending=pending, pending_low=self._pending_low(lows),
            reports_until=self._reports_until, start_date=self._rules.start_date, list_only=self._rules.list_only,
        )

    def _outcome_of(self, record_id: str, seen: _Seen) -> Tuple[Optional[bytes], bool, Optional[datetime]]:
        answer = self._answers.get(record_id)
        if answer is not None:
            return answer
        if record_id in self._handed_out:
            return None, seen.final, seen.cursor
        saved, _ = self._saved_entry(record_id)
        if saved is not None and saved[:4] != NOT_KNOWN and not seen.sent_earlier:
            return saved, seen.final, seen.cursor
        # Sent by an interrupted attempt, or before fingerprints were kept: the list says what it holds.
        return seen.fingerprint + (NOT_KNOWN if self._rules.remembered_detail else b""), seen.final, seen.cursor

    def _pending_low(self, lows: List[Tuple[Optional[datetime], Optional[int]]]) -> Optional[Tuple[str, Optional[int]]]:
        """The oldest pending record, and how many records the list holds below it."""
        known = [(cursor, position) for cursor, position in lows if cursor is not None]
        if not known:
            return self._saved.pending_low if lows else None
        cursor, position = min(known, key=lambda low: low[0])
        older = self._total - position - 1 if position is not None and self._total is not None else None
        return format_cursor_value(cursor), older

    def _next_cursor(self) -> Optional[str]:
        if self.unreliable or self._newest is None:
            return self._saved.cursor  # stay where the last sync settled
        reached = min(self._newest, self._read_at)
        saved = parse_cursor_value(self._saved.cursor)
        return format_cursor_value(max(reached, saved) if saved is not None else reached)  # never backwards

    # ------------------------------------------------------------------ decisions

    def _is_final(self, status: Any) -> bool:
        return not self._rules.status_field or status in FINAL_STATUSES

    def _may_be_new(self, cursor_value: Optional[datetime]) -> bool:
        if self._resume_after is None or cursor_value is None:
            return True
        return cursor_value >= self._resume_after if self._inclusive else cursor_value > self._resume_after

    def _changed(self, saved: Optional[bytes], was_pending: bool, listed_fp: bytes, final: bool,
                 cursor_value: Optional[datetime]) -> bool:
        if self._may_be_new(cursor_value):
            return True
        if saved is None:
            return self._knows_all  # listed whole, never sent: added late, or back into start_date
        if saved[:4] == NOT_KNOWN:
            return was_pending and final  # sent by 0.2.0: only a pending record final now is news
        return saved[:4] != listed_fp

    def _saved_entry(self, record_id: str) -> Tuple[Optional[bytes], bool]:
        """What the last sync sent of a record, and whether it was pending then."""
        pending = self._saved.pending.get(record_id)
        if pending is not None:
            return pending, True
        return (self._saved.sent.get(record_id) if self._saved.sent is not None else None), False

    def _entry_now(self, record_id: str) -> Optional[bytes]:
        """What this sync sent of a record, else what the last sync did."""
        answer = self._answers.get(record_id)
        return answer[0] if answer else None if record_id in self._handed_out else self._saved_entry(record_id)[0]

    def _value_of(self, record_id: str, record: Mapping[str, Any]) -> bytes:
        """What is remembered of a record sent: the fingerprint of its list fields, as the list showed
        them when this sync read it, else as the answer has them (a re-check, a relink); and of a
        transcript, its report_ids. A field the detail adds beyond the list's changes nothing."""
        seen = self._seen.get(record_id)
        listed_part = seen.fingerprint if seen is not None else fingerprint(
            {k: v for k, v in record.items() if (k in self._list_fields if self._list_fields else k not in self._rules.detail_fields)})
        field = self._rules.remembered_detail
        value = record.get(field) if field else None
        if not field or not isinstance(value, list):
            return listed_part + (NOT_KNOWN if field else b"")
        return listed_part + fingerprint(sorted(value) if all(isinstance(v, str) for v in value) else value)  # ids: a set

    def _pages_down_to(self, pending_low: Optional[Tuple[str, Optional[int]]]) -> int:
        """The list pages from the first down to the oldest pending record (all, where that is not known)."""
        older = pending_low[1] if pending_low and pending_low[1] is not None else 0
        return math.ceil(max((self._total or 0) - older, 1) / self._per_page)

    def _hand_out(self, record_id: str, item: Optional[Mapping[str, Any]]) -> Fetch:
        with self._lock:
            self._handed_out.add(record_id)
        return Fetch(record_id, listed=item if self._rules.list_only and item is not None else None)

    def _note_place(self, cursor_value: Optional[datetime]) -> None:
        """Keeps the order check, the newest value, and this attempt's progress in step with the list."""
        if cursor_value is None:
            return
        if self._newest is None or cursor_value > self._newest:
            self._newest = cursor_value
        if self._last_value is not None and cursor_value > self._last_value:
            self._in_order = False  # not newest first after all: read to the end, progress stays put
        self._last_value = cursor_value
        if self._rules.newest_first and self._in_order:
            # Every record newer than this one is handed out; those of its second may still come.
            self._top = self._top or min(cursor_value, self._read_at).replace(microsecond=0)
            low = cursor_value.replace(microsecond=0) + timedelta(seconds=1)
            self._range = (low, self._top) if low <= self._top else self._range

    def _merged_progress(self) -> Progress:
        """What every attempt so far has handed out: earlier attempts' progress and this one's."""
        earlier = self._saved.progress
        span, last_ids, pages = self._progress_at or (self._range, self._last_ids, self._pages_read)
        if self._rules.newest_first:
            this = NewestFirstProgress((span,) if span else ())
            return earlier.merged_with(this) if isinstance(earlier, NewestFirstProgress) else this
        if isinstance(earlier, ListOrderProgress) and not self._skipping.passed:
            return earlier  # this attempt has not yet got past where the last one stopped
        return ListOrderProgress(read_at=format_cursor_value(self._read_at), pages=pages, after=last_ids)

    def _covered_by_earlier_attempt(self, record_id: str, cursor_value: Optional[datetime], item: Mapping[str, Any]) -> bool:
        progress = self._saved.progress
        if isinstance(progress, NewestFirstProgress) and progress.covers(cursor_value):
            return True
        legacy = self._saved.legacy_handed_out
        return bool(legacy) and legacy_fingerprint(item, self._rules.cursor_field, self._rules.status_field) in legacy


def _detail_part(entry: Optional[bytes]) -> Optional[bytes]:
    """What was sent of the remembered detail field (report_ids), where it is known."""
    part = entry[4:8] if entry is not None else b""
    return part if len(part) == 4 and part != NOT_KNOWN else None


class _PrefixSkip:
    """Walks an unordered list as an interrupted attempt left it: every record before its markers
    (the hashes of the last ids it handed out) was handed out, unless it is newer than that read.

    markers [m1, m2, m3], read_at R: skip old records (cursor <= R) until a marker shows; after a
    marker, skip only markers; the first other old record is new ground. Past the pages that attempt
    reached, stop skipping: records it handed out that insertions pushed further are fetched again.
    (Only if every marker was deleted between the attempts can a record that moved onto those pages
    in their place be skipped: a few records, only then.)
    """

    def __init__(self, progress: Optional[ListOrderProgress]) -> None:
        self._progress = progress if progress is not None and progress.after else None
        self._read_at = parse_cursor_value(self._progress.read_at) if self._progress else None
        self._page = 0
        self._seen_marker = False
        self.passed = self._progress is None

    def page_begins(self) -> None:
        self._page += 1
        if self._progress is not None and self._page > (self._progress.pages or 0):
            self.passed = True

    def covers(self, record_id: str, cursor_value: Optional[datetime]) -> bool:
        if self.passed:
            return False
        if id_hash(record_id).hex() in self._progress.after or record_id in self._progress.after:  # or 0.2.0's whole id
            self._seen_marker = True
            return True
        old = cursor_value is not None and self._read_at is not None and cursor_value <= self._read_at
        if not old:
            return False  # newer than that read: it was never handed out
        if self._seen_marker:
            self.passed = True  # the first old record after the markers: new ground
            return False
        return True
