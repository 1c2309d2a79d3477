"""parse_config: the user's config checked once, normalised, and never echoed back.

Every error is a config_error naming the field; an error about a key names the key by its
position ("key #2 of 3"), never by its value or any part of it.
"""

import string
from pathlib import Path
from typing import Iterator

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import source_meetlog

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.airbyte_secrets_utils import filter_secrets

from source_meetlog.core.config import DEFAULTS, ConfigError, parse_config
from source_meetlog.core.key_secrets import register_key_secrets

DEFAULT_BASE_URL = DEFAULTS["base_url"]
DEFAULT_LOOKBACK_WINDOW_DAYS = DEFAULTS["lookback_window_days"]
DEFAULT_REQUESTS_PER_MINUTE = DEFAULTS["requests_per_minute"]

PREFIX = "tk_live_"
# Distinct bodies, so a leaked fragment of one key cannot pass for a fragment of another.
KEY_A = PREFIX + "Aq7xLm2ZpR4vWc9N"
KEY_B = PREFIX + "Bt3kYh8JsD1fGu6E"
KEY_C = PREFIX + "Cw5nQe0VbX2oTi7M"


def config(**overrides):
    return {"api_key": KEY_A, **overrides}


def fragments(secret: str, length: int = 8) -> Iterator[str]:
    """Every `length`-character piece of the secret, except the public prefix tk_live_ itself."""
    for start in range(len(secret) - length + 1):
        piece = secret[start : start + length]
        if piece != PREFIX:
            yield piece


def assert_reveals_nothing_of(error: ConfigError, secret: str) -> None:
    for text in (error.message, str(error), error.internal_message or ""):
        assert secret not in text
        leaked = [piece for piece in fragments(secret) if piece in text]
        assert not leaked, f"the error shows part of a key: {leaked}"


def key_error(value) -> ConfigError:
    with pytest.raises(ConfigError) as raised:
        parse_config({"api_key": value})
    error = raised.value
    assert error.field == "api_key"
    assert "'api_key'" in error.message
    assert error.failure_type == FailureType.config_error
    return error


def field_error(field: str, **overrides) -> ConfigError:
    with pytest.raises(ConfigError) as raised:
        parse_config(config(**overrides))
    assert raised.value.field == field
    assert f"'{field}'" in raised.value.message
    assert raised.value.failure_type == FailureType.config_error
    return raised.value


# ------------------------------------------------------------------------------ defaults


@pytest.fixture(scope="module")
def spec_defaults() -> dict:
    """The defaults the user is shown in the spec (manifest.yaml)."""
    manifest = yaml.safe_load((Path(source_meetlog.__file__).parent / "manifest.yaml").read_text())
    properties = manifest["spec"]["connection_specification"]["properties"]
    return {name: field["default"] for name, field in properties.items() if "default" in field}


def test_given_only_a_key_then_defaults_are_meetlog_and_60_per_minute():
    parsed = parse_config({"api_key": KEY_A})

    assert parsed.api_keys == (KEY_A,)
    assert parsed.base_url == DEFAULT_BASE_URL == "https://meetlog.ru"  # the doc's Base URL
    assert parsed.requests_per_minute == DEFAULT_REQUESTS_PER_MINUTE == 60  # the doc's per-key limit
    assert parsed.lookback_window_days == DEFAULT_LOOKBACK_WINDOW_DAYS
    assert parsed.start_date is None


def test_given_only_a_key_then_the_defaults_applied_are_the_ones_the_spec_shows(spec_defaults):
    parsed = parse_config({"api_key": KEY_A})

    assert spec_defaults == {
        "base_url": parsed.base_url,
        "requests_per_minute": parsed.requests_per_minute,
        "lookback_window_days": parsed.lookback_window_days,
        "reconcile_deletions": parsed.reconcile_deletions,
    }


