"""What one read shares, made by SourceMeetlog.streams() and bound while the CDK builds its components.

The manifest builds one requester and one authenticator per stream, hidden list streams included,
but one read must share: the parsed config, the key pool (the API counts per key, not per stream),
the progress log, where rate-limited statuses go, the answers two streams both need, the budget of
state bytes its streams share, and what the catalog selected: which streams are read from their
list pages only, and whether transcripts keep their report_ids current. SourceMeetlog.streams()
makes a ReadContext and binds it while the CDK builds the streams; each component takes it in its
__post_init__ (`ReadContext.of(self)`), in the building thread. Nothing lives at class or module
level, so two reads in one process (PyAirbyte in a notebook, a test run) share nothing.

A component built outside a read has no context, and says so: a second key pool would pace the
same key a second time, and the two could exceed the limit together.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

from source_meetlog.core.config import MeetlogConfig
from source_meetlog.core.fetch_plan import StateBudget
from source_meetlog.core.selection import Selection

_being_built: ContextVar[Optional["ReadContext"]] = ContextVar("meetlog_read_context", default=None)


class ComponentOutsideRead(RuntimeError):
    def __init__(self, component: object) -> None:
        super().__init__(
            f"{type(component).__name__} was built outside a read: its key pool, progress and shared answers belong "
            "to one read. Build the streams through SourceMeetlog(config=...).streams(config), or bind a "
            "ReadContext around the build (`with context.bound(): ...`)."
        )


@dataclass
class ReadContext:
    """One read's config, key pool, progress log, rate-limit statuses and shared answers.

        with ReadContext(config, KeyPool(...), ProgressLog(), RateLimitStatus(...), SharedResponses()).bound():
            streams = build_them()   # every authenticator signs from the one pool
    """

    # The parts are made by SourceMeetlog from the components' modules; this one only carries them,
    # so that every component can import it without importing the others.
    config: MeetlogConfig
    key_pool: Any  # key_pool.KeyPool
    progress: Any  # signals.ProgressLog
    status: Any  # signals.RateLimitStatus
    answers: Any = None  # shared_answers.SharedResponses, or None: nothing shared
    selection: Selection = Selection()  # what the catalog selected (core/selection.py)
    # The state bytes the read's streams may write between them (core/fetch_plan.py).
    state_budget: StateBudget = field(default_factory=StateBudget)

    @contextmanager
    def bound(self) -> Iterator["ReadContext"]:
        """Components built inside this block (in this thread) belong to this read."""
        token = _being_built.set(self)
        try:
            yield self
        finally:
            _being_built.reset(token)

    @staticmethod
    def of(component: object) -> "ReadContext":
        """The read whose streams are being built in this thread; a component built outside one is an error."""
        context = _being_built.get()
        if context is None:
            raise ComponentOutsideRead(component)
        return context
