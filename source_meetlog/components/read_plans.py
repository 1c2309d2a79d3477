"""The fetch plans of one read, by stream: how a detail stream's record filter finds its router's plan."""

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Dict, Iterator, Optional

from source_meetlog.fetch_plan import FetchPlan
from source_meetlog.report_links import ReportLinks

_being_built: ContextVar[Optional["ReadPlans"]] = ContextVar("meetlog_read_plans", default=None)


class ReadPlans:
    """register("transcripts", plan) in the router; of("transcripts") in the record filter."""

    def __init__(self, report_links: Optional[ReportLinks] = None) -> None:
        self._plans: Dict[str, FetchPlan] = {}
        # Only when the read syncs transcripts incrementally beside reports (source.py).
        self.report_links = report_links

    @contextmanager
    def bound(self) -> Iterator["ReadPlans"]:
        """Components built inside this block (in this thread) share these plans."""
        token = _being_built.set(self)
        try:
            yield self
        finally:
            _being_built.reset(token)

    @staticmethod
    def of_streams_being_built() -> "ReadPlans":
        """The plans bound while the current streams are built; a private set outside a read."""
        return _being_built.get() or ReadPlans()

    def register(self, stream: str, plan: FetchPlan) -> None:
        self._plans[stream] = plan

    def of(self, stream: str) -> Optional[FetchPlan]:
        return self._plans.get(stream)
