"""The connector: manifest.yaml run by the CDK, with config checks and a scope-aware check."""

import logging
from typing import Any, Iterator, List, Mapping, Optional

from airbyte_cdk.models import (
    AirbyteCatalog,
    AirbyteConnectionStatus,
    AirbyteMessage,
    AirbyteStateMessage,
    ConfiguredAirbyteCatalog,
    Status,
)
from airbyte_cdk.sources.declarative.yaml_declarative_source import YamlDeclarativeSource

from source_meetlog.check import check_connection
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
        self._meetlog_config: Optional[MeetlogConfig] = None
        if config:
            try:
                self._meetlog_config = parse_config(config)
                config = self._meetlog_config.as_connector_config(config)
            except ConfigError as error:
                self._config_error = error
                config = None
        super().__init__(path_to_yaml="manifest.yaml", catalog=catalog, config=config, state=state, **kwargs)

    @property
    def config_error(self) -> Optional[ConfigError]:
        """What is wrong with the config given at construction, if anything."""
        return self._config_error

    def _checked_config(self, config: Mapping[str, Any]) -> MeetlogConfig:
        if self._config_error:
            raise self._config_error
        return self._meetlog_config or parse_config(config)

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        try:
            meetlog_config = self._checked_config(config)
        except ConfigError as error:
            return AirbyteConnectionStatus(status=Status.FAILED, message=error.message)
        return check_connection(meetlog_config, logger)

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
        yield from super().read(logger, config, catalog, state)
