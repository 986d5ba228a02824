"""The sliding window behind flood control (``bot.handlers.flood``): recent event stamps per LINE user.

Built once per app by ``create_app`` (``Services.flood``): in Redis in production, so every worker counts the
same events, and in this process in embedded mode, where one process handles every event.
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from typing import Protocol

KEY = "siang:flood:"


class FloodWindow(Protocol):
    def hit(self, user_id: str, member: str, stamp: float, burst: int, window: float) -> tuple[bool, bool]:
        """Count one event; returns (over the limit, first time over in this window)."""
        ...


def make_flood_window(redis=None) -> FloodWindow:
    return RedisWindow(redis) if redis is not None else LocalWindow()


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
