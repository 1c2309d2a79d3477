"""Keeping a transcript's `report_ids` current when its reports change. Plain Python.

A transcript is fetched when it is new; a report made later for it changes its `report_ids` (the
transcript's own created_at does not move). So the reports stream tells the transcripts stream,
through this hand-off, which synced transcripts gained a report (or, with reconcile_deletions,
lost one) in this sync, and the transcripts stream fetches each of them once: one request per
such transcript per sync. Both streams run at once; whichever ends its list first:

- the reports stream first: its transcripts are taken by the transcripts stream at the end of its list;
- the transcripts stream first: they are kept in the reports stream's state (`relink_transcripts`),
  and the next sync's transcripts stream fetches them.

offer({"t1"}) before take() -> take() == {"t1"};   take() before offer({"t1"}) -> offer returns {"t1"}
"""

import threading
from typing import Iterable, Set


class ReportLinks:
    def __init__(self, carried_over: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._offered: Set[str] = set(carried_over)  # what the last sync could not hand over
        self._taken = False

    def offer(self, transcript_ids: Iterable[str]) -> Set[str]:
        """The reports stream's changed transcripts; returns those the transcripts stream can no longer take."""
        with self._lock:
            if self._taken:
                return set(transcript_ids)
            self._offered.update(transcript_ids)
            return set()

    def take(self) -> Set[str]:
        """The transcripts stream, once its list is read: the transcripts to fetch again. Later offers wait a sync."""
        with self._lock:
            self._taken = True
            return set(self._offered)
