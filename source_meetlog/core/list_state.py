"""A list's state beside its cursor, read and written: the state codec. Plain Python.

Saved under the stream's `parent_state`, e.g. for transcripts:

    {"transcripts_list": {
        "created_at": "2026-05-08T09:14:22Z",        # where the next sync's new records begin
        "sent": "h8:…",                               # what was sent of each record (core/sent.py)
        "pending": "h8:…",                            # the same, for records not final when sent
        "pending_low": ["2026-01-02T08:00:00Z", 3840], # newest first: the oldest pending, and how many are older
        "reports_until": "2026-05-08T09:20:00Z",     # transcripts: the newest report their report_ids take in
        "links": "…",                                 # transcripts: a digest of those reports' links (core/links.py)
        "start_date": null,                           # the start_date the fingerprints were taken under
        "list_only": true,                            # the records were sent from the list pages alone
        "columns": ["created_at", "id", "title"],     # the columns the rows hold, where not every one was selected
        "progress": {"ranges": [["…", "…"]], "sums": "…"}  # only while a sync is interrupted (core/resume.py)
    }}

What was sent is remembered (core/sent.py) for the records the next sync reads: every record of a list
that is read whole (reports, projects, transcripts with reconcile_deletions), and of the newest-first
transcripts list its newest page and its pending records. A table is keyed by a 4-byte hash of the id
("h"), or by the id itself ("u" for UUIDs as 16 bytes, "t" for other ids, deflated) where the next sync
must name the record: deletion markers, and pending records re-checked by a detail request. Two records
that share a hash cost a request, never a record (core/fetch_plan.py). Only this module knows the bytes.
"""

import base64
import re
import uuid
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, FrozenSet, Mapping, Optional, Tuple, Union

from source_meetlog.core import legacy_state
from source_meetlog.core.links import LINK_BUCKETS, LINK_MARK_BYTES
from source_meetlog.core.resume import Coverage
from source_meetlog.core.sent import FINGERPRINT_BYTES, Sent, id_hash
from source_meetlog.core.timestamps import parse_cursor_value

PROGRESS_KEY = "progress"

Key = Union[str, bytes]
Hasher = Callable[[str], bytes]


@dataclass
class Table:
    """Record -> what was sent of it, by id, or by id hash (`hasher`) when `by_id` is False."""

    entries: Dict[Key, Sent] = field(default_factory=dict)
    by_id: bool = True
    width: int = FINGERPRINT_BYTES
    hasher: Hasher = id_hash

    def get(self, record_id: str) -> Optional[Sent]:
        return self.entries.get(self.key_of(record_id))

    def key_of(self, record_id: str) -> Key:
        return record_id if self.by_id else self.hasher(record_id)

    def encoded(self, by_id: bool) -> str:
        """'h8:<base64>' by hash, 'u8:<base64>' by UUID, or 't8:<deflated ids>:<values>'."""
        entries = {k: v.as_bytes(self.width) for k, v in self.entries.items()}
        if not by_id or not all(isinstance(k, str) for k in entries):  # ids carried over as hashes stay so
            hashed = sorted((self.hasher(k) if isinstance(k, str) else k, v) for k, v in entries.items())
            return f"h{self.width}:" + _b64(b"".join(k + v for k, v in hashed))
        named = sorted((str(k), v) for k, v in entries.items())
        if all(_UUID.match(k) for k, _ in named):
            return f"u{self.width}:" + _b64(b"".join(uuid.UUID(k).bytes + v for k, v in named))
        ids = zlib.compress("\n".join(k for k, _ in named).encode(), 9)
        return f"t{self.width}:" + _b64(ids) + ":" + _b64(b"".join(v for _, v in named))

    @classmethod
    def decoded(cls, text: Any, hasher: Hasher = id_hash) -> Optional["Table"]:
        """The inverse of `encoded`; None for anything it did not write."""
        try:
            kind, width, body = text[0], int(text[1:text.index(":")]), text[text.index(":") + 1:]
            if width not in (4, 8):
                return None
            if kind == "t":
                ids_text, values_text = body.split(":")
                ids = zlib.decompress(_unb64(ids_text)).decode().split("\n") if ids_text else []
                values = _unb64(values_text)
                if len(values) != len(ids) * width:
                    return None
                return cls({i: Sent.from_bytes(values[n * width:(n + 1) * width]) for n, i in enumerate(ids)},
                           True, width, hasher)
            size = {"h": 4, "u": 16}[kind]
            raw = _unb64(body)
            if len(raw) % (size + width):
                return None
            rows = [raw[at:at + size + width] for at in range(0, len(raw), size + width)]
            keys = [row[:size] if kind == "h" else str(uuid.UUID(bytes=row[:size])) for row in rows]
            return cls({key: Sent.from_bytes(row[size:]) for key, row in zip(keys, rows, strict=True)}, kind != "h", width, hasher)
        except (TypeError, ValueError, KeyError, IndexError, AttributeError, UnicodeError, zlib.error):
            return None


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def _read_links(text: Any) -> Optional[Tuple[int, ...]]:
    try:
        raw = _unb64(text)
    except (AttributeError, TypeError, ValueError, UnicodeError):
        return None
    size = LINK_MARK_BYTES
    return tuple(int.from_bytes(raw[i:i + size], "big") for i in range(0, len(raw), size)) \
        if len(raw) == size * LINK_BUCKETS else None


