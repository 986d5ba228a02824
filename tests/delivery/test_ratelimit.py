"""The shared rate limiter: all workers together stay under LINE's per-endpoint limits."""

from __future__ import annotations

import threading
import time

import pytest
from redis import Redis

from bot.ratelimit import HEADROOM, Limit, LocalRateLimiter, RedisRateLimiter, parse_limits


def sends_per_second(limiter, endpoint: str, threads: int, seconds: float) -> list[float]:
    """Hammer ``limiter`` from several threads; return the moments each send was given. The slot, not the
    moment its thread woke up: on a loaded machine a sleep can overrun and a few late sends then bunch
    with punctual ones, which says nothing of the limiter (LINE's bucket and our headroom absorb that)."""
    stamps: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def run() -> None:
        while time.monotonic() < stop:
            delay = limiter.reserve(endpoint, 5.0)
            slot = time.monotonic() + delay
            time.sleep(delay)
            with lock:
                stamps.append(slot)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sorted(stamps)


def max_in_window(stamps: list[float], window: float) -> int:
    best, start = 0, 0
    for end, stamp in enumerate(stamps):
        while stamps[start] < stamp - window:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_limits_default_to_lines_numbers_and_can_be_configured():
    limits = parse_limits("push=200/s, broadcast=10/hour")
    assert limits["push"] == Limit(200, 1.0) and limits["broadcast"] == Limit(10, 3600.0)
    assert limits["reply"] == Limit(2000, 1.0) and limits["multicast"] == Limit(200, 1.0)
    with pytest.raises(ValueError, match="push"):
        parse_limits("push")


def test_two_processes_sharing_redis_stay_under_the_limit_together(redis_url):
    limits = parse_limits("push=100/s")
    # Two limiters on two connections: what two worker processes (or machines) have.
    first = RedisRateLimiter(Redis.from_url(redis_url), limits)
    second = RedisRateLimiter(Redis.from_url(redis_url), limits)
    stamps = sorted(_together(first, second))
    assert max_in_window(stamps, 1.0) <= 100
    assert len(stamps) >= 0.8 * 100 * HEADROOM * 1.5  # and it does not starve either


def _together(first, second) -> list[float]:
    results: list[list[float]] = []
    threads = [threading.Thread(target=lambda l=limiter: results.append(sends_per_second(l, "push", 4, 1.5)))
               for limiter in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [stamp for part in results for stamp in part]


def test_the_in_process_limiter_spaces_requests_the_same_way():
    limiter = LocalRateLimiter(parse_limits("push=50/s"))
    stamps = sends_per_second(limiter, "push", 6, 1.2)
    assert max_in_window(stamps, 1.0) <= 50
    assert len(stamps) >= 0.8 * 50 * HEADROOM * 1.2


def test_a_slot_further_away_than_allowed_is_not_reserved():
    limiter = LocalRateLimiter(parse_limits("broadcast=60/hour"))
    burst = Limit(60, 3600.0).burst
    assert [limiter.reserve("broadcast", 1.0) for _ in range(burst)] == [0.0] * burst
    assert limiter.reserve("broadcast", 1.0) is None  # the next one is a minute away: reschedule instead
    assert 60 < limiter.reserve("broadcast", 120.0) < 66
