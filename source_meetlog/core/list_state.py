"""What a stream's list state holds beside its cursor, read and written. Plain Python.

Saved under the stream's `parent_state`, e.g. for transcripts:

    {"transcripts_list": {
        "created_at": "2026-05-08T09:14:22Z",        # where the next sync's new records begin
        "sent": "h8:…",                               # fingerprints of what was sent (see below)
        "pending": "h8:…",                            # the same, for records not final when sent
        "pending_low": ["2026-01-02T08:00:00Z", 3840], # newest first: the oldest pending, and how many are older
        "reports_until": "2026-05-08T09:20:00Z",     # transcripts: the newest report their report_ids take in
        "start_date": null,                           # the start_date the fingerprints were taken under
        "list_only": true,                            # the records were sent from the list pages alone
        "progress": {"ranges": [["…", "…"]]}          # only while a sync is interrupted
    }}

What was sent is remembered as a 4-byte fingerprint of the record's list fields (and, for a
transcript, 4 more of its report_ids), for the records the next sync reads: every record of a list
that is read whole (reports, projects, transcripts with reconcile_deletions), and of the newest-first
transcripts list its newest page and its pending records. A listed record whose fingerprint differs
is fetched again. A table is keyed by a 4-byte hash of the id ("h"), or by the id itself ("u" for
UUIDs as 16 bytes, "t" for other ids, deflated) where the next sync must name the record: deletion
markers, and pending records re-checked by a detail request. A hash that two records share only
costs a request: the fingerprint compared is the record's own, or a doubt that fetches it.

A 0.2.0 state still reads: its `pending` (id -> fingerprint of the whole record) and `synced_ids`
are fingerprints not known yet, which the list's values stand in for; a 0.1.0 interrupted sync's
`handed_out_this_sync` still spares what that sync fetched.
"""

import base64
import hashlib
import re
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Dict, FrozenSet, Iterable, Mapping, Optional, Tuple, Union

import orjson

from source_meetlog.core.timestamps import format_cursor_value, parse_cursor_value

FINGERPRINT_BYTES = 4
NOT_KNOWN = bytes(FINGERPRINT_BYTES)  # a fingerprint not taken yet (a 0.2.0 state, a list-only record's report_ids)
CONNECTOR_FIELD_PREFIXES = ("_meetlog_", "_ab_")  # what the connector adds to an item; never fingerprinted
PROGRESS_KEY = "progress"
LEGACY_HANDED_OUT_KEY = "handed_out_this_sync"  # 0.1.0; read, never written
_LEGACY_FINGERPRINT_SIZE = 8

Key = Union[str, bytes]


def fingerprint(values: Any) -> bytes:
    """A record's fields as sent (or a list of ids) -> 4 bytes that change when any of them does."""
    if isinstance(values, Mapping):
        values = {k: v for k, v in values.items() if not k.startswith(CONNECTOR_FIELD_PREFIXES)}
    digest = hashlib.blake2b(orjson.dumps(values, option=orjson.OPT_SORT_KEYS), digest_size=FINGERPRINT_BYTES).digest()
    return digest if digest != NOT_KNOWN else b"\0\0\0\1"


def id_hash(record_id: str) -> bytes:
    return hashlib.blake2b(record_id.encode(), digest_size=4, person=b"meetlog-id").digest()


