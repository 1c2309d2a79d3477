"""Injected failures: what a flaky network, a proxy or an overloaded API does to a client.

    server.inject(faults.http_503(), path_prefix="/api/v1/export/transcripts", times=2, after=1)

lets the first matching request through, fails the next two with 503, then behaves again.
Names of faults without arguments work too: server.inject("reset").

Each planned fault counts the requests whose path starts with its prefix; when several could fire
on one request, the earliest planned wins and the others are not used up. `probability` < 1 makes
a fault fire at random, from a generator seeded by the server's `fault_seed`, so a run repeats.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

from .responses import ApiError, Response, html_response

# Kinds answered instead of the API; "reset", "slow" and "truncated_json" are carried out by the handler.
ANSWERING_KINDS = ("http_500_html", "http_502", "http_503", "non_json", "rate_limited")
KINDS = ANSWERING_KINDS + ("reset", "slow", "truncated_json")


@dataclass(frozen=True)
class Fault:
    kind: str
    seconds: float = 0.0  # slow: delay before the normal answer
    retry_after: float | str | None = 1  # rate_limited: seconds, or a header value sent as is; None: no header
    retry_after_format: str | None = None  # rate_limited: "seconds" | "http-date"; None = the server's
    content_length: str = "cut"  # truncated_json: "cut" matches the half body; "full" claims the whole one


def http_500_html() -> Fault:
    return Fault("http_500_html")


def http_502() -> Fault:
    return Fault("http_502")


def http_503() -> Fault:
    return Fault("http_503")


def reset() -> Fault:
    """Close the connection with a TCP RST and no answer."""
    return Fault("reset")


def slow(seconds: float) -> Fault:
    return Fault("slow", seconds=seconds)


def truncated_json(content_length: str = "cut") -> Fault:
    """Status 200 with only the first half of the JSON body.

    content_length="cut": the header matches what is sent, so the client gets invalid JSON.
    content_length="full": the header promises the whole body and the connection closes early.
    """
    if content_length not in ("cut", "full"):
        raise ValueError('content_length must be "cut" or "full"')
    return Fault("truncated_json", content_length=content_length)


def non_json() -> Fault:
    """Status 200 with an HTML page, as a captive portal or a misrouted proxy sends."""
    return Fault("non_json")


def rate_limited(retry_after: float | str | None = 1, retry_after_format: str | None = None) -> Fault:
    """A 429 regardless of the real limiter (use times=N for a burst).

    retry_after in seconds is written in `retry_after_format` ("seconds" | "http-date", default the
    server's); a string is sent verbatim, e.g. to try a client on a malformed Retry-After.
    """
    return Fault("rate_limited", retry_after=retry_after, retry_after_format=retry_after_format)


def as_fault(fault: Fault | str) -> Fault:
    if isinstance(fault, Fault):
        return fault
    makers = {"http_500_html": http_500_html, "http_502": http_502, "http_503": http_503,
              "reset": reset, "truncated_json": truncated_json, "non_json": non_json, "rate_limited": rate_limited}
    if fault not in makers:
        raise ValueError(f"unknown fault {fault!r}; by name: {sorted(makers)}; slow needs faults.slow(seconds)")
    return makers[fault]()


def canned_response(fault: Fault, retry_after: str | None) -> Response:
    """The answer a fault of ANSWERING_KINDS sends instead of the API's."""
    if fault.kind == "http_500_html":
        return html_response(500, "<html><body><h1>500 Internal Server Error</h1><p>Упс! Something broke.</p></body></html>")
    if fault.kind == "http_502":
        return html_response(502, "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>")
    if fault.kind == "http_503":
        return html_response(503, "<html><head><title>503 Service Unavailable</title></head><body><h1>503 Service Unavailable</h1></body></html>")
    if fault.kind == "non_json":
        return html_response(200, "<!doctype html><html><head><title>Meetlog — вход</title></head><body><form action=\"/login\"></form></body></html>")
    if fault.kind == "rate_limited":
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        return ApiError(429, "TOO_MANY_REQUESTS", "Rate limit exceeded for the API key", headers).response()
    raise ValueError(f"{fault.kind} does not replace the answer")


@dataclass
class PlannedFault:
    fault: Fault
    path_prefix: str | None
    times: int | None  # None: for ever
    after: int  # matching requests to let through first
    probability: float
    seen: int = 0
    fired: int = 0

    @property
    def used_up(self) -> bool:
        return self.times is not None and self.fired >= self.times


class FaultPlan:
    def __init__(self, seed: int = 0):
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._planned: list[PlannedFault] = []

    def add(self, fault: Fault | str, path_prefix: str | None = None, times: int | None = 1,
            after: int = 0, probability: float = 1.0) -> PlannedFault:
        planned = PlannedFault(as_fault(fault), path_prefix, times, after, probability)
        with self._lock:
            self._planned.append(planned)
        return planned

    def take(self, path: str) -> Fault | None:
        """The fault this request gets, if any; it is used up by taking it."""
        chosen = None
        with self._lock:
            for planned in self._planned:
                if planned.path_prefix is not None and not path.startswith(planned.path_prefix):
                    continue
                planned.seen += 1
                if chosen is not None or planned.seen <= planned.after or planned.used_up:
                    continue
                if planned.probability >= 1 or self._random.random() < planned.probability:
                    planned.fired += 1
                    chosen = planned.fault
            self._planned = [p for p in self._planned if not p.used_up]
        return chosen

    @property
    def pending(self) -> list[PlannedFault]:
        with self._lock:
            return list(self._planned)

    def clear(self) -> None:
        with self._lock:
            self._planned.clear()
