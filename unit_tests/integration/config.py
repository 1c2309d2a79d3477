"""Connector configs for the mock-HTTP tests."""

import uuid
from typing import Any, Dict

BASE_URL = "https://meetlog.ru"
# High enough that the key pool never paces a test: pacing has tests of its own.
UNPACED_REQUESTS_PER_MINUTE = 100_000


def unique_api_key() -> str:
    """A fresh key per config, so no two tests share one. Each read has a key pool of its own
    (ReadContext), so a shared key would carry nothing from one test into the next; distinct keys
    still make each test's requests and output its own."""
    return f"tk_live_test{uuid.uuid4().hex}"


class ConfigBuilder:
    def __init__(self) -> None:
        self._config: Dict[str, Any] = {
            "api_key": unique_api_key(),
            "base_url": BASE_URL,
            "requests_per_minute": UNPACED_REQUESTS_PER_MINUTE,
        }

    def with_api_key(self, api_key: str) -> "ConfigBuilder":
        self._config["api_key"] = api_key
        return self

    def with_base_url(self, base_url: str) -> "ConfigBuilder":
        self._config["base_url"] = base_url
        return self

    def with_requests_per_minute(self, requests_per_minute: int) -> "ConfigBuilder":
        self._config["requests_per_minute"] = requests_per_minute
        return self

    def with_start_date(self, start_date: str) -> "ConfigBuilder":
        self._config["start_date"] = start_date
        return self

    def build(self) -> Dict[str, Any]:
        return dict(self._config)
