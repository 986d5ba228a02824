"""Cancelling an announcement stops it: once ``cancel`` returns, nobody else receives it."""

from __future__ import annotations

import time

import pytest

from bot.announcements import fanout, service
from tests.announcements.conftest import add_subscribers, draft, line_id, received
from tests.conftest import make_settings


@pytest.fixture
def settings(database_url, emulator_server):
    return make_settings(database_url, emulator_server.base_url, line_rate_limits="multicast=5/s")


def test_cancelling_mid_run_stops_further_recipients(bot, line, database_url, monkeypatch):
    line.set_rate_limit("multicast", "5/s")
    users = {line_id(n, "cancel"): [("disaster", "all")] for n in range(100)}
    add_subscribers(database_url, users)
    monkeypatch.setattr(fanout, "CHUNK", 5)  # 20 multicasts at 5/s: about four seconds
    services = bot.services
    news = service.create(services, draft("เตือนภัยน้ำท่วม", topics=["disaster"]), actor="staff@test")
    service.publish(services, news, actor="staff@test")
    deadline = time.monotonic() + 30
    while sum(received(line, "เตือนภัยน้ำท่วม").values()) < 15:
        assert time.monotonic() < deadline, "the announcement did not start"
        time.sleep(0.05)

    in_flight = service.cancel(services, news, actor="staff@test")
    at_ack = received(line, "เตือนภัยน้ำท่วม")

    assert in_flight == 0
    assert 15 <= sum(at_ack.values()) < 100
    settle = time.monotonic() + 2.0  # ten rate-limit intervals: a row still going out would show up
    while time.monotonic() < settle:
        assert received(line, "เตือนภัยน้ำท่วม") == at_ack, "someone received it after the cancellation"
        time.sleep(0.1)
    figures = service.progress(services, news)
    assert figures.status == "cancelled"
    assert figures.delivered == sum(at_ack.values()) and all(n == 1 for n in at_ack.values())
    assert figures.delivered + figures.cancelled == figures.queued
    assert figures.waiting == 0
    line.set_rate_limit("multicast", "200/s")


def test_a_cancelled_scheduled_announcement_never_goes_out(bot, line, database_url):
    from datetime import timedelta

    from storage.models import utcnow

    add_subscribers(database_url, {line_id(1, "later"): [("all", "all")]})
    services = bot.services
    news = service.create(services, draft("ข่าวที่ยกเลิก"), actor="staff@test")
    service.publish(services, news, actor="staff@test", at=utcnow() + timedelta(seconds=1))
    assert service.cancel(services, news, actor="staff@test") == 0
    deadline = time.monotonic() + 2.5  # past the scheduled time, many sweeper rounds (0.2 s)
    while time.monotonic() < deadline:
        assert service.progress(services, news).status == "cancelled"
        time.sleep(0.1)
    assert received(line, "ข่าวที่ยกเลิก") == {}
