"""Refusing a saved state this connector could not have written, without losing a record."""

import logging
from dataclasses import InitVar, dataclass
from typing import Any, Mapping

from airbyte_cdk.sources.declarative.migrations.state_migration import StateMigration
from airbyte_cdk.sources.types import Config

from source_meetlog.components.cursor_values import parse_cursor_value

logger = logging.getLogger("airbyte")


def _is_cursor_value(value: Any) -> bool:
    return parse_cursor_value(value) is not None


@dataclass
class RestartOnUnreadableState(StateMigration):
    """A state with a cursor that is not a date-time, or of a shape we never write, restarts the stream.

    {"created_at": "2026-05-08T09:14:22Z"}                            -> kept (a legacy state)
    {"state": {"created_at": …}, "parent_state": {"transcripts_list": {"created_at": …}}} -> kept
    {"created_at": "yesterday"}, {"state": 12}, {"cursor": "…"}       -> {} and a warning

    Starting over costs requests, never records: a full re-read, deduplicated by id downstream.
    Guessing at a cursor could skip records for good.
    """

    config: Config
    parameters: InitVar[Mapping[str, Any]]

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._cursor_field = parameters["cursor_field"]
        self._stream = parameters["name"]

    def should_migrate(self, stream_state: Mapping[str, Any]) -> bool:
        return bool(stream_state) and not self._is_readable(stream_state)

    def migrate(self, stream_state: Mapping[str, Any]) -> Mapping[str, Any]:
        logger.warning(
            f"The saved state of the '{self._stream}' stream is not one this connector writes "
            f"(no readable '{self._cursor_field}' date-time), so the stream starts again from start_date. "
            "Records already synced arrive again and deduplicate by id."
        )
        return {}

    def _is_readable(self, state: Mapping[str, Any]) -> bool:
        if not isinstance(state, Mapping):
            return False
        if set(state) == {self._cursor_field}:  # the legacy, single-cursor shape
            return _is_cursor_value(state[self._cursor_field])
        own = state.get("state")
        parents = state.get("parent_state", {})
        if own is None and not parents:
            return False
        holders = ([own] if own is not None else []) + list(parents.values() if isinstance(parents, Mapping) else [None])
        return all(
            isinstance(holder, Mapping) and (not holder or _is_cursor_value(holder.get(self._cursor_field)))
            for holder in holders
        )
