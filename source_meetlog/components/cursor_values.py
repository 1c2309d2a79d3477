"""Reading and writing the API's timestamps, in the formats manifest.yaml declares once."""

from datetime import datetime, timezone
from importlib import resources
from typing import Any, Optional, Tuple

import yaml


def _declared_formats() -> Tuple[str, Tuple[str, ...]]:
    """manifest.yaml's definitions.cursor_formats: the format written, and those read."""
    # libyaml's loader where PyYAML has it: a tenth of the pure-Python one's 20 ms, once per process.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    manifest = yaml.load(resources.files("source_meetlog").joinpath("manifest.yaml").read_text(), Loader=loader)
    formats = manifest["definitions"]["cursor_formats"]
    return formats["written"], tuple(formats["read"])


STATE_FORMAT, CURSOR_FORMATS = _declared_formats()


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
