"""Refusing a saved state this connector could not have written, without losing a record."""

import logging
from dataclasses import InitVar, dataclass
from datetime import timedelta
from typing import Any, Mapping

from airbyte_cdk.sources.declarative.migrations.state_migration import StateMigration
from airbyte_cdk.sources.types import Config

from source_meetlog.core.timestamps import format_cursor_value, parse_cursor_value, utc_now

logger = logging.getLogger("airbyte")


@dataclass
class RestartOnUnreadableState(StateMigration):
    """A state with a cursor that is not a date-time, or of a shape we never write, restarts the stream.

    {"created_at": "2026-05-08T09:14:22Z"}                            -> kept (a legacy state)
    {"state": {"created_at": …}, "parent_state": {"transcripts_list": {"created_at": …}}} -> kept
    {"created_at": "yesterday"}, {"state": 12}, {"cursor": "…"}       -> {} and a warning
    {"state": {"created_at": …}}  (its parent_state cut away)          -> {} and a warning

    Starting over costs requests, never records: a full re-read, deduplicated by id downstream.
    Guessing at a cursor could skip records for good.
    """

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    # Each stream's, from its $parameters in manifest.yaml (the CDK copies them onto these fields).
    name: str = ""
    cursor_field: str = ""

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._warned_ahead = False

    def should_migrate(self, stream_state: Mapping[str, Any]) -> bool:
        if bool(stream_state) and not self._is_readable(stream_state):
            return True
        self._warn_if_ahead(stream_state)
        return False

    def _warn_if_ahead(self, state: Mapping[str, Any]) -> None:
        """A state ahead of now is kept (a clock may be wrong either side), but never in silence."""
        parents = state.get("parent_state") if isinstance(state, Mapping) else None
        own = state.get("state") if isinstance(state, Mapping) else None
        holders = [state, own, *(parents.values() if isinstance(parents, Mapping) else ())]
        values = [parse_cursor_value(h.get(self.cursor_field)) for h in holders if isinstance(h, Mapping)]
        ahead = [v for v in values if v is not None and v > utc_now() + timedelta(days=1)]
        if ahead and not self._warned_ahead:
            self._warned_ahead = True
            logger.warning(f"The saved state of the '{self.name}' stream is ahead of now ({self.cursor_field} "
                           f"{format_cursor_value(max(ahead))}): records made before then are not synced. If that date "
                           "is wrong, reset the stream in Airbyte to sync them.")

    def migrate(self, stream_state: Mapping[str, Any]) -> Mapping[str, Any]:
        logger.warning(f"The saved state of the '{self.name}' stream is not one this connector writes "
                       f"(no readable '{self.cursor_field}' date-time), so the stream starts again from start_date. "
                       "Records already synced arrive again and deduplicate by id.")
        return {}

    def _is_readable(self, state: Mapping[str, Any]) -> bool:
        if not isinstance(state, Mapping):
            return False
        if set(state) == {self.cursor_field}:  # the legacy, single-cursor shape
            return parse_cursor_value(state[self.cursor_field]) is not None
        own, parents = state.get("state"), state.get("parent_state", {})
        if not parents:
            return False  # every state this connector writes holds its list's: one cut short would re-read blind
        # A list state may hold no cursor (an empty list's); one it holds must read as a date-time.
        holders = ([own] if own is not None else []) + list(parents.values() if isinstance(parents, Mapping) else [None])
        cursor = self.cursor_field
        return all(isinstance(h, Mapping) and (cursor not in h or parse_cursor_value(h[cursor]) is not None) for h in holders)
