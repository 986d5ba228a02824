"""Flow state: written with the event's transaction, never by one that rolled back, and lost by no crash
between the step's commit and a later write (issue 18): there is no later write."""

from __future__ import annotations

import pytest
from redis import Redis

from bot import create_app, stop_background
from bot.flows.state import DatabaseFlowStore
from storage.db import make_engine, make_sessionmaker
from tests.conftest import make_settings


@pytest.fixture
def sessions(database_url):
    engine = make_engine(database_url)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def store():
    return DatabaseFlowStore()


def test_a_saved_state_is_seen_by_the_next_event_after_commit(sessions, store):
    with sessions() as session:
        store.save(session, "U1", {"active": {"flow": "complaint", "step": "where"}}, 60)
        assert store.load(session, "U1")["active"]["step"] == "where"  # the same event sees its own write
        session.commit()
    with sessions() as session:
        assert store.load(session, "U1")["active"]["step"] == "where"
        store.delete(session, "U1")
        session.commit()
    with sessions() as session:
        assert store.load(session, "U1") is None


def test_a_rolled_back_event_leaves_the_state_as_it_was(sessions, store):
    with sessions() as session:
        store.save(session, "U2", {"active": {"step": "describe"}}, 60)
        session.commit()
    with sessions() as session:
        store.save(session, "U2", {"active": {"step": "photos"}}, 60)
        session.rollback()
    with sessions() as session:
        assert store.load(session, "U2")["active"]["step"] == "describe"


def test_an_expired_state_is_gone(sessions, store):
    with sessions() as session:
        store.save(session, "U3", {"active": None, "paused": {"complaint": {}}}, -1)
        session.commit()
    with sessions() as session:
        assert store.load(session, "U3") is None


def test_in_redis_mode_a_step_and_its_state_commit_together(database_url, emulator_server, redis_url):
    """Production mode: the step's commit carries its state. Redis losing everything right after that commit
    (as a worker killed before an after-commit write, or a Redis restart, would) loses no step."""
    app = create_app(make_settings(database_url, emulator_server.base_url, redis_url=redis_url))
    services = app.extensions["siang"]
    try:
        with services.transaction() as session:
            services.flows.save(session, "U4", {"active": {"flow": "complaint", "step": "place"}}, 60)
        Redis.from_url(redis_url).flushdb()
        with services.transaction() as session:
            assert services.flows.load(session, "U4")["active"]["step"] == "place"
    finally:
        stop_background(app)
