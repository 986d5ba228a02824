"""Each subscriber gets an announcement exactly once through real worker kills, a Redis flush, a Redis restart
and LINE's errors (lost answers among them): real ``siang worker`` processes (Redis mode) against PostgreSQL
and the emulator."""

from __future__ import annotations

import time
from contextlib import contextmanager

import pytest
from redis import Redis

from bot import create_app, stop_background
from bot.announcements import service
from tests.announcements.conftest import add_subscribers, draft, line_id, received, wait_for_status
from tests.conftest import make_settings

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@contextmanager
def staff_side(pg_url: str, emulator_url: str, redis_url: str):
    """The staff side: an app publishing to the queue the worker processes read."""
    app = create_app(make_settings(pg_url, emulator_url, redis_url=redis_url, job_queue_name="siang"))
    try:
        yield app.extensions["siang"]
    finally:
        stop_background(app)


@pytest.fixture
def services(pg_url, redis_url, emulator_server):
    with staff_side(pg_url, emulator_server.base_url, redis_url) as staff:
        yield staff


def subscribers(pg_url: str, count: int, salt: str) -> set[str]:
    users = {line_id(n, salt): [("agriculture", "all")] for n in range(count)}
    users.update({line_id(n, salt + "-other"): [("health", "all")] for n in range(count // 10)})  # never get it
    add_subscribers(pg_url, users)
    return {uid for uid, pairs in users.items() if pairs[0][0] == "agriculture"}


def wait_for_delivered(services, announcement_id: int, at_least: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while service.progress(services, announcement_id).delivered < at_least:
        assert time.monotonic() < deadline, f"fewer than {at_least} recipients reached in {timeout}s"
        time.sleep(0.05)


def test_a_worker_killed_and_redis_flushed_mid_run_still_deliver_exactly_once(line, pg_url, redis_url, workers,
                                                                              services):
    line.set_rate_limit("multicast", "10/s")
    expected = subscribers(pg_url, 10_000, "kill")  # 20 multicasts at 10/s
    group = workers(LINE_RATE_LIMITS="multicast=10/s")
    doomed, _ = group.start(2)
    news = service.create(services, draft("ข่าวเกษตรทดสอบ"), actor="staff@test")
    service.publish(services, news, actor="staff@test")
    wait_for_delivered(services, news, 2_500)
    group.kill(doomed)  # SIGKILL: a fan-out or deliveries in flight, rows claimed, queue messages taken
    Redis.from_url(redis_url).flushdb()  # every queued job and the rate limiter's state are gone
    group.start(1)
    figures = wait_for_status(services, news, "sent", timeout=150, check=group.assert_alive)

    counts = received(line, "ข่าวเกษตรทดสอบ")
    line.set_rate_limit("multicast", "200/s")
    assert set(counts) == expected, "someone missing, or a non-subscriber reached"
    assert max(counts.values()) == 1, f"{sum(n > 1 for n in counts.values())} recipients got it twice"
    assert (figures.audience, figures.queued, figures.delivered, figures.failed) == (10_000, 10_000, 10_000, 0)
    assert line.rejections().get("rate_limit", 0) == 0


def test_a_redis_restart_mid_run_still_delivers_exactly_once(line, pg_url, private_redis, workers, emulator_server):
    """Redis killed and started again (empty: no persistence) while two workers fan out and deliver: their
    connections break, every queued job and the limiter's state are gone; the workers ride it out, the
    sweepers queue the work again from the database, and nobody gets the announcement twice."""
    line.set_rate_limit("multicast", "10/s")
    expected = subscribers(pg_url, 10_000, "restart")  # 20 multicasts at 10/s
    group = workers(REDIS_URL=private_redis.url, LINE_RATE_LIMITS="multicast=10/s")
    with staff_side(pg_url, emulator_server.base_url, private_redis.url) as staff:
        group.start(2)
        news = service.create(staff, draft("ข่าวเกษตรรีสตาร์ต"), actor="staff@test")
        service.publish(staff, news, actor="staff@test")
        wait_for_delivered(staff, news, 2_500)
        private_redis.restart(down_seconds=2.0)
        assert service.progress(staff, news).delivered < 10_000, "the restart came too late to matter"
        figures = wait_for_status(staff, news, "sent", timeout=150, check=group.assert_alive)
        group.assert_alive()

    counts = received(line, "ข่าวเกษตรรีสตาร์ต")
    line.set_rate_limit("multicast", "200/s")
    assert set(counts) == expected, "someone missing, or a non-subscriber reached"
    assert max(counts.values()) == 1, f"{sum(n > 1 for n in counts.values())} recipients got it twice"
    assert (figures.audience, figures.delivered, figures.failed) == (10_000, 10_000, 0)
    assert line.rejections().get("rate_limit", 0) == 0


def test_injected_500s_429s_and_lost_answers_still_deliver_exactly_once(line, pg_url, redis_url, workers, services):
    line.set_rate_limit("multicast", "20/s")
    line.set_faults(fail_500=0.2, fail_429=0.1, lose_answer=0.15, seed=11)
    expected = subscribers(pg_url, 10_000, "faults")  # 20 multicasts
    group = workers(LINE_RATE_LIMITS="multicast=20/s")
    group.start(2)
    news = service.create(services, draft("ข่าวเกษตรทนทาน"), actor="staff@test")
    service.publish(services, news, actor="staff@test")
    figures = wait_for_status(services, news, "sent", timeout=150, check=group.assert_alive)

    rejected, lost = line.rejections(), line.lost_answers()
    line.clear_faults()
    line.set_rate_limit("multicast", "200/s")
    counts = received(line, "ข่าวเกษตรทนทาน")
    assert set(counts) == expected and max(counts.values()) == 1
    assert rejected.get("injected_500", 0) + rejected.get("injected_429", 0) > 0, rejected
    assert lost.get("multicast", 0) > 0 and rejected.get("retry_key_conflict", 0) >= lost["multicast"], lost
    assert rejected.get("rate_limit", 0) == 0, rejected
    assert (figures.delivered, figures.failed) == (10_000, 0)
