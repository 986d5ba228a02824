"""Periodic group work, driven by the sweeper of every worker: daily digests and scheduled broadcasts.

Both are claimed with a conditional UPDATE committed together with their outbox rows, so any number of
workers may run this at once and each digest or broadcast goes out once.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

from bot.services import Services
from storage.models import utcnow

log = logging.getLogger(__name__)
CHECK_EVERY_SECONDS = 10.0


def run_due(services: Services, now: datetime | None = None, force: bool = False) -> int:
    """Send what is due; returns how many digests and broadcasts went out. Never raises."""
    if not force and time.monotonic() < getattr(services, "_groups_next_check", 0.0):
        return 0
    services._groups_next_check = time.monotonic() + CHECK_EVERY_SECONDS
    from bot.groups import broadcasts, digest

    now = now or utcnow()
    done = 0
    for step in (broadcasts.send_due, digest.send_due):
        try:
            done += step(services, now)
        except Exception:  # noqa: BLE001 - e.g. the database restarting; tried again on the next check
            log.warning("group job failed", exc_info=True)
    return done
