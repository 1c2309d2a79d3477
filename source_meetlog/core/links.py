"""A transcript's `report_ids` as the reports list shows them. Plain Python.

A transcript's own fields do not move when a report is added to it or deleted, but its report_ids
do. So the transcripts stream reads the reports list too (the same answers the reports stream reads,
shared: no extra request) and sends again each transcript whose reports differ from what it sent
(`relinked`, asked by FetchPlan.relinks), in the same sync, whichever stream Airbyte reads first.

A report added since the last sync is caught by its created_at. One that existed then and moved to
another transcript, or was deleted, is caught by comparing `link_digest`s: per bucket of transcript
ids, a sum of 48-bit marks of (report id, transcript id) over the reports the last sync took in. The
transcripts of a bucket whose sums differ are sent again: a move costs about 1/64 of the transcripts
with reports, and no record is left with stale report_ids (but for a transcript whose last report
went: no report names it, so only a remembered report_ids or reconcile_deletions catches that).

<- reports list [{id: r1, transcription_id: t1, created_at: 10:00}, {id: r2, transcription_id: t1, …}]
-> by_transcript {"t1": ["r1", "r2"]}; newest_of("t1") the newest of their created_at
"""

import hashlib
from datetime import datetime
from typing import Callable, Dict, Iterable, List, Mapping, Optional, Set, Tuple

from source_meetlog.core.sent import ids_fingerprint

NO_REPORTS = ids_fingerprint([])
LINK_BUCKETS = 64
LINK_MARK_BYTES = 6  # 48 bits a bucket: 384 bytes in the state
LinkDigest = Tuple[int, ...]


def _bucket(transcript_id: str) -> int:
    return hashlib.blake2b(transcript_id.encode(), digest_size=2, person=b"meetlog-link").digest()[0] % LINK_BUCKETS


def _mark(report_id: str, transcript_id: str) -> int:
    text = f"{report_id}\0{transcript_id}".encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=LINK_MARK_BYTES, person=b"meetlog-mark").digest(), "big")


class ReportSets:
    def __init__(self) -> None:
        self.by_transcript: Dict[str, List[str]] = {}
        self._newest: Dict[str, datetime] = {}
        self.newest: Optional[datetime] = None
        self.complete = False  # the whole list was read, unchanged while paged: a missing report is gone
        self._links: List[Tuple[str, str, Optional[datetime]]] = []

    def add(self, report_id: str, transcript_id: str, created_at: Optional[datetime]) -> None:
        self.by_transcript.setdefault(transcript_id, []).append(report_id)
        self._links.append((report_id, transcript_id, created_at))
        if created_at is not None:
            self._newest[transcript_id] = max(created_at, self._newest.get(transcript_id, created_at))
            self.newest = max(created_at, self.newest or created_at)

    def report_ids_of(self, transcript_id: str) -> bytes:
        """The fingerprint of a transcript's report_ids as this list shows them (core/sent.py: ids_fingerprint)."""
        return ids_fingerprint(self.by_transcript.get(transcript_id, []))

    def newest_of(self, transcript_id: str) -> datetime:
        return self._newest.get(transcript_id, datetime.min)

    def link_digest(self, until: datetime) -> LinkDigest:
        """The digest of the links of the reports created up to `until`."""
        sums = [0] * LINK_BUCKETS
        for report_id, transcript_id, created_at in self._links:
            # One without a readable created_at is never "made since": the digest takes it in whatever its date.
            if created_at is None or created_at <= until:
                bucket = _bucket(transcript_id)
                sums[bucket] = (sums[bucket] + _mark(report_id, transcript_id)) % (1 << 8 * LINK_MARK_BYTES)
        return tuple(sums)


def as_sent(links: Optional[LinkDigest], reports: Optional[ReportSets],
            sent: Mapping[str, Optional[bytes]]) -> Optional[LinkDigest]:
    """The links' digest the next sync compares with: the reports list's, but a bucket is marked as
    differing wherever a transcript was sent this sync with report_ids the list does not show (a report
    moved or went between the detail and the list): the next sync sends that bucket's transcripts again.

    `sent`: each transcript answered this sync -> the fingerprint of the report_ids it was sent with."""
    if links is None or reports is None:
        return links
    marked = list(links)
    for transcript_id, report_ids in sent.items():
        if report_ids is not None and report_ids != reports.report_ids_of(transcript_id):
            marked[_bucket(transcript_id)] ^= 1
    return tuple(marked)


def relinked(reports: ReportSets, sent_report_ids: Callable[[str], Optional[bytes]], seen: Iterable[str],
             reports_until: Optional[datetime], links_then: Optional[LinkDigest] = None, sent_before: bool = False) -> Set[str]:
    """Transcripts whose report_ids changed: a report added since `reports_until`, or, where the
    report_ids sent are known (`sent_report_ids`) and the reports list was read whole, one added or deleted.
    `sent_before`: transcripts were sent by an earlier sync; without `reports_until`, none took the reports list
    in, so every transcript the list names may hold report_ids of then, and is sent again once.

    <- t1 sent with [r1]; the reports list names r1, r2 for t1     -> {"t1"}
    <- t2 sent with [r3]; the whole list names no report of t2 now -> {"t2"}
    """
    changed: Set[str] = set()
    for transcript_id in reports.by_transcript:
        sent = sent_report_ids(transcript_id)
        if sent is not None and reports.complete:
            if sent != reports.report_ids_of(transcript_id):
                changed.add(transcript_id)
        elif reports_until is None:
            if sent_before:
                changed.add(transcript_id)  # its report_ids as of its last sync, which did not read the reports list
        elif reports.newest_of(transcript_id) > reports_until:
            changed.add(transcript_id)  # a report made since: its transcript was sent without it
    # Compared even on a list that shifted while paged: a move it shows must not be taken in unseen (a
    # report it missed or showed twice only sends a bucket more).
    if reports_until is not None and links_then is not None:
        now = reports.link_digest(reports_until)
        moved = {bucket for bucket in range(LINK_BUCKETS) if now[bucket] != links_then[bucket]}
        changed.update(t for t in reports.by_transcript if _bucket(t) in moved)  # a report moved or went
    if reports.complete:
        for transcript_id in seen:
            sent = sent_report_ids(transcript_id)
            if transcript_id not in reports.by_transcript and sent not in (None, NO_REPORTS):
                changed.add(transcript_id)  # its last report was deleted
    return changed