def test_given_empty_optional_fields_then_defaults_apply():
    parsed = parse_config(config(base_url="", start_date="", requests_per_minute=None, lookback_window_days=None))

    assert (parsed.base_url, parsed.start_date, parsed.requests_per_minute, parsed.lookback_window_days) == (
        "https://meetlog.ru",
        None,
        60,
        DEFAULT_LOOKBACK_WINDOW_DAYS,
    )


def test_given_no_api_key_field_then_error_names_api_key():
    with pytest.raises(ConfigError) as raised:
        parse_config({"base_url": "https://meetlog.ru"})
    assert raised.value.field == "api_key"


def test_given_a_config_that_is_not_an_object_then_config_error():
    with pytest.raises(ConfigError) as raised:
        parse_config(["not", "a", "mapping"])
    assert raised.value.failure_type == FailureType.config_error


# ------------------------------------------------------------------------------ api_key


def test_given_several_keys_separated_by_commas_then_split_and_trimmed_in_order():
    """' tk_live_A ,tk_live_B,  tk_live_C ' -> (tk_live_A, tk_live_B, tk_live_C)"""
    assert parse_config({"api_key": f" {KEY_A} ,{KEY_B},  {KEY_C} "}).api_keys == (KEY_A, KEY_B, KEY_C)


def test_given_one_key_with_surrounding_spaces_then_trimmed():
    assert parse_config({"api_key": f"  {KEY_A}\t"}).api_keys == (KEY_A,)


@pytest.mark.parametrize("value", ["", "   ", ",", " , "], ids=["empty", "spaces", "comma", "spaced-comma"])
def test_given_no_key_at_all_then_error_says_empty(value):
    assert "empty" in key_error(value).message


@pytest.mark.parametrize(
    "value, position",
    [
        (f"{KEY_A},,{KEY_B}", "#2 of 3"),
        (f"{KEY_A},{KEY_B},", "#3 of 3"),
        (f",{KEY_A}", "#1 of 2"),
        (f"{KEY_A}, ,{KEY_B}", "#2 of 3"),
    ],
    ids=["double-comma", "trailing-comma", "leading-comma", "blank-between-commas"],
)
def test_given_a_stray_comma_then_error_names_the_empty_position(value, position):
    error = key_error(value)

    assert position in error.message
    assert "stray comma" in error.message
    for key in (KEY_A, KEY_B):
        assert_reveals_nothing_of(error, key)


@pytest.mark.parametrize(
    "bad_key",
    [
        "sk_live_Zr8pWq3LmN5xKd2Y",  # another service's key
        "tk_test_Zr8pWq3LmN5xKd2Y",  # right service, wrong kind
        "TK_LIVE_Zr8pWq3LmN5xKd2Y",  # the prefix is case-sensitive
        "Zr8pWq3LmN5xKd2Yh4Jf",  # the body alone, prefix forgotten
        "Bearer tk_live_Zr8pWq3LmN5xKd2Y",  # pasted with the auth scheme
    ],
    ids=["other-service", "test-key", "upper-case", "no-prefix", "with-bearer"],
)
def test_given_a_key_without_the_tk_live_prefix_then_error_names_its_position_not_its_value(bad_key):
    error = key_error(f"{KEY_A}, {bad_key}, {KEY_B}")

    assert "key #2 of 3" in error.message
    assert "tk_live_" in error.message  # says what a key looks like
    for key in (bad_key, KEY_A, KEY_B):
        assert_reveals_nothing_of(error, key)


KEY_BODY = st.text(alphabet=string.ascii_letters + string.digits + "_-", min_size=12, max_size=40)


@settings(max_examples=30, deadline=None, database=None)
@given(
    good=st.lists(KEY_BODY.map(lambda body: PREFIX + body), min_size=1, max_size=4, unique=True),
    bad_body=KEY_BODY,
    bad_prefix=st.sampled_from(["", "sk_live_", "tk_test_", "TK_LIVE_", "tk-live-"]),
    data=st.data(),
)
def test_whatever_the_keys_a_wrong_prefix_error_names_its_position_and_no_part_of_any_key(
    good, bad_body, bad_prefix, data
):
    """Any list of real keys with one foreign entry at any place -> 'key #n of m', nothing of the keys."""
    bad = bad_prefix + bad_body
    position = data.draw(st.integers(min_value=0, max_value=len(good)), label="position")
    keys = good[:position] + [bad] + good[position:]

    error = key_error(" , ".join(keys))

    assert f"key #{position + 1} of {len(keys)}" in error.message
    for key in keys:
        assert_reveals_nothing_of(error, key)


