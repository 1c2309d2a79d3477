"""Bearer authentication from a pool of API keys (see key_pool.py for the pacing)."""

from dataclasses import InitVar, dataclass
from typing import Any, Mapping, Optional

import requests

from airbyte_cdk.sources.declarative.auth.declarative_authenticator import DeclarativeAuthenticator
from airbyte_cdk.sources.types import Config

from source_meetlog.components.retry_after import retry_after_seconds
from source_meetlog.components.sync_context import SyncContext
from source_meetlog.config import DEFAULT_REQUESTS_PER_MINUTE, parse_api_keys

BEARER = "Bearer "
# Without a readable Retry-After, one slot of a 60-a-minute window is the least that can help.
FALLBACK_REST_SECONDS = 1.0
# The request carries its place in the key's window, so the answer can stamp it.
SLOT_ATTRIBUTE = "_meetlog_slot"


def _key_of(request: requests.PreparedRequest) -> Optional[str]:
    header = (request.headers or {}).get("Authorization", "")
    return header[len(BEARER) :] if header.startswith(BEARER) else None


@dataclass
class KeyPoolAuthenticator(DeclarativeAuthenticator):
    """Signs each request with the key that has room; learns from 401 and 429 which keys to spare.

    config {"api_key": "tk_live_a,tk_live_b", "requests_per_minute": 60}
    -> request.headers["Authorization"] == "Bearer tk_live_a", the next one "Bearer tk_live_b", …

    It implements the CDK's ResponseAwareAuthenticator protocol, so the HTTP client shows it
    every response. A 429 rests its key in the pool, and the CDK's retry, which signs again,
    goes out on another key at once, or waits in the pool until a key may send: the pool alone
    waits for the rate limit (backoff.py asks the CDK for no wait of its own).
    """

    config: Config
    parameters: InitVar[Mapping[str, Any]]

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        keys = parse_api_keys(self.config.get("api_key"))
        rpm = int(self.config.get("requests_per_minute") or DEFAULT_REQUESTS_PER_MINUTE)
        sync = SyncContext.being_built() or SyncContext.standalone()
        self.pool = sync.key_pool(keys, rpm)
        self.progress = sync.progress_log(keys)
        self._status = sync.status
        # The stream a wait belongs to: the requester's $parameters.name, as the catalog names it.
        self._requester_name = (parameters or {}).get("name")

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        key, slot = self.pool.acquire_slot(self._status.stream_of(self._requester_name))
        request.headers["Authorization"] = BEARER + key
        setattr(request, SLOT_ATTRIBUTE, slot)
        return request

    def get_auth_header(self) -> Mapping[str, Any]:
        # The requester asks for headers and the session then calls us too: choosing a key in
        # both places would spend two slots per request, so only __call__ chooses one.
        return {}

    @property
    def auth_header(self) -> str:
        return "Authorization"

    @property
    def token(self) -> str:
        raise NotImplementedError("KeyPoolAuthenticator signs requests in __call__ only")

    def update_from_response(self, request: requests.PreparedRequest, response: requests.Response) -> None:
        slot = getattr(request, SLOT_ATTRIBUTE, None)
        if slot is not None:
            self.pool.settle(slot)
        self.progress.count(request, response)
        key = _key_of(request)
        if key is None:
            return
        if response.status_code == 401:
            self.pool.reject(key)
        elif response.status_code == 429:
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            # No readable Retry-After: rest the key for one window slot rather than not at all.
            self.pool.rest(key, wait if wait is not None else FALLBACK_REST_SECONDS)
