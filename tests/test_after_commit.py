"""One after-commit mechanism (``Services.after_commit``): jobs are queued when the outermost transaction
commits, never when it rolls back, and a queue that fails after the commit is only logged.

The webhook's replies, the case service's pushes and the console's messages all go through it, so these
tests drive the real queue of an app without its background worker (``InProcessQueue.waiting``)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from bot.handlers import _handle_one
from bot.jobs import RedisQueue, deliver_after_commit
from bot.services import services_of
from storage import inbox, outbox
from storage.models import OutboxMessage
from tests import events


def new_row(session, text: str = "สวัสดี") -> int:
    return outbox.add_message(session, kind="push", recipient=events.user_id(),
                              messages=[{"type": "text", "text": text}]).id


def test_a_commit_queues_what_its_session_noted_and_a_rollback_queues_nothing(app):
    services = app.extensions["siang"]
    session = services.sessions()
    deliver_after_commit(session, new_row(session))
    services.after_commit(session, "fetch_content", 4242)  # an id no later row takes (SQLite reuses ids)
    assert services.jobs.waiting() == []  # nothing before the commit
    session.rollback()
    assert services.jobs.waiting() == []
    kept = new_row(session)  # the same session, a new transaction: what the rolled-back one noted is gone
    deliver_after_commit(session, kept)
    session.commit()
    session.close()
    assert services.jobs.waiting() == [("deliver_outbox", kept)]


def test_a_released_savepoint_queues_nothing_until_the_outer_commit(app):
    services = app.extensions["siang"]
    with pytest.raises(RuntimeError):
        with services.transaction() as session:
            with session.begin_nested():
                deliver_after_commit(session, new_row(session))
            assert services.jobs.waiting() == []
            raise RuntimeError("the outer transaction fails")
    assert services.jobs.waiting() == []
    with services.transaction() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_a_session_that_is_closed_without_commit_forgets_its_jobs(app):
    services = app.extensions["siang"]
    session = services.sessions()
    deliver_after_commit(session, new_row(session))
    session.close()
    session.commit()  # a later, empty commit of the same session queues nothing stale
    assert services.jobs.waiting() == []


def test_a_queue_failing_after_the_commit_is_logged_and_the_rows_stay_for_the_sweeper(app, caplog):
    services = app.extensions["siang"]
    services.jobs = RedisQueue("redis://127.0.0.1:1/0")  # nothing listens there: every enqueue fails
    with caplog.at_level(logging.WARNING, logger="bot.services"):
        with services.transaction() as session:
            row_id = new_row(session)
            deliver_after_commit(session, row_id)
    assert "enqueue after commit failed" in caplog.text
    with services.transaction() as session:
        assert session.get(OutboxMessage, row_id).status == "pending"


def test_only_sessions_of_the_services_take_jobs(app):
    from storage.db import make_sessionmaker

    services = app.extensions["siang"]
    foreign = make_sessionmaker(services.engine)()
    with pytest.raises(LookupError):
        services_of(foreign)
    with pytest.raises(ValueError):
        services.after_commit(foreign, "deliver_outbox", 1)
    foreign.close()


def test_a_webhook_reply_is_queued_by_the_event_commit_alone(app):
    """The event's reply goes through the same mechanism (no list handed back by ``Context.flush``): the job
    is queued by the commit of the event's transaction, outside any app context."""
    services = app.extensions["siang"]
    with services.transaction() as session:
        [event_id] = inbox.record_once(session, [inbox.describe(events.text(events.user_id(), "เมนู"))])
    _handle_one(services, event_id)
    with services.transaction() as session:
        replies = session.scalars(select(OutboxMessage.id).where(OutboxMessage.source_event_id == event_id)).all()
        assert inbox.get(session, event_id).status == "done"
    assert replies and services.jobs.waiting() == [("deliver_outbox", row_id) for row_id in replies]


def test_an_event_whose_transaction_rolls_back_queues_nothing(app, monkeypatch):
    services = app.extensions["siang"]
    with services.transaction() as session:
        [event_id] = inbox.record_once(session, [inbox.describe(events.text(events.user_id(), "เมนู"))])
    monkeypatch.setattr(inbox, "mark_done", lambda *args: False)  # the lease was lost meanwhile: roll back
    _handle_one(services, event_id)
    with services.transaction() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert services.jobs.waiting() == []
