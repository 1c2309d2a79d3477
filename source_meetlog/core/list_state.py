"""What a stream's list state holds beside its cursor, read and written. Plain Python.

Saved under the stream's `parent_state`, e.g. for transcripts:

    {"transcripts_list": {
        "created_at": "2026-05-08T09:14:22Z",                 # where the next sync resumes
        "pending": {"f3c8…": "9a0c3e51d2b87f64"},            # not final when sent: id -> fingerprint
        "progress": {"ranges": [["…", "…"]]},                 # only while a sync is interrupted
        "synced_ids": "eJzL…", "synced_ids_start_date": null  # only with reconcile_deletions
    }}

Its size does not grow with the records synced: `pending` holds the records not final yet, and
`progress` a range of created_at for the newest-first transcripts list, or for an unordered list
the page count and the last ids of the last page finished. Only `synced_ids`, which
reconcile_deletions needs, grows with the account (about 27 bytes an id).

A 0.1.0 state still reads: its cursor is where the first 0.2.0 sync resumes (it was held short of
any record not final yet, so those are read again), and `handed_out_this_sync`, the fingerprints of
an interrupted 0.1.0 sync, still spares what that sync fetched.
"""

import base64
import hashlib
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, FrozenSet, Mapping, Optional, Set, Tuple, Union

from source_meetlog.core.timestamps import format_cursor_value, parse_cursor_value

PENDING_KEY = "pending"
PROGRESS_KEY = "progress"
SYNCED_IDS_KEY = "synced_ids"
SYNCED_IDS_START_DATE_KEY = "synced_ids_start_date"
RELINK_KEY = "relink_transcripts"  # reports: transcripts whose report_ids changed, for the transcripts stream
_LINK_SEPARATOR = "\t"  # a synced report is written "<id>\t<transcription_id>"
LEGACY_HANDED_OUT_KEY = "handed_out_this_sync"  # 0.1.0; read, never written
_LEGACY_FINGERPRINT_SIZE = 8


