"""Console entry point `source-meetlog`: spec, check, discover and read on the Airbyte protocol."""

import sys
from typing import List, Optional

import orjson

from airbyte_cdk.entrypoint import AirbyteEntrypoint, launch
from airbyte_cdk.models import AirbyteMessageSerializer, FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_meetlog.source import SourceMeetlog


def _source_from_args(args: List[str]) -> SourceMeetlog:
    config_path = AirbyteEntrypoint.extract_config(args)
    catalog_path = AirbyteEntrypoint.extract_catalog(args)
    state_path = AirbyteEntrypoint.extract_state(args)
    return SourceMeetlog(
        catalog=SourceMeetlog.read_catalog(catalog_path) if catalog_path else None,
        config=SourceMeetlog.read_config(config_path) if config_path else None,
        state=SourceMeetlog.read_state(state_path) if state_path else None,
    )


def run(args: Optional[List[str]] = None) -> None:
    args = sys.argv[1:] if args is None else args
    try:
        launch(_source_from_args(args), args)
    except AirbyteTracedException as error:
        if error.failure_type != FailureType.config_error:
            raise
        # A config error is the user's to fix: one clear trace message, no Python traceback.
        message = error.as_sanitized_airbyte_message()
        message.trace.error.stack_trace = None
        print(orjson.dumps(AirbyteMessageSerializer.dump(message)).decode())
        sys.exit(1)
