"""The region of the list this attempt has walked, and its digest, for the next checkpoint. Plain Python.

The newest-first list is walked second by second: once an item of an older second shows, every record
of the seconds above it has been seen, and they join the region [low, top]. A list read whole is handed
out in sort_key order, so its region is the prefix walked so far. Records an earlier attempt covered
are left to its digest (core/resume.py): each record is summed once.

walk(a 10:00:05), walk(b 10:00:05), walk(c 09:59:58) -> region [09:59:59, 10:00:05], digest a + b
"""

from datetime import datetime, timedelta
from typing import Optional, Tuple, Union

from source_meetlog.core.resume import Coverage, Digest, EarlierAttempts, Prefix, Ranges, sort_key


class NewestFirstWalk:
    def __init__(self, read_at: datetime) -> None:
        self._read_at = read_at
        self._top: Optional[datetime] = None
        self._range: Optional[Tuple[datetime, datetime]] = None
        self._second: Optional[datetime] = None
        self._folded, self._current = Digest(), Digest()

    def walk(self, record_id: str, created: Optional[datetime], listed: bytes, summed: bool) -> None:
        """`summed`: this attempt's digest takes it (False where an earlier attempt's holds it)."""
        if created is None:
            return
        second = created.replace(microsecond=0)
        self._top = self._top or min(second, self._read_at)
        if self._second is not None and second < self._second:
            self._folded, self._current = self._folded.plus(self._current), Digest()
        self._second = second
        low = second + timedelta(seconds=1)  # those of its own second may still come
        self._range = (low, self._top) if low <= self._top else self._range
        if summed and created <= self._top:
            self._current.add(record_id, listed)

    def region(self) -> Ranges:
        return Ranges((self._range,) if self._range else ())

    def digest(self) -> Digest:
        return self._folded if self._range else Digest()


class PrefixWalk:
    def __init__(self) -> None:
        self._upto: Optional[Tuple[datetime, str]] = None
        self._digest = Digest()

    def walk(self, record_id: str, created: Optional[datetime], listed: bytes, summed: bool = True) -> None:
        if created is not None and summed:
            self._upto = sort_key(record_id, created)
            self._digest.add(record_id, listed)

    def region(self) -> Prefix:
        return Prefix(self._upto)

    def digest(self) -> Digest:
        return self._digest


def progress_of(earlier: EarlierAttempts, walk: Union[NewestFirstWalk, PrefixWalk]) -> Optional[Coverage]:
    """What every attempt so far has handed out: the earlier attempts' region, and this one's."""
    region, digest = walk.region(), walk.digest()
    walked = region.upto is not None if isinstance(region, Prefix) else bool(region.ranges)
    if earlier.coverage is None:
        return Coverage(region, tuple(digest.sums)) if walked else None
    if isinstance(region, Prefix):
        region = region if walked else earlier.coverage.region
    else:
        region = earlier.coverage.region.merged_with(region)  # type: ignore[union-attr]
    return Coverage(region, tuple(earlier.sums().plus(digest).sums))
