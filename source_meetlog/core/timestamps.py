"""Reading and writing the API's timestamps, in the formats manifest.yaml declares once."""

from datetime import datetime, timezone
from typing import Any, Optional

from source_meetlog.core.declared import manifest

_FORMATS = manifest()["definitions"]["cursor_formats"]
STATE_FORMAT: str = _FORMATS["written"]
CURSOR_FORMATS = tuple(_FORMATS["read"])


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
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.replace(microsecond=0).strftime(STATE_FORMAT)


def utc_now() -> datetime:
    """Now in UTC, naive, as the parsed cursor values are."""
    return datetime.now(timezone.utc).replace(tzinfo=None)
