"""The fan-out: one announcement becomes multicast outbox rows of at most 500 recipients each.

Each chunk is one transaction: read the next page of the audience after the cursor, write the outbox row
and its batch record, move the cursor. So a worker killed at any instant leaves either the whole chunk or
none of it, and whoever resumes (the sweeper re-queues a fan-out whose lease expired) starts exactly after
the last committed recipient. The chunk holds the announcement's row lock, so a cancellation either lands
before a chunk (which then writes nothing) or after it (and withdraws its row before delivery).
Delivery itself (retry keys, 409, backoff, the shared rate limiter) is the outbox's: ``bot.delivery``.
"""

from __future__ import annotations

import json
import logging
import time

from bot.announcements import compose
from bot.services import Services, current_services
from storage import announcements as repo
from storage import outbox
from storage.models import utcnow

log = logging.getLogger(__name__)
CHUNK = 500  # LINE's multicast maximum (line-platform.md §6)


def publish_announcement(announcement_id: int) -> None:
    """Job: fan an announcement out (or carry on an interrupted fan-out)."""
    fan_out(current_services(), announcement_id)


def fan_out(services: Services, announcement_id: int, chunk: int | None = None) -> bool:
    """Write every remaining chunk; True when the fan-out is complete, False if not ours or cancelled."""
    chunk = chunk or CHUNK
    lease = services.settings.job_lease_seconds
    with services.transaction() as session:
        token = repo.claim_fanout(session, announcement_id, lease)
        if token is None:
            return False
        row = repo.get(session, announcement_id)
        if row.audience is None:
            started = time.perf_counter()
            row.audience = repo.audience_size(session, json.loads(row.topics), json.loads(row.provinces),
                                              row.everyone)
            row.audience_seconds = time.perf_counter() - started
        body = compose.messages_of(row)
        topics, provinces, everyone = json.loads(row.topics), json.loads(row.provinces), row.everyone
    log.info("announcement fan-out", extra={"announcement_id": announcement_id})
    while True:
        outbox_id, finished = None, False
        with services.transaction() as session:
            row = repo.lock_for_chunk(session, announcement_id, token)
            if row is None:  # cancelled, or our lease was taken over by another worker
                return False
            if everyone:
                message = outbox.add_message(session, kind="broadcast", recipient="*", messages=body)
                repo.add_batch(session, row, message.id, row.audience or 0, 0, 0)
                outbox_id, finished = message.id, True
            else:
                users, last = repo.audience_page(session, topics, provinces, row.cursor_citizen_id, chunk)
                if last is None:
                    finished = True
                else:
                    if users:
                        message = outbox.add_message(session, kind="multicast", recipient="*", recipients=users,
                                                     messages=body)
                        repo.add_batch(session, row, message.id, len(users), row.cursor_citizen_id + 1, last)
                        outbox_id = message.id
                    row.cursor_citizen_id = last
            if finished:
                row.fanned_out_at, row.lease_token, row.lease_expires_at = utcnow(), None, None
            else:
                row.lease_expires_at = utcnow() + _seconds(lease)
        if outbox_id is not None:
            services.jobs.enqueue("deliver_outbox", outbox_id)
        if finished:
            with services.transaction() as session:
                repo.finish_if_done(session, announcement_id)
            return True


def sweep_announcements(services: Services) -> int:
    """The sweeper's part: start due scheduled announcements, resume orphaned fan-outs, close finished ones."""
    with services.transaction() as session:
        due = repo.due(session)
        finishing = repo.fanned_out_unfinished(session)
    for announcement_id in due:
        services.jobs.requeue("publish_announcement", announcement_id)
    for announcement_id in finishing:
        with services.transaction() as session:
            repo.finish_if_done(session, announcement_id)
    return len(due)


def _seconds(value: float):
    from datetime import timedelta

    return timedelta(seconds=value)
