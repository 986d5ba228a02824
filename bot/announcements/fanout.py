"""The fan-out: one announcement becomes multicast outbox rows of at most 500 recipients each.

Each transaction writes up to ``CHUNKS_PER_TRANSACTION`` chunks: it reads the next page of the audience after
the cursor, writes one outbox row and one batch record per chunk, and moves the cursor. So a worker killed at
any instant leaves either the whole transaction or none of it, and whoever resumes (the sweeper re-queues a
fan-out whose lease expired) starts exactly after the last committed recipient. The transaction holds the
announcement's row lock, so a cancellation either lands before it (which then writes nothing) or after it
(and withdraws its rows before delivery).

The fan-out writes ahead of delivery, but only so far: while the rows to many chats waiting for LINE would
take more than ``BACKLOG_SECONDS`` at LINE's multicast rate, it waits (renewing its lease). Delivery never
starves (a transaction of twenty chunks takes milliseconds), and an announcement to 50 million followers never
has more than a few hundred outbox rows waiting. In a ``siang worker`` the fan-out runs on a thread of its
own, so the worker keeps delivering meanwhile. (Embedded mode, for development, writes ahead without a bound:
its fan-out runs on one of the few worker threads, which must not wait for the others.)

Delivery itself (retry keys, 409, backoff, the shared rate limiter) is the outbox's: ``bot.delivery``. Each
transaction queues one delivery job (more while delivery is starting: ``_wake_ups``); the thread that takes
it carries on from row to row (``bot.delivery.deliver_chain``), so an announcement costs a queue job per
twenty rows, not one per row.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import timedelta

from flask import Flask, current_app

from bot.announcements import compose
from bot.delivery import UNORDERED_BATCH
from bot.ratelimit import parse_limits
from bot.services import Services, app_services, current_services
from storage import announcements as repo
from storage import outbox
from storage.models import utcnow

log = logging.getLogger(__name__)
CHUNK = 500  # LINE's multicast maximum (line-platform.md §6)
CHUNKS_PER_TRANSACTION = 20  # one commit, one audience query and one queue job per 10,000 recipients
BACKLOG_SECONDS = 2.0  # how far ahead of delivery the fan-out may write, in seconds of LINE's multicast rate
BACKLOG_POLL_SECONDS = 0.1

_running: set[int] = set()  # fan-outs running on threads of this process
_running_lock = threading.Lock()


def publish_announcement(announcement_id: int) -> None:
    """Job: fan an announcement out (or carry on an interrupted fan-out).

    Embedded workers are threads already and run it inline; a ``siang worker`` runs one job at a time, so it
    hands the fan-out to a thread and goes back to delivering."""
    services = current_services()
    if services.settings.embedded:
        fan_out(services, announcement_id)
        return
    with _running_lock:
        if announcement_id in _running:
            return
        _running.add(announcement_id)
    app = current_app._get_current_object()
    threading.Thread(target=_fan_out_thread, args=(app, announcement_id), name=f"siang-fanout-{announcement_id}",
                     daemon=True).start()


def _fan_out_thread(app: Flask, announcement_id: int) -> None:
    try:
        with app.app_context():
            fan_out(app_services(app), announcement_id)
    except Exception:  # noqa: BLE001 - e.g. the database restarting: the lease expires, the sweeper resumes it
        log.exception("announcement fan-out failed", extra={"announcement_id": announcement_id})
    finally:
        with _running_lock:
            _running.discard(announcement_id)


def backlog_limit(services: Services) -> int:
    """Rows to many chats that may wait for LINE: ``BACKLOG_SECONDS`` of the multicast rate, at least one
    transaction's worth."""
    limit = parse_limits(services.settings.line_rate_limits)["multicast"]
    return max(CHUNKS_PER_TRANSACTION, int(BACKLOG_SECONDS * limit.count / limit.period))


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
    backlog = None if services.settings.embedded or everyone else backlog_limit(services)
    while True:
        waiting = 0 if backlog is None else _wait_for_delivery(services, announcement_id, token, backlog)
        if waiting is None:
            return False
        written: list[int] = []
        finished = False
        with services.transaction() as session:
            row = repo.lock_for_chunk(session, announcement_id, token)
            if row is None:  # cancelled, or our lease was taken over by another worker
                return False
            if everyone:
                message = outbox.add_message(session, kind="broadcast", recipient=outbox.UNORDERED, messages=body)
                repo.add_batch(session, row, message.id, row.audience or 0, 0, 0)
                written, finished = [message.id], True
            else:
                parts = repo.audience_chunks(session, topics, provinces, row.cursor_citizen_id, chunk,
                                             CHUNKS_PER_TRANSACTION)
                ids = outbox.add_multicasts(session, [part.recipients_json for part in parts], body)
                firsts = [row.cursor_citizen_id + 1] + [part.last_citizen_id + 1 for part in parts[:-1]]
                repo.add_batches(session, row, [(outbox_id, part.count, first, part.last_citizen_id)
                                                for outbox_id, part, first in zip(ids, parts, firsts)])
                if parts:
                    row.cursor_citizen_id, written = parts[-1].last_citizen_id, ids
                finished = sum(part.count for part in parts) < chunk * CHUNKS_PER_TRANSACTION
            if finished:
                row.fanned_out_at, row.lease_token, row.lease_expires_at = utcnow(), None, None
            else:
                row.lease_expires_at = utcnow() + timedelta(seconds=lease)
            for outbox_id in _wake_ups(written, waiting):  # queued by the commit (Redis down: logged only)
                services.after_commit(session, "deliver_outbox", outbox_id)
        if finished:
            with services.transaction() as session:
                repo.finish_if_done(session, announcement_id)
            return True


def _wake_ups(written: list[int], waiting: int) -> list[int]:
    """Rows to queue a delivery job for. Threads delivering rows carry on to the next ones by themselves, so
    one job per transaction keeps them going; but when delivery had run dry (the start of an announcement,
    fewer rows waiting than this transaction wrote) every batch a thread takes at once gets a job, so that
    enough threads start at once."""
    if len(written) > waiting:
        return written[::UNORDERED_BATCH]
    return written[:1]


def _wait_for_delivery(services: Services, announcement_id: int, token: str, backlog: int) -> int | None:
    """Wait while ``backlog`` rows to many chats are already waiting for LINE; how many are waiting then, or
    None if the fan-out stopped being ours meanwhile (cancelled, or the lease was taken over)."""
    while True:
        with services.transaction() as session:
            waiting = outbox.unordered_backlog(session)
            if waiting < backlog:
                return waiting
            if not repo.renew_fanout(session, announcement_id, token, services.settings.job_lease_seconds):
                return None
        time.sleep(BACKLOG_POLL_SECONDS)


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
