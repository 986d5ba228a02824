"""Background work: RQ on Redis in production, an in-process thread pool in embedded mode.

A job is a plain function taking ids (``bot.handlers.handle_event(event_id)``); it reads everything else
from the database, so a lost or repeated queue message is harmless: the row's lease decides who works.
The queue only makes work prompt; the sweeper (``bot.sweeper``) makes it certain.
"""

from __future__ import annotations

import importlib
import logging
import queue
import threading
import uuid
from typing import Callable, Protocol

from flask import Flask
from sqlalchemy.orm import Session

from bot.services import services_of

log = logging.getLogger(__name__)

# Job names and the functions that run them.
JOBS = {
    "handle_event": "bot.handlers.handle_event",
    "deliver_outbox": "bot.delivery.deliver_outbox",
    "fetch_content": "bot.content.fetch_content",
    "publish_announcement": "bot.announcements.fanout.publish_announcement",
}
REQUEUE_GUARD_SECONDS = 5
# Rows one ``deliver_outbox`` job names. A job costs about 2.4 ms of CPU in RQ's bookkeeping, as much as the
# request to LINE, and the delivery threads take every due row anyway: the job wakes them and names rows to
# put first (bot.delivery). Sixteen still spread a large commit over several jobs, so several workers wake.
DELIVERY_IDS_PER_JOB = 16


def deliver_after_commit(session: Session, row_id: int) -> None:
    """Queue an outbox row's delivery once ``session`` commits; nothing is queued if it rolls back.

    Shorthand for ``services_of(session).after_commit(session, "deliver_outbox", row_id)``, the one
    after-commit mechanism (``bot.services``), for code that holds a session: the case service, group
    messages, the console. It works in a request, a worker, a thread or a script alike: the session knows
    its ``Services``. If the queue is down at commit, the sweeper delivers the row.
    """
    services_of(session).after_commit(session, "deliver_outbox", row_id)


def resolve(job: str) -> Callable[..., None]:
    module_name, _, attribute = JOBS[job].rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


class JobQueue(Protocol):
    def enqueue(self, job: str, row_id: int) -> None: ...

    def hand_over_events(self, ids: list[int]) -> None: ...

    def requeue(self, job: str, row_id: int) -> None: ...

    def enqueue_many(self, job: str, ids: list[int]) -> None: ...

    def start(self, app: Flask) -> None: ...

    def stop(self) -> None: ...


class InProcessQueue:
    """Embedded mode: worker threads inside the web process, fed through a local queue."""

    def __init__(self, threads: int) -> None:
        self._threads = threads
        self._queue: queue.Queue[tuple[str, int] | None] = queue.Queue()
        self._queued: set[tuple[str, int]] = set()
        self._lock = threading.Lock()
        self._workers: list[threading.Thread] = []

    def enqueue(self, job: str, row_id: int) -> None:
        key = (job, row_id)
        with self._lock:
            if key in self._queued:
                return
            self._queued.add(key)
        self._queue.put(key)

    def enqueue_many(self, job: str, ids: list[int]) -> None:
        for row_id in ids:
            self.enqueue(job, row_id)

    requeue = enqueue

    def hand_over_events(self, ids: list[int]) -> None:
        """The webhook's new events: straight onto the local queue."""
        self.enqueue_many("handle_event", ids)

    def start(self, app: Flask) -> None:
        if self._workers:
            return
        for n in range(self._threads):
            thread = threading.Thread(target=self._run, args=(app,), name=f"siang-worker-{n}", daemon=True)
            thread.start()
            self._workers.append(thread)

    def stop(self) -> None:
        """Stop promptly: queued jobs are dropped, the database still has them for the next start."""
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        with self._lock:
            self._queued.clear()
        for _ in self._workers:
            self._queue.put(None)
        for thread in self._workers:
            thread.join(timeout=10)
        self._workers.clear()

    def pending(self) -> int:
        return self._queue.qsize()

    def waiting(self) -> list[tuple[str, int]]:
        """The queued jobs, oldest first, without taking them (what a commit queued, for inspection)."""
        with self._queue.mutex:
            return [item for item in self._queue.queue if item is not None]

    def _run(self, app: Flask) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            with self._lock:
                self._queued.discard(item)
            job, row_id = item
            try:
                with app.app_context():
                    resolve(job)(row_id)
            except Exception:  # noqa: BLE001 - a job's failure must not kill the worker thread
                log.exception("job failed", extra={"job": job, "row_id": row_id})


