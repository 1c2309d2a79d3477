"""Which listed records get a detail request, and what the list's state says next. Plain Python.

A detail request costs one of the 60 requests a minute a key allows, so a sync asks for the detail
of a listed record only when it may have changed:

- it is new: its cursor value is past where the last sync settled (less the lookback window);
- it is pending: not final when it was last sent (a transcript or report still `processing`). Its id
  and a fingerprint of what was sent are kept in the state until it is final or gone. When the list
  shows it (reports and projects are listed whole) and it is still not final, that costs nothing;
  otherwise one detail request re-checks it, and the answer is emitted only if it differs from
  what was sent;
- an earlier, interrupted attempt of this sync has not handed it out yet (`progress`).

The cursor moves past pending records at once: they are remembered by id, not by holding it back.

<- state {"created_at": "10:00", "pending": {"b": "9f…"}}; list [a 10:05 completed, c 09:00 completed]
-> fetch a (new); re-check b (pending, not on the pages read); c is skipped; next cursor 10:05
"""

import hashlib
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Dict, List, Mapping, Optional, Set, Tuple

import orjson

from source_meetlog.core.timestamps import format_cursor_value, parse_cursor_value
from source_meetlog.core.list_state import ListOrderProgress, ListState, NewestFirstProgress, legacy_fingerprint

# Statuses after which a transcript's or report's fields no longer change.
FINAL_STATUSES = frozenset({"completed", "failed"})
# With reconcile_deletions every state carries every id synced (list_state.py): all the state
# messages of a sync together stay under 5% of the record bytes it sends. A checkpoint waits for
# 33 times its own size in records (3%), leaving the rest for the final state.
STATE_BYTES_BUDGET = 0.03
# Ids that mark where an interrupted read of an unordered list stopped: a few, so that one of
# them deleted between the attempts still leaves the place findable.
MARKERS_PER_PAGE = 3


def _ceil_second(moment: datetime) -> datetime:
    whole = moment.replace(microsecond=0)
    return whole if whole == moment else whole + timedelta(seconds=1)


def fingerprint(record: Mapping[str, Any]) -> str:
    """A record as sent -> 16 hex digits that change when any field does."""
    return _fingerprint_and_size(record)[0]


def _fingerprint_and_size(record: Mapping[str, Any]) -> Tuple[str, int]:
    blob = orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(blob, digest_size=8).hexdigest(), len(blob)


@dataclass(frozen=True)
class ListRules:
    """What a stream's list promises, and what the user asked for."""

    cursor_field: str
    status_field: Optional[str] = None  # None: every record is final as soon as it exists (projects)
    newest_first: bool = False  # documented newest first (transcripts): read until the cursor
    reconcile_deletions: bool = False
    start_date: Optional[str] = None
    link_field: Optional[str] = None  # reports: transcription_id, whose report_ids a new report changes


@dataclass(frozen=True)
class Fetch:
    """One detail request. `last_sent`: the fingerprint of what an earlier sync sent, for a re-check."""

    record_id: str
    last_sent: Optional[str] = None


@dataclass
class _Page:
    number: Any = None
    cursors: List[datetime] = field(default_factory=list)
    ids: List[str] = field(default_factory=list)


