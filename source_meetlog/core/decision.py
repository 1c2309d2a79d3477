"""The per-item decision: whether a listed record may have changed since it was sent. Plain Python.

<- saved: cursor 10:00, sent {b: fp(b)}, pending {p: fp(p processing)}
<- a 10:05 (new), b 09:00 retitled (fp differs), p 08:00 completed (fp differs) -> fetch all three
<- c 09:30, never sent, in a list read whole                                     -> fetch: added late
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, FrozenSet, Optional, Tuple

from source_meetlog.core.sent import FINAL_STATUSES, Sent
from source_meetlog.core.timestamps import parse_cursor_value


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
    list_columns_only: bool = False  # the user selected list columns alone, details read anyway (list_only implies it)
    recheck_listed: bool = False  # every listed record's detail is read anyway: send it only if it changed
    columns: Optional[FrozenSet[str]] = None  # the columns the catalog selects; None: every column

    @property
    def remembers_all(self) -> bool:
        """A list read whole names every record, and the next state remembers each."""
        return not self.newest_first or self.reconcile_deletions

    @property
    def rechecks_pending(self) -> bool:
        """The newest-first list re-checks pending records its pages do not reach (by detail, or deeper pages)."""
        return self.newest_first and not self.list_only

    def reads_all_again(self, list_only_until_now: bool, columns_until_now: Optional[FrozenSet[str]] = None) -> bool:
        """Every record again: the rows synced so far lack a column selected now. A stream read from its list
        pages whose details are wanted now, or one synced with some columns, one of the others selected now."""
        if list_only_until_now and not (self.list_columns_only or self.list_only):
            return True
        return columns_until_now is not None and (self.columns is None or not self.columns <= columns_until_now)

    def is_final(self, status: object) -> bool:
        return not self.status_field or status in FINAL_STATUSES


@dataclass(frozen=True)
class ChangeRule:
    resume_after: Optional[datetime]  # where the last sync settled, less the lookback window
    inclusive: bool  # a first sync starts at start_date, which is inclusive
    knows_all: bool  # the saved state names every record sent: one never sent is new
    # start_date moved back since the last sync: (the new one, None for none; the old one). Records
    # between the two were never synced, though the cursor is past them.
    widened: Optional[Tuple[Optional[datetime], datetime]] = None

    @classmethod
    def for_sync(cls, rules: ListRules, sent: Optional[Any], saved_start: Optional[str], resume_after: Optional[datetime],
                 inclusive: bool) -> "ChangeRule":
        """`sent`: the saved state's table of what was sent (list_state.Table), None if it kept none."""
        # The newest-first list remembered all only if reconcile_deletions was on then: ids, not hashes.
        knows_all = rules.remembers_all and sent is not None and (not rules.newest_first or sent.by_id)
        old, new = parse_cursor_value(saved_start), parse_cursor_value(rules.start_date)
        return cls(resume_after, inclusive, knows_all, (new, old) if old and (not new or new < old) else None)

    def may_be_new(self, cursor_value: Optional[datetime]) -> bool:
        if self.resume_after is None or cursor_value is None:
            return True
        if self.widened and (self.widened[0] is None or self.widened[0] <= cursor_value) and cursor_value < self.widened[1]:
            return True
        return cursor_value >= self.resume_after if self.inclusive else cursor_value > self.resume_after

    def new_below(self, cursor_value: datetime) -> bool:
        """The newest-first list: whether records older than this one may still be new."""
        return self.may_be_new(cursor_value) or bool(self.widened and (self.widened[0] is None or self.widened[0] < cursor_value))

    def changed(self, saved: Optional[Sent], was_pending: bool, listed: bytes, final: bool,
                cursor_value: Optional[datetime]) -> bool:
        if self.may_be_new(cursor_value):
            return True
        if saved is None:
            return self.knows_all  # listed whole, never sent: added late, or back into start_date
        if saved.listed is None:
            return was_pending and final  # sent by 0.2.0: only a pending record final now is news
        return saved.listed != listed


def read_at(now: datetime) -> datetime:
    """No cursor may pass the last whole second before the list was read: a record made later in that
    second shares its timestamp with the ones seen, and must not be passed."""
    return now.replace(microsecond=0) - timedelta(seconds=1)
