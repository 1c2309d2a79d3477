"""How deep the newest-first transcripts list is read. Plain Python.

A list read whole (reports, projects, transcripts with reconcile_deletions) is read to its end. The
newest-first list is read as deep as records may be new, then down to the pending records it has not
met yet, unless re-checking each of them by a detail request costs fewer requests than the pages.

<- cursor 10:00, last item of page 1 at 09:00, nothing pending -> stop
<- 1 pending below, 37 pages down to it, re-checkable by id      -> stop (1 request instead of 36)
"""

import math
from dataclasses import dataclass
from typing import Optional, Tuple

PendingLow = Optional[Tuple[str, Optional[int]]]


@dataclass
class ListShape:
    """What the list's meta says: how many records, how many a page."""

    total: Optional[int] = None
    per_page: int = 100

    def note(self, total: Optional[int], pages: Optional[int]) -> None:
        if isinstance(total, int) and isinstance(pages, int) and pages > 0:
            self.total, self.per_page = total, max(math.ceil(total / pages), 1)

    def pages_down_to(self, pending_low: PendingLow) -> int:
        """The list pages from the first down to the oldest pending record (all, where that is not known)."""
        older = pending_low[1] if pending_low and pending_low[1] is not None else 0
        return math.ceil(max((self.total or 0) - older, 1) / self.per_page)


def wants_next_page(*, read_whole: bool, in_order: bool, may_be_new: bool, unseen: int, rechecks_by_detail: bool,
                    pages_left: int, unsettled: bool) -> bool:
    """After a page: whether the rest of the list can change what this sync sends.

    `unseen`: pending records not met yet; `unsettled`: an interrupted attempt's region not passed yet.
    """
    if read_whole or not in_order or may_be_new or unsettled:
        return True
    # A tie goes to the detail requests: they bring each record whole.
    return unseen > 0 and not (rechecks_by_detail and unseen <= pages_left)