class FetchPlan:
    """One sync of one list: which records to fetch, what to re-check, and the list's next state.

    The router feeds it the listed items page by page (`see`, `page_done`), then `finish`; the
    detail stream tells it each answer (`answered`). `state()` is what a checkpoint saves: it
    changes once per list page, so the CDK writes one state message per page, not per record.
    """

    def __init__(self, rules: ListRules, saved: ListState, resume_after: Optional[datetime],
                 inclusive: bool, now: datetime, first_sync: bool = False) -> None:
        self._rules = rules
        self._first_sync = first_sync  # every record is new: nothing synced before to relink
        self._saved = saved
        self._resume_after = resume_after
        self._inclusive = inclusive
        # No cursor may pass the last whole second before the list was read: a record made later
        # in that second shares its timestamp with the ones seen, and must not be passed.
        self._read_at = now.replace(microsecond=0) - timedelta(seconds=1)
        self._lock = threading.Lock()  # answers arrive on the CDK's worker threads
        self._pending: Dict[str, str] = dict(saved.pending)  # live: hand-outs and answers so far
        self._committed_pending: Dict[str, str] = dict(saved.pending)
        self._rechecks: Dict[str, str] = {}  # id -> fingerprint last sent, for this sync's re-checks
        self._answered: Set[str] = set()
        self._handed_out: Set[str] = set()
        self._seen_pending: Set[str] = set()
        self.listed: Set[str] = set()
        self._link_of: Dict[str, str] = {}  # listed id -> its transcript, with link_field
        self._new_links: Set[str] = set()  # transcripts whose report_ids this sync's new records change
        self._relink_later: Set[str] = set()
        self.unreliable = False  # some records may not have been seen: nothing is called gone
        self.read_to_the_end = False  # the last page was read: the list named every record
        self._newest: Optional[datetime] = None
        self._page = _Page()
        self._progress = self._progress_of_this_attempt()
        self._committed_progress = saved.progress
        self._finished = False
        self._state: Optional[ListState] = None  # the state as of the last commit, until the next
        self.record_bytes = 0  # what the answers weigh, for the checkpoint budget
        self._checkpointed_bytes = 0
        self._state_bytes = len(saved.synced_ids_text or "") if rules.reconcile_deletions else 0
        self.new_read()

    # ------------------------------------------------------------------ reading the list

    def new_read(self) -> None:
        """The list is read (again) from page 1: what was handed out stays handed out."""
        self._page = _Page()
        self.read_to_the_end = False
        if isinstance(self._progress, ListOrderProgress):
            self._progress = ListOrderProgress(read_at=self._progress.read_at)
        saved = self._saved.progress
        self._skipping = _PrefixSkip(saved if isinstance(saved, ListOrderProgress) else None)

    def see(self, item: Mapping[str, Any], page: Any, record_id: Optional[str],
            cursor_value: Optional[datetime] = None) -> Optional[Fetch]:
        """The fetch this listed item calls for, if any. `cursor_value`: the item's cursor field
        parsed, when the caller has parsed it already."""
        if page != self._page.number:
            self._page = _Page(number=page)
            self._skipping.page_begins()
        if cursor_value is None:
            cursor_value = parse_cursor_value(item.get(self._rules.cursor_field))
        if cursor_value is not None:
            self._page.cursors.append(cursor_value)
            if self._newest is None or cursor_value > self._newest:
                self._newest = cursor_value
        if record_id is None:
            return None
        self._page.ids.append(record_id)
        self.listed.add(record_id)
        link = item.get(self._rules.link_field) if self._rules.link_field else None
        if isinstance(link, str):
            self._link_of[record_id] = link
        already_done = self._skipping.covers(record_id, cursor_value)  # keep the walk in step
        if record_id in self._handed_out:
            return None
        status = item.get(self._rules.status_field) if self._rules.status_field else None
        final = self._is_final(status)
        if record_id in self._saved.pending:
            if not final:
                self._seen_pending.add(record_id)
                return None  # still not final, as the list says: nothing to fetch
            return self._hand_out(Fetch(record_id, self._saved.pending[record_id]), final)
        if not self._may_have_changed(cursor_value):
            return None
        if already_done or self._covered_by_earlier_attempt(record_id, cursor_value, item):
            return None
        if isinstance(link, str) and not self._first_sync:
            self._new_links.add(link)
        return self._hand_out(Fetch(record_id), final)

    def page_done(self, next_item: Optional[Mapping[str, Any]] = None) -> None:
        """Every fetch of the page just read is handed out: commit what a checkpoint may say.
        `next_item`: the first item of the next page, if any (the seam between the two)."""
        seam = parse_cursor_value(next_item.get(self._rules.cursor_field)) if next_item is not None else None
        with self._lock:
            if self._page.cursors or self._page.ids:
                self._progress = self._extended_progress(seam)
            self._committed_progress = self._merged_progress()
            self._committed_pending = dict(self._pending)
            self._state = None

    def finish(self) -> List[Fetch]:
        """The list is read: the pending records it did not settle, to re-check one request each."""
        rechecks: List[Fetch] = []
        # A newest-first list may have stopped at the cursor; the others are always read whole.
        whole_list = self.read_to_the_end or not self._rules.newest_first
        for record_id, last_sent in self._saved.pending.items():
            if record_id in self._seen_pending or record_id in self._handed_out:
                continue
            if whole_list and not self.unreliable:
                with self._lock:
                    self._pending.pop(record_id, None)  # a complete list no longer names it: gone
                continue
            rechecks.append(self._hand_out(Fetch(record_id, last_sent), final=False))
        return rechecks

    def close(self) -> None:
        """Every fetch is handed out (re-checks and links too). The state asked for from now on is the
        sync's outcome: the CDK asks only once every detail has been answered, or not at all."""
        with self._lock:
            self._finished = True

    def deleted(self) -> List[str]:
        """With reconcile_deletions: the ids synced before that this complete read no longer lists."""
        previous = self._saved.synced_ids
        if not self._rules.reconcile_deletions or previous is None or self.unreliable:
            return []
        if self._saved.synced_ids_start_date != self._rules.start_date:
            return []
        return sorted(previous - self.listed)

    def changed_links(self) -> Set[str]:
        """With link_field: the transcripts whose report_ids changed in this sync (a new report, or
        with reconcile_deletions a deleted one)."""
        deleted = {self._saved.synced_links[i] for i in self.deleted() if i in self._saved.synced_links}
        return self._new_links | deleted

    def relink_later(self, transcript_ids: Set[str]) -> None:
        """Transcripts the transcripts stream could not take in this sync: the next sync's will."""
        with self._lock:
            self._relink_later = set(transcript_ids)

    def fetch_link(self, record_id: str) -> Optional[Fetch]:
        """A transcript whose report_ids changed: fetched once, unless this sync fetched it already."""
        if record_id in self._handed_out:
            return None
        return self._hand_out(Fetch(record_id), final=True)

    @property
    def start_date_changed(self) -> bool:
        return self._saved.synced_ids is not None and self._saved.synced_ids_start_date != self._rules.start_date

    # ------------------------------------------------------------------ answers

    def answered(self, record_id: str, record: Mapping[str, Any]) -> bool:
        """The detail of `record_id` arrived: whether to emit it (a re-check that changed nothing is not)."""
        record_fingerprint, size = _fingerprint_and_size(record)
        status = record.get(self._rules.status_field) if self._rules.status_field else None
        with self._lock:
            self._answered.add(record_id)
            self.record_bytes += size
            if self._is_final(status):
                self._pending.pop(record_id, None)
            else:
                self._pending[record_id] = record_fingerprint
            last_sent = self._rechecks.get(record_id)
        return last_sent is None or last_sent != record_fingerprint

    # ------------------------------------------------------------------ state

    def state(self) -> ListState:
        """What the list's state says now: as of the last whole page until `close`, and the sync's
        outcome after it."""
        with self._lock:
            if not self._finished:
                if self._state is None:
                    self._state = ListState(
                        cursor=self._saved.cursor, pending=dict(self._committed_pending),
                        progress=self._committed_progress, synced_ids=self._saved.synced_ids,
                        synced_ids_start_date=self._saved.synced_ids_start_date,
                        synced_ids_text=self._saved.synced_ids_text,
                    )
                return self._state
            # A record handed out and never answered was a 404: it is gone.
            pending = {i: fp for i, fp in self._pending.items() if i in self._answered or i not in self._handed_out}
            relink = tuple(sorted(self._relink_later))
        # The sync's outcome, asked for once when every detail is answered: built afresh, not kept.
        ids = self._next_synced_ids()
        links = {i: self._link_of.get(i) or self._saved.synced_links.get(i) for i in ids or ()}
        return ListState(
            cursor=self._next_cursor(), pending=pending, synced_ids=ids, synced_ids_start_date=self._rules.start_date,
            synced_links={i: link for i, link in links.items() if link}, relink=relink,
        )

    def worth_a_checkpoint(self) -> bool:
        """Whether the records sent since the last checkpoint outweigh the state a new one writes
        by the budget (with reconcile_deletions; always, without)."""
        if not self._rules.reconcile_deletions:
            return True
        with self._lock:
            if (self.record_bytes - self._checkpointed_bytes) * STATE_BYTES_BUDGET < self._state_bytes:
                return False
            self._checkpointed_bytes = self.record_bytes
            return True

    def _next_cursor(self) -> Optional[str]:
        if self.unreliable or self._newest is None:
            return self._saved.cursor  # stay where the last sync settled
        reached = min(self._newest, self._read_at)
        saved = parse_cursor_value(self._saved.cursor)
        return format_cursor_value(max(reached, saved) if saved is not None else reached)  # never backwards

    def _next_synced_ids(self) -> Optional[Set[str]]:
        if not self._rules.reconcile_deletions:
            return None
        if self.unreliable:
            # Some records may not have been seen: none can be called deleted, and none forgotten.
            return self.listed | (self._saved.synced_ids or set())
        return set(self.listed)

    # ------------------------------------------------------------------ decisions

    def _is_final(self, status: Any) -> bool:
        return not self._rules.status_field or status in FINAL_STATUSES

    def _may_have_changed(self, cursor_value: Optional[datetime]) -> bool:
        if self._resume_after is None or cursor_value is None:
            return True
        return cursor_value >= self._resume_after if self._inclusive else cursor_value > self._resume_after

    def _hand_out(self, fetch: Fetch, final: bool) -> Fetch:
        with self._lock:
            self._handed_out.add(fetch.record_id)
            if fetch.last_sent is not None:
                self._rechecks[fetch.record_id] = fetch.last_sent
            elif not final:
                # Tracked from the moment it is handed out: a checkpoint taken before its answer
                # arrives still names it, so an interruption cannot lose it.
                self._pending.setdefault(fetch.record_id, "")
        return fetch

    def _covered_by_earlier_attempt(self, record_id: str, cursor_value: Optional[datetime],
                                    item: Mapping[str, Any]) -> bool:
        progress = self._saved.progress
        if isinstance(progress, NewestFirstProgress) and progress.covers(cursor_value):
            return True
        legacy = self._saved.legacy_handed_out
        return bool(legacy) and legacy_fingerprint(item, self._rules.cursor_field, self._rules.status_field) in legacy

    def _progress_of_this_attempt(self):
        if self._rules.newest_first:
            return NewestFirstProgress(ranges=())
        return ListOrderProgress(read_at=format_cursor_value(self._read_at))

    def _extended_progress(self, seam: Optional[datetime]):
        """This attempt's progress once the current page is handed out.

        Newest first, the page's records span [oldest, newest]. A record of the next page may share
        the oldest value (the seam): then only the values above the seam count as done. Bounds are
        whole seconds: the oldest rounded up, the newest down (never past the read), so that the
        range never takes in a record that was not handed out.
        """
        if isinstance(self._progress, NewestFirstProgress):
            done = [v for v in self._page.cursors if seam is None or v > seam]
            if not done:
                return self._progress
            low, high = _ceil_second(min(done)), min(max(done), self._read_at).replace(microsecond=0)
            if low > high:
                return self._progress
            return self._progress.including(low, high)
        return ListOrderProgress(read_at=self._progress.read_at, pages=(self._progress.pages or 0) + 1,
                                 after=tuple(self._page.ids[-MARKERS_PER_PAGE:]) or self._progress.after)

    def _merged_progress(self):
        """What every attempt so far has handed out: earlier attempts' progress and this one's."""
        earlier = self._saved.progress
        if isinstance(self._progress, NewestFirstProgress):
            if isinstance(earlier, NewestFirstProgress):
                return earlier.merged_with(self._progress)
            return self._progress
        if isinstance(earlier, ListOrderProgress) and not self._skipping.passed:
            return earlier  # this attempt has not yet got past where the last one stopped
        return self._progress


class _PrefixSkip:
    """Walks an unordered list as an interrupted attempt left it: every record before its markers
    (the last ids of the last page it finished) was handed out, unless it is newer than that read.

    markers [m1, m2, m3], read_at R: skip old records (cursor <= R) until a marker shows; after a
    marker, skip only markers; the first other old record is new ground. Past the pages that attempt
    finished, stop skipping: records it finished that insertions pushed further are fetched again.
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
        is_marker = record_id in self._progress.after
        if is_marker:
            self._seen_marker = True
            return True
        old = cursor_value is not None and self._read_at is not None and cursor_value <= self._read_at
        if not old:
            return False  # newer than that read: it was never handed out
        if self._seen_marker:
            self.passed = True  # the first old record after the markers: new ground
            return False
        return True
