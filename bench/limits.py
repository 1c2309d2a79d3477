"""The least time the server's rate limiter allows for a number of requests.

The local server keeps a sliding log per key (integration_tests/meetlog_server/rate_limit.py):
a request is admitted at time t when fewer than L requests of that key were admitted in
(t - W, t]. So the j-th request of a key (counting from 0) can be admitted no earlier than
W * floor(j / L) after the key's first one: a burst of L at once, then L more each window.
Spreading R requests evenly over k keys, the busiest key carries ceil(R / k) of them, and its last
one is admitted at the earliest

    W * floor((ceil(R / k) - 1) / L)

after the sync's first request. That is the limiter's share of a sync's wall time; the rest
(starting the process, making the requests themselves) is the connector's own and is measured
by the same sync with the limit off.

    limiter_floor_seconds(150, keys=1, per_window=60, window_seconds=60) -> 120.0
    limiter_floor_seconds(150, keys=2, per_window=60, window_seconds=60) -> 60.0
    limiter_floor_seconds(150, keys=3, per_window=60, window_seconds=60) -> 0.0   (one burst of 180)
"""

import math

PAGE_SIZE = 100  # the connector asks for the API's maximum page size


def limiter_floor_seconds(requests: int, keys: int, per_window: int, window_seconds: float) -> float:
    if requests < 1:
        return 0.0
    busiest_key = math.ceil(requests / keys)
    return float(window_seconds * ((busiest_key - 1) // per_window))


def full_refresh_requests(transcripts: int) -> int:
    """A full refresh of transcripts at its floor: every list page of 100, one detail per transcript."""
    return max(1, math.ceil(transcripts / PAGE_SIZE)) + transcripts


def transcripts_for_requests(requests: int) -> int:
    """The largest transcript count whose full refresh needs at most `requests` requests.

    150 -> 148 (2 list pages + 148 details = 150)
    """
    transcripts = max(0, requests - 1)
    while transcripts > 0 and full_refresh_requests(transcripts) > requests:
        transcripts -= 1
    return transcripts
