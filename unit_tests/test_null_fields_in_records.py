"""Records keep the fields Meetlog served as null (issue #10): the writer installed by
source_meetlog/cdk_internals.py, and the CDK behaviour it stands on.

If a test of the first group fails after a CDK upgrade, read its message: either the CDK now keeps
nulls itself (the section in cdk_internals.py should go), or it no longer writes messages through
AirbyteEntrypoint.airbyte_message_to_string (the section must find the new place).
"""

import json
import logging
from typing import Any, Iterator, List, Mapping, Optional

import orjson
import pytest

from airbyte_cdk import __version__ as cdk_version
from airbyte_cdk.entrypoint import AirbyteEntrypoint, launch
from airbyte_cdk.models import (
    AirbyteCatalog,
    AirbyteConnectionStatus,
    AirbyteErrorTraceMessage,
    AirbyteLogMessage,
    AirbyteMessage,
    AirbyteMessageSerializer,
    AirbyteRecordMessage,
    AirbyteStateMessage,
    AirbyteStateType,
    AirbyteStreamState,
    AirbyteStreamStatus,
    AirbyteStreamStatusTraceMessage,
    AirbyteTraceMessage,
    ConfiguredAirbyteCatalog,
    ConnectorSpecification,
    FailureType,
    Level,
    Status,
    StreamDescriptor,
    SyncMode,
    TraceType,
    Type,
)
from airbyte_cdk.models.airbyte_protocol import AirbyteStateBlob
from airbyte_cdk.sources import Source
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.mock_http import HttpMocker

from source_meetlog import SourceMeetlog, cdk_internals
from source_meetlog.cdk_internals import keep_null_fields_in_records, message_to_string
from source_meetlog.components.signals import DELETED_AT_FIELD, deletion_marker
from unit_tests.integration.config import ConfigBuilder
from unit_tests.integration.request_builder import detail_request, list_request
from unit_tests.integration.response_builder import DetailResponseBuilder, list_response

# A detail as Meetlog serves a transcript still processing: nulls at the top, and one nested.
SERVED = {"id": "t1", "status": "processing", "text": None, "summary": None, "duration_seconds": None,
          "report_ids": [], "nested": {"kept": None}, "extra_field": "passes through"}


def record(data: Mapping[str, Any], namespace: Optional[str] = None) -> AirbyteMessage:
    return AirbyteMessage(
        type=Type.RECORD,
        record=AirbyteRecordMessage(stream="transcripts", data=dict(data), emitted_at=1_700_000_000_000, namespace=namespace),
    )


class OneRecordSource(Source):
    """Just enough of a source for the CDK's entrypoint to run read: one record, SERVED."""

    def spec(self, logger: logging.Logger) -> ConnectorSpecification:
        return ConnectorSpecification(connectionSpecification={"type": "object"})

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        return AirbyteConnectionStatus(status=Status.SUCCEEDED)

    def discover(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteCatalog:
        return AirbyteCatalog(streams=[])

    def read(self, logger, config, catalog, state=None) -> Iterator[AirbyteMessage]:
        yield record(SERVED)


# ------------------------------------------------------------- what the CDK does, under the writer


def test_given_the_cdks_own_serializer_when_a_record_has_a_null_field_then_it_still_drops_it():
    dropped = orjson.loads(orjson.dumps(AirbyteMessageSerializer.dump(record(SERVED))))["record"]["data"]
    by_the_cdk_writer = json.loads(cdk_internals._CDK_MESSAGE_TO_STRING(record(SERVED)))["record"]["data"]

    assert "text" not in dropped and "text" not in by_the_cdk_writer, (
        f"airbyte-cdk {cdk_version} now keeps a record's null fields: remove the section "
        "'null fields in records' of source_meetlog/cdk_internals.py and its install in source.py"
    )
    assert dropped["nested"] == {"kept": None}  # nested nulls always survived


def test_given_the_cdk_entrypoint_when_read_is_launched_then_each_line_goes_through_the_class_attribute(tmp_path, capsys):
    """launch() is what main.py and the console script run, in Docker and under PyAirbyte too."""
    keep_null_fields_in_records()
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "catalog.json").write_text(json.dumps({"streams": []}))

    launch(OneRecordSource(), ["read", "--config", str(tmp_path / "config.json"), "--catalog", str(tmp_path / "catalog.json")])

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    [printed] = [line["record"]["data"] for line in lines if line["type"] == "RECORD"]
    assert printed == SERVED, (
        f"airbyte-cdk {cdk_version}'s entrypoint no longer writes records through "
        "AirbyteEntrypoint.airbyte_message_to_string: source_meetlog/cdk_internals.py must find the new place"
    )


def test_given_the_cdk_test_entrypoint_when_read_then_records_keep_their_null_fields():
    """entrypoint_wrapper.read builds a plain AirbyteEntrypoint, as the CDK's standard tests do."""
    keep_null_fields_in_records()

    output = read(OneRecordSource(), {}, ConfiguredAirbyteCatalog(streams=[]))

    assert [m.record.data for m in output.records] == [SERVED]


# ------------------------------------------------------------- the writer


