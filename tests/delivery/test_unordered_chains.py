"""Rows to many chats (multicasts) are carried on from row to row by the threads that deliver them: workers
never take the same row twice, one queue job delivers many rows, and the sweeper leaves the fresh ones alone."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from datetime import timedelta

from sqlalchemy import select, update

from bot.delivery import chain
from storage import outbox
from storage.db import make_engine, make_sessionmaker, session_scope
from storage.models import OutboxMessage, utcnow

TEXT = [{"type": "text", "text": "ประกาศทดสอบ"}]


def users(row: int, count: int = 3) -> list[str]:
    return [f"U{row:016x}{n:016x}" for n in range(count)]


def add_rows(session_factory, count: int) -> list[int]:
    with session_scope(session_factory) as session:
        return outbox.add_multicasts(session, [json.dumps(users(n)) for n in range(count)], TEXT)


def test_concurrent_workers_never_claim_the_same_row(database_url):
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    ids = add_rows(sessions, 120)
    taken: list[int] = []
    lock = threading.Lock()

    def work() -> None:
        while True:
            with session_scope(sessions) as session:
                rows = outbox.claim_next_unordered(session, "multicast", 30, limit=4)
            if not rows:
                return
            assert len(rows) <= 4, "took more rows than asked for"
            assert len({row.lease_token for row in rows}) == 1 and all(row.status == "sending" for row in rows)
            with lock:
                taken.extend(row.id for row in rows)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engine.dispose()
    assert sorted(taken) == sorted(ids), "a row taken twice, or one never taken"


def test_the_oldest_due_rows_are_taken_first_and_rows_in_backoff_wait(database_url):
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    first, second, third = add_rows(sessions, 3)
    with session_scope(sessions) as session:
        session.execute(update(OutboxMessage).where(OutboxMessage.id == first)
                        .values(next_attempt_at=utcnow() + timedelta(minutes=5)))
        assert [row.id for row in outbox.claim_next_unordered(session, "multicast", 30)] == [second]
        assert [row.id for row in outbox.claim_next_unordered(session, "multicast", 30, limit=5)] == [third]
        assert outbox.claim_next_unordered(session, "multicast", 30, limit=5) == []
        assert outbox.claim_next_unordered(session, "broadcast", 30, limit=5) == []
    engine.dispose()


def test_one_queue_job_delivers_every_row_exactly_once(bot, line, monkeypatch):
    monkeypatch.setattr(chain, "CHAIN_LIMIT", 7)  # so the chain also hands over to queued jobs
    ids = add_rows(bot.services.sessions, 40)
    bot.services.jobs.enqueue("deliver_outbox", ids[0])
    deadline = time.monotonic() + 20
    while True:
        with bot.services.transaction() as session:
            statuses = Counter(session.scalars(select(OutboxMessage.status).where(OutboxMessage.id.in_(ids))))
        if statuses == {"sent": 40}:
            break
        assert time.monotonic() < deadline, f"not delivered (the sweeper leaves fresh rows alone): {statuses}"
        time.sleep(0.05)
    assert line.recipient_counts() == {uid: 1 for n in range(40) for uid in users(n)}
    assert len(line.accepted_times("multicast")) == 40


def test_the_sweeper_leaves_fresh_rows_to_many_chats_alone(database_url, monkeypatch):
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    fresh, put_back = add_rows(sessions, 2)
    with session_scope(sessions) as session:
        chat = outbox.add_message(session, kind="push", recipient="U" + "c" * 32, messages=TEXT).id
        session.execute(update(OutboxMessage).where(OutboxMessage.id == put_back)
                        .values(last_error="waiting for a multicast rate-limit slot"))
    with session_scope(sessions) as session:
        assert set(outbox.stale(session)) == {put_back, chat}
    monkeypatch.setattr(outbox, "FRESH_UNORDERED_GRACE", timedelta(0))
    with session_scope(sessions) as session:
        assert set(outbox.stale(session)) == {fresh, put_back, chat}
    engine.dispose()
