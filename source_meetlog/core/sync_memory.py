"""What one sync of one list remembers as it goes: the records it saw, handed out and was answered,
the pass over the list it is on, and the facts of the sync. Plain values, used by core/fetch_plan.py."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Dict, FrozenSet, Iterator, Mapping, Optional, Set, Tuple

from source_meetlog.core.links import ReportSets
from source_meetlog.core.list_state import ListState
from source_meetlog.core.next_state import Answer
from source_meetlog.core.resume import EarlierAttempts, bucket_of, sort_key
from source_meetlog.core.sent import Sent

READING, FINISHED, CLOSED = "reading", "finished", "closed"


@dataclass(frozen=True, slots=True)
class Fetch:
    """One record to send: by a detail request, or, with `listed`, from its list item."""

    record_id: str
    listed: Optional[Mapping[str, Any]] = None


@dataclass(slots=True)  # one per record remembered: slots keep a read's memory flat
class Seen:
    listed: bytes  # the fingerprint of its list item
    final: bool
    cursor: Optional[datetime]
    created: Optional[datetime]
    position: int
    on_first_page: bool
    covered: bool  # in an earlier attempt's region: core/resume.py decides it
    legacy: bool  # handed out by a 0.1.0 interrupted attempt


@dataclass
class ListPass:
    """One read of the list from page 1 (the list is read again when it shifts while paged)."""

    page: Any = None
    pages: int = 0
    position: int = 0
    last_value: Optional[datetime] = None
    to_the_end: bool = False

    def note(self, page: Any, cursor_value: Optional[datetime], sync: "SyncFacts") -> None:
        """Counts the pages read, and keeps the order check and the newest value in step with the list."""
        if page != self.page:
            self.page, self.pages = page, self.pages + 1
        if cursor_value is None:
            return
        sync.newest = cursor_value if sync.newest is None else max(sync.newest, cursor_value)
        if self.last_value is not None and cursor_value > self.last_value:
            sync.in_order = False  # not newest first after all: read to the end, progress stays put
        self.last_value = cursor_value


@dataclass
class SyncFacts:
    read_at: datetime
    saved_bytes: int
    reports_until: Optional[str]
    links: Optional[Tuple[int, ...]]
    start: Optional[datetime]
    reports: Optional[ReportSets] = None  # the reports list this sync took its links from
    newest: Optional[datetime] = None
    in_order: bool = True
    unreliable: bool = False  # some records may not have been seen: nothing is called gone
    phase: str = READING
    outcome: Optional[ListState] = None
    written: Optional[Mapping[str, Any]] = None
    # The state the last sync left, as read: the ids deletion markers are owed to, even where this sync
    # reads every record again as if first (a column selected that its rows lack).
    left: ListState = field(default_factory=ListState)


@dataclass
class SyncMemory:
    """What this sync saw, handed out and was answered, by record."""

    seen: Dict[str, Seen] = field(default_factory=dict)
    answers: Dict[str, Answer] = field(default_factory=dict)
    handed_out: Set[str] = field(default_factory=set)
    rechecks: Dict[str, Sent] = field(default_factory=dict)  # sent only if the answer differs from this
    resend: Set[str] = field(default_factory=set)  # delivered by an earlier attempt, changed since: sent whatever
    queued: Dict[str, Fetch] = field(default_factory=dict)  # a list read whole: handed out once it is all read
    items: Dict[str, Mapping[str, Any]] = field(default_factory=dict)  # list-only: covered records' items
    # Listed, created before start_date (reconcile_deletions): what the last sync named of each, else not known.
    # They stay named: a row synced under an earlier start_date must get its marker if the record goes.
    before_start: Dict[str, Sent] = field(default_factory=dict)
    list_fields: FrozenSet[str] = frozenset()

    def send_again(self, earlier: EarlierAttempts, hand_out: Callable[[Fetch], Fetch]) -> Iterator[Fetch]:
        """What earlier attempts delivered in a bucket that changed since: each record again, then the
        bucket's digest is the list's now (after its last hand-out: a checkpoint says so only once it is sent)."""
        again = earlier.settle()
        for bucket in sorted(earlier.differing or ()):
            for record_id in (i for i in again if bucket_of(i) == bucket and i not in self.handed_out):
                self.resend.add(record_id)
                self.rechecks.pop(record_id, None)
                yield hand_out(Fetch(record_id, listed=self.items.get(record_id)))
            earlier.resent(bucket)

    def in_sort_order(self, walk: Any, hand_out: Callable[[Fetch], Fetch]) -> Iterator[Fetch]:
        """A list read whole: its records in sort_key order, so that a checkpoint names a prefix of them."""
        seen = self.seen
        for record_id in sorted(seen, key=lambda i: sort_key(i, seen[i].created)):
            if not seen[record_id].covered:
                walk.walk(record_id, seen[record_id].created, seen[record_id].listed)
                fetch = self.queued.get(record_id)
                if fetch is not None and record_id not in self.handed_out:
                    yield hand_out(fetch)

    def sent_of(self, record_id: str, seen: Seen, saved: ListState, earlier: EarlierAttempts) -> Optional[Sent]:
        """What the destination holds of a listed record once this sync is done; None: gone (a 404)."""
        answer = self.answers.get(record_id)
        if answer is not None:
            return answer.sent
        last = saved.entry(record_id)[0]
        if record_id in self.handed_out:  # and never answered: a 404, gone since it was listed
            return last  # named as the last sync left it, if it did: the next sync's list tells (and marks it gone)
        if seen.covered:  # delivered by an earlier attempt as it is listed now, or unchanged since the last sync
            delivered = earlier.delivered_as(record_id) or seen.listed  # its list fingerprint, and report_ids if known
            known = Sent.from_bytes(delivered).detail or (last.detail if last is not None and last.listed == seen.listed else None)
            return Sent(seen.listed, known)
        if last is not None and last.listed is not None and not seen.legacy:
            return last
        return Sent(seen.listed)  # sent by a 0.1.0 attempt, or before fingerprints were kept: the list says

    def report_ids_sent(self, record_id: str, saved: ListState) -> Optional[bytes]:
        answer = self.answers.get(record_id)
        if answer is not None:
            return answer.sent.detail
        last = None if record_id in self.handed_out else saved.entry(record_id)[0]
        return last.detail if last is not None else None
