"""What states written by 0.1.0 and 0.2.0 still say, read for the first sync after an upgrade. Plain Python.

0.2.0's `synced_ids` (deflated ids) and `pending` (id -> a fingerprint of the whole record, which no
longer compares) name the records it synced, whose fingerprints are not known: the list's values stand
in for them. A 0.1.0 interrupted sync's `handed_out_this_sync` spares what that sync fetched.
"""

import base64
import hashlib
import zlib
from typing import Any, Dict, FrozenSet, Iterable, Mapping, Optional

from source_meetlog.core.sent import NOT_KNOWN, Sent

HANDED_OUT_KEY = "handed_out_this_sync"  # 0.1.0; read, never written
_FINGERPRINT_SIZE = 8


def synced_ids(text: Any) -> Optional[Dict[Any, Sent]]:
    """0.2.0's synced_ids: deflated ids (a report's with "\t" and its transcript), fingerprints not known."""
    try:
        joined = zlib.decompress(base64.b64decode(text.encode("ascii"), validate=True)).decode()
    except (AttributeError, TypeError, ValueError, zlib.error, UnicodeError):
        return None
    return {entry.split("\t", 1)[0]: NOT_KNOWN for entry in joined.split("\n") if entry}


def pending_ids(value: Any) -> Dict[Any, Sent]:
    """0.2.0's pending: id -> fingerprint of the whole record, which no longer compares."""
    ids: Iterable = value.keys() if isinstance(value, Mapping) else ()
    return {i: NOT_KNOWN for i in ids if isinstance(i, str)}


def handed_out_fingerprint(record: Mapping[str, Any], cursor_field: str, status_field: Optional[str]) -> bytes:
    """0.1.0's fingerprint of a listed record: its id, cursor value and status, hashed to 8 bytes."""
    status = record.get(status_field) if status_field else None
    text = "\x1f".join(str(value) for value in (record.get("id"), record.get(cursor_field), status))
    return hashlib.blake2b(text.encode(), digest_size=_FINGERPRINT_SIZE).digest()


def handed_out(text: Any) -> FrozenSet[bytes]:
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (AttributeError, TypeError, ValueError, UnicodeError):
        return frozenset()
    size = _FINGERPRINT_SIZE
    return frozenset(raw[i:i + size] for i in range(0, len(raw), size)) if len(raw) % size == 0 else frozenset()


def was_handed_out(handed: FrozenSet[bytes], item: Mapping[str, Any], cursor_field: str, status_field: Optional[str]) -> bool:
    return bool(handed) and handed_out_fingerprint(item, cursor_field, status_field) in handed
