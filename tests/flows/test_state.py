"""Flow state stores: written with the event's transaction, never by one that rolled back."""

from __future__ import annotations

import pytest
from redis import Redis

from bot.flows.state import KEY_PREFIX, DatabaseFlowStore, RedisFlowStore
from storage.db import make_engine, make_sessionmaker


@pytest.fixture
def sessions(database_url):
    engine = make_engine(database_url)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture(params=["database", "redis"])
def store(request):
    if request.param == "database":
        return DatabaseFlowStore()
    return RedisFlowStore(Redis.from_url(request.getfixturevalue("redis_url")))


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


def test_redis_state_expires_with_its_ttl(sessions, redis_url):
    redis = Redis.from_url(redis_url)
    store = RedisFlowStore(redis)
    with sessions() as session:
        store.save(session, "U3", {"active": None, "paused": {"complaint": {}}}, 120)
        session.commit()
    assert 0 < redis.ttl(KEY_PREFIX + "U3") <= 120
