"""What a process keeps for delivery: the shared rate limiter, its pool of threads, the monthly-limit
pause as last read, and LINE's quota figures (read at most every ``QUOTA_CHECK_SECONDS``)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from flask import Flask

from bot.config import Settings
from bot.delivery.attempt import _slot
from bot.delivery.pause import MonthlyLimitPause
from bot.ratelimit import RateLimiter, make_limiter
from bot.services import Services

if TYPE_CHECKING:
    from bot.delivery.pool import DeliveryPool

log = logging.getLogger(__name__)
QUOTA_CHECK_SECONDS = 10.0  # LINE's quota figures are read at most this often per process


@dataclass
class DeliveryRuntime:
    """One per app and process (``Services.delivery``, built by ``create_app``)."""

    limiter: RateLimiter
    threads: int
    _pool: "DeliveryPool | None" = None
    monthly_limit: MonthlyLimitPause = field(default_factory=MonthlyLimitPause)
    _quota: tuple[float, dict] = (0.0, {})
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def pool(self, app: Flask) -> "DeliveryPool":
        from bot.delivery.pool import DeliveryPool

        with self._lock:
            if self._pool is None:
                self._pool = DeliveryPool(app, self.threads)
            return self._pool

    def running_pool(self) -> "DeliveryPool | None":
        """The pool if this process has started one (a ``siang worker`` that has delivered)."""
        return self._pool

    def paused_until(self, services: Services) -> datetime | None:
        return self.monthly_limit.paused_until(services)

    def pause(self, services: Services, details: str | None) -> datetime:
        return self.monthly_limit.pause(services, details)

    def resumed(self, services: Services) -> None:
        self.monthly_limit.resumed(services)

    def quota(self, services: Services) -> dict:
        """LINE's quota and consumption, read at most every ``QUOTA_CHECK_SECONDS`` (§6: quota endpoints)."""
        checked, figures = self._quota
        if time.monotonic() - checked < QUOTA_CHECK_SECONDS:
            return figures
        try:
            if not _slot(self.limiter, "quota"):
                return figures
            limit = services.line.api.get_message_quota(_request_timeout=services.line.timeout)
            used = services.line.api.get_message_quota_consumption(_request_timeout=services.line.timeout)
            figures = {"type": limit.type, "value": limit.value, "total_usage": used.total_usage}
            figures["exhausted"] = bool(limit.type == "limited" and limit.value is not None
                                        and used.total_usage >= limit.value)
        except Exception:  # noqa: BLE001 - the 429's own message still decides; the figures are extra
            log.warning("reading LINE's quota failed", exc_info=True)
            figures = {}
        self._quota = (time.monotonic(), figures)
        return figures


def make_runtime(settings: Settings, redis=None) -> DeliveryRuntime:
    """The delivery state of one app (``Services.delivery``): the rate limiter is shared through Redis by
    every worker in production, this process's own in embedded mode."""
    limiter = make_limiter(settings.line_rate_limits, None if settings.embedded else redis)
    return DeliveryRuntime(limiter=limiter, threads=settings.delivery_threads)
