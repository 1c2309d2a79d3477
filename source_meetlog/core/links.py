"""A transcript's `report_ids` as the reports list shows them. Plain Python.

A transcript's own fields do not move when a report is added to it or deleted, but its report_ids
do. So the transcripts stream reads the reports list too (the same answers the reports stream reads,
shared: no extra request) and sends again each transcript whose reports differ from what it sent
(FetchPlan.relinks), in the same sync, whichever stream Airbyte reads first.

<- reports list [{id: r1, transcription_id: t1, created_at: 10:00}, {id: r2, transcription_id: t1, …}]
-> by_transcript {"t1": ["r1", "r2"]}; newest_of("t1") the newest of their created_at
"""

from datetime import datetime
from typing import Dict, List, Optional


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
