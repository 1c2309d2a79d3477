"""List recent Meetlog transcripts and get one, live, through the agent connector and airbyte-agent-sdk.

    pip install -e '.[agent]'
    python examples/agent_connector.py --local                     # a local Meetlog API with sample data
    MEETLOG_API_KEY=tk_live_… python examples/agent_connector.py   # meetlog.ru (or --base-url URL)

This is what an AI agent's tool does: the SDK's LocalExecutor runs the connector.yaml that the
package ships (source_meetlog/agent/connector.yaml) directly against the API, with no Airbyte
Cloud. --local starts the repository's test server (integration_tests/meetlog_server) on
127.0.0.1 with a fresh key, so run it from the repository root. The key is read from the
environment, never from the command line, and is never printed.
"""

import argparse
import asyncio
import contextlib
import os
import sys
from importlib import resources
from pathlib import Path

# The SDK sends anonymous usage telemetry unless this says otherwise (read when an executor starts).
os.environ.setdefault("AIRBYTE_TELEMETRY_MODE", "disabled")

from airbyte_agent_sdk.executor import LocalExecutor  # noqa: E402
from airbyte_agent_sdk.http.exceptions import HTTPStatusError  # noqa: E402

CONNECTOR_YAML = str(resources.files("source_meetlog") / "agent" / "connector.yaml")


@contextlib.contextmanager
def local_api():
    """(base_url, key) of a local Meetlog API seeded with sample data, for as long as the block runs."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from integration_tests.meetlog_server import MeetlogServer, build_dataset

    with MeetlogServer(dataset=build_dataset(), requests_per_window=60, window_seconds=60.0) as server:
        yield server.base_url, server.add_key(scopes=("export:transcripts",))


async def show_recent_transcripts(base_url: str, api_key: str, count: int) -> None:
    agent = LocalExecutor(config_path=CONNECTOR_YAML, auth_config={"api_key": api_key},
                          config_values={"base_url": base_url})
    try:
        recent = await agent.execute("transcripts", "list", params={"page": 1, "page_size": count})
        print(f"{recent.meta['total']} transcripts; the {len(recent.data)} most recent:")
        for transcript in recent.data:
            print(f"  {transcript['created_at']}  {transcript['status']:<10}  {transcript['title']}")
        if not recent.data:
            return
        newest = (await agent.execute("transcripts", "get", params={"id": recent.data[0]["id"]})).data
        print(f"\nGot transcript {newest['id']}: {newest['title']}")
        print(f"  summary: {newest['summary']}")
        print(f"  reports: {len(newest['report_ids'] or [])}; text: {len(newest['text'] or '')} characters")
    finally:
        await agent.close()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--local", action="store_true", help="start a local Meetlog API with sample data")
    parser.add_argument("--base-url", default="https://meetlog.ru", help="the Meetlog deployment (without --local)")
    parser.add_argument("--count", type=int, default=5, help="how many recent transcripts to list (1-100)")
    args = parser.parse_args(argv)

    try:
        if args.local:
            with local_api() as (base_url, api_key):
                asyncio.run(show_recent_transcripts(base_url, api_key, args.count))
        else:
            api_key = os.environ.get("MEETLOG_API_KEY")
            if not api_key:
                sys.exit("Set MEETLOG_API_KEY to a Meetlog API key with the scope export:transcripts, or use --local.")
            asyncio.run(show_recent_transcripts(args.base_url, api_key, args.count))
    except HTTPStatusError as error:  # 401, 403, 404, or 429 after every retry: the API's own message
        sys.exit(f"Meetlog answered {error.status_code}: {error}")


if __name__ == "__main__":
    main()
