"""The in-process counts behind ``memory://`` rate limits (logistics/web/ratelimit.py); the
limits as the API applies them are tested in test_api_merchant.py, in memory and in Redis."""

from __future__ import annotations

import threading

import pytest

from logistics.web import ratelimit
from logistics.web.ratelimit import ProcessCounts


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The clock the counts read, set by the test (``now[0]``)."""
    clock = [1_000.0]
    monkeypatch.setattr(ratelimit.time, "time", lambda: clock[0])
    return clock


def test_counts_each_key_and_starts_again_when_its_window_has_expired(now: list[float]) -> None:
    counts = ProcessCounts()
    assert [counts.incr("a/1", 61) for _ in range(3)] == [1, 2, 3]
    assert counts.incr("b/1", 61) == 1
    assert counts.incr("a/1", 61, amount=2) == 5
    now[0] += 61  # a/1 expires at 1,061
    assert counts.incr("a/1", 61) == 1


def test_keys_of_ended_windows_are_dropped_at_most_once_a_second(now: list[float]) -> None:
    counts = ProcessCounts()
    for k in range(100):
        counts.incr(f"key{k}/16", 61)
    now[0] += 100  # every one of them has ended
    counts.incr("key0/17", 61)
    assert list(counts._counts) == ["key0/17"]
    now[0] += 100
    counts.incr("key1/18", 61)  # a new key sweeps (the last sweep was 100 s ago)
    counts.incr("key2/18", 61)  # the same second: no sweep, the new key is kept
    assert sorted(counts._counts) == ["key1/18", "key2/18"]


def test_threads_counting_one_key_lose_no_call() -> None:
    counts = ProcessCounts()

    def calls() -> None:
        for _ in range(2_000):
            counts.incr("k/1", 61)

    threads = [threading.Thread(target=calls) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counts.incr("k/1", 61) == 16_001
