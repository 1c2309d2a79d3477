"""How often a read may checkpoint: all its state messages within 5% of the record bytes it sends.

sent(900 B) x 40 -> 36,000 B of records: 1,800 B of state, less the final states' share
"""

import threading
from typing import Any, Dict

# All the state messages of a sync together stay under this share of the record bytes it sends: a
# checkpoint is taken when the budget, less what the final states will weigh, has room for it.
STATE_BYTES_BUDGET = 0.05
# What a checkpoint weighs beside the saved list state: the CDK's message around it, and the progress
# (its digest, core/resume.py); and what a RECORD line weighs beside the record's data.
CHECKPOINT_BYTES = 450
RECORD_LINE_BYTES = 90


class StateBudget:
    """The state bytes one read may write, over every stream, so that a stream of small records may
    checkpoint on what a stream of large ones earned."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.record_bytes = 0
        self.state_bytes = 0
        self._finals: Dict[int, int] = {}  # each plan's final state, as it would weigh now

    def sent(self, size: int) -> None:
        with self._lock:
            self.record_bytes += size + RECORD_LINE_BYTES

    def has_room(self, plan: object, size: int, final: int) -> bool:
        with self._lock:
            self._finals[id(plan)] = final
            return self.state_bytes + size + sum(self._finals.values()) <= STATE_BYTES_BUDGET * self.record_bytes

    def spend(self, size: int) -> None:
        with self._lock:
            self.state_bytes += size


def final_state_estimate(saved_bytes: int, records: int, rules: Any, answered_share: float) -> int:
    """The list's final state as it would weigh now: the saved one, and what this sync adds to it in step
    with the records it has sent so far (a list read whole must not hold back every checkpoint until
    its records have earned its final); base64 makes 4 bytes of 3."""
    entry_bytes = (16 if rules.reconcile_deletions else 4) + (8 if rules.remembered_detail else 4)  # key + Sent
    return saved_bytes + int(records * entry_bytes * 4 / 3 * min(answered_share, 1.0))
