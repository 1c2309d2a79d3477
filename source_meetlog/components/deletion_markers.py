"""Deletion markers: how a destination learns that a record synced before is gone.

Meetlog's lists name every record that still exists, so a record synced before and missing from a
complete, settled read of its list was deleted (FetchPlan.deleted). Destinations learn it from the
record's id with `_ab_cdc_deleted_at` set, which Append + Deduped applies as a delete.
"""

from datetime import datetime, timezone
from typing import Optional

from airbyte_cdk.models import AirbyteMessage, AirbyteRecordMessage, Type

from source_meetlog.components.cursor_values import format_cursor_value

DELETED_AT_FIELD = "_ab_cdc_deleted_at"


def deletion_marker(stream: str, record_id: str, cursor_field: str, now: Optional[datetime] = None) -> AirbyteMessage:
    """A record message that tells a destination `record_id` is gone.

    Its cursor field holds the moment the deletion was noticed: deduplication keeps the version with
    the highest cursor, and a marker must outrank the last version synced for the delete to apply.
    """
    now = now or datetime.now(timezone.utc)
    moment = format_cursor_value(now)
    return AirbyteMessage(
        type=Type.RECORD,
        record=AirbyteRecordMessage(
            stream=stream,
            data={"id": record_id, cursor_field: moment, DELETED_AT_FIELD: moment},
            emitted_at=int(now.timestamp() * 1000),
        ),
    )
