"""A ReadContext as SourceMeetlog.streams() makes one, for tests that build components by hand."""

from typing import Sequence

from source_meetlog.components.key_pool import KeyPool
from source_meetlog.components.read_context import ReadContext
from source_meetlog.components.shared_answers import SharedResponses
from source_meetlog.components.signals import ProgressLog, RateLimitStatus
from source_meetlog.core.config import parse_config


def a_read(keys: Sequence[str] = ("tk_live_unitTestKey0",), share_answers: bool = True, **config) -> ReadContext:
    """A read of this config (its keys, its limit), with a store for shared answers unless told otherwise."""
    parsed = parse_config({"api_key": ",".join(keys), **config})
    status = RateLimitStatus(None)
    return ReadContext(parsed, KeyPool(parsed.api_keys, parsed.requests_per_minute, status=status), ProgressLog(), status,
                       answers=SharedResponses() if share_answers else None)
