"""`check`: can each key read at least one stream, which scopes does it lack, same account?

One request per stream per key (`page_size=1`), so a check costs 3 requests per key.
CheckStream cannot do this: it fails on the first stream a key may not read, while a key
without `export:reports` is a fine key for someone who only wants transcripts.
"""

import logging
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import requests

from airbyte_cdk.models import AirbyteConnectionStatus, Status

from source_meetlog.components.key_pool import retry_after_seconds
from source_meetlog.core.config import MeetlogConfig

STREAM_SCOPES = {"transcripts": "export:transcripts", "reports": "export:reports", "projects": "export:projects"}
TIMEOUT_SECONDS = (10, 30)
# A check is interactive: wait out a short rate limit, give up on a long one.
MAX_CHECK_WAIT_SECONDS = 65.0


class CheckFailed(Exception):
    pass


@dataclass
class KeyAccess:
    position: int
    readable: Dict[str, Tuple[int, Optional[str]]] = field(default_factory=dict)  # stream -> (total, first id)
    missing_scopes: Dict[str, str] = field(default_factory=dict)  # stream -> scope


def check_connection(config: MeetlogConfig, logger: logging.Logger, session: Optional[requests.Session] = None) -> AirbyteConnectionStatus:
    session = session or requests.Session()
    try:
        accesses = [_probe_key(session, config, key, position) for position, key in enumerate(config.api_keys, start=1)]
        _require_one_account(accesses)
    except CheckFailed as failure:
        return AirbyteConnectionStatus(status=Status.FAILED, message=str(failure))
    message = _describe_missing_scopes(accesses, len(config.api_keys))
    if message:
        logger.warning(message)
    return AirbyteConnectionStatus(status=Status.SUCCEEDED, message=message or None)


def _key_name(position: int, key_count: int) -> str:
    return f"API key #{position}" if key_count > 1 else "The API key"


def _probe_key(session: requests.Session, config: MeetlogConfig, key: str, position: int) -> KeyAccess:
    access = KeyAccess(position)
    name = _key_name(position, len(config.api_keys))
    for stream, scope in STREAM_SCOPES.items():
        response = _get_first_page(session, config.base_url, stream, key)
        body = _meetlog_json(response, config.base_url)
        if response.status_code in (401, 403) and "error_code" not in body:
            # Meetlog's errors are JSON with error_code; a bare 401/403 comes from something else.
            raise CheckFailed(
                f"{config.base_url} answered HTTP {response.status_code} without a Meetlog error body, so something "
                "other than the Meetlog Export API answered. Check 'base_url'."
            )
        if response.status_code == 401:
            raise CheckFailed(f"{name} was rejected by Meetlog (401 UNAUTHORIZED): it is invalid, revoked or expired. "
                              "Create a new key in Meetlog's account settings.")
        if response.status_code == 403:
            access.missing_scopes[stream] = scope
            continue
        if response.status_code != 200 or not isinstance(body.get("meta"), dict) or not isinstance(body.get("items"), list):
            raise CheckFailed(
                f"{config.base_url} answered {stream} with HTTP {response.status_code}, not like the Meetlog Export API "
                f"({_error_summary(body)}). Check 'base_url'."
            )
        first = body["items"][0].get("id") if body["items"] and isinstance(body["items"][0], dict) else None
        access.readable[stream] = (body["meta"].get("total"), first)
    if not access.readable:
        raise CheckFailed(
            f"{name} has none of the export scopes ({', '.join(STREAM_SCOPES.values())}), so it can read no stream. "
            "Grant at least one of them in Meetlog's account settings."
        )
    return access


def _get_first_page(session: requests.Session, base_url: str, stream: str, key: str) -> requests.Response:
    url = f"{base_url}/api/v1/export/{stream}"
    for _ in range(3):
        try:
            response = session.get(url, params={"page": 1, "page_size": 1},
                                   headers={"Authorization": f"Bearer {key}", "Accept": "application/json"},
                                   timeout=TIMEOUT_SECONDS)
        except requests.Timeout:
            raise CheckFailed(f"{base_url} did not answer within {TIMEOUT_SECONDS[1]} s. Check 'base_url'.") from None
        except requests.RequestException as error:
            raise CheckFailed(f"Could not connect to {base_url} ({type(error).__name__}). Check 'base_url'.") from None
        if response.status_code != 429:
            return response
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        if wait is None or wait > MAX_CHECK_WAIT_SECONDS:
            break
        time.sleep(wait)
    raise CheckFailed(
        "Meetlog's rate limit is exhausted for this key (429 TOO_MANY_REQUESTS). Another client may be using it; "
        "try again in a minute, or give this connection a key of its own."
    )


def _meetlog_json(response: requests.Response, base_url: str) -> dict:
    try:
        body = response.json()
    except ValueError:
        raise CheckFailed(
            f"{base_url} answered HTTP {response.status_code} with a body that is not JSON, so it is not the "
            "Meetlog Export API. Check 'base_url'."
        ) from None
    return body if isinstance(body, dict) else {}


def _error_summary(body: dict) -> str:
    # The code only: an error_message may quote the request, Authorization header included.
    return str(body.get("error_code")) if "error_code" in body else "no list of items"


def _require_one_account(accesses: List[KeyAccess]) -> None:
    """Keys of two accounts would mix their data in one destination: refuse them."""
    first = accesses[0]
    for other in accesses[1:]:
        shared = [stream for stream in first.readable if stream in other.readable]
        if shared and any(first.readable[s] != other.readable[s] for s in shared):
            raise CheckFailed(
                f"API keys #{first.position} and #{other.position} see different data, so they belong to different "
                "Meetlog accounts. Every key in 'api_key' must belong to the same account."
            )


def _describe_missing_scopes(accesses: List[KeyAccess], key_count: int) -> str:
    lines = []
    for access in accesses:
        for stream, scope in access.missing_scopes.items():
            lines.append(
                f"{_key_name(access.position, key_count)} lacks the scope {scope}, so the '{stream}' stream will fail; "
                "grant the scope in Meetlog's account settings or deselect the stream."
            )
    return " ".join(lines)
