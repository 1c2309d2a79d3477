"""How far a sync got, so that the attempt after an interruption does not fetch again what it sent.

A stream's list cursor moves only when its list has been read to the end, so on its own an
interrupted sync would start over: at 60 requests a minute, hours of details. While a sync runs,
its state also carries a fingerprint of every listed record it has handed out for a detail
request, as of the last whole list page; the CDK commits a state only once every detail before
it has been emitted. The next attempt skips a listed record whose fingerprint is there. A sync
that reads its list to the end drops the fingerprints: the cursor has moved past them.

A fingerprint is the record's id, cursor value and status, hashed to 8 bytes: a record that
changed since (a transcript that completed, a project updated) no longer matches and is fetched
again. 8 bytes make a false match among 100,000 records about a 1-in-3-billion event.
"""

import base64
import hashlib
from typing import Any, Iterable, List, Mapping, Optional, Set

# Beside the list cursor in the stream's state; the CDK carries unknown keys from sync to sync.
PROGRESS_KEY = "handed_out_this_sync"
_SIZE = 8


def fingerprint(record: Mapping[str, Any], cursor_field: str, status_field: Optional[str]) -> bytes:
    """{id: a, created_at: 10:00, status: completed} -> 8 bytes that change if any of the three does."""
    status = record.get(status_field) if status_field else None
    text = "\x1f".join(str(value) for value in (record.get("id"), record.get(cursor_field), status))
    return hashlib.blake2b(text.encode(), digest_size=_SIZE).digest()


def _encode(fingerprints: Iterable[bytes]) -> str:
    return base64.b64encode(b"".join(sorted(fingerprints))).decode("ascii")


def _decode(text: Any) -> Set[bytes]:
    """The inverse of _encode; an empty set for anything it did not write (start over, lose nothing)."""
    if not isinstance(text, str):
        return set()
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeError):
        return set()
    if len(raw) % _SIZE:
        return set()
    return {raw[i:i + _SIZE] for i in range(0, len(raw), _SIZE)}


class SyncProgress:
    """The fingerprints an earlier, interrupted attempt committed, and those this one adds page by page.

    <- state {"created_at": "…", "handed_out_this_sync": "<a, b>"}; list page 1 [a, c], page 2 [d]
    -> a is skipped; c is handed out; once page 2 begins, the state says <a, b, c>
    """

    def __init__(self, earlier: Set[bytes]) -> None:
        self._earlier = frozenset(earlier)
        self._committed = set(earlier)
        self._this_page: List[bytes] = []
        self._encoded = _encode(self._committed) if self._committed else None

    @classmethod
    def from_list_state(cls, list_state: Mapping[str, Any]) -> "SyncProgress":
        return cls(_decode(list_state.get(PROGRESS_KEY)))

    def already_handed_out(self, record_fingerprint: bytes) -> bool:
        return record_fingerprint in self._earlier

    def hand_out(self, record_fingerprint: bytes) -> None:
        self._this_page.append(record_fingerprint)

    def page_done(self) -> None:
        """Called before the next page's first record is handed out; the state changes once a page."""
        if self._this_page:
            self._committed.update(self._this_page)
            self._this_page.clear()
            self._encoded = _encode(self._committed)

    def as_list_state(self) -> Mapping[str, str]:
        return {PROGRESS_KEY: self._encoded} if self._encoded else {}
