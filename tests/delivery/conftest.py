"""Fixtures for delivery tests: outbox rows written straight to the database, and real ``siang worker``
processes (Redis mode) that can be killed with SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, insert, select, text

from storage.db import Base
from storage.models import OutboxMessage, utcnow
from tests.conftest import SECRET, TOKEN

ROOT = Path(__file__).resolve().parents[2]
SIANG = Path(sys.executable).with_name("siang")


@pytest.fixture
def pg_url(postgres_database) -> str:
    """PostgreSQL only: several worker processes share it, as in production."""
    engine = create_engine(postgres_database)
    tables = ", ".join(t.name for t in reversed(Base.metadata.sorted_tables))
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return postgres_database


def add_pushes(database_url: str, recipients: list[str], per_recipient: int) -> list[int]:
    """``per_recipient`` numbered text pushes to each recipient, interleaved, in one transaction."""
    now = utcnow()
    rows = [
        {"kind": "push", "recipient": to, "retry_key": str(uuid.uuid4()), "status": "pending", "attempts": 0,
         "next_attempt_at": now, "created_at": now, "notification_disabled": False,
         "messages": json.dumps([{"type": "text", "text": f"{to[-6:]} #{n}"}])}
        for n in range(per_recipient) for to in recipients
    ]
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(insert(OutboxMessage), rows)
        ids = list(connection.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)))
    with engine.begin() as connection:
        # A live outbox has statistics; one filled in one statement a moment ago has none until autovacuum
        # comes by, and the planner would read every unfinished row for the claim's window of the oldest.
        connection.exec_driver_sql("ANALYZE outbox_messages")
    engine.dispose()
    return ids


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


class Workers:
    """``siang worker`` processes against one database, Redis and emulator."""

    def __init__(self, database_url: str, redis_url: str, emulator_url: str, **env: str) -> None:
        self.env = {**os.environ, "LINE_CHANNEL_SECRET": SECRET, "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
                    "LINE_API_BASE_URL": emulator_url, "LINE_DATA_API_BASE_URL": emulator_url,
                    "DATABASE_URL": database_url, "REDIS_URL": redis_url, "SECRET_KEY": "test-secret",
                    "JOB_LEASE_SECONDS": "3", "SWEEP_INTERVAL_SECONDS": "0.5", "LOG_LEVEL": "WARNING",
                    "LINE_TIMEOUT_SECONDS": "3", **env}
        self.processes: list[subprocess.Popen] = []

    def start(self, count: int = 1) -> list[subprocess.Popen]:
        started = [subprocess.Popen([str(SIANG), "worker"], cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE) for _ in range(count)]
        self.processes.extend(started)
        return started

    def kill(self, process: subprocess.Popen) -> None:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def assert_alive(self) -> None:
        for process in self.processes:
            if process.poll() not in (None, -signal.SIGKILL):
                raise AssertionError(f"worker {process.pid} died: {process.stderr.read().decode()[-3000:]}")

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


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


def enqueue_all(redis_url: str, ids: list[int]) -> None:
    from bot.jobs import RedisQueue

    jobs = RedisQueue(redis_url)
    for start in range(0, len(ids), 1000):
        jobs.enqueue_many("deliver_outbox", ids[start:start + 1000])
    jobs.stop()


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