def test_given_the_bare_prefix_then_error_says_it_is_not_a_key():
    error = key_error(f"{KEY_A},tk_live_")

    assert "key #2 of 2" in error.message
    assert "does not look like a Meetlog API key" in error.message


def test_given_a_single_bad_key_then_error_speaks_of_the_key_without_a_position():
    error = key_error("sk_live_Zr8pWq3LmN5xKd2Y")

    assert "the key does not look like a Meetlog API key" in error.message
    assert "#" not in error.message
    assert_reveals_nothing_of(error, "sk_live_Zr8pWq3LmN5xKd2Y")


@pytest.mark.parametrize(
    "bad_key",
    [
        'tk_live_Zr8pWq3L"mN5xKd2Y',
        "tk_live_Zr8pWq3L mN5xKd2Y",
        "tk_live_Zr8pWq3L\u200bmN5xKd2Y",  # a zero-width space from a copy-paste
        "tk_live_Zr8pWq3L\nmN5xKd2Y",
    ],
    ids=["quote", "space", "zero-width-space", "newline"],
)
def test_given_a_key_with_characters_a_key_never_has_then_error_names_its_position_not_its_value(bad_key):
    error = key_error(f"{KEY_A},{bad_key}")

    assert "key #2 of 2" in error.message
    assert "characters" in error.message
    for key in (bad_key, KEY_A):
        assert_reveals_nothing_of(error, key)


def test_given_the_same_key_twice_then_error_without_the_key():
    error = key_error(f"{KEY_A},{KEY_B},{KEY_A}")

    assert "same key" in error.message
    for key in (KEY_A, KEY_B):
        assert_reveals_nothing_of(error, key)


def test_given_the_same_key_twice_then_error_names_both_positions():
    """'A, B, A' -> the error names keys #1 and #3 (of 3)."""
    error = key_error(f"{KEY_A},{KEY_B},{KEY_A}")

    assert "#1" in error.message and "#3" in error.message


@pytest.mark.parametrize("value", [123, ["tk_live_Aq7xLm2ZpR4vWc9N"], {"key": KEY_A}, None, True])
def test_given_a_key_that_is_not_a_string_then_error_says_it_must_be_a_string(value):
    error = key_error(value)

    assert "must be a string" in error.message
    assert_reveals_nothing_of(error, KEY_A)


def test_after_registering_then_each_key_is_masked_on_its_own_in_logs():
    """The CDK masks whole config values only: 'tk_live_A,tk_live_B' would leave each key alone visible."""
    first = PREFIX + "MaskMe1Qw8Er5Ty2Ui"
    second = PREFIX + "MaskMe2Zx4Cv7Bn0Ml"
    register_key_secrets({"api_key": f"{first}, {second}"})

    for key in (first, second):
        masked = filter_secrets(f"GET /api/v1/export/transcripts Authorization: Bearer {key} -> 200")
        assert key not in masked
        assert "****" in masked


def test_given_an_invalid_key_list_then_its_keys_are_masked_all_the_same():
    """A key next to a typo is still a real key: it must be masked even though parsing fails."""
    real = PREFIX + "MaskMe3Po9Iu6Yt3Re"
    register_key_secrets({"api_key": f"{real}, sk_live_typo"})
    with pytest.raises(ConfigError):
        parse_config({"api_key": f"{real}, sk_live_typo"})

    assert real not in filter_secrets(f"... {real} ...")


# ------------------------------------------------------------------------------ base_url


