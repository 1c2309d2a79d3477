"""Console entry point `source-meetlog`: spec, check, discover and read on the Airbyte protocol."""

import sys
from typing import List, NoReturn, Optional

from airbyte_cdk.entrypoint import AirbyteEntrypoint, launch
from airbyte_cdk.models import AirbyteConnectionStatus, AirbyteMessage, FailureType, Status, Type
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_meetlog.core.config import ConfigError
from source_meetlog.source import SourceMeetlog


def _source_from_args(args: List[str]) -> SourceMeetlog:
    files = {
        "config": AirbyteEntrypoint.extract_config(args),
        "catalog": AirbyteEntrypoint.extract_catalog(args),
        "state": AirbyteEntrypoint.extract_state(args),
    }
    try:
        return SourceMeetlog(catalog=SourceMeetlog.read_catalog(files["catalog"]) if files["catalog"] else None,
                             config=SourceMeetlog.read_config(files["config"]) if files["config"] else None,
                             state=SourceMeetlog.read_state(files["state"]) if files["state"] else None)
    except (OSError, ValueError, TypeError) as error:
        given = ", ".join(f"--{name}" for name, path in files.items() if path)
        raise ConfigError("command line", f"could not read {given}: {type(error).__name__}. Each must be a JSON file.") from None


def _print(message: AirbyteMessage) -> None:
    # The entrypoint's own writer, so that every line this command prints is written the same way.
    print(AirbyteEntrypoint.airbyte_message_to_string(message))


def _fail(error: AirbyteTracedException) -> NoReturn:
    # A config error is the user's to fix: one clear trace message, no Python traceback.
    message = error.as_sanitized_airbyte_message()
    trace = message.trace
    assert trace is not None and trace.error is not None  # a traced exception's message is a trace with its error
    trace.error.stack_trace = None
    _print(message)
    sys.exit(1)


def run(args: Optional[List[str]] = None) -> None:
    args = sys.argv[1:] if args is None else args
    command = args[0] if args else None
    try:
        source = _source_from_args(args)
        # Answered here, before the CDK registers the raw config as a secret: a blank or
        # one-letter api_key would otherwise mask every space or letter of the message.
        if command == "check" and source.config_error:
            status = AirbyteConnectionStatus(status=Status.FAILED, message=source.config_error.message)
            _print(AirbyteMessage(type=Type.CONNECTION_STATUS, connectionStatus=status))
            return
        if command in ("discover", "read") and source.config_error:
            _fail(source.config_error)
        launch(source, args)
    except AirbyteTracedException as error:
        if error.failure_type != FailureType.config_error:
            raise
        _fail(error)
