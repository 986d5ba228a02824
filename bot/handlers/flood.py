"""Flood control: a citizen sending faster than a person can is slowed down politely; others are unaffected.

A sliding window over the events' own LINE timestamps (not the time a worker happens to process them, which
bunches up behind a backlog): more than ``flood_burst`` events of one user within ``flood_window_seconds``
are dropped, and the first dropped one gets a polite "please wait" reply. The window lives in Redis in
production (shared by every worker) and in this process in embedded mode.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

from bot import messages
from bot.context import Context

KEY = "siang:flood:"


def slowed_down(ctx: Context) -> bool:
    """True when this event is over the user's limit (and has been answered, at most once per window)."""
    user_id = ctx.user_id
    if not user_id:
        return False
    burst, window = _limits(ctx)
    stamp = (getattr(ctx.event, "timestamp", None) or time.time() * 1000) / 1000.0
    limiter = _limiter(ctx)
    over, first = limiter.hit(user_id, f"{ctx.row.id}", stamp, burst, window)
    if over and first:
        ctx.reply(messages.text_message(ctx.text("flood_slow_down")))
    return over


def _limits(ctx: Context) -> tuple[int, float]:
    settings = ctx.services.settings
    return settings.flood_burst, settings.flood_window_seconds


def _limiter(ctx: Context):
    services = ctx.services
    limiter = getattr(services, "_flood_limiter", None)
    if limiter is None:
        limiter = RedisWindow(services.redis) if services.redis is not None else LocalWindow()
        services._flood_limiter = limiter
    return limiter


class LocalWindow:
    """Embedded mode: one process handles every event, so a dict of recent timestamps is enough."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, deque[float]] = defaultdict(deque)
        self._noticed: dict[str, float] = {}

    def hit(self, user_id: str, member: str, stamp: float, burst: int, window: float) -> tuple[bool, bool]:
        with self._lock:
            seen = self._seen[user_id]
            while seen and seen[0] <= stamp - window:
                seen.popleft()
            seen.append(stamp)
            if len(seen) <= burst:
                return False, False
            first = self._noticed.get(user_id, 0.0) <= stamp - window
            if first:
                self._noticed[user_id] = stamp
            return True, first


class RedisWindow:
    """Production: a sorted set of event timestamps per user, shared by all workers."""

    def __init__(self, redis) -> None:
        self.redis = redis

    def hit(self, user_id: str, member: str, stamp: float, burst: int, window: float) -> tuple[bool, bool]:
        key = KEY + user_id
        pipe = self.redis.pipeline(transaction=True)
        pipe.zadd(key, {member: stamp})
        pipe.zremrangebyscore(key, "-inf", stamp - window)
        pipe.zcount(key, stamp - window, stamp)
        pipe.expire(key, int(window) + 5)
        count = pipe.execute()[2]
        if count <= burst:
            return False, False
        first = bool(self.redis.set(KEY + "notice:" + user_id, "1", nx=True, ex=max(1, int(window))))
        return True, first
