"""A transcript's `report_ids` as the reports list shows them. Plain Python.

A transcript's own fields do not move when a report is added to it or deleted, but its report_ids
do. So the transcripts stream reads the reports list too (the same answers the reports stream reads,
shared: no extra request) and sends again each transcript whose reports differ from what it sent
(`relinked`, asked by FetchPlan.relinks), in the same sync, whichever stream Airbyte reads first.

<- reports list [{id: r1, transcription_id: t1, created_at: 10:00}, {id: r2, transcription_id: t1, …}]
-> by_transcript {"t1": ["r1", "r2"]}; newest_of("t1") the newest of their created_at
"""

from datetime import datetime
from typing import Callable, Dict, Iterable, List, Optional, Set

from source_meetlog.core.sent import fingerprint

NO_REPORTS = fingerprint([])


class ReportSets:
    def __init__(self) -> None:
        self.by_transcript: Dict[str, List[str]] = {}
        self._newest: Dict[str, datetime] = {}
        self.newest: Optional[datetime] = None
        self.complete = False  # the whole list was read, unchanged while paged: a missing report is gone

    def add(self, report_id: str, transcript_id: str, created_at: Optional[datetime]) -> None:
        self.by_transcript.setdefault(transcript_id, []).append(report_id)
        if created_at is not None:
            self._newest[transcript_id] = max(created_at, self._newest.get(transcript_id, created_at))
            self.newest = max(created_at, self.newest or created_at)

    def newest_of(self, transcript_id: str) -> datetime:
        return self._newest.get(transcript_id, datetime.min)


def relinked(reports: ReportSets, sent_report_ids: Callable[[str], Optional[bytes]], seen: Iterable[str],
             reports_until: Optional[datetime]) -> Set[str]:
    """Transcripts whose report_ids changed: a report added since `reports_until`, or, where the
    report_ids sent are known (`sent_report_ids`) and the reports list was read whole, one added or deleted.

    <- t1 sent with [r1]; the reports list names r1, r2 for t1     -> {"t1"}
    <- t2 sent with [r3]; the whole list names no report of t2 now -> {"t2"}
    """
    changed: Set[str] = set()
    for transcript_id, report_ids in reports.by_transcript.items():
        sent = sent_report_ids(transcript_id)
        if sent is not None and reports.complete:
            if sent != fingerprint(sorted(report_ids)):
                changed.add(transcript_id)
        elif reports_until is not None and reports.newest_of(transcript_id) > reports_until:
            changed.add(transcript_id)  # a report made since: its transcript was sent without it
    if reports.complete:
        for transcript_id in seen:
            sent = sent_report_ids(transcript_id)
            if transcript_id not in reports.by_transcript and sent not in (None, NO_REPORTS):
                changed.add(transcript_id)  # its last report was deleted
    return changed
