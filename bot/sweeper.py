"""The sweeper: finds work the queue forgot and queues it again.

A queue message can be lost (Redis flushed or restarted, a worker killed mid-job, an enqueue that failed
after the commit). The database still says what is unfinished, so every worker process runs this loop:
events not handled within a grace period, outbox rows that are due (first try or retry) or whose sender
died, and content still to fetch. Leases make a duplicate queue message harmless. A worker that runs
delivery threads hands its outbox rows to them directly (``bot.delivery.hand_over``): queued again, the
first rows of the chains a killed worker held used to wait behind every job in the queue.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from bot.announcements.fanout import sweep_announcements
from bot.services import Services, app_services
from storage import inbox, outbox
from storage.models import StoredContent, utcnow

log = logging.getLogger(__name__)
EVENT_GRACE = timedelta(seconds=10)
CONTENT_GRACE = timedelta(seconds=30)


def sweep(services: Services) -> int:
    """One pass; returns how many rows were queued again."""
    now = utcnow()
    with services.transaction() as session:
        events = inbox.stale(session, now - EVENT_GRACE)
        messages = outbox.stale(session)
        contents = list(session.scalars(
            select(StoredContent.id).where(StoredContent.status == "pending",
                                           StoredContent.created_at < now - CONTENT_GRACE).limit(100)))
    from bot.delivery import hand_over

    requeue = hand_over(services, messages)  # a worker's own delivery threads, if it runs them: no queue job
    for job, ids in (("handle_event", events), ("deliver_outbox", requeue), ("fetch_content", contents)):
        for row_id in ids:
            services.jobs.requeue(job, row_id)
    total = len(events) + len(messages) + len(contents)
    from bot.groups import run_due  # daily digests and scheduled broadcasts of agencies' groups

    total += run_due(services)
    # Announcements (bot.announcements): scheduled ones now due, fan-outs whose worker died, finished ones.
    total += sweep_announcements(services)
    if total:
        log.info("sweeper requeued work", extra={"count": total})
    return total


class _Loop:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, name="siang-sweeper", daemon=True)

    def run(self) -> None:
        services = app_services(self.app)
        while not self.stopping.wait(services.settings.sweep_interval_seconds):
            try:
                with self.app.app_context():
                    sweep(services)
            except Exception:  # noqa: BLE001 - e.g. the database restarting; try again next round
                log.warning("sweep failed", exc_info=True)


def start(app: Flask) -> None:
    services = app_services(app)
    if any(isinstance(item, _Loop) for item in services.background):
        return
    loop = _Loop(app)
    services.background.append(loop)
    loop.thread.start()


def stop(app: Flask) -> None:
    services = app_services(app)
    for item in list(services.background):
        if isinstance(item, _Loop):
            item.stopping.set()
            item.thread.join(timeout=10)
            services.background.remove(item)