@dataclass
class Table:
    """Record -> what was sent of it (`width` bytes), by id, or by id hash when `by_id` is False."""

    entries: Dict[Key, bytes] = field(default_factory=dict)
    by_id: bool = True
    width: int = FINGERPRINT_BYTES

    def get(self, record_id: str) -> Optional[bytes]:
        return self.entries.get(record_id if self.by_id else id_hash(record_id))

    def key_of(self, record_id: str) -> Key:
        return record_id if self.by_id else id_hash(record_id)

    def encoded(self, by_id: bool) -> str:
        """'h8:<base64>' by hash, 'u8:<base64>' by UUID, or 't8:<deflated ids>:<values>'. A value carried
        over from a narrower table is padded with NOT_KNOWN."""
        entries = {k: (v + bytes(self.width))[:self.width] for k, v in self.entries.items()}
        if not by_id or not all(isinstance(k, str) for k in entries):  # ids carried over as hashes stay so
            rows = sorted((id_hash(k) if isinstance(k, str) else k, v) for k, v in entries.items())
            return f"h{self.width}:" + _b64(b"".join(k + v for k, v in rows))
        rows = sorted(entries.items())
        if all(_UUID.match(k) for k, _ in rows):
            return f"u{self.width}:" + _b64(b"".join(uuid.UUID(k).bytes + v for k, v in rows))
        ids = zlib.compress("\n".join(k for k, _ in rows).encode(), 9)
        return f"t{self.width}:" + _b64(ids) + ":" + _b64(b"".join(v for _, v in rows))

    @classmethod
    def decoded(cls, text: Any) -> Optional["Table"]:
        """The inverse of `encoded`; None for anything it did not write."""
        try:
            kind, width, body = text[0], int(text[1:text.index(":")]), text[text.index(":") + 1:]
            if kind == "t":
                ids_text, values_text = body.split(":")
                ids = zlib.decompress(_unb64(ids_text)).decode().split("\n") if ids_text else []
                values = _unb64(values_text)
                return cls({i: values[n * width:(n + 1) * width] for n, i in enumerate(ids)}, True, width)
            size = {"h": 4, "u": 16}[kind]
            raw = _unb64(body)
            rows = [raw[at:at + size + width] for at in range(0, len(raw), size + width)]
            keys = [row[:size] if kind == "h" else str(uuid.UUID(bytes=row[:size])) for row in rows]
            return cls({key: row[size:] for key, row in zip(keys, rows)}, kind != "h", width)
        except (TypeError, ValueError, KeyError, IndexError, AttributeError, zlib.error):
            return None


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass(frozen=True)
class NewestFirstProgress:
    """Records of a newest-first list whose cursor value lies in a range [low, high] were handed out.

    One range per attempt at most, merged where they meet.
    """

    ranges: Tuple[Tuple[datetime, datetime], ...] = ()

    def covers(self, value: Optional[datetime]) -> bool:
        return value is not None and any(low <= value <= high for low, high in self.ranges)

    def merged_with(self, other: "NewestFirstProgress") -> "NewestFirstProgress":
        merged: list = []
        for low, high in sorted(self.ranges + other.ranges):
            if merged and low <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(high, merged[-1][1]))
            else:
                merged.append((low, high))
        return NewestFirstProgress(tuple(merged))

    def as_state(self) -> Mapping[str, Any]:
        return {"ranges": [[format_cursor_value(low), format_cursor_value(high)] for low, high in self.ranges]}


@dataclass(frozen=True)
class ListOrderProgress:
    """An unordered list: every record up to the ids `after`, in the list's own order, and not
    newer than `read_at`, was handed out by the attempt that reached page `pages`."""

    read_at: str
    pages: int = 0
    after: Tuple[str, ...] = ()

    def as_state(self) -> Mapping[str, Any]:
        return {"read_at": self.read_at, "pages": self.pages, "after": list(self.after)}


Progress = Union[NewestFirstProgress, ListOrderProgress, None]


