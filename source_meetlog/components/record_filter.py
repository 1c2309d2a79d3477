"""A detail answer reaches the destination unless it is a re-check that changed nothing."""

from dataclasses import InitVar, dataclass
from typing import Any, Iterable, Mapping, Optional

from airbyte_cdk.sources.declarative.extractors.record_filter import RecordFilter
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState

from source_meetlog.components.sync_context import SyncContext


@dataclass
class SendWhenChanged(RecordFilter):
    """Tells the stream's FetchPlan each answer, and keeps it when the plan says it is news.

    <- the detail of pending transcript b, fingerprint as sent last sync   -> [] (nothing changed)
    <- the detail of b, now completed                                       -> [b], and b is no longer pending
    """

    config: Config
    parameters: InitVar[Mapping[str, Any]]

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._stream = parameters["name"]
        self._sync = SyncContext.being_built() or SyncContext.standalone()

    def filter_records(
        self,
        records: Iterable[Mapping[str, Any]],
        stream_state: StreamState,
        stream_slice: Optional[StreamSlice] = None,
        next_page_token: Optional[Mapping[str, Any]] = None,
    ) -> Iterable[Mapping[str, Any]]:
        plan = self._sync.plans.get(self._stream)
        fetched_as = (stream_slice.partition if stream_slice else {}).get("id")
        for record in records:
            if plan is None or fetched_as is None or plan.answered(fetched_as, record):
                yield record