class RedisQueue:
    """Production: RQ on Redis. Job ids are ``<job>-<row id>`` (RQ allows only letters, digits, _ and -),
    so a row is queued at most once through this class.

    The webhook does not build RQ jobs: an RQ enqueue (a ``Job`` built, pickled and saved with its registry
    entries) cost as much Python per event as the insert. It pushes the new inbox ids onto a plain Redis list
    (``events_key``, one ``RPUSH`` per request, ``bot.event_list``) and each ``siang worker`` moves them from there into RQ
    (``feed_events``). An id lost on the way (a worker killed between pop and enqueue, Redis flushed) is
    still a pending row in the inbox: the sweeper queues it again after ``bot.sweeper.EVENT_GRACE``.
    """

    FEED_BATCH = 500  # ids moved per round: a backlog reaches RQ in a few round trips when a worker starts

    def __init__(self, redis_url: str, queue_name: str = "siang") -> None:
        from redis import Redis
        from rq import Queue

        self.connection = Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=2)
        self.queue = Queue(queue_name, connection=self.connection)
        self.events_key = f"siang:new-events:{queue_name}"
        from bot.event_list import ListPusher

        self._pusher = ListPusher(redis_url, self.events_key)

    def hand_over_events(self, ids: list[int]) -> None:
        """The webhook's new events, for the workers: one round trip on the request thread's own socket
        (``bot.event_list``), no RQ work and no redis-py client in the request."""
        self._pusher.push(ids)

    def feed_events(self, wait_seconds: float = 1.0) -> int:
        """Move handed-over event ids into RQ jobs; wait up to ``wait_seconds`` for the first one (0: do not
        wait). Returns how many ids were moved."""
        if wait_seconds > 0:
            first = self.connection.blpop([self.events_key], timeout=wait_seconds)
            if first is None:
                return 0
            ids = [int(first[1])]
        else:
            ids = []
        more = self.connection.lpop(self.events_key, self.FEED_BATCH - len(ids)) or []
        ids += [int(value) for value in more]
        self.enqueue_many("handle_event", ids)
        return len(ids)

    def enqueue(self, job: str, row_id: int) -> None:
        self.enqueue_many(job, [row_id])

    def enqueue_many(self, job: str, ids: list[int]) -> None:
        from rq import Queue

        if not ids:
            return
        if job == "deliver_outbox":  # one job names several rows: the delivery threads take them together
            groups = [ids[start:start + DELIVERY_IDS_PER_JOB] for start in range(0, len(ids), DELIVERY_IDS_PER_JOB)]
            data = [Queue.prepare_data(JOBS[job], args=(group if len(group) > 1 else group[0],),
                                       job_id=f"{job}-{group[0]}" + (f"-{group[-1]}" if len(group) > 1 else ""),
                                       result_ttl=0, failure_ttl=3600, timeout=300)
                    for group in groups]
        else:
            data = [Queue.prepare_data(JOBS[job], args=(row_id,), job_id=f"{job}-{row_id}", result_ttl=0,
                                       failure_ttl=3600, timeout=300)
                    for row_id in ids]
        self.queue.enqueue_many(data)

    def requeue(self, job: str, row_id: int) -> None:
        """Sweeper path: queue the row again unless its job is still waiting in the queue.

        A job left "started" (or taken but not yet started) by a killed worker is not trusted, so a fresh job
        is queued under a new id; a short Redis guard keeps several sweepers from queueing the same row many
        times over. A duplicate is harmless: the row's lease lets one worker act.
        """
        from rq.exceptions import InvalidJobOperation, NoSuchJobError
        from rq.job import Job, JobStatus

        job_id = f"{job}-{row_id}"
        try:
            queued = Job.fetch(job_id, connection=self.connection).get_status(refresh=False) == JobStatus.QUEUED
        except (NoSuchJobError, InvalidJobOperation):
            queued = False
        # "queued" is also the state of a job a worker had just taken off the queue when it was killed, so
        # trust it only while the id is really still in the queue's list.
        if queued and self.connection.lpos(self.queue.key, job_id) is not None:
            return
        if not self.connection.set(f"siang:requeued:{self.queue.name}:{job_id}", 1, nx=True, ex=REQUEUE_GUARD_SECONDS):
            return
        self.queue.enqueue_call(JOBS[job], args=(row_id,), job_id=f"{job_id}-{uuid.uuid4().hex[:12]}",
                                result_ttl=0, failure_ttl=3600, timeout=300)

    def start(self, app: Flask) -> None:
        """Web processes only enqueue; ``siang worker`` runs the jobs."""

    def stop(self) -> None:
        self.connection.close()
