"""Who gets an announcement: exactly the citizens whose subscriptions match, each once, in ≤500 batches."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.announcements import fanout, service
from storage.models import AnnouncementBatch, OutboxMessage
from tests.announcements.conftest import add_subscribers, draft, line_id, received, wait_for_status


def test_only_matching_subscribers_get_an_announcement_and_each_exactly_once(bot, line, database_url):
    cm, bkk = "เชียงใหม่", "กรุงเทพมหานคร"
    people = {
        line_id(1): [("agriculture", cm)],  # topic and province match
        line_id(2): [("agriculture", "all")],  # every province
        line_id(3): [("all", cm)],  # every topic in Chiang Mai
        line_id(4): [("all", "all")],
        line_id(5): [("agriculture", bkk)],  # another province
        line_id(6): [("health", cm)],  # another topic
        line_id(7): [("agriculture", cm), ("all", "all"), ("agriculture", "all")],  # several matches: once
        line_id(8): [("agriculture", cm)],  # unfollowed (inactive citizen)
        line_id(9): [],  # no subscription at all
    }
    add_subscribers(database_url, people, inactive={line_id(8)})
    services = bot.services
    news = service.create(services, draft("ข่าวเกษตรเชียงใหม่", provinces=[cm]), actor="staff@test")
    nationwide = service.create(services, draft("ข่าวเกษตรทั้งประเทศ"), actor="staff@test")
    service.publish(services, news, actor="staff@test")
    service.publish(services, nationwide, actor="staff@test")
    first = wait_for_status(services, news, "sent")
    second = wait_for_status(services, nationwide, "sent")

    assert received(line, "ข่าวเกษตรเชียงใหม่") == {line_id(n): 1 for n in (1, 2, 3, 4, 7)}
    assert received(line, "ข่าวเกษตรทั้งประเทศ") == {line_id(n): 1 for n in (1, 2, 3, 4, 5, 7)}
    assert (first.audience, first.queued, first.delivered, first.failed) == (5, 5, 5, 0)
    assert (second.audience, second.delivered, second.quota_used) == (6, 6, 6)
    assert first.duration_seconds is not None and first.finished_at is not None


def test_a_large_audience_goes_out_in_multicasts_of_at_most_500_with_the_cursor_moving_on(bot, line, database_url):
    users = {line_id(n, "big"): [("health", "all")] for n in range(1234)}
    add_subscribers(database_url, users)
    services = bot.services
    news = service.create(services, draft("ข่าวสุขภาพ", topics=["health"]), actor="staff@test")
    service.publish(services, news, actor="staff@test")
    figures = wait_for_status(services, news, "sent")

    assert received(line, "ข่าวสุขภาพ") == {uid: 1 for uid in users}
    with services.transaction() as session:
        sizes = [len(json.loads(r)) for r in session.scalars(
            select(OutboxMessage.recipients).join(AnnouncementBatch, AnnouncementBatch.outbox_id == OutboxMessage.id)
            .order_by(AnnouncementBatch.seq))]
    assert sizes == [500, 500, 234]
    assert (figures.batches, figures.delivered) == (3, 1234)
    assert line.rejections().get("rate_limit", 0) == 0


def test_a_fan_out_that_crashes_mid_chunk_resumes_after_the_last_committed_recipient(bot, line, database_url,
                                                                                     monkeypatch):
    users = {line_id(n, "crash"): [("welfare", "all")] for n in range(60)}
    add_subscribers(database_url, users)
    services = bot.services
    monkeypatch.setattr(fanout, "CHUNK", 7)
    monkeypatch.setattr(fanout, "CHUNKS_PER_TRANSACTION", 2)  # 9 chunks in 5 transactions
    original, calls = fanout.outbox.add_multicasts, {"n": 0}

    def crash_in_the_third_transaction(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("worker died")  # the transaction is rolled back, the lease stays held
        return original(*args, **kwargs)

    monkeypatch.setattr(fanout.outbox, "add_multicasts", crash_in_the_third_transaction)
    news = service.create(services, draft("ข่าวสวัสดิการ", topics=["welfare"]), actor="staff@test")
    service.publish(services, news, actor="staff@test")
    figures = wait_for_status(services, news, "sent", timeout=60)  # the sweeper resumes after the lease expires

    assert calls["n"] > 3, "the fan-out was never resumed"
    assert received(line, "ข่าวสวัสดิการ") == {uid: 1 for uid in users}
    assert (figures.batches, figures.delivered) == (9, 60)
    with services.transaction() as session:
        ranges = list(session.execute(select(AnnouncementBatch.first_citizen_id, AnnouncementBatch.last_citizen_id)
                                      .where(AnnouncementBatch.announcement_id == news)
                                      .order_by(AnnouncementBatch.seq)))
    assert all(first <= last for first, last in ranges)
    assert all(later[0] == earlier[1] + 1 for earlier, later in zip(ranges, ranges[1:])), ranges


def test_everyone_who_follows_is_one_broadcast(bot, line, database_url):
    friends = [line.create_user(f"เพื่อน {n}")["user_id"] for n in range(3)]
    add_subscribers(database_url, {uid: [] for uid in friends})
    services = bot.services
    news = service.create(services, draft("ประกาศถึงทุกคน", topics=[], provinces=[], everyone=True),
                          actor="staff@test")
    service.publish(services, news, actor="staff@test")
    figures = wait_for_status(services, news, "sent")
    assert received(line, "ประกาศถึงทุกคน") == {uid: 1 for uid in friends}
    assert line.rejections_by_endpoint().get("broadcast", {}) == {}
    assert (figures.batches, figures.audience) == (1, 3)


def test_a_scheduled_announcement_waits_for_its_time_in_bangkok(bot, line, database_url):
    from datetime import timedelta, timezone

    from bot.announcements.compose import schedule_from_local
    from storage.models import utcnow

    add_subscribers(database_url, {line_id(1, "sched"): [("education", "all")]})
    services = bot.services
    news = service.create(services, draft("ข่าวการศึกษา", topics=["education"]), actor="staff@test")
    local = (utcnow() + timedelta(hours=7, seconds=2)).replace(tzinfo=None).isoformat(timespec="seconds")
    at = schedule_from_local(local)
    assert at.utcoffset() == timedelta(hours=7)
    service.publish(services, news, actor="staff@test", at=at)
    assert service.progress(services, news).status == "scheduled"
    assert received(line, "ข่าวการศึกษา") == {}
    figures = wait_for_status(services, news, "sent", timeout=30)  # picked up by the sweeper's check
    assert received(line, "ข่าวการศึกษา") == {line_id(1, "sched"): 1}
    started = figures.started_at if figures.started_at.tzinfo else figures.started_at.replace(tzinfo=timezone.utc)
    assert started >= at
