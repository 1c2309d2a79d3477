"""Every place where the connector leans on a private attribute or behaviour of airbyte-cdk.

Each use below names the CDK file it depends on and says why no public setting does the job.
setup.py pins the CDK to the minor version these were read from, and
unit_tests/test_cdk_internals.py checks every attribute named here, failing with its name and the
CDK version when a release removes or renames one.
"""


# ------------------------------------------------------------- null fields in records (issue #10)
# Why: airbyte_cdk/models/airbyte_protocol_serializers.py builds AirbyteMessageSerializer with
# omit_none=True, which drops record.data's top-level None values: a field Meetlog served as null
# reached stdout as no key. airbyte_cdk/entrypoint.py writes every message through
# AirbyteEntrypoint.airbyte_message_to_string, looked up on the class (`map(AirbyteEntrypoint.
# airbyte_message_to_string, ...)`), so only replacing that class attribute reaches read's records on
# every path: the console script, main.py, Docker, PyAirbyte, and the CDK's entrypoint_wrapper and
# standard tests, which build a plain AirbyteEntrypoint. No public setting does it.
# unit_tests/test_null_fields_in_records.py fails if the CDK stops dispatching through that
# attribute, or starts keeping nulls itself (then this section should go).

import json  # noqa: E402  (each section of this module imports what it uses)
from typing import Callable  # noqa: E402

import orjson  # noqa: E402

from airbyte_cdk.entrypoint import AirbyteEntrypoint  # noqa: E402
from airbyte_cdk.models import AirbyteMessage, AirbyteMessageSerializer, Type  # noqa: E402


# The CDK's own function, kept for every message but records (and kept, not re-read, on a reload).
_CDK_MESSAGE_TO_STRING: Callable[[AirbyteMessage], str] = globals().get(
    "_CDK_MESSAGE_TO_STRING", AirbyteEntrypoint.airbyte_message_to_string
)


def message_to_string(message: AirbyteMessage) -> str:
    """A message as one line of JSON; a record's data exactly as given, its None values as null.

    RECORD {stream: "transcripts", data: {"id": "t1", "text": None}}
      -> {"type":"RECORD","record":{"stream":"transcripts","data":{"id":"t1","text":null},"emitted_at":…}}
    Any other message -> what the CDK writes for it, byte for byte.
    """
    if message.type != Type.RECORD or message.record is None:
        return _CDK_MESSAGE_TO_STRING(message)
    dumped = AirbyteMessageSerializer.dump(message)
    dumped["record"]["data"] = message.record.data
    try:
        return orjson.dumps(dumped).decode()
    except Exception:  # what orjson cannot write (an integer beyond 64 bits): json, as the CDK falls back to
        try:
            return json.dumps(dumped)
        except Exception:
            return _CDK_MESSAGE_TO_STRING(message)  # the CDK's own failure: a system_error trace


def keep_null_fields_in_records() -> None:
    """Makes the CDK's entrypoint write records with their null fields; calling it again does nothing."""
    AirbyteEntrypoint.airbyte_message_to_string = staticmethod(message_to_string)  # type: ignore[method-assign]
