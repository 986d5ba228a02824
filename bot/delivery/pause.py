"""LINE's monthly message limit: a pause of every counted send, shared by all workers through the database.

A 429 that is the monthly limit opens (or renews) a ``DeliveryAlert`` with ``paused_until``; every worker
reads it at most ``PAUSE_CHECK_SECONDS`` late, so the pause survives a Redis flush and reaches every machine.
The first counted send accepted after the pause closes the alert. The SQL is ``storage.outbox``'s.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta

from bot.services import Services
from storage import outbox
from storage.models import utcnow

log = logging.getLogger(__name__)
PAUSE_CHECK_SECONDS = 1.0  # how stale a worker's view of the monthly-limit pause may be


class MonthlyLimitPause:
    """This process's view of the pause: (checked at, until, alert open), refreshed from the database."""

    def __init__(self) -> None:
        self._state: tuple[float, datetime | None, bool] = (0.0, None, False)
        self._lock = threading.Lock()

    def paused_until(self, services: Services) -> datetime | None:
        checked, until, _ = self._state
        if time.monotonic() - checked > PAUSE_CHECK_SECONDS:
            with services.transaction() as session:
                until, is_open = outbox.monthly_limit_pause(session)
            self._state = (time.monotonic(), until, is_open)
        return until if until is not None and until > utcnow() else None

    def pause(self, services: Services, details: str | None) -> datetime:
        """Record LINE's monthly limit: one open alert for staff (renewed while it lasts) and a pause."""
        until = utcnow() + timedelta(seconds=services.settings.monthly_limit_pause_seconds)
        with services.transaction() as session:
            until = outbox.record_monthly_limit(session, until, details)
        self._state = (time.monotonic(), until, True)
        log.error("LINE monthly message limit reached: sending paused", extra={"paused_until": until.isoformat(),
                                                                             "details": details})
        return until

    def resumed(self, services: Services) -> None:
        """A counted send got through: close the monthly-limit alert if one is open."""
        if not self._state[2]:
            return
        with services.transaction() as session:
            closed = outbox.close_monthly_limit(session)
        self._state = (0.0, None, False)
        if closed:
            log.warning("LINE accepts pushes again: monthly-limit alert closed")
