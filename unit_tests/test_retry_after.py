"""retry_after_seconds: the 429's Retry-After header, as delay-seconds or an HTTP-date, in seconds.

Dates are read against an injected `now`, so nothing depends on the wall clock.
"""

from email.utils import formatdate

import pytest

from source_meetlog.components.key_pool import retry_after_seconds

NOW = 1_800_000_000.0  # 2027-01-15T08:00:00Z, a fixed "now" for the HTTP-date cases


def at_now() -> float:
    return NOW


@pytest.mark.parametrize(
    "header, seconds",
    [("7", 7.0), ("0", 0.0), ("120", 120.0), (" 30 ", 30.0), ("\t5\r\n", 5.0)],
)
def test_given_delay_seconds_then_that_many_seconds(header, seconds):
    assert retry_after_seconds(header, now=at_now) == seconds


@pytest.mark.parametrize("header, seconds", [("0.5", 0.5), ("1.25", 1.25), ("2.", 2.0)])
def test_given_decimal_seconds_then_read_as_they_are(header, seconds):
    assert retry_after_seconds(header, now=at_now) == seconds


@pytest.mark.parametrize("header", ["-1", "-30", "-0.5"])
def test_given_negative_seconds_then_zero(header):
    assert retry_after_seconds(header, now=at_now) == 0.0


@pytest.mark.parametrize("ahead, seconds", [(30, 30.0), (1, 1.0), (3600, 3600.0)])
def test_given_an_http_date_ahead_then_the_seconds_until_it(ahead, seconds):
    """'Fri, 15 Jan 2027 08:00:30 GMT' with now = 08:00:00 -> 30.0"""
    header = formatdate(NOW + ahead, usegmt=True)

    assert retry_after_seconds(header, now=at_now) == pytest.approx(seconds)


def test_given_the_docs_http_date_format_then_read_exactly():
    assert retry_after_seconds("Fri, 15 Jan 2027 08:00:30 GMT", now=at_now) == pytest.approx(30.0)


@pytest.mark.parametrize("behind", [1, 60, 86400 * 365])
def test_given_an_http_date_in_the_past_then_zero(behind):
    assert retry_after_seconds(formatdate(NOW - behind, usegmt=True), now=at_now) == 0.0


@pytest.mark.parametrize(
    "header",
    ["", "   ", "soon", "7 seconds", "seven", "Fri, 99 Foo 2027 08:00:30 GMT", "0x10", "1,5"],
)
def test_given_garbage_then_none(header):
    assert retry_after_seconds(header, now=at_now) is None


@pytest.mark.parametrize("header", ["inf", "Infinity", "-inf", "nan", "NaN", "1e400"])
def test_given_infinite_or_not_a_number_then_none(header):
    """float() accepts these; a wait of 'inf' would stall the sync for ever, 'nan' compares false."""
    assert retry_after_seconds(header, now=at_now) is None


def test_given_no_header_then_none():
    assert retry_after_seconds(None, now=at_now) is None
