"""What one sync of one list remembers as it goes: the records it saw, handed out and was answered,
the pass over the list it is on, and the facts of the sync. Plain values, used by core/fetch_plan.py."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Dict, FrozenSet, Mapping, Optional, Set

from source_meetlog.core.list_state import ListState
from source_meetlog.core.next_state import Answer
from source_meetlog.core.sent import Sent

READING, FINISHED, CLOSED = "reading", "finished", "closed"


@dataclass(frozen=True)
class Fetch:
    """One record to send: by a detail request, or, with `listed`, from its list item."""

    record_id: str
    listed: Optional[Mapping[str, Any]] = None


@dataclass
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
    list_fields: FrozenSet[str] = frozenset()


@dataclass
class SyncFacts:
    read_at: datetime
    saved_bytes: int
    restarts: bool
    reports_until: Optional[str]
    start: Optional[datetime]
    newest: Optional[datetime] = None
    in_order: bool = True
    unreliable: bool = False  # some records may not have been seen: nothing is called gone
    phase: str = READING
    outcome: Optional[ListState] = None
    written: Optional[Mapping[str, Any]] = None
