"""What a sync sent of a record, as the next sync compares it: a typed value, which only the state
codec (list_state.py) turns into bytes. Plain Python.

fingerprint({"id": "t1", "title": "Standup", ...}) -> 4 bytes that change when any field does
Sent(listed=fp, detail=fingerprint(["r1", "r2"]))  -> a transcript sent with its report_ids
Sent(listed=fp, detail=None)                       -> its report_ids as sent are not known
"""

import hashlib
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional

import orjson

FINGERPRINT_BYTES = 4
CONNECTOR_FIELD_PREFIXES = ("_meetlog_", "_ab_")  # what the connector adds to an item; never fingerprinted
# Statuses after which a transcript's or report's fields no longer change.
FINAL_STATUSES = frozenset({"completed", "failed"})
_NOT_KNOWN = bytes(FINGERPRINT_BYTES)  # the codec's word for None: no fingerprint is ever all zeros


def fingerprint(values: Any) -> bytes:
    """A record's fields as sent (or a list of ids) -> 4 bytes that change when any of them does."""
    if isinstance(values, Mapping):
        values = {k: v for k, v in values.items() if not k.startswith(CONNECTOR_FIELD_PREFIXES)}
    digest = hashlib.blake2b(orjson.dumps(values, option=orjson.OPT_SORT_KEYS), digest_size=FINGERPRINT_BYTES).digest()
    return digest if digest != _NOT_KNOWN else b"\0\0\0\1"


def ids_fingerprint(ids: Iterable[str]) -> bytes:
    """A list of ids taken as a set (a transcript's report_ids): the same 4 bytes in any order."""
    return fingerprint(sorted(ids))


def id_hash(record_id: str) -> bytes:
    """The 4-byte key of a record in a table kept by hash (list_state.Table)."""
    return hashlib.blake2b(record_id.encode(), digest_size=4, person=b"meetlog-id").digest()


@dataclass(frozen=True, slots=True)  # one per record remembered: slots keep a read's memory flat
class Sent:
    """A record as it reached the destination: the fingerprint of its list fields (None: not known, a
    0.2.0 state) and of its remembered detail field, a transcript's report_ids (None: not known)."""

    listed: Optional[bytes]
    detail: Optional[bytes] = None

    def as_bytes(self, width: int) -> bytes:
        raw = (self.listed or _NOT_KNOWN) + (self.detail or _NOT_KNOWN)
        return raw[:width]

    @classmethod
    def from_bytes(cls, raw: bytes) -> "Sent":
        listed, detail = raw[:FINGERPRINT_BYTES], raw[FINGERPRINT_BYTES:2 * FINGERPRINT_BYTES]
        return cls(listed if listed != _NOT_KNOWN else None, detail if detail and detail != _NOT_KNOWN else None)


NOT_KNOWN = Sent(listed=None)  # what a 0.2.0 state says of a record it synced


def sent_value(record: Mapping[str, Any], listed: bytes, remembered_detail: Optional[str]) -> Sent:
    """A record sent, as remembered: its list fields' fingerprint and, of a transcript, its report_ids (a set)."""
    value = record.get(remembered_detail) if remembered_detail else None
    if not isinstance(value, list):
        return Sent(listed)
    return Sent(listed, ids_fingerprint(value) if all(isinstance(v, str) for v in value) else fingerprint(value))
