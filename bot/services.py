"""The process's long-lived parts, built once by ``create_app`` and handed to whoever needs them.

Handlers, flows and jobs receive a ``Services`` instead of importing globals, so a test can build a fresh app
(its own database, its own emulator) without anything leaking between tests, and code that changes a case
works the same in a request, a worker, a sweeper thread or a script: nothing depends on a Flask app context.

A session made by ``services.sessions`` knows its ``Services`` (``services_of(session)``): the case service
takes a session, the unit of work, and finds the settings and the queue of the process that opened it there.

**After commit.** Work that must wait for the transaction (delivering an outbox row, fetching a photo) is
noted with ``services.after_commit(session, job, row_id)``. One listener on the sessionmaker, installed here
once, enqueues what the session noted when its outermost transaction commits, and drops it when the
transaction ends any other way (rollback, close). So a job never names a row that is not committed, and an
enqueue that fails after the commit is only logged: the rows are in the database, the sweeper finds them.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterator

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from bot.config import Settings
from bot.line import LineClients
from storage.db import session_scope

if TYPE_CHECKING:
    from bot.delivery.runtime import DeliveryRuntime
    from bot.flows.state import FlowStateStore
    from bot.floodwindow import FloodWindow
    from bot.jobs import JobQueue

log = logging.getLogger(__name__)
SERVICES_KEY = "siang.services"  # Session.info: the Services whose sessionmaker made the session
PENDING_KEY = "siang.after_commit"  # Session.info: [(job, row id)] to enqueue once the session commits
EXTENSION = "siang"  # Flask's app.extensions key


@dataclass(eq=False)
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    line: LineClients
    jobs: "JobQueue"
    flows: "FlowStateStore"  # citizens' conversation state (bot.flows.state)
    flood: "FloodWindow"  # the sliding window of flood control (bot.floodwindow)
    delivery: "DeliveryRuntime"  # this process's rate limiter, delivery pool, pause and quota (bot.delivery)
    redis: object | None = None  # redis.Redis in production
    background: list = field(default_factory=list)  # threads to stop on shutdown

    def __post_init__(self) -> None:
        """Mark the sessions as ours and hook the after-commit queue onto them, once per sessionmaker."""
        self.sessions.configure(info={**self.sessions.kw.get("info", {}), SERVICES_KEY: self})
        event.listen(self.sessions, "after_commit", self._enqueue_committed)
        event.listen(self.sessions, "after_transaction_end", self._drop_uncommitted)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with session_scope(self.sessions) as session:
            yield session

    def after_commit(self, session: Session, job: str, row_id: int) -> None:
        """Enqueue ``job`` for ``row_id`` once ``session`` commits; never if it rolls back."""
        if session.info.get(SERVICES_KEY) is not self:
            raise ValueError("after_commit: the session was not made by this Services' sessionmaker")
        session.info.setdefault(PENDING_KEY, []).append((job, row_id))

    def _enqueue_committed(self, session: Session) -> None:
        if session.get_nested_transaction() is not None:
            return  # a savepoint released: the outer transaction may still roll back
        pending = session.info.pop(PENDING_KEY, None)
        if not pending:
            return
        by_job: dict[str, list[int]] = {}
        for job, row_id in pending:
            by_job.setdefault(job, []).append(row_id)
        for job, ids in by_job.items():
            try:
                self.jobs.enqueue_many(job, ids)
            except Exception:  # noqa: BLE001 - the rows are committed: the sweeper finds them
                log.warning("enqueue after commit failed", exc_info=True, extra={"job": job, "count": len(ids)})

    @staticmethod
    def _drop_uncommitted(session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None:  # the outermost transaction ended: whatever is left was not committed
            session.info.pop(PENDING_KEY, None)


def services_of(session: Session) -> Services:
    """The ``Services`` whose sessionmaker made ``session`` (any session from ``services.sessions``)."""
    services = session.info.get(SERVICES_KEY)
    if services is None:
        raise LookupError("the session was not made by a Services' sessionmaker (services.sessions)")
    return services


def app_services(app: Flask) -> Services:
    """The ``Services`` ``create_app`` built for ``app`` (for threads and commands that hold the app)."""
    return app.extensions[EXTENSION]


def current_services() -> Services:
    """The ``Services`` of the app handling this request or command: for views and job entry points only."""
    return current_app.extensions[EXTENSION]