@pytest.mark.parametrize(
    "value, expected",
    [
        ("https://meetlog.ru/", "https://meetlog.ru"),
        ("https://meetlog.ru///", "https://meetlog.ru"),
        (" https://meetlog.ru ", "https://meetlog.ru"),
        ("https://eu.meetlog.example/base/", "https://eu.meetlog.example/base"),
        ("https://meetlog.ru:8443", "https://meetlog.ru:8443"),
    ],
)
def test_given_an_https_base_url_then_kept_without_trailing_slash(value, expected):
    assert parse_config(config(base_url=value)).base_url == expected


@pytest.mark.parametrize(
    "value",
    [
        "http://127.0.0.1:8000",
        "http://localhost:8000",
        "http://LOCALHOST",
        "http://[::1]:8080",
        "http://[::1]",
        "http://127.0.0.2:9000",  # all of 127/8 is loopback
    ],
)
def test_given_plain_http_on_loopback_then_accepted(value):
    assert parse_config(config(base_url=value)).base_url == value


@pytest.mark.parametrize(
    "value",
    [
        "http://meetlog.ru",
        "http://10.0.0.5:8000",
        "http://0.0.0.0:8000",
        "http://localhost.evil.example",
        "http://127.0.0.1.evil.example",
    ],
)
def test_given_plain_http_outside_loopback_then_error_asks_for_https(value):
    assert "must use https" in field_error("base_url", base_url=value).message


@pytest.mark.parametrize(
    "value",
    ["https://user:secretpass@meetlog.ru", "https://user@meetlog.ru", "http://127.0.0.1@evil.example"],
)
def test_given_credentials_in_base_url_then_refused_without_echoing_them(value):
    error = field_error("base_url", base_url=value)

    assert "credentials" in error.message
    assert value not in error.message
    assert "secretpass" not in error.message


@pytest.mark.parametrize(
    "value", ["https://meetlog.ru?x=1", "https://meetlog.ru/#top", "http://evil.example#@127.0.0.1"]
)
def test_given_a_query_or_fragment_in_base_url_then_refused(value):
    assert "query string or fragment" in field_error("base_url", base_url=value).message


@pytest.mark.parametrize("value", ["https://meetlog.ru?", "https://meetlog.ru#"])
def test_given_an_empty_query_or_fragment_marker_in_base_url_then_refused(value):
    field_error("base_url", base_url=value)


@pytest.mark.parametrize("value", ["https://meetlog.ru:99999", "https://meetlog.ru:abc", "https://meetlog.ru:-1"])
def test_given_a_bad_port_then_error_says_invalid_url(value):
    assert "not a valid URL" in field_error("base_url", base_url=value).message


def test_given_port_zero_then_refused():
    field_error("base_url", base_url="https://meetlog.ru:0")


@pytest.mark.parametrize(
    "value",
    [
        "ftp://meetlog.ru",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "meetlog.ru",
        "//meetlog.ru",
        "https://",
        "https:///api",
    ],
)
def test_given_an_odd_scheme_or_no_host_then_error_asks_for_an_http_url(value):
    assert "http(s) URL with a host" in field_error("base_url", base_url=value).message


@pytest.mark.parametrize("value", [42, ["https://meetlog.ru"], True])
def test_given_a_base_url_that_is_not_a_string_then_refused(value):
    assert "must be a string" in field_error("base_url", base_url=value).message


# ------------------------------------------------------------------------------ start_date


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2026-01-01", "2026-01-01T00:00:00Z"),
        ("2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"),
        ("2026-01-01T10:30:15", "2026-01-01T10:30:15Z"),  # no offset: read as UTC
        ("2026-01-01T03:00:00+03:00", "2026-01-01T00:00:00Z"),
        ("2026-01-01T00:30:00-05:00", "2026-01-01T05:30:00Z"),
        ("2026-01-01T01:00:00+02:00", "2025-12-31T23:00:00Z"),  # crosses the year back
        (" 2026-05-08 ", "2026-05-08T00:00:00Z"),
    ],
)
def test_given_an_iso_start_date_then_normalised_to_the_apis_utc_format(value, expected):
    """The API writes created_at as 2026-05-08T09:14:22Z: start_date takes the same form, the one the
    manifest's cursor reads as its start."""
    assert parse_config(config(start_date=value)).start_date == expected


