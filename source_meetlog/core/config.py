"""The user's config, checked once per read and normalised, with errors that name the field.

The spec in manifest.yaml declares each field's type, bounds and default once; this module checks a
config against it (with a message the user can act on, naming the field) and then checks what a
schema cannot say: a key's prefix, https outside loopback, a parseable date. It never echoes a key
back: errors name a key by its position in the list, never by its value.
"""

import ipaddress
import re
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Tuple
from urllib.parse import urlsplit

import pendulum
from jsonschema import Draft7Validator, validators

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_meetlog.core.declared import connection_specification
from source_meetlog.core.key_secrets import KEY_PREFIX
from source_meetlog.core.timestamps import STATE_FORMAT

SPEC = connection_specification()
DEFAULTS = {name: field["default"] for name, field in SPEC["properties"].items() if "default" in field}
EARLIEST_START_DATE = "1970-01-01T00:00:00Z"
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}
# Keys are opaque to us, but a space, quote or control character is a paste accident.
_KEY_BODY = re.compile(r"^[A-Za-z0-9_\-.~+/=]+$")
# ISO 8601 only: pendulum's lenient mode would read "5" as the 5th of this month.
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$")
# The spec read strictly: a whole number is a JSON integer, not 60.0 (which draft 7 would let pass).
_WHOLE_NUMBERS = Draft7Validator.TYPE_CHECKER.redefine("integer", lambda _, v: isinstance(v, int) and not isinstance(v, bool))
# What a text field holds, for the message that says it is not text.
_TEXT_HINTS = {
    "api_key": ": one key tk_live_…, or several separated by commas",
    "base_url": " such as https://meetlog.ru",
    "start_date": ": an ISO 8601 date such as 2026-01-01 or 2026-01-01T00:00:00Z",
}
_SPEC_VALIDATOR = validators.extend(Draft7Validator, type_checker=_WHOLE_NUMBERS)(SPEC)


class ConfigError(AirbyteTracedException):
    """A config value the user must fix; surfaces as a config_error, never a traceback."""

    def __init__(self, field: str, problem: str) -> None:
        message = f"Config error in '{field}': {problem}"
        super().__init__(message=message, internal_message=message, failure_type=FailureType.config_error)
        self.field = field


@dataclass(frozen=True)
class MeetlogConfig:
    api_keys: Tuple[str, ...]
    base_url: str
    start_date: Optional[str]
    requests_per_minute: int
    lookback_window_days: int
    reconcile_deletions: bool = False

    def as_connector_config(self, raw: Mapping[str, Any]) -> dict:
        """The raw config with every field replaced by its checked, normalised value (defaults included),
        which is what manifest.yaml reads."""
        normalised = {
            **raw,
            "api_key": ",".join(self.api_keys),
            "base_url": self.base_url,
            "requests_per_minute": self.requests_per_minute,
            "lookback_window_days": self.lookback_window_days,
            "reconcile_deletions": self.reconcile_deletions,
        }
        if self.start_date:
            normalised["start_date"] = self.start_date
        else:
            normalised.pop("start_date", None)
        return normalised


def parse_config(raw: Mapping[str, Any]) -> MeetlogConfig:
    if not isinstance(raw, Mapping):
        raise ConfigError("config", "must be a JSON object.")
    # An optional field given as null or empty is a field not given: its default applies.
    given = {name: value for name, value in raw.items() if name == "api_key" or value not in (None, "")}
    _check_against_spec(given)
    values = {**DEFAULTS, **given}
    return MeetlogConfig(api_keys=parse_api_keys(values["api_key"]), base_url=parse_base_url(values["base_url"]),
                         start_date=parse_start_date(values.get("start_date")),
                         requests_per_minute=values["requests_per_minute"],
                         lookback_window_days=values["lookback_window_days"],
                         reconcile_deletions=values["reconcile_deletions"])


