"""The webhook's group commit: concurrent requests share one transaction, each still gets exactly its own
new rows, only after they are committed, and a bad event fails only its own request."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import create_engine, event, func, select

from storage import inbox
from storage.models import InboxEvent
from tests import events


def _described(n: int) -> list[inbox.IncomingEvent]:
    return [inbox.describe(events.text(events.user_id(), f"เรื่องที่ {i}")) for i in range(n)]


@pytest.fixture
def engine(database_url):
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


def _slow_first_commit(engine, seconds: float = 0.3) -> list[int]:
    """Hold the first transaction at its commit, so requests arriving meanwhile queue for the next one;
    returns the number of commits, as it grows."""
    commits = [0]

    @event.listens_for(engine, "commit")
    def _commit(_connection):
        commits[0] += 1
        if commits[0] == 1:
            time.sleep(seconds)

    return commits


def _concurrently(fn, count: int) -> list:
    results: list = [None] * count
    barrier = threading.Barrier(count)

    def run(index: int) -> None:
        barrier.wait()
        time.sleep(0.02 * (index > 0))  # the first one leads; the others arrive while it commits
        try:
            results[index] = fn(index)
        except Exception as exc:  # noqa: BLE001 - returned to the test
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    [t.start() for t in threads]
    [t.join(timeout=30) for t in threads]
    return results


def test_concurrent_requests_share_a_commit_and_each_gets_its_own_rows(engine):
    commits = _slow_first_commit(engine)
    queued: list[list[int]] = []
    batches = [_described(2) for _ in range(8)]
    results = _concurrently(lambda i: inbox.record_committed(engine, batches[i], queued.append), 8)
    assert all(isinstance(r, list) and len(r) == 2 for r in results), results
    assert commits[0] == 2  # the first request's transaction, then one for the seven that waited for it
    assert sorted(i for ids in results for i in ids) == sorted(i for ids in queued for i in ids)
    assert len({i for ids in results for i in ids}) == 16
    with engine.connect() as connection:
        stored = dict(connection.execute(select(InboxEvent.id, InboxEvent.webhook_event_id)).all())
    for described, ids in zip(batches, results):  # each request's ids are the rows of its own events
        assert [stored[i] for i in ids] == [e.webhook_event_id for e in described]


def test_an_event_sent_in_two_concurrent_requests_is_stored_and_queued_once(engine):
    _slow_first_commit(engine)
    twice = _described(1)
    queued: list[list[int]] = []
    results = _concurrently(lambda i: inbox.record_committed(engine, twice if i else _described(1), queued.append), 3)
    assert sorted(len(r) for r in results) == [0, 1, 1]
    assert len([i for ids in queued for i in ids]) == 2
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(InboxEvent)) == 2


def test_a_bad_event_fails_only_its_own_request(engine):
    _slow_first_commit(engine)
    bad = [inbox.IncomingEvent(webhook_event_id=None, event_type="message", chat_id=None, user_id=None,
                               message_id=None, occurred_at=None, is_redelivery=False, payload={})]
    good = [_described(1) for _ in range(4)]
    results = _concurrently(lambda i: inbox.record_committed(engine, bad if i == 2 else good[i], lambda ids: None), 4)
    assert isinstance(results[2], Exception)
    assert [len(r) for n, r in enumerate(results) if n != 2] == [1, 1, 1]


def test_a_failing_queue_does_not_fail_the_request(engine):
    def down(_ids):
        raise ConnectionError("redis is down")

    [row_id] = inbox.record_committed(engine, _described(1), down)
    with engine.connect() as connection:
        assert connection.scalar(select(InboxEvent.status).where(InboxEvent.id == row_id)) == "pending"
