"""The connector: manifest.yaml run by the CDK, with the config parsed once, a scope-aware check,
and one ReadContext per read for the components to share."""

import logging
import sys
from typing import Any, Iterator, List, Mapping, Optional, Tuple

from airbyte_cdk.models import (
    AirbyteCatalog,
    AirbyteConnectionStatus,
    AirbyteMessage,
    AirbyteStateMessage,
    AirbyteStreamStatus,
    ConfiguredAirbyteCatalog,
    Status,
    SyncMode,
    Type,
)
from airbyte_cdk.sources.declarative.yaml_declarative_source import YamlDeclarativeSource
from airbyte_cdk.sources.streams.concurrent.abstract_stream import AbstractStream
from airbyte_cdk.utils.airbyte_secrets_utils import filter_secrets

from source_meetlog import cdk_internals
from source_meetlog.check import check_connection
from source_meetlog.components.key_pool import KeyPool
from source_meetlog.components.read_context import ReadContext
from source_meetlog.components.shared_answers import SharedResponses
from source_meetlog.components.signals import DELETED_AT_FIELD, ProgressLog, RateLimitStatus
from source_meetlog.core.config import ConfigError, MeetlogConfig, parse_config
from source_meetlog.core.key_secrets import register_key_secrets
from source_meetlog.core.selection import selection_of


class SourceMeetlog(YamlDeclarativeSource):
    def __init__(self, catalog: Optional[ConfiguredAirbyteCatalog] = None, config: Optional[Mapping[str, Any]] = None,
                 state: Optional[List[AirbyteStateMessage]] = None, **kwargs: Any) -> None:
        # The config is parsed here, once. A bad one must reach the user as a message naming the
        # field, from whichever command runs, so it is kept rather than raised while the manifest is built.
        self._config_error: Optional[ConfigError] = None
        self._parsed_config: Optional[MeetlogConfig] = None
        if config:
            try:
                self._parsed_config = parse_config(config)
                config = self._parsed_config.as_connector_config(config)
            except ConfigError as error:
                self._config_error = error
                config = None
        super().__init__(path_to_yaml="manifest.yaml", catalog=catalog, config=config, state=state, **kwargs)
        self._reading: Tuple[Optional[ConfiguredAirbyteCatalog], Optional[List[AirbyteStateMessage]]] = (catalog, state)
        self._read: Optional[ReadContext] = None
        # Process-wide and before any command runs: the entrypoint takes its writer before the read starts.
        cdk_internals.keep_null_fields_in_records()  # a field Meetlog served as null is written as null

    @property
    def config_error(self) -> Optional[ConfigError]:
        """What is wrong with the config given at construction, if anything."""
        return self._config_error

    def _config_of(self, command_config: Mapping[str, Any]) -> MeetlogConfig:
        """The config parsed at construction; one given only to the command is parsed here, once."""
        if self._config_error:
            raise self._config_error
        if self._parsed_config is None:
            self._parsed_config = parse_config(command_config)
        return self._parsed_config

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        register_key_secrets(config)
        try:
            meetlog_config = self._config_of(config)
        except ConfigError as error:
            return AirbyteConnectionStatus(status=Status.FAILED, message=error.message)
        status = check_connection(meetlog_config, logger)
        # The entrypoint prints a connection status as it is, unfiltered, and a server's error may quote a key.
        status.message = filter_secrets(status.message) if status.message else status.message
        return status

    def discover(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteCatalog:
        register_key_secrets(config)
        self._config_of(config)
        return super().discover(logger, config)

    def streams(self, config: Mapping[str, Any]) -> List[AbstractStream]:
        # Each read builds its streams once: the components built here share one ReadContext (config,
        # key pool, progress, answers, rate-limit statuses, what the catalog selected), which goes with the read.
        parsed = self._config_of(config)
        catalog, _ = self._reading
        configured = {s.stream.name: s for s in catalog.streams} if catalog else {}
        chosen = selection_of({name: (s.stream.json_schema or {}).get("properties") or None for name, s in configured.items()},
                              incremental={name for name, s in configured.items() if s.sync_mode == SyncMode.incremental})
        status = RateLimitStatus(cdk_internals.read_message_repository(self), set(configured))  # whose waits are announced
        self._read = ReadContext(parsed, KeyPool(parsed.api_keys, parsed.requests_per_minute, status=status), ProgressLog(),
                                 status, SharedResponses() if chosen.shares_answers else None, chosen)
        with self._read.bound():
            streams = super().streams(config)
        cdk_internals.adapt_read(self, streams)
        return streams

    def read(self, logger: logging.Logger, config: Mapping[str, Any], catalog: ConfiguredAirbyteCatalog,
             state: Optional[List[AirbyteStateMessage]] = None) -> Iterator[AirbyteMessage]:
        register_key_secrets(config)
        self._config_of(config)
        self._reading = (catalog, state)
        # A full refresh replaces the destination's table, where a deletion marker would be a row of its own.
        replaced = {s.stream.name for s in catalog.streams if s.sync_mode == SyncMode.full_refresh}
        for message in super().read(logger, config, catalog, state):
            trace = message.trace if message.type == Type.TRACE else None
            record = message.record if message.type == Type.RECORD else None
            status = trace.stream_status if trace else None
            if status and self._read and status.status in (AirbyteStreamStatus.COMPLETE, AirbyteStreamStatus.INCOMPLETE):
                self._read.status.stream_done(status.stream_descriptor.name)  # nothing more is said of it
            if record and record.stream in replaced and DELETED_AT_FIELD in record.data:
                continue
            if trace and trace.error:
                # The CDK builds internal_message from the API's error body, and an API may quote
                # the request's Authorization header there; it does not filter that field.
                error = trace.error
                error.message = filter_secrets(error.message or "")
                error.internal_message = filter_secrets(error.internal_message or "") or None
                error.stack_trace = filter_secrets(error.stack_trace or "") or None
            yield message
            if message.type == Type.STATE:
                # The entrypoint has written it by now: out at once, so that a process killed right
                # after a checkpoint has handed it to the platform (the CDK's print buffer holds 0.1 s).
                sys.stdout.flush()
