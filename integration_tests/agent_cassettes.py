"""Records the agent connector's cassettes from the local Meetlog API, with the SDK's own recorder.

    .cache/agent-venv/bin/python -m integration_tests.agent_cassettes

The SDK's readiness validation (`python -m airbyte_agent_sdk.cli validate readiness DIR`) wants
one cassette per entity and action under DIR/tests/cassettes, and DIR/connector.yaml: DIR is
integration_tests/agent_connector/, whose connector.yaml links to the one the package ships.
Each cassette holds one request and answer as the SDK captured it (key references as
${MEETLOG_API_KEY}, never the key). The local API's data set is fixed, so recording again
changes only what the SDK stamps (and ids it redacts), not the shapes the validation checks.
"""

import asyncio
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("AIRBYTE_TELEMETRY_MODE", "disabled")

from airbyte_agent_sdk.secrets import SecretStr  # noqa: E402
from airbyte_agent_sdk.testing.helpers import record_cassette_operation  # noqa: E402

from integration_tests.meetlog_server import MeetlogServer, build_dataset  # noqa: E402

CONNECTOR_DIR = Path(__file__).resolve().parent / "agent_connector"
CASSETTES = CONNECTOR_DIR / "tests" / "cassettes"
KEY_VARIABLE = "MEETLOG_API_KEY"
PAGE_SIZE = 2  # small answers; the list schema is the same at any size


def operations(dataset):
    for entity in ("transcripts", "reports", "projects"):
        # A record with nulls where the data set has one, so the cassette shows a nullable field served as null.
        items = dataset.list_items(entity)
        with_nulls = next((i for i in items if None in dataset.detail(entity, i["id"], "acme").values()), items[0])
        yield entity, "list", {"page": 1, "page_size": PAGE_SIZE}
        yield entity, "get", {"id": with_nulls["id"]}


async def record_all(server: MeetlogServer, key: str) -> None:
    os.environ[KEY_VARIABLE] = key
    for entity, action, params in operations(server.dataset):
        result = await record_cassette_operation(
            connector_file=CONNECTOR_DIR / "connector.yaml",
            connector_dir=CONNECTOR_DIR,
            entity=entity,
            action=action,
            params=params,
            auth_config={"api_key": SecretStr(key)},
            auth_config_mapping={"api_key": "${" + KEY_VARIABLE + "}"},
            config_values={"base_url": server.base_url},
            output_dir=CASSETTES,
            test_name=f"{entity}_{action}",
            description=f"{entity}.{action} against the local Meetlog API",
        )
        if not result.success:
            sys.exit(f"{entity}.{action}: {result.error}")
        print(f"{entity}.{action} -> {Path(result.cassette_file).relative_to(CONNECTOR_DIR)}")


def main() -> None:
    shutil.rmtree(CASSETTES, ignore_errors=True)
    CASSETTES.mkdir(parents=True)
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as scratch, MeetlogServer(dataset=build_dataset(), requests_per_window=None) as server:
        os.chdir(scratch)  # the recorder writes its request logs to ./.logs
        try:
            asyncio.run(record_all(server, server.add_key()))
        finally:
            os.chdir(here)


if __name__ == "__main__":
    main()
