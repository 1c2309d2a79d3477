"""What the interrupted attempts of a sync handed out, and whether it still stands when the sync resumes.

A checkpoint says which region of the list its attempt had walked (created_at ranges of the newest-first
list, or a prefix of the canonical order of a list read whole) and a digest of every record in that
region as it was listed then: per bucket of ids, the sum of a 48-bit mark of (id, list fingerprint).
The resumed attempt sums the same over the region as it is listed now. Where a bucket's sums agree, no
record of it changed, appeared or went: each reached the destination as it is listed now (handed out
then, or unchanged since the last sync), and none is fetched again. Where they differ, every record of
that bucket in the region is sent again. Neither the list's order nor what the list shows at the resume
is trusted: a record delivered `processing` and completed before the resume is sent again.

<- region: created_at in [09:00, 10:00], sums[3] = mark(a, fp a) + mark(b, fp b)
<- listed now: a (fp a), b (fp b')    -> bucket 3 differs: a and b are sent again; other buckets skipped
"""

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

from source_meetlog.core.timestamps import format_cursor_value, parse_cursor_value

# A change between attempts sends again 1/8 of the region. A checkpoint carries 8 sums of 6 bytes, 64 in
# base64: the 5% state budget lets it come every 16 to 18 transcripts of the killed-sync test's data, and a
# kill costs 14 to 17 details, as in 0.3.0 (16 of 8 bytes, 172 in base64: every 21, 19 to 24 fetched again).
# 48-bit sums, as the links' digest has.
BUCKETS = 8
SUM_BYTES = 6
_MASK = (1 << 8 * SUM_BYTES) - 1
_LATEST = datetime.max  # a record without created_at sorts last, and no region covers it


def bucket_of(record_id: str) -> int:
    return hashlib.blake2b(record_id.encode(), digest_size=1, person=b"meetlog-bucket").digest()[0] % BUCKETS


def mark(record_id: str, listed: bytes) -> int:
    """(id, list fingerprint) -> 48 bits; a region's digest adds them up, so order plays no part."""
    digest = hashlib.blake2b(record_id.encode() + b"\0" + listed, digest_size=SUM_BYTES, person=b"meetlog-mark").digest()
    return int.from_bytes(digest, "big")


def sort_key(record_id: str, created: Optional[datetime]) -> Tuple[datetime, str]:
    """The canonical order in which a list read whole is handed out: oldest first, then by id."""
    return (created or _LATEST, record_id)


@dataclass(frozen=True)
class Ranges:
    """The newest-first list: every record whose created_at lies in one of these ranges."""

    ranges: Tuple[Tuple[datetime, datetime], ...] = ()

    def covers(self, record_id: str, created: Optional[datetime]) -> bool:
        return created is not None and any(low <= created <= high for low, high in self.ranges)

    def lowest(self) -> Optional[datetime]:
        return min((low for low, _ in self.ranges), default=None)

    def merged_with(self, other: "Ranges") -> "Ranges":
        merged: List[Tuple[datetime, datetime]] = []
        for low, high in sorted(self.ranges + other.ranges):
            if merged and low <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(high, merged[-1][1]))
            else:
                merged.append((low, high))
        return Ranges(tuple(merged))

    def as_state(self) -> Mapping[str, Any]:
        return {"ranges": [[format_cursor_value(low), format_cursor_value(high)] for low, high in self.ranges]}


@dataclass(frozen=True)
class Prefix:
    """A list read whole, handed out in sort_key order: every record up to `upto`, that key included."""

    upto: Optional[Tuple[datetime, str]] = None

    def covers(self, record_id: str, created: Optional[datetime]) -> bool:
        return self.upto is not None and created is not None and sort_key(record_id, created) <= self.upto

    def as_state(self) -> Mapping[str, Any]:
        return {"upto": [format_cursor_value(self.upto[0]), self.upto[1]] if self.upto else None}


Region = Union[Ranges, Prefix]