def test_given_a_meetlog_source_when_constructed_then_the_entrypoint_writes_with_the_null_keeping_writer(monkeypatch):
    """At construction, not when the read builds its streams: the entrypoint maps its messages through
    the writer it looks up before the read starts (the console script lost every null the other way)."""
    monkeypatch.setattr(AirbyteEntrypoint, "airbyte_message_to_string", staticmethod(cdk_internals._CDK_MESSAGE_TO_STRING))

    SourceMeetlog()
    SourceMeetlog()  # a second source installs nothing more

    assert AirbyteEntrypoint.airbyte_message_to_string is message_to_string
    assert json.loads(AirbyteEntrypoint.airbyte_message_to_string(record(SERVED)))["record"]["data"] == SERVED


def test_given_a_record_when_written_then_its_data_is_verbatim_and_every_other_field_as_the_cdk_writes_it():
    ours = json.loads(message_to_string(record(SERVED)))
    cdk = json.loads(cdk_internals._CDK_MESSAGE_TO_STRING(record(SERVED)))

    assert list(ours["record"].pop("data").items()) == list(SERVED.items())  # keys, values and their order
    cdk["record"].pop("data")
    assert ours == cdk
    assert "namespace" not in ours["record"] and "meta" not in ours["record"]  # omitted when None, as the CDK does


def test_given_a_record_with_a_namespace_when_written_then_the_namespace_is_kept():
    assert json.loads(message_to_string(record({"id": "t1"}, namespace="meetlog")))["record"]["namespace"] == "meetlog"


@pytest.mark.parametrize(
    "message",
    [
        AirbyteMessage(type=Type.LOG, log=AirbyteLogMessage(level=Level.INFO, message="Читаю transcripts 🚀")),
        AirbyteMessage(type=Type.CONNECTION_STATUS, connectionStatus=AirbyteConnectionStatus(status=Status.SUCCEEDED)),
        AirbyteMessage(
            type=Type.STATE,
            state=AirbyteStateMessage(
                type=AirbyteStateType.STREAM,
                stream=AirbyteStreamState(
                    stream_descriptor=StreamDescriptor(name="transcripts"),
                    stream_state=AirbyteStateBlob(created_at="2026-05-08T09:14:22Z", empty=None),
                ),
            ),
        ),
        AirbyteMessage(
            type=Type.TRACE,
            trace=AirbyteTraceMessage(
                type=TraceType.STREAM_STATUS,
                emitted_at=1.0,
                stream_status=AirbyteStreamStatusTraceMessage(
                    stream_descriptor=StreamDescriptor(name="transcripts"), status=AirbyteStreamStatus.COMPLETE
                ),
            ),
        ),
        AirbyteMessage(
            type=Type.TRACE,
            trace=AirbyteTraceMessage(
                type=TraceType.ERROR,
                emitted_at=1.0,
                error=AirbyteErrorTraceMessage(message="boom", failure_type=FailureType.config_error),
            ),
        ),
    ],
    ids=["log", "connection status", "state", "stream status", "error trace"],
)
def test_given_any_message_but_a_record_when_written_then_it_is_byte_for_byte_what_the_cdk_writes(message):
    assert message_to_string(message) == cdk_internals._CDK_MESSAGE_TO_STRING(message)


def test_given_a_deletion_marker_when_written_then_it_keeps_its_own_shape():
    marker = deletion_marker("transcripts", "t1", "created_at")

    written = json.loads(message_to_string(marker))["record"]["data"]

    assert written == marker.record.data and set(written) == {"id", "created_at", DELETED_AT_FIELD}


def test_given_an_integer_beyond_64_bits_when_written_then_the_json_fallback_keeps_the_nulls_too():
    data = {"id": "t1", "file_size_mb": 2**70, "text": None}

    assert json.loads(message_to_string(record(data)))["record"]["data"] == data


# ------------------------------------------------------------- the connector, on mocked HTTP

NULL_FIELDS = {
    "transcripts": {"status": "processing", "text": None, "summary": None, "duration_seconds": None, "source_url": None},
    "reports": {"status": "processing", "content": None},
    "projects": {"description": None},
}


@pytest.mark.parametrize("stream", sorted(NULL_FIELDS))
def test_given_a_detail_with_null_fields_when_read_then_the_record_carries_each_of_them_as_null(stream):
    config = ConfigBuilder().build()
    detail = DetailResponseBuilder(stream).with_id(f"{stream}-0001")
    for field, value in NULL_FIELDS[stream].items():
        detail = detail.with_field(field, value)
    catalog = CatalogBuilder().with_stream(stream, SyncMode.full_refresh).build()

    with HttpMocker() as http_mocker:
        http_mocker.get(list_request(stream, config["api_key"]), list_response(stream, [f"{stream}-0001"]))
        http_mocker.get(detail_request(stream, config["api_key"], f"{stream}-0001"), detail.build())
        output = read(SourceMeetlog(catalog=catalog, config=config, state=None), config, catalog)

    records: List[dict] = [m.record.data for m in output.records]
    assert records == [detail.record]
    assert all(records[0][field] is None for field, value in NULL_FIELDS[stream].items() if value is None)
