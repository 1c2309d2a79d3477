"""Pacing and key pooling against the local API's real per-key limiter.

The limits here are scaled down (4 requests per 3 s per key instead of 60 per 60 s) so the
tests take seconds; the key pool's window is scaled to match. The logic is the same.
"""

import pytest

from integration_tests.harness import STREAMS, config_for, minimum_requests, run_sync
from source_meetlog.components import key_pool

pytestmark = pytest.mark.slow  # real rate-limit windows (seconds each)

LIMIT, WINDOW = 4, 3.0


@pytest.fixture
def scaled_window(monkeypatch):
    monkeypatch.setattr(key_pool, "WINDOW_SECONDS", WINDOW)
    monkeypatch.setattr(key_pool, "WINDOW_MARGIN_SECONDS", 0.1)


@pytest.fixture
def server_options(scaled_window):
    """conftest's `server` with the scaled-down per-key limit, which the key pool's window matches."""
    return {"requests_per_window": LIMIT, "window_seconds": WINDOW}


def test_given_two_keys_and_a_small_limit_when_synced_then_no_429_and_both_keys_share_the_work(server):
    first, second = server.add_key(label="first"), server.add_key(label="second")
    config = {**config_for(server, f"{first},{second}"), "requests_per_minute": LIMIT}

    sync = run_sync(server, config)

    assert sync.errors == []
    assert server.count(status=429) == 0
    counts = [len(server.dataset.list_items(stream)) for stream in STREAMS]
    assert len(sync.requests) == minimum_requests(counts)
    per_key = {label: sum(1 for r in sync.requests if r.key == label) for label in ("first", "second")}
    assert abs(per_key["first"] - per_key["second"]) <= 2, per_key


def test_given_one_key_revoked_during_the_sync_when_synced_then_it_leaves_the_pool_and_the_rest_finish(server):
    doomed, spare = server.add_key(label="doomed"), server.add_key(label="spare")
    config = {**config_for(server, f"{doomed},{spare}"), "requests_per_minute": LIMIT}

    def revoke_after_five(request):
        if len(server.requests) == 5:
            server.revoke_key(doomed)

    server.on_request = revoke_after_five
    sync = run_sync(server, config)

    assert sync.errors == []
    for stream in STREAMS:
        assert sorted(sync.ids(stream)) == sorted(item["id"] for item in server.dataset.list_items(stream))
    warnings = [m.log.message for m in sync.output.logs if "leaves the pool" in m.log.message]
    assert warnings == ["API key #1 of 2 was rejected (401 UNAUTHORIZED): it is invalid, revoked or expired. "
                        "It leaves the pool; 1 key(s) remain."]
    assert server.count(status=429) == 0
