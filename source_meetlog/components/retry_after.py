"""Reading the `Retry-After` header the API sends with 429, in either of its HTTP forms."""

import email.utils
import math
import time
from typing import Callable, Optional


def retry_after_seconds(value: Optional[str], now: Callable[[], float] = time.time) -> Optional[float]:
    """Seconds to wait, or None when the header is absent or unreadable.

    "7" -> 7.0;  "Wed, 21 Oct 2026 07:28:00 GMT" -> seconds from now until then (never negative).
    """
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
        return max(0.0, seconds) if math.isfinite(seconds) else None
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - now())
