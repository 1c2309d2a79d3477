"""The fetch plans of one read, by stream: how a detail stream's record filter finds its router's plan.

One of what a read shares (sync_context.py): the router registers its plan, the record filter of
the same stream looks it up.
"""

from typing import Dict, Optional

from source_meetlog.fetch_plan import FetchPlan
from source_meetlog.report_links import ReportLinks


class ReadPlans:
    """register("transcripts", plan) in the router; of("transcripts") in the record filter."""

    def __init__(self, report_links: Optional[ReportLinks] = None) -> None:
        self._plans: Dict[str, FetchPlan] = {}
        # Only when the read syncs transcripts incrementally beside reports (source.py).
        self.report_links = report_links

    def register(self, stream: str, plan: FetchPlan) -> None:
        self._plans[stream] = plan

    def of(self, stream: str) -> Optional[FetchPlan]:
        return self._plans.get(stream)