def _read_columns(value: Any) -> Optional[FrozenSet[str]]:
    """None: every column (a state from before 0.4.1 names none); what we never write reads as None too."""
    return frozenset(value) if isinstance(value, list) and all(isinstance(v, str) for v in value) else None


_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass(frozen=True)
class ListState:
    cursor: Optional[str] = None
    sent: Optional[Table] = None  # None: nothing remembered (a first sync, or a 0.2.0 state)
    pending: Table = field(default_factory=Table)
    pending_low: Optional[Tuple[str, Optional[int]]] = None
    reports_until: Optional[str] = None
    links: Optional[Tuple[int, ...]] = None
    start_date: Optional[str] = None
    list_only: bool = False
    columns: Optional[FrozenSet[str]] = None  # None: every column
    progress: Optional[Coverage] = None
    legacy_handed_out: FrozenSet[bytes] = frozenset()
    saved: Mapping[str, Any] = field(default_factory=dict)  # as read: a checkpoint writes it back unchanged

    @classmethod
    def read(cls, saved: Optional[Mapping[str, Any]], cursor_field: str, hasher: Hasher = id_hash) -> "ListState":
        """A saved list state -> ListState; whatever it holds that we did not write is ignored
        (a re-read costs requests, never records)."""
        saved = saved if isinstance(saved, Mapping) else {}
        cursor, low = saved.get(cursor_field), saved.get("pending_low")
        legacy_sent = legacy_state.synced_ids(saved.get("synced_ids"))
        sent = Table.decoded(saved.get("sent"), hasher) or (Table(legacy_sent, hasher=hasher) if legacy_sent is not None else None)
        return cls(
            cursor=cursor if parse_cursor_value(cursor) is not None else None,
            sent=sent,
            pending=Table.decoded(saved.get("pending"), hasher) or Table(legacy_state.pending_ids(saved.get("pending")),
                                                                         hasher=hasher),
            pending_low=(low[0], low[1] if isinstance(low[1], int) else None)
            if isinstance(low, list) and len(low) == 2 and parse_cursor_value(low[0]) else None,
            reports_until=saved.get("reports_until") if parse_cursor_value(saved.get("reports_until")) else None,
            links=_read_links(saved.get("links")),
            start_date=saved.get("start_date", saved.get("synced_ids_start_date")),
            list_only=saved.get("list_only") is True,
            columns=_read_columns(saved.get("columns")),
            progress=Coverage.read(saved.get(PROGRESS_KEY)),
            legacy_handed_out=legacy_state.handed_out(saved.get(legacy_state.HANDED_OUT_KEY)),
            saved={k: v for k, v in saved.items() if k != PROGRESS_KEY},
        )

    def entry(self, record_id: str) -> Tuple[Optional[Sent], bool]:
        """What the last sync sent of a record, and whether it was pending then."""
        pending = self.pending.get(record_id)
        if pending is not None:
            return pending, True
        return (self.sent.get(record_id) if self.sent is not None else None), False

    def with_progress(self, progress: Optional[Coverage]) -> Mapping[str, Any]:
        """A checkpoint while the list is read: the saved state as it was, and how far this sync has come."""
        return {**self.saved, PROGRESS_KEY: progress.as_state()} if progress is not None else dict(self.saved)

    def written(self, cursor_field: str, sent_by_id: bool, pending_by_id: bool) -> dict:
        state = {
            cursor_field: self.cursor, "sent": self.sent.encoded(sent_by_id) if self.sent is not None else None,
            "pending": self.pending.encoded(pending_by_id) if self.pending.entries else None,
            "pending_low": list(self.pending_low) if self.pending_low else None,
            "reports_until": self.reports_until, "start_date": self.start_date, "list_only": self.list_only or None,
            "columns": sorted(self.columns) if self.columns is not None else None,
            "links": _b64(b"".join(s.to_bytes(LINK_MARK_BYTES, "big") for s in self.links)) if self.links else None,
        }
        return {key: value for key, value in state.items() if value is not None}
