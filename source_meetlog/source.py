"""The connector: manifest.yaml run by the CDK, with config checks, a scope-aware check and memory bounds."""

import logging
from typing import Any, Iterator, List, Mapping, Optional, Tuple

from airbyte_cdk.models import (
    AirbyteCatalog,
    AirbyteConnectionStatus,
    AirbyteMessage,
    AirbyteStateMessage,
    ConfiguredAirbyteCatalog,
    Status,
    SyncMode,
    Type,
)
from airbyte_cdk.sources.streams.concurrent.abstract_stream import AbstractStream
from airbyte_cdk.utils.airbyte_secrets_utils import filter_secrets
from airbyte_cdk.sources.declarative.yaml_declarative_source import YamlDeclarativeSource

from source_meetlog import cdk_internals
from source_meetlog.check import check_connection
from source_meetlog.components.deletion_markers import DELETED_AT_FIELD
from source_meetlog.components.sync_context import SyncContext
from source_meetlog.config import ConfigError, MeetlogConfig, parse_config
from source_meetlog.list_state import ListState
from source_meetlog.report_links import ReportLinks


class SourceMeetlog(YamlDeclarativeSource):
    def __init__(
        self,
        catalog: Optional[ConfiguredAirbyteCatalog] = None,
        config: Optional[Mapping[str, Any]] = None,
        state: Optional[List[AirbyteStateMessage]] = None,
        **kwargs: Any,
    ) -> None:
        # A bad config must reach the user as a message naming the field, from whichever command
        # runs, so it is kept here rather than raised while the manifest is being built.
        self._config_error: Optional[ConfigError] = None
        self._sync: Optional[SyncContext] = None
        if config:
            try:
                config = parse_config(config).as_connector_config(config)
            except ConfigError as error:
                self._config_error = error
                config = None
        super().__init__(path_to_yaml="manifest.yaml", catalog=catalog, config=config, state=state, **kwargs)
        self._reading: Tuple[Optional[ConfiguredAirbyteCatalog], Optional[List[AirbyteStateMessage]]] = (catalog, state)
        cdk_internals.keep_null_fields_in_records()  # a field Meetlog served as null is written as null
        # One detail partition per record: the CDK must not hold them all.
        cdk_internals.bound_pending_partitions(self, self.logger)

    @property
    def config_error(self) -> Optional[ConfigError]:
        """What is wrong with the config given at construction, if anything."""
        return self._config_error

    def _checked_config(self, config: Mapping[str, Any]) -> MeetlogConfig:
        """The parsed config; parsing again also registers each key as a secret once more, since
        the CDK's entrypoint replaced the secret list with the whole api_key value meanwhile."""
        if self._config_error:
            raise self._config_error
        return parse_config(cdk_internals.config_of(self) or config)

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        try:
            meetlog_config = self._checked_config(config)
        except ConfigError as error:
            return AirbyteConnectionStatus(status=Status.FAILED, message=error.message)
        return check_connection(meetlog_config, logger)

    def streams(self, config: Mapping[str, Any]) -> List[AbstractStream]:  # type: ignore[override]
        # Each read builds its streams once: the components built here share one SyncContext (key
        # pool, progress, answers, fetch plans, rate-limit statuses), which goes with the sync.
        self._sync = SyncContext(
            cdk_internals.read_message_repository(self),
            {s.stream.name for s in self._reading[0].streams} if self._reading[0] else (),  # whose waits are announced
            report_links=self._report_links(),
        )
        with self._sync.bound():
            streams = super().streams(config)
        cdk_internals.checkpoint_every_page(streams)
        cdk_internals.bound_partition_cursors(streams)  # one detail partition per record: memory must stay flat
        return streams

    def _report_links(self) -> Optional[ReportLinks]:
        """Transcripts relinked to their new reports only when this read syncs both, transcripts
        incrementally (a full refresh fetches every transcript anyway): report_links.py."""
        catalog, state = self._reading
        modes = {s.stream.name: s.sync_mode for s in catalog.streams} if catalog else {}
        if modes.get("transcripts") != SyncMode.incremental or "reports" not in modes:
            return None
        carried_over = ()
        for message in state or ():
            stream = getattr(message, "stream", None)
            if stream is not None and stream.stream_descriptor.name == "reports" and stream.stream_state:
                blob = stream.stream_state.__dict__
                saved = (blob.get("parent_state") or {}).get("reports_list")
                carried_over = ListState.read(saved, "created_at").relink
        return ReportLinks(carried_over)

    def discover(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteCatalog:
        self._checked_config(config)
        return super().discover(logger, config)

    def read(
        self,
        logger: logging.Logger,
        config: Mapping[str, Any],
        catalog: ConfiguredAirbyteCatalog,
        state: Optional[List[AirbyteStateMessage]] = None,
    ) -> Iterator[AirbyteMessage]:
        self._checked_config(config)
        self._reading = (catalog, state)
        # A full refresh replaces the destination's table, where a deletion marker would be a row of its own.
        replaced = {s.stream.name for s in catalog.streams if s.sync_mode == SyncMode.full_refresh}
        for message in super().read(logger, config, catalog, state):
            if message.type == Type.TRACE and message.trace.stream_status and self._sync is not None:
                self._sync.observe(message.trace.stream_status)
            if message.type == Type.RECORD and message.record.stream in replaced and DELETED_AT_FIELD in message.record.data:
                continue
            if message.type == Type.TRACE and message.trace.error:
                # The CDK builds internal_message from the API's error body, and an API may quote
                # the request's Authorization header there; it does not filter that field.
                error = message.trace.error
                error.message = filter_secrets(error.message or "")
                error.internal_message = filter_secrets(error.internal_message or "") or None
                error.stack_trace = filter_secrets(error.stack_trace or "") or None
            yield message
