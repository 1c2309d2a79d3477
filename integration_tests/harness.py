"""Running the connector in-process against the local Meetlog API, and reading what it said."""

import math
from dataclasses import dataclass
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.models import AirbyteStateMessage, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, read

from integration_tests.meetlog_server import MeetlogServer, RequestRecord
from source_meetlog import SourceMeetlog

STREAMS = ("transcripts", "reports", "projects")
ROW_KEY = ("project_id", "transcript_id")  # a project_transcripts row's key; the rest is its entry's fields


@dataclass
class Sync:
    output: EntrypointOutput
    requests: List[RequestRecord]

    def records(self, stream: str) -> List[dict]:
        return [m.record.data for m in self.output.records if m.record.stream == stream]

    def ids(self, stream: str) -> List[str]:
        return [record["id"] for record in self.records(stream)]

    @property
    def state(self) -> List[AirbyteStateMessage]:
        """The last state message of each stream: what the platform would pass to the next sync."""
        latest: Dict[str, AirbyteStateMessage] = {}
        for message in self.output.state_messages:
            latest[message.state.stream.stream_descriptor.name] = message.state
        return list(latest.values())

    @property
    def errors(self) -> List[str]:
        return [m.trace.error.message for m in self.output.errors]

    def detail_requests(self, stream: str) -> List[RequestRecord]:
        return [r for r in self.requests if r.path.startswith(f"/api/v1/export/{stream}/")]

    def list_requests(self, stream: str) -> List[RequestRecord]:
        return [r for r in self.requests if r.path == f"/api/v1/export/{stream}"]

    def project_transcripts(self) -> Dict[Tuple[str, str], dict]:
        """project_transcripts' rows by (project_id, transcript_id): every other field, as emitted."""
        return {
            (r["project_id"], r["transcript_id"]): {k: v for k, v in r.items() if k not in ROW_KEY}
            for r in self.records("project_transcripts")
        }

    def all_text(self) -> str:
        """Every message the connector emitted, written as the entrypoint writes it: what a secret scan must read."""
        return "\n".join(AirbyteEntrypoint.airbyte_message_to_string(m) for m in self.output.get_message_iterator())


# What an error a user cannot act on shows: a Python traceback, or the CDK's words for an exception it did not expect.
UNCLEAR_ERROR_SIGNS = ("Traceback", "Something went wrong in the connector", "An unexpected error occurred")


def unclear_errors(messages: Iterable[str]) -> List[str]:
    """The error messages that are not a sentence a user can act on."""
    return [m for m in messages if not m or any(sign in m for sign in UNCLEAR_ERROR_SIGNS)]


def config_for(server: MeetlogServer, key: str, **extra) -> dict:
    return {"api_key": key, "base_url": server.base_url, "requests_per_minute": 100_000, **extra}


def run_sync(
    server: MeetlogServer,
    config: dict,
    streams: Sequence[str] = STREAMS,
    mode: Union[SyncMode, Mapping[str, SyncMode]] = SyncMode.full_refresh,
    state: Optional[List[AirbyteStateMessage]] = None,
) -> Sync:
    """`mode` is one for every stream, or one per stream name."""
    builder = CatalogBuilder()
    for stream in streams:
        builder = builder.with_stream(stream, mode[stream] if isinstance(mode, Mapping) else mode)
    catalog = builder.build()
    before = len(server.requests)
    output = read(SourceMeetlog(catalog=catalog, config=config, state=state), config, catalog, state=state)
    return Sync(output=output, requests=list(server.requests)[before:])


def minimum_requests(counts: Iterable[int]) -> int:
    """A full sync's floor: every list page of 100, plus one detail per record."""
    return sum(math.ceil(n / 100) + n for n in counts)


def expected_project_transcripts(server: MeetlogServer) -> Dict[Tuple[str, str], dict]:
    """What project_transcripts must emit: one row per project and transcript of the projects' details,
    with every field of that entry of the project's `transcripts` but its id (the row's transcript_id)."""
    return {
        (project["id"], transcript["id"]): {k: v for k, v in transcript.items() if k != "id"}
        for project in server.dataset.details("projects")
        for transcript in project["transcripts"]
    }

