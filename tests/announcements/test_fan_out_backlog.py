"""The fan-out writes ahead of delivery only so far, stops when cancelled while it waits, and two producers
racing for one announcement still write every recipient exactly once."""

from __future__ import annotations

import json
import threading
import time

import pytest
from sqlalchemy import select

from bot import create_app, stop_background
from bot.announcements import fanout, service
from storage import outbox
from storage.models import AnnouncementBatch, OutboxMessage
from tests.announcements.conftest import add_subscribers, draft, line_id
from tests.conftest import make_settings


class NoJobs:
    """Nothing is delivered: the fan-out alone is under test."""

    def enqueue(self, job: str, row_id: int) -> None: ...

    def enqueue_many(self, job: str, ids: list[int]) -> None: ...

    def requeue(self, job: str, row_id: int) -> None: ...

    def start(self, app) -> None: ...

    def stop(self) -> None: ...


@pytest.fixture
def services(database_url, redis_url, emulator_server):
    """A worker's services (Redis mode: the fan-out bounds its backlog), with a queue that delivers nothing."""
    app = create_app(make_settings(database_url, emulator_server.base_url, redis_url=redis_url,
                                   line_rate_limits="multicast=5/s", job_lease_seconds=30))
    app.extensions["siang"].jobs.stop()
    app.extensions["siang"].jobs = NoJobs()
    yield app.extensions["siang"]
    stop_background(app)


def written(services, announcement_id: int) -> list[list[str]]:
    with services.transaction() as session:
        return [json.loads(r) for r in session.scalars(
            select(OutboxMessage.recipients).join(AnnouncementBatch, AnnouncementBatch.outbox_id == OutboxMessage.id)
            .where(AnnouncementBatch.announcement_id == announcement_id).order_by(AnnouncementBatch.seq))]


def test_the_fan_out_waits_for_delivery_and_stops_when_cancelled(services, database_url, monkeypatch):
    monkeypatch.setattr(fanout, "CHUNK", 5)
    monkeypatch.setattr(fanout, "CHUNKS_PER_TRANSACTION", 2)
    monkeypatch.setattr(fanout, "BACKLOG_POLL_SECONDS", 0.02)
    assert fanout.backlog_limit(services) == 10  # two seconds at 5 multicasts a second
    add_subscribers(database_url, {line_id(n, "backlog"): [("health", "all")] for n in range(200)})
    news = service.create(services, draft("ข่าวสุขภาพรอส่ง", topics=["health"]), actor="staff@test")
    service.publish(services, news, actor="staff@test")
    result: dict[str, bool] = {}
    producer = threading.Thread(target=lambda: result.update(done=fanout.fan_out(services, news)))
    producer.start()
    time.sleep(1.0)
    assert len(written(services, news)) == 10, "wrote past its backlog, or not at all"
    assert producer.is_alive()

    with services.transaction() as session:  # delivery takes two rows: the fan-out writes one transaction more
        for row in outbox.claim_next_unordered(session, "multicast", 30, limit=2):
            outbox.mark_sent(session, row.id, row.lease_token, "multicast", None)
    time.sleep(0.5)
    assert len(written(services, news)) == 12

    service.cancel(services, news, actor="staff@test", wait_seconds=1)
    producer.join(timeout=5)
    assert result == {"done": False} and not producer.is_alive()
    assert len(written(services, news)) == 12


def test_two_producers_racing_write_every_recipient_once(services, database_url, monkeypatch):
    monkeypatch.setattr(fanout, "CHUNK", 7)
    monkeypatch.setattr(fanout, "CHUNKS_PER_TRANSACTION", 3)
    monkeypatch.setattr(fanout, "backlog_limit", lambda services: 10_000)  # no delivery here: do not wait
    people = {line_id(n, "race"): [("agriculture", "all")] for n in range(300)}
    add_subscribers(database_url, people)
    news = service.create(services, draft("ข่าวเกษตรแข่งกัน"), actor="staff@test")
    service.publish(services, news, actor="staff@test")
    results: list[bool] = []
    racers = [threading.Thread(target=lambda: results.append(fanout.fan_out(services, news))) for _ in range(2)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(timeout=30)
    assert sorted(results) == [False, True], "exactly one producer holds the lease"
    recipients = [uid for chunk in written(services, news) for uid in chunk]
    assert sorted(recipients) == sorted(people) and all(len(chunk) <= 7 for chunk in written(services, news))
    assert service.progress(services, news).queued == 300
