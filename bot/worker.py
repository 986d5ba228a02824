"""``siang worker``: an RQ worker that runs jobs inside the app, plus this process's sweeper and event feeder."""

from __future__ import annotations

import logging
import threading

from flask import Flask

log = logging.getLogger(__name__)


def run_worker(app: Flask, burst: bool = False) -> None:
    """Run jobs until stopped. SimpleWorker runs jobs in this process (no fork per job): jobs are short
    and the database is the arbiter, so a crashed job is recovered by leases rather than by RQ.

    A feeder thread turns the ids the webhook announced (``bot.event_feed``) into RQ jobs. In burst mode the
    pending events are queued first, then the queue is worked until empty, as often as new events arrived
    meanwhile.
    """
    from rq import SimpleWorker

    from bot import event_feed, sweeper

    services = app.extensions["siang"]
    jobs = services.jobs
    stopping = threading.Event()
    feeder = None
    if not burst:
        sweeper.start(app)
        feeder = threading.Thread(target=event_feed.listen, args=(services, stopping), name="siang-feeder",
                                  daemon=True)
        feeder.start()
    with app.app_context():
        log.info("worker started")
        if burst:
            seen: set[int] = set()
            while event_feed.catch_up(services, seen) or jobs.queue.count:
                SimpleWorker([jobs.queue], connection=jobs.connection).work(
                    burst=True, logging_level="WARNING", with_scheduler=False)
        else:
            SimpleWorker([jobs.queue], connection=jobs.connection).work(logging_level="WARNING",
                                                                        with_scheduler=False)
    stopping.set()
    if feeder is not None:
        feeder.join(timeout=5)
    sweeper.stop(app)

