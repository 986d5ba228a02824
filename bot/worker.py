"""``siang worker``: an RQ worker that runs jobs inside the app, plus this process's sweeper."""

from __future__ import annotations

import logging

from flask import Flask

log = logging.getLogger(__name__)


def run_worker(app: Flask, burst: bool = False) -> None:
    """Run jobs until stopped. SimpleWorker runs jobs in this process (no fork per job): jobs are short
    and the database is the arbiter, so a crashed job is recovered by leases rather than by RQ."""
    from rq import SimpleWorker

    from bot import sweeper

    services = app.extensions["siang"]
    if not burst:
        sweeper.start(app)
    with app.app_context():
        worker = SimpleWorker([services.jobs.queue], connection=services.jobs.connection)
        log.info("worker started")
        worker.work(burst=burst, logging_level="WARNING", with_scheduler=False)
    sweeper.stop(app)
