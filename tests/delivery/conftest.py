"""Fixtures for delivery tests: PostgreSQL for several processes, real ``siang worker`` processes (Redis mode,
``tests.support.Workers``) that can be killed with SIGKILL, and the outbox's state read back."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, func, select, text

from storage.db import Base
from storage.models import OutboxMessage, utcnow
from tests.support import Workers


@pytest.fixture
def pg_url(postgres_database) -> str:
    """PostgreSQL only: several worker processes share it, as in production."""
    engine = create_engine(postgres_database)
    tables = ", ".join(t.name for t in reversed(Base.metadata.sorted_tables))
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return postgres_database


def status_counts(database_url: str) -> dict[str, int]:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        counts = dict(connection.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
    engine.dispose()
    return counts


def wait_until_sent(database_url: str, total: int, timeout: float, check=None) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while True:
        counts = status_counts(database_url)
        if counts.get("sent", 0) + counts.get("failed", 0) >= total:
            return counts
        if check is not None:
            check()
        if time.monotonic() > deadline:
            raise TimeoutError(f"not all {total} rows delivered in {timeout}s: {counts}; "
                               f"unsent: {unsent_sample(database_url)}")
        time.sleep(0.25)


def unsent_sample(database_url: str) -> list[tuple]:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(select(OutboxMessage.id, OutboxMessage.recipient, OutboxMessage.status,
                                         OutboxMessage.attempts, OutboxMessage.next_attempt_at,
                                         OutboxMessage.last_error)
                                  .where(OutboxMessage.status.in_(("pending", "sending")))
                                  .order_by(OutboxMessage.id).limit(5)).all()
    engine.dispose()
    return [tuple(row) for row in rows] + [("now", utcnow())]


@pytest.fixture
def workers(pg_url, redis_url, emulator_server):
    """Call ``workers(**env)`` to get a :class:`Workers`; every process is stopped after the test."""
    made: list[Workers] = []

    def make(**env: str) -> Workers:
        group = Workers(pg_url, redis_url, emulator_server.base_url, **env)
        made.append(group)
        return group

    yield make
    for group in made:
        group.stop()


def delivered_by_key(line, since: int = 0) -> tuple[dict[tuple[str, str], int], dict[str, list[str]]]:
    """(recipient, retry key) -> number of deliveries; recipient -> texts in order of delivery."""
    answer = line.messages(since=since, endpoint="push", include_undelivered=True)
    counts: dict[tuple[str, str], int] = {}
    texts: dict[str, list[str]] = {}
    for message in answer["messages"]:
        key = (message["chat_id"], message["retry_key"])
        counts[key] = counts.get(key, 0) + 1
        texts.setdefault(message["chat_id"], []).append(message["message"].get("text"))
    return counts, texts