@pytest.mark.parametrize(
    "value",
    [
        "garbage",
        "yesterday",
        "2026-13-01",
        "2026-02-30",
        "P1D",  # a duration, not a moment
        "5",
        "10:00",
        "now",
        "1/2/2026",
    ],
)
def test_given_a_start_date_that_is_not_iso_8601_then_refused(value):
    assert "start_date" in field_error("start_date", start_date=value).message


@pytest.mark.parametrize("value", [20260101, 1767225600.0, ["2026-01-01"], True])
def test_given_a_start_date_that_is_not_a_string_then_refused(value):
    field_error("start_date", start_date=value)


# ------------------------------------------------------------------------------ numbers


@pytest.mark.parametrize("value", [1, 60, 600, 10**9])
def test_given_a_positive_requests_per_minute_then_kept(value):
    assert parse_config(config(requests_per_minute=value)).requests_per_minute == value


@pytest.mark.parametrize("value", [0, -1, -60])
def test_given_requests_per_minute_below_one_then_refused(value):
    assert "at least 1" in field_error("requests_per_minute", requests_per_minute=value).message


@pytest.mark.parametrize("value", [True, False, 60.0, 60.5, "60"], ids=["true", "false", "float", "fraction", "string"])
def test_given_requests_per_minute_that_is_not_a_whole_number_then_refused(value):
    """bool is an int in Python: True must not pass as a limit of 1."""
    field_error("requests_per_minute", requests_per_minute=value)


@pytest.mark.parametrize("value", [0, 3, 365])
def test_given_a_lookback_of_zero_or_more_days_then_kept(value):
    assert parse_config(config(lookback_window_days=value)).lookback_window_days == value


@pytest.mark.parametrize("value", [-1, True, 1.5])
def test_given_a_negative_or_non_integer_lookback_then_refused(value):
    field_error("lookback_window_days", lookback_window_days=value)


@pytest.mark.parametrize("value", [True, False])
def test_given_reconcile_deletions_true_or_false_then_kept(value):
    assert parse_config(config(reconcile_deletions=value)).reconcile_deletions is value


@pytest.mark.parametrize("value", ["true", 1, 0, [], {}], ids=["text", "one", "zero", "list", "object"])
def test_given_reconcile_deletions_that_is_not_a_boolean_then_refused(value):
    assert field_error("reconcile_deletions", reconcile_deletions=value).message == (
        "Config error in 'reconcile_deletions': must be true or false."
    )


# ------------------------------------------------------------------------------ as_connector_config


def test_as_connector_config_replaces_fields_with_their_normalised_values_and_keeps_others():
    raw = {
        "api_key": f" {KEY_A} , {KEY_B} ",
        "base_url": "http://localhost:8000/",
        "start_date": "2026-01-01T03:00:00+03:00",
        "something_else": "kept",
    }
    normalised = parse_config(raw).as_connector_config(raw)

    assert normalised == {
        "api_key": f"{KEY_A},{KEY_B}",
        "base_url": "http://localhost:8000",
        "start_date": "2026-01-01T00:00:00Z",
        "requests_per_minute": 60,
        "lookback_window_days": DEFAULT_LOOKBACK_WINDOW_DAYS,
        "reconcile_deletions": False,
        "something_else": "kept",
    }


@pytest.mark.parametrize("raw_start", [None, ""], ids=["absent", "empty"])
def test_as_connector_config_drops_start_date_when_not_given(raw_start):
    raw = {"api_key": KEY_A} if raw_start is None else {"api_key": KEY_A, "start_date": raw_start}

    assert "start_date" not in parse_config(raw).as_connector_config(raw)
