"""Shared pytest setup for integration_tests/.

The standard suite (test_standard_suite.py) reads its configs by path from
acceptance-test-config.yml, so the local Meetlog API it talks to must listen where those files
say: `meetlog_acceptance_server` starts it there, with the key they name.
"""

from __future__ import annotations

import errno
import json
import time
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import pytest

from integration_tests.meetlog_server import ALL_SCOPES, MeetlogServer, build_dataset

SAMPLE_CONFIG_PATH = Path(__file__).parent / "sample_config.json"
# Another run of the suite (a second pytest on the same machine) may hold the fixed port; its
# module finishes in seconds, so waiting a little serialises the two instead of failing one.
PORT_BUSY_WAIT_SECONDS = 30.0


def pytest_configure(config: pytest.Config) -> None:
    # pytest.ini has --strict-markers, and the CDK's suite marks its Docker tests `image_tests`
    # (and credentialed scenarios `requires_creds`) without registering either marker.
    config.addinivalue_line("markers", "image_tests: the CDK standard suite's tests of the connector's Docker image")
    config.addinivalue_line("markers", "requires_creds: a CDK standard suite scenario whose config lives in secrets/")


def _start_on_fixed_port(api_key: str, port: int) -> MeetlogServer:
    deadline = time.monotonic() + PORT_BUSY_WAIT_SECONDS
    while True:
        # No rate limit: pacing has tests of its own, and the suite must not wait out a window.
        server = MeetlogServer(dataset=build_dataset(), port=port, requests_per_window=None)
        try:
            server.start()
        except OSError as error:
            if error.errno != errno.EADDRINUSE or time.monotonic() > deadline:
                pytest.fail(
                    f"Could not start the local Meetlog API on 127.0.0.1:{port}, the address "
                    f"{SAMPLE_CONFIG_PATH.name} gives ({error}). Another run of the standard suite may hold it.",
                    pytrace=False,
                )
            time.sleep(0.5)
            continue
        server.add_key(key=api_key, scopes=ALL_SCOPES, label="standard_suite")
        return server


@pytest.fixture(scope="module")
def meetlog_acceptance_server() -> Iterator[MeetlogServer]:
    """The local Meetlog API at the address and with the key of integration_tests/sample_config.json.

    Module-scoped, not session-scoped: the fixed port is then held only while the module that
    asks for it runs, not through the rest of the session (the Docker tests take minutes).
    """
    config = json.loads(SAMPLE_CONFIG_PATH.read_text())
    port = urlsplit(config["base_url"]).port
    server = _start_on_fixed_port(config["api_key"], port)
    try:
        yield server
    finally:
        server.stop()
