"""Reading and writing the API's timestamps, whatever precision a record carries."""

from datetime import datetime, timezone
from typing import Any, Optional

# The API writes whole seconds (2026-05-08T09:14:22Z); fractions and offsets are read too.
CURSOR_FORMATS = ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z")
STATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def parse_cursor_value(value: Any) -> Optional[datetime]:
    """'2026-05-08T09:14:22.500Z' -> datetime(2026, 5, 8, 9, 14, 22, 500000) in UTC, naive; junk -> None.

    Compared as text, '…22.500Z' would sort before '…22Z' ('.' < 'Z'): always compare parsed values.
    """
    if not isinstance(value, str):
        return None
    for cursor_format in CURSOR_FORMATS:
        try:
            parsed = datetime.strptime(value, cursor_format)
        except ValueError:
            continue
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
        return parsed
    return None


def format_cursor_value(moment: datetime) -> str:
    """Whole seconds, rounded down: a state may re-read a record, never skip one."""
    return moment.replace(microsecond=0).strftime(STATE_FORMAT)