def _check_against_spec(config: Mapping[str, Any]) -> None:
    """The spec's rules (required, type, bounds), with the first broken one said in the user's words."""
    error = next(iter(sorted(_SPEC_VALIDATOR.iter_errors(config), key=lambda e: list(e.path))), None)
    if error is None:
        return
    if error.validator == "required":  # only api_key is
        raise ConfigError("api_key", "is required: a Meetlog API key tk_live_…, from the account settings.")
    field = str(error.path[0]) if error.path else "config"
    declared = SPEC["properties"].get(field, {})
    if error.validator == "minimum":
        raise ConfigError(field, f"must be at least {declared['minimum']}.")
    if error.validator == "maximum":
        raise ConfigError(field, f"must be at most {declared['maximum']}.")
    if declared.get("type") == "integer":
        raise ConfigError(field, f"must be a whole number of at least {declared.get('minimum', 0)}.")
    if declared.get("type") == "boolean":
        raise ConfigError(field, "must be true or false.")
    raise ConfigError(field, f"must be a string{_TEXT_HINTS.get(field, '')}.")


def parse_api_keys(value: str) -> Tuple[str, ...]:
    """'tk_live_a, tk_live_b' -> ('tk_live_a', 'tk_live_b')."""
    keys = tuple(part.strip() for part in value.split(","))
    if not any(keys):
        raise ConfigError("api_key", "is empty. Create a key in Meetlog's account settings (it starts with tk_live_).")
    for position, key in enumerate(keys, start=1):
        where = f"key #{position} of {len(keys)}" if len(keys) > 1 else "the key"
        if not key:
            raise ConfigError("api_key", f"{where} is empty: remove the stray comma.")
        if not key.startswith(KEY_PREFIX) or len(key) == len(KEY_PREFIX):
            raise ConfigError("api_key", f"{where} does not look like a Meetlog API key: keys start with '{KEY_PREFIX}'.")
        if not _KEY_BODY.match(key):
            raise ConfigError("api_key", f"{where} contains spaces, quotes or other characters a key never has.")
    first_position: Dict[str, int] = {}
    for position, key in enumerate(keys, start=1):
        if key in first_position:
            raise ConfigError("api_key", f"keys #{first_position[key]} and #{position} are the same key; list each key once.")
        first_position[key] = position
    return keys


def parse_base_url(value: str) -> str:
    url = value.strip().rstrip("/")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port  # raises ValueError on a port out of range
    except ValueError:
        raise ConfigError("base_url", "is not a valid URL; expected something like https://meetlog.ru.") from None
    if port == 0:
        raise ConfigError("base_url", "has port 0, which no server listens on.")
    if parts.scheme not in ("https", "http") or not host:
        raise ConfigError("base_url", "must be an http(s) URL with a host, such as https://meetlog.ru.")
    if parts.username is not None or parts.password is not None or KEY_PREFIX in url.lower():
        # A key in a URL goes to the server in every request line, and into every message that names the URL.
        raise ConfigError("base_url", "must not carry credentials; put the key in 'api_key'.")
    # "https://meetlog.ru?" has an empty query to urlsplit, yet it would still swallow our paths.
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise ConfigError("base_url", "must not have a query string or fragment.")
    if parts.scheme == "http" and not _is_loopback(host):
        raise ConfigError("base_url", "must use https; plain http is allowed only on 127.0.0.1, localhost and ::1.")
    return url


def _is_loopback(host: str) -> bool:
    try:
        return host in LOOPBACK_HOSTS or ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name, not an address
        return False


def parse_start_date(value: Optional[str]) -> Optional[str]:
    """'2026-05-01' -> '2026-05-01T00:00:00Z', the API's own format, so it compares as text too."""
    if value is None:
        return None
    text = value.strip()
    try:
        if not _ISO_DATE.match(text):
            raise ValueError(text)
        parsed = pendulum.parse(text)
    except Exception:
        raise ConfigError("start_date", "is not an ISO 8601 date; use 2026-01-01 or 2026-01-01T00:00:00Z.") from None
    if not isinstance(parsed, pendulum.DateTime):
        if isinstance(parsed, pendulum.Date):
            parsed = pendulum.datetime(parsed.year, parsed.month, parsed.day)
        else:
            raise ConfigError("start_date", "must be a date or a date-time, not a duration or a time.")
    normalised = parsed.in_timezone("UTC").strftime(STATE_FORMAT)  # the API's own, as manifest.yaml declares it
    if normalised < EARLIEST_START_DATE:
        raise ConfigError("start_date", "must be on or after 1970-01-01; leave it empty to sync everything.")
    return normalised