@dataclass(frozen=True)
class Coverage:
    """What a checkpoint says the sync's attempts so far handed out: a region and its digest."""

    region: Region
    sums: Tuple[int, ...] = (0,) * BUCKETS

    def as_state(self) -> Mapping[str, Any]:
        raw = b"".join(s.to_bytes(SUM_BYTES, "big") for s in self.sums)
        return {**self.region.as_state(), "sums": base64.b64encode(raw).decode("ascii")}

    @classmethod
    def read(cls, value: Any) -> Optional["Coverage"]:
        """A checkpoint's progress -> Coverage; None for one without a digest (0.3.0's: it cannot tell
        what changed since, so its attempt's records are decided again against the last sync's state)."""
        try:
            raw = base64.b64decode(value["sums"].encode("ascii"), validate=True)
            if len(raw) != SUM_BYTES * BUCKETS:
                return None
            sums = tuple(int.from_bytes(raw[i:i + SUM_BYTES], "big") for i in range(0, len(raw), SUM_BYTES))
            if "ranges" in value:
                bounds = [(parse_cursor_value(low), parse_cursor_value(high)) for low, high in value["ranges"]]
                if any(low is None or high is None for low, high in bounds):
                    return None
                return cls(Ranges(tuple(bounds)), sums)  # type: ignore[arg-type]
            upto = value["upto"]
            if upto is None:
                return cls(Prefix(), sums)
            created, record_id = parse_cursor_value(upto[0]), upto[1]
            return cls(Prefix((created, record_id)), sums) if created and isinstance(record_id, str) else None
        except (AttributeError, KeyError, TypeError, ValueError, IndexError):
            return None


@dataclass
class Digest:
    """Per-bucket sums of marks, added to as records are walked."""

    sums: List[int] = field(default_factory=lambda: [0] * BUCKETS)

    def add(self, record_id: str, listed: bytes) -> None:
        bucket = bucket_of(record_id)
        self.sums[bucket] = (self.sums[bucket] + mark(record_id, listed)) & _MASK

    def plus(self, other: "Digest") -> "Digest":
        return Digest([(a + b) & _MASK for a, b in zip(self.sums, other.sums, strict=True)])


class EarlierAttempts:
    """The region earlier attempts covered, checked against the list as it is now.

    check(a, fp) -> "covered": its mark is summed, its decision waits for settle()
    settle()     -> the ids of buckets that differ, to send again; the others stand as delivered
    """

    def __init__(self, coverage: Optional[Coverage]) -> None:
        self.coverage = coverage
        self._now = Digest()
        self._covered: Dict[str, bytes] = {}  # id -> its list fingerprint now
        self.differing: Optional[frozenset] = None  # buckets, once settled
        self._resent: set = set()  # buckets whose records were all handed out again: their sums are the list's now

    def covers(self, record_id: str, created: Optional[datetime]) -> bool:
        return self.coverage is not None and self.coverage.region.covers(record_id, created)

    def lowest_unsettled(self) -> Optional[datetime]:
        """The newest-first list: below this, the region is passed and settles."""
        region = self.coverage.region if self.coverage is not None and self.differing is None else None
        return region.lowest() if isinstance(region, Ranges) else None

    def check(self, record_id: str, listed: bytes) -> None:
        if self.differing is None and record_id not in self._covered:
            self._covered[record_id] = listed
            self._now.add(record_id, listed)

    def settle(self) -> List[str]:
        """The covered records to send again: those of every bucket whose sums differ."""
        if self.differing is not None or self.coverage is None:
            return []
        self.differing = frozenset(b for b in range(BUCKETS) if self._now.sums[b] != self.coverage.sums[b])
        return sorted(i for i in self._covered if bucket_of(i) in self.differing)

    def delivered_as(self, record_id: str) -> Optional[bytes]:
        """What a covered record reached the destination as, where its bucket agreed; else None."""
        if self.differing is None or bucket_of(record_id) in self.differing:
            return None
        return self._covered.get(record_id)

    def resent(self, bucket: int) -> None:
        self._resent.add(bucket)

    def sums(self) -> Digest:
        """The region's digest as a checkpoint may now say it: the list's sums for a bucket sent again."""
        if self.coverage is None:
            return Digest()
        return Digest([self._now.sums[b] if b in self._resent else self.coverage.sums[b] for b in range(BUCKETS)])
