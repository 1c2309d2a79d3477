"""The pending records of the last sync that this sync's list has not met yet. Plain Python.

A table kept by id hash may hold two records under one key. A listed record is taken for the pending
record of its hash only where it is listed as that record was sent; listed otherwise, it may be that
record, changed (final now), or another one that shares its hash: the list is then read on down to the
oldest pending record before the key counts as met. A shared hash costs pages, never a record.

<- pending by hash {h(p): fp(p processing)}; listed x with h(x) == h(p), fp(x) != fp(p)
-> x is fetched; p stays unseen until the list passes the oldest pending record
"""

from datetime import datetime
from typing import Optional, Set, Tuple

from source_meetlog.core.list_state import Key, Table
from source_meetlog.core.sent import Sent
from source_meetlog.core.timestamps import parse_cursor_value


class PendingWatch:
    def __init__(self, table: Table) -> None:
        self._table = table
        self.unseen: Set[Key] = set(table.entries)
        self.tentative: Set[Key] = set()  # met by a record listed otherwise than sent: by hash, not yet sure

    def met(self, record_id: str, saved: Optional[Sent], listed: bytes) -> None:
        key = self._table.key_of(record_id)
        if self._table.by_id or saved is None or saved.listed in (None, listed):
            self.unseen.discard(key)
            self.tentative.discard(key)
        elif key in self.unseen:
            self.tentative.add(key)

    def read_down_to(self, last: Optional[datetime], pending_low: Optional[Tuple[str, Optional[int]]]) -> None:
        """Once the list is read past the oldest pending record, a key met only tentatively was met."""
        oldest = parse_cursor_value(pending_low[0]) if pending_low else None
        if self.tentative and last is not None and oldest is not None and last < oldest:
            self.unseen -= self.tentative
            self.tentative.clear()

    def all_met(self) -> None:
        self.unseen.clear()
        self.tentative.clear()
