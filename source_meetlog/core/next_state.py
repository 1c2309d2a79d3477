"""The list's next state, from what this sync saw and was answered. Plain Python.

Remembered: every record of a list read whole, and of the newest-first list its first page; records
not final apart, as pending, with the oldest of them and how many records the list holds below it.

<- seen a (page 1, completed), b (page 3, processing); answered a
-> sent {a}, pending {b}, pending_low (b's created_at, records below b)
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Dict, Iterable, List, Optional, Set, Tuple

from source_meetlog.core.decision import ListRules
from source_meetlog.core.links import as_sent
from source_meetlog.core.list_depth import ListShape
from source_meetlog.core.list_state import Key, ListState, Table
from source_meetlog.core.sent import Sent
from source_meetlog.core.timestamps import format_cursor_value, parse_cursor_value


@dataclass(frozen=True, slots=True)  # one per record answered: slots keep the read's memory flat
class Answer:
    sent: Sent
    final: bool
    cursor: Optional[datetime]  # a pending record's, for pending_low; None for a final one


@dataclass
class Outcomes:
    """The records the next state may name, as this sync leaves them."""

    rules: ListRules
    saved: ListState
    answers: Dict[str, Answer]
    handed_out: Set[str]
    shape: ListShape
    sent: Table = field(init=False)
    pending: Table = field(init=False)
    lows: List[Tuple[Optional[datetime], Optional[int]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        width, hasher = (8 if self.rules.remembered_detail else 4), self.saved.pending.hasher
        self.sent, self.pending = Table(width=width, hasher=hasher), Table(width=width, hasher=hasher)

    def seen(self, record_id: str, sent: Optional[Sent], seen: Any) -> None:
        """A listed record (sync_memory.Seen) and what the destination holds of it (None: gone)."""
        answer = self.answers.get(record_id)
        if sent is None:
            return  # handed out and never answered (a 404), and never sent before
        final = answer.final if answer is not None else seen.final
        if not final:
            self.pending.entries[record_id] = sent
            self.lows.append((answer.cursor if answer else seen.cursor, seen.position))
        elif self.rules.remembers_all or seen.on_first_page:
            self.sent.entries[record_id] = sent

    def seen_all(self, memory: Any, earlier: Any) -> None:
        """Every listed record the sync remembers (sync_memory.SyncMemory), as the destination holds it."""
        for record_id, seen in memory.seen.items():
            self.seen(record_id, memory.sent_of(record_id, seen, self.saved, earlier), seen)

    def not_met(self, keys: Iterable[Key]) -> None:
        """Pending records the list did not reach, or re-checked by detail."""
        for key in keys:
            answer = self.answers.get(key) if isinstance(key, str) else None
            if answer is None and key in self.handed_out:
                continue  # gone
            sent, final, cursor = (answer.sent, answer.final, answer.cursor) if answer else (self.saved.pending.entries[key], False, None)
            target = self.pending if not final else (self.sent if self.rules.remembers_all else None)
            if target is not None:
                target.entries[key] = sent
            self.lows += [(cursor, None)] if not final and cursor else []
        if self.pending.entries and not self.saved.pending.by_id and any(not isinstance(k, str) for k in keys):
            self.pending.by_id = False  # keys of hashes carried over: the table stays by hash

    def pending_low(self) -> Optional[Tuple[str, Optional[int]]]:
        """The oldest pending record, and how many records the list holds below it."""
        known = [(cursor, position) for cursor, position in self.lows if cursor is not None]
        if not known:
            return self.saved.pending_low if self.lows else None
        cursor, position = min(known, key=lambda low: low[0])
        total = self.shape.total
        older = total - position - 1 if position is not None and total is not None else None
        return format_cursor_value(cursor), older


def next_state(rules: ListRules, saved: ListState, memory: Any, earlier: Any, unseen: Iterable[Key], shape: ListShape,
               sync: Any) -> ListState:
    """What a sync leaves for the next one, once every fetch is handed out and answered: from what it saw
    and was answered (sync_memory.SyncMemory), the earlier attempts' region (resume.EarlierAttempts), the
    pending records the list did not reach, and the facts of the sync (sync_memory.SyncFacts)."""
    outcomes = Outcomes(rules, saved, memory.answers, memory.handed_out, shape)
    outcomes.seen_all(memory, earlier)
    outcomes.not_met(unseen)
    for record_id, sent in memory.before_start.items():  # named still: its row may be a wider start_date's
        outcomes.sent.entries.setdefault(record_id, sent)
    if sync.unreliable and saved.sent is not None and rules.remembers_all:
        for key, value in saved.sent.entries.items():  # some records may not have been seen
            outcomes.sent.entries.setdefault(key, value)
    links = as_sent(sync.links, sync.reports, {t: a.sent.detail for t, a in memory.answers.items()})
    return ListState(cursor=next_cursor(sync.newest, sync.read_at, sync.unreliable, saved.cursor), sent=outcomes.sent,
                     pending=outcomes.pending, pending_low=outcomes.pending_low(), reports_until=sync.reports_until,
                     links=links, start_date=rules.start_date, list_only=rules.list_columns_only or rules.list_only,
                     columns=rules.columns)


def next_cursor(newest: Optional[datetime], read_at: datetime, unreliable: bool, saved_cursor: Optional[str]) -> Optional[str]:
    """The newest record seen, but never past the second the list was read in, nor backwards."""
    if unreliable or newest is None:
        return saved_cursor  # stay where the last sync settled
    reached, saved = min(newest, read_at), parse_cursor_value(saved_cursor)
    return format_cursor_value(max(reached, saved) if saved is not None else reached)


def written(outcome: ListState, rules: ListRules, shape: ListShape) -> dict:
    """The state as saved. Pending records by id where re-checking each by detail may be cheaper than
    the pages down to them (and for deletion markers); else by hash."""
    few = len(outcome.pending.entries) + 1 <= shape.pages_down_to(outcome.pending_low)
    by_id = rules.reconcile_deletions or (rules.rechecks_pending and few)
    return outcome.written(rules.cursor_field, rules.reconcile_deletions, by_id)