@dataclass(frozen=True)
class ListState:
    cursor: Optional[str] = None
    sent: Optional[Table] = None  # None: nothing remembered (a first sync, or a 0.2.0 state)
    pending: Table = field(default_factory=Table)
    pending_low: Optional[Tuple[str, Optional[int]]] = None
    reports_until: Optional[str] = None
    start_date: Optional[str] = None
    list_only: bool = False
    progress: Progress = None
    legacy_handed_out: FrozenSet[bytes] = frozenset()
    saved: Mapping[str, Any] = field(default_factory=dict)  # as read: a checkpoint writes it back unchanged

    @classmethod
    def read(cls, saved: Optional[Mapping[str, Any]], cursor_field: str) -> "ListState":
        """A saved list state -> ListState; whatever it holds that we did not write is ignored
        (a re-read costs requests, never records)."""
        saved = saved if isinstance(saved, Mapping) else {}
        cursor, low = saved.get(cursor_field), saved.get("pending_low")
        sent = Table.decoded(saved.get("sent")) or _legacy_ids(saved.get("synced_ids"))
        return cls(
            cursor=cursor if parse_cursor_value(cursor) is not None else None,
            sent=sent,
            pending=Table.decoded(saved.get("pending")) or _legacy_pending(saved.get("pending")),
            pending_low=(low[0], low[1] if isinstance(low[1], int) else None)
            if isinstance(low, list) and len(low) == 2 and parse_cursor_value(low[0]) else None,
            reports_until=saved.get("reports_until") if parse_cursor_value(saved.get("reports_until")) else None,
            start_date=saved.get("start_date", saved.get("synced_ids_start_date")),
            list_only=saved.get("list_only") is True,
            progress=_read_progress(saved.get(PROGRESS_KEY)),
            legacy_handed_out=_read_legacy_fingerprints(saved.get(LEGACY_HANDED_OUT_KEY)),
            saved={k: v for k, v in saved.items() if k != PROGRESS_KEY},
        )

    def with_progress(self, progress: Progress) -> Mapping[str, Any]:
        """A checkpoint while the list is read: the saved state as it was, and how far this sync has come."""
        return {**self.saved, PROGRESS_KEY: progress.as_state()} if progress is not None else dict(self.saved)

    def written(self, cursor_field: str, sent_by_id: bool, pending_by_id: bool) -> dict:
        state = {
            cursor_field: self.cursor, "sent": self.sent.encoded(sent_by_id) if self.sent is not None else None,
            "pending": self.pending.encoded(pending_by_id) if self.pending.entries else None,
            "pending_low": list(self.pending_low) if self.pending_low else None,
            "reports_until": self.reports_until, "start_date": self.start_date, "list_only": self.list_only or None,
        }
        return {key: value for key, value in state.items() if value is not None}


def _legacy_ids(text: Any) -> Optional[Table]:
    """0.2.0's synced_ids: deflated ids (a report's with "\t" and its transcript), fingerprints not known."""
    try:
        joined = zlib.decompress(_unb64(text)).decode()
    except (AttributeError, TypeError, ValueError, zlib.error, UnicodeError):
        return None
    return Table({entry.split("\t", 1)[0]: NOT_KNOWN for entry in joined.split("\n") if entry})


def _legacy_pending(value: Any) -> Table:
    """0.2.0's pending: id -> fingerprint of the whole record, which no longer compares."""
    ids: Iterable = value.keys() if isinstance(value, Mapping) else ()
    return Table({i: NOT_KNOWN for i in ids if isinstance(i, str)})


def _read_progress(value: Any) -> Progress:
    if not isinstance(value, Mapping):
        return None
    if "ranges" in value:
        ranges = []
        for pair in value.get("ranges") or ():
            bounds = [parse_cursor_value(v) for v in pair] if isinstance(pair, list) and len(pair) == 2 else [None]
            if None in bounds:
                return None
            ranges.append((bounds[0], bounds[1]))
        return NewestFirstProgress(tuple(ranges))
    read_at, pages, after = value.get("read_at"), value.get("pages"), value.get("after")
    if parse_cursor_value(read_at) is None or not isinstance(pages, int) or not isinstance(after, list):
        return None
    return ListOrderProgress(read_at=read_at, pages=pages, after=tuple(str(i) for i in after))


def legacy_fingerprint(record: Mapping[str, Any], cursor_field: str, status_field: Optional[str]) -> bytes:
    """0.1.0's fingerprint of a listed record: its id, cursor value and status, hashed to 8 bytes."""
    status = record.get(status_field) if status_field else None
    text = "\x1f".join(str(value) for value in (record.get("id"), record.get(cursor_field), status))
    return hashlib.blake2b(text.encode(), digest_size=_LEGACY_FINGERPRINT_SIZE).digest()


def _read_legacy_fingerprints(text: Any) -> FrozenSet[bytes]:
    try:
        raw = _unb64(text)
    except (AttributeError, TypeError, ValueError, UnicodeError):
        return frozenset()
    size = _LEGACY_FINGERPRINT_SIZE
    return frozenset(raw[i:i + size] for i in range(0, len(raw), size)) if len(raw) % size == 0 else frozenset()
