"""``siang worker``: an RQ worker that runs jobs inside the app, plus this process's sweeper and event feeder."""

from __future__ import annotations

import logging
import threading

from flask import Flask

log = logging.getLogger(__name__)


def run_worker(app: Flask, burst: bool = False) -> None:
    """Run jobs until stopped. SimpleWorker runs jobs in this process (no fork per job): jobs are short
    and the database is the arbiter, so a crashed job is recovered by leases rather than by RQ.

    A feeder thread moves the ids the webhook handed over (``RedisQueue.hand_over_events``) into RQ jobs.
    In burst mode the handed-over ids are moved first, then the queue is worked until empty, as often as
    new ids arrived meanwhile.
    """
    from rq import SimpleWorker

    from bot import sweeper
    from bot.services import app_services

    services = app_services(app)
    jobs = services.jobs
    stopping = threading.Event()
    feeder = None
    if not burst:
        sweeper.start(app)
        feeder = threading.Thread(target=_feed, args=(jobs, stopping), name="siang-feeder", daemon=True)
        feeder.start()
    with app.app_context():
        log.info("worker started")
        if burst:
            while _feed_all(jobs) or jobs.queue.count:
                SimpleWorker([jobs.queue], connection=jobs.connection).work(
                    burst=True, logging_level="WARNING", with_scheduler=False)
        else:
            SimpleWorker([jobs.queue], connection=jobs.connection).work(logging_level="WARNING",
                                                                        with_scheduler=False)
    stopping.set()
    if feeder is not None:
        feeder.join(timeout=5)
    sweeper.stop(app)


def _feed(jobs, stopping: threading.Event) -> None:
    """Feeder thread: handed-over event ids into RQ as they come (a blocking pop, woken at once)."""
    while not stopping.is_set():
        try:
            jobs.feed_events(wait_seconds=1.0)
        except Exception:  # noqa: BLE001 - Redis restarting or paused; the sweeper covers what waits meanwhile
            log.warning("event feed failed; retrying", exc_info=True)
            stopping.wait(1.0)


def _feed_all(jobs) -> int:
    total = 0
    while moved := jobs.feed_events(wait_seconds=0):
        total += moved
    return total
