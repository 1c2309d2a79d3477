"""The connector: manifest.yaml run by the CDK, with config checks, a scope-aware check and memory bounds."""

import logging
from typing import Any, Iterator, List, Mapping, Optional

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

from source_meetlog.cdk_internals import keep_null_fields_in_records
from source_meetlog.check import check_connection
from source_meetlog.components.checkpoints import checkpoint_every_page
from source_meetlog.components.known_ids import DELETED_AT_FIELD
from source_meetlog.components.shared_responses import SharedResponses
from source_meetlog.components.partition_bounds import bound_partition_cursors, bound_pending_partitions
from source_meetlog.config import ConfigError, MeetlogConfig, parse_config


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
        if config:
            try:
                config = parse_config(config).as_connector_config(config)
            except ConfigError as error:
                self._config_error = error
                config = None
        super().__init__(path_to_yaml="manifest.yaml", catalog=catalog, config=config, state=state, **kwargs)
        keep_null_fields_in_records()  # a field Meetlog served as null is written as null (cdk_internals.py)
        # One detail partition per record: the CDK must not hold them all (components/partition_bounds.py).
        bound_pending_partitions(self._concurrent_source, self.logger)

    @property
    def config_error(self) -> Optional[ConfigError]:
        """What is wrong with the config given at construction, if anything."""
        return self._config_error

    def _checked_config(self, config: Mapping[str, Any]) -> MeetlogConfig:
        """The parsed config; parsing again also registers each key as a secret once more, since
        the CDK's entrypoint replaced the secret list with the whole api_key value meanwhile."""
        if self._config_error:
            raise self._config_error
        return parse_config(self._config or config)

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        try:
            meetlog_config = self._checked_config(config)
        except ConfigError as error:
            return AirbyteConnectionStatus(status=Status.FAILED, message=error.message)
        return check_connection(meetlog_config, logger)

    def streams(self, config: Mapping[str, Any]) -> List[AbstractStream]:  # type: ignore[override]
        # Each read builds its streams once: the requesters built here share one store of answers
        # (components/shared_responses.py), which goes when these streams go, with the sync.
        with SharedResponses().bound():
            streams = super().streams(config)
        checkpoint_every_page(streams)
        bound_partition_cursors(streams)  # one detail partition per record: memory must stay flat
        return streams

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
        # A full refresh replaces the destination's table, where a deletion marker would be a row of its own.
        replaced = {s.stream.name for s in catalog.streams if s.sync_mode == SyncMode.full_refresh}
        for message in super().read(logger, config, catalog, state):
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