@dataclass(frozen=True)
class NewestFirstProgress:
    """Records of a newest-first list whose cursor value lies in a range [low, high] were handed out.

    One range per attempt at most, merged where they meet.
    """

    ranges: Tuple[Tuple[datetime, datetime], ...] = ()

    def covers(self, value: Optional[datetime]) -> bool:
        return value is not None and any(low <= value <= high for low, high in self.ranges)

    def including(self, low: datetime, high: datetime) -> "NewestFirstProgress":
        """This attempt's one range, widened by a page whose values lie in [low, high]."""
        if not self.ranges:
            return NewestFirstProgress(((low, high),))
        [(old_low, old_high)] = self.ranges
        return NewestFirstProgress(((min(low, old_low), max(high, old_high)),))

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
    newer than `read_at`, was handed out by the attempt that read `pages` pages."""

    read_at: str
    pages: int = 0
    after: Tuple[str, ...] = ()

    def as_state(self) -> Mapping[str, Any]:
        return {"read_at": self.read_at, "pages": self.pages, "after": list(self.after)}


Progress = Union[NewestFirstProgress, ListOrderProgress, None]


@dataclass(frozen=True)
class ListState:
    cursor: Optional[str] = None
    pending: Mapping[str, str] = field(default_factory=dict)
    progress: Progress = None
    synced_ids: Optional[Set[str]] = None
    synced_ids_start_date: Optional[str] = None
    synced_ids_text: Optional[str] = None  # synced_ids as written: encoded once, not per checkpoint
    synced_links: Mapping[str, str] = field(default_factory=dict)  # reports: id -> transcription_id
    relink: Tuple[str, ...] = ()
    legacy_handed_out: FrozenSet[bytes] = frozenset()

    @classmethod
    def read(cls, saved: Optional[Mapping[str, Any]], cursor_field: str) -> "ListState":
        """A saved list state -> ListState; whatever it holds that we did not write is ignored
        (a re-read costs requests, never records)."""
        saved = saved if isinstance(saved, Mapping) else {}
        cursor = saved.get(cursor_field)
        synced_ids_text = saved.get(SYNCED_IDS_KEY)
        entries = decode_ids(synced_ids_text)
        synced_ids = None if entries is None else {entry.split(_LINK_SEPARATOR, 1)[0] for entry in entries}
        links = dict(entry.split(_LINK_SEPARATOR, 1) for entry in entries or () if _LINK_SEPARATOR in entry)
        relink = saved.get(RELINK_KEY)
        return cls(
            cursor=cursor if parse_cursor_value(cursor) is not None else None,
            pending=_read_pending(saved.get(PENDING_KEY)),
            progress=_read_progress(saved.get(PROGRESS_KEY)),
            synced_ids=synced_ids,
            synced_ids_start_date=saved.get(SYNCED_IDS_START_DATE_KEY),
            synced_ids_text=synced_ids_text if synced_ids is not None else None,
            synced_links=links,
            relink=tuple(i for i in relink if isinstance(i, str)) if isinstance(relink, list) else (),
            legacy_handed_out=_read_legacy_fingerprints(saved.get(LEGACY_HANDED_OUT_KEY)),
        )

    def written(self, cursor_field: str, reconcile_deletions: bool) -> dict:
        state: dict = {}
        if self.cursor is not None:
            state[cursor_field] = self.cursor
        if self.pending:
            state[PENDING_KEY] = dict(sorted(self.pending.items()))
        if self.progress is not None:
            state[PROGRESS_KEY] = self.progress.as_state()
        if reconcile_deletions and self.synced_ids is not None:
            state[SYNCED_IDS_KEY] = self.synced_ids_text or encode_ids(self.synced_entries())
            state[SYNCED_IDS_START_DATE_KEY] = self.synced_ids_start_date
        if self.relink:
            state[RELINK_KEY] = sorted(self.relink)
        return state

    def synced_entries(self) -> Set[str]:
        """synced_ids as written: a report with its transcript, so that its deletion can relink it."""
        links = self.synced_links
        return {f"{i}{_LINK_SEPARATOR}{links[i]}" if i in links else i for i in self.synced_ids or ()}


def encode_ids(ids: Set[str]) -> str:
    """{'b', 'a'} -> a short ASCII text: sorted, newline-joined, deflated, base64 (UUIDs: ~27 bytes each)."""
    return base64.b64encode(zlib.compress("\n".join(sorted(ids)).encode(), 9)).decode("ascii")


def decode_ids(text: Any) -> Optional[Set[str]]:
    """The inverse of encode_ids; None for anything it did not write (no reconciliation then)."""
    if not isinstance(text, str):
        return None
    try:
        joined = zlib.decompress(base64.b64decode(text.encode("ascii"), validate=True)).decode()
    except (ValueError, zlib.error, UnicodeError):
        return None
    return set(joined.split("\n")) if joined else set()


def legacy_fingerprint(record: Mapping[str, Any], cursor_field: str, status_field: Optional[str]) -> bytes:
    """0.1.0's fingerprint of a listed record: its id, cursor value and status, hashed to 8 bytes."""
    status = record.get(status_field) if status_field else None
    text = "\x1f".join(str(value) for value in (record.get("id"), record.get(cursor_field), status))
    return hashlib.blake2b(text.encode(), digest_size=_LEGACY_FINGERPRINT_SIZE).digest()


def _read_pending(value: Any) -> Mapping[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}


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


def _read_legacy_fingerprints(text: Any) -> FrozenSet[bytes]:
    if not isinstance(text, str):
        return frozenset()
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeError):
        return frozenset()
    size = _LEGACY_FINGERPRINT_SIZE
    if len(raw) % size:
        return frozenset()
    return frozenset(raw[i:i + size] for i in range(0, len(raw), size))
