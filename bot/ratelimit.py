"""LINE's per-endpoint rate limits, respected by all workers on all machines together.

LINE limits each endpoint per channel with a token bucket (line-platform.md §8). A 429 for rate costs a retry
and, repeated, looks like abuse, so workers never send faster than the limit: before each request a worker
*reserves* a slot with GCRA (the "generic cell rate algorithm", a token bucket stored as one timestamp, the
theoretical arrival time) and sleeps until its slot. In production the timestamp lives in Redis and is
updated by one Lua script, so every worker process shares one bucket per endpoint and the clock is Redis's;
in embedded mode the same arithmetic runs in-process under a lock.

We run a little below LINE's numbers (``HEADROOM``) with a small burst: LINE's bucket holds a full second of
tokens, so network jitter between our reservation and LINE's count can never drain it. A Redis flush only
forgets the timestamp, which is the same as an idle, full bucket.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from typing import Protocol

# LINE's published limits (line-platform.md §8), by the endpoint names the delivery code uses.
LINE_RATE_LIMITS: dict[str, str] = {
    "reply": "2000/s",
    "push": "2000/s",
    "multicast": "200/s",
    "broadcast": "60/hour",
    "narrowcast": "60/hour",
    "quota": "2000/s",
}
HEADROOM = 0.95  # share of LINE's rate we use
BURST_SHARE = 0.05  # burst allowance, as a share of one period's requests (at least one request)
_PERIODS = {"s": 1.0, "sec": 1.0, "second": 1.0, "m": 60.0, "min": 60.0, "minute": 60.0,
            "h": 3600.0, "hour": 3600.0}


@dataclass(frozen=True)
class Limit:
    """``count`` requests per ``period`` seconds, as used: one request every ``interval`` seconds after a
    burst of ``burst`` requests."""

    count: int
    period: float

    @classmethod
    def parse(cls, text: str) -> "Limit":
        match = re.fullmatch(r"\s*(\d+)\s*(?:/\s*([a-z]+))?\s*", text)
        if not match or (match.group(2) or "s") not in _PERIODS or int(match.group(1)) < 1:
            raise ValueError(f"bad rate {text!r}: expected e.g. 2000/s, 60/hour")
        return cls(int(match.group(1)), _PERIODS[match.group(2) or "s"])

    @property
    def interval(self) -> float:
        return self.period / (self.count * HEADROOM)

    @property
    def burst(self) -> int:
        return max(1, int(self.count * BURST_SHARE))

    @property
    def tolerance(self) -> float:
        """GCRA's delay variation tolerance: how far ahead of now the bucket's timestamp may run."""
        return self.interval * (self.burst - 1)


def parse_limits(configured: str) -> dict[str, Limit]:
    """LINE's numbers, overridden by ``LINE_RATE_LIMITS`` entries such as ``push=200/s,multicast=100/s``."""
    texts = dict(LINE_RATE_LIMITS)
    for item in filter(None, (part.strip() for part in configured.split(","))):
        name, sep, rate = item.partition("=")
        if not sep:
            raise ValueError(f"bad LINE_RATE_LIMITS entry {item!r}: expected endpoint=count/period")
        texts[name.strip()] = rate.strip()
    return {name: Limit.parse(text) for name, text in texts.items()}


class RateLimiter(Protocol):
    def reserve(self, endpoint: str, max_wait: float) -> float | None:
        """Reserve the next slot for one request; return the seconds to wait before sending, or None
        (nothing reserved) when that wait would exceed ``max_wait``."""


class LocalRateLimiter:
    """Embedded mode: one process, so the buckets live here."""

    def __init__(self, limits: dict[str, Limit]) -> None:
        self.limits = limits
        self._tat: dict[str, float] = {}
        self._lock = threading.Lock()

    def reserve(self, endpoint: str, max_wait: float) -> float | None:
        limit = self.limits.get(endpoint) or self.limits["push"]
        with self._lock:
            now = time.monotonic()
            tat = max(self._tat.get(endpoint, now), now)
            wait = max(0.0, tat - limit.tolerance - now)
            if wait > max_wait:
                return None
            self._tat[endpoint] = tat + limit.interval
            return wait


# KEYS[1] bucket key; ARGV interval, tolerance, max_wait (seconds). Returns the wait, or "-1" if too long.
# Redis's clock is the only clock, so machines whose clocks disagree still share one schedule.
_GCRA = """
local t = redis.call('TIME')
local now = (tonumber(t[1]) - 1700000000) + tonumber(t[2]) / 1000000
local interval, tolerance, max_wait = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - tolerance - now
if wait < 0 then wait = 0 end
if wait > max_wait then return '-1' end
local new_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.6f', new_tat), 'PX', math.ceil((new_tat - now) * 1000) + 1000)
return string.format('%.6f', wait)
"""


class RedisRateLimiter:
    """Production: one bucket per endpoint in Redis, shared by every worker of the channel."""

    def __init__(self, connection, limits: dict[str, Limit], prefix: str = "siang:ratelimit:") -> None:
        self.limits = limits
        self.prefix = prefix
        self._script = connection.register_script(_GCRA)

    def reserve(self, endpoint: str, max_wait: float) -> float | None:
        limit = self.limits.get(endpoint) or self.limits["push"]
        answer = float(self._script(keys=[self.prefix + endpoint],
                                    args=[f"{limit.interval:.9f}", f"{limit.tolerance:.9f}", f"{max_wait:.6f}"]))
        return None if answer < 0 else answer


def make_limiter(line_rate_limits: str, redis_connection=None) -> RateLimiter:
    limits = parse_limits(line_rate_limits)
    if redis_connection is None:
        return LocalRateLimiter(limits)
    return RedisRateLimiter(redis_connection, limits)
