"""The ids a stream has synced, kept in its state so that a later sync can tell which were deleted.

Meetlog's lists name every record that still exists, so a record synced before and missing from
a complete, settled read of its list was deleted. Destinations learn it from a deletion marker:
the record's id with `_ab_cdc_deleted_at` set, which Append + Deduped applies as a delete.
"""

import base64
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping, Optional, Set

from airbyte_cdk.models import AirbyteMessage, AirbyteRecordMessage, Type

# Keys in the list stream's state, beside its cursor; the CDK carries them from sync to sync.
KNOWN_IDS_KEY = "synced_ids"
KNOWN_IDS_START_DATE_KEY = "synced_ids_start_date"
DELETED_AT_FIELD = "_ab_cdc_deleted_at"


def encode_ids(ids: Iterable[str]) -> str:
    """{'b', 'a'} -> a short ASCII text: sorted, newline-joined, deflated and base64-encoded (UUIDs
    take about 27 bytes each)."""
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


@dataclass(frozen=True)
class SyncedIds:
    """What the last sync left in the list state: its ids, and the start_date they were listed under."""

    ids: Set[str]
    start_date: Optional[str]

    @classmethod
    def from_list_state(cls, state: Mapping[str, Any]) -> Optional["SyncedIds"]:
        ids = decode_ids(state.get(KNOWN_IDS_KEY))
        return None if ids is None else cls(ids, state.get(KNOWN_IDS_START_DATE_KEY))

    def as_list_state(self) -> Mapping[str, Any]:
        return {KNOWN_IDS_KEY: encode_ids(self.ids), KNOWN_IDS_START_DATE_KEY: self.start_date}


def deletion_marker(stream: str, record_id: str, cursor_field: str, now: Optional[datetime] = None) -> AirbyteMessage:
    """A record message that tells a destination `record_id` is gone.

    Its cursor field holds the moment the deletion was noticed: deduplication keeps the version with
    the highest cursor, and a marker must outrank the last version synced for the delete to apply.
    """
    now = now or datetime.now(timezone.utc)
    moment = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    return AirbyteMessage(
        type=Type.RECORD,
        record=AirbyteRecordMessage(
            stream=stream,
            data={"id": record_id, cursor_field: moment, DELETED_AT_FIELD: moment},
            emitted_at=int(now.timestamp() * 1000),
        ),
    )
