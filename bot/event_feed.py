"""Redis mode: the webhook's new events reach RQ through PostgreSQL's ``LISTEN``/``NOTIFY``.

The webhook's insert announces the new pending ids on the queue's channel in the same statement
(``storage.inbox.store_new``), so the request makes one round trip, to PostgreSQL only, and a notification
exists exactly when its rows are committed. In each ``siang worker`` a feeder thread listens and turns the
ids into RQ jobs (``handle_event-<id>``). One feeder per queue listens at a time — the one whose listening
connection holds a session advisory lock on the channel; the others try again every second and take over
when it goes — so an event becomes one job, not one per worker.

Notifications sent while nobody listens are gone, so a feeder that starts listening first queues what is
pending (``catch_up``). An id lost anyway (a feeder killed between hearing it and queueing it, Redis flushed)
is still a pending row: the sweeper queues it again after ``bot.sweeper.EVENT_GRACE``, and the row's lease
lets one worker handle it.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.engine import make_url

from bot.services import Services
from storage import inbox

log = logging.getLogger(__name__)
FEED_BATCH = 500  # ids per RQ enqueue: a backlog reaches RQ in a few round trips


def channel(queue_name: str) -> str:
    """The queue's notification channel (PostgreSQL names are at most 63 bytes)."""
    return f"siang-events:{queue_name}"[:63]


def catch_up(services: Services, seen: set[int] | None = None) -> int:
    """Queue every pending event (those in ``seen`` excepted, which it then holds too); returns how many."""
    after, total = 0, 0
    while True:
        with services.transaction() as session:
            ids = inbox.pending_after(session, after, FEED_BATCH)
        if not ids:
            return total
        after = ids[-1]
        if seen is not None:
            ids = [row_id for row_id in ids if row_id not in seen]
            seen.update(ids)
        services.jobs.enqueue_many("handle_event", ids)
        total += len(ids)


def listen(services: Services, stopping: threading.Event, wait_seconds: float = 1.0) -> None:
    """Feeder thread: hold the channel's lock, then queue notified ids as they come, until ``stopping``.

    On SQLite there is nothing to listen to: the webhook queues its events' jobs itself there.
    """
    if not services.settings.database_url.startswith("postgresql"):
        return
    while not stopping.is_set():
        try:
            _listen_once(services, stopping, wait_seconds)
        except Exception:  # noqa: BLE001 - PostgreSQL or Redis restarting; the sweeper covers what waits meanwhile
            log.warning("event feed failed; retrying", exc_info=True)
            stopping.wait(wait_seconds)


def _listen_once(services: Services, stopping: threading.Event, wait_seconds: float) -> None:
    import psycopg
    from psycopg import sql

    name = services.jobs.events_channel
    url = make_url(services.settings.database_url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as connection:
        while not connection.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (name,)).fetchone()[0]:
            if stopping.wait(wait_seconds):
                return
        connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(name)))
        log.info("event feed listening", extra={"count": catch_up(services)})
        while not stopping.is_set():
            ids = _heard(connection.notifies(timeout=wait_seconds, stop_after=1))
            if not ids:
                continue
            while len(ids) < FEED_BATCH and (more := _heard(connection.notifies(timeout=0))):
                ids += more  # what else arrived meanwhile: one enqueue for a burst of requests
            services.jobs.enqueue_many("handle_event", ids)


def _heard(notifications) -> list[int]:
    return [int(row_id) for note in notifications for row_id in note.payload.split(",") if row_id]
