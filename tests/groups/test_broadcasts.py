"""Staff broadcasts to linked groups: the quota cost up front, refusal when short, and exactly-once delivery."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, func, insert, select

from bot import create_app, stop_background
from bot.groups import broadcasts, run_due
from bot.messages.ticket_cards import thai_date
from storage.models import ChatGroup, GroupBroadcast, GroupBroadcastDelivery, GroupLink, OutboxMessage, utcnow
from tests.delivery.conftest import delivered_by_key, status_counts, wait_until_sent
from tests.groups.conftest import AGENCY, OTHER_AGENCY
from tests.support import TEST_QUEUE, make_settings, wait_until

BANGKOK = ZoneInfo("Asia/Bangkok")


def _create(groups, target, **fields):
    with groups.bot.app.app_context(), groups.session() as session:
        row = broadcasts.create(session, groups.services, text="ประชุมด่วน 14:00 น.", created_by="test",
                                target=target, **fields)
        return row.id, row.status


def test_a_broadcast_costs_members_times_groups_and_is_refused_when_the_quota_is_short(groups, line):
    first, _ = groups.link(AGENCY, members=3)
    second, _ = groups.link(AGENCY, members=4)
    elsewhere, _ = groups.link(OTHER_AGENCY, members=2)
    line.set_quota(line.quota_usage()["used"] + 6)
    with groups.session() as session:
        cost = broadcasts.estimate(session, groups.services, broadcasts.Target(agency_id=AGENCY))
    assert (cost.groups, cost.members, cost.remaining) == (2, 7, 6) and not cost.affordable

    with pytest.raises(broadcasts.QuotaShort):
        _create(groups, broadcasts.Target(agency_id=AGENCY))
    with groups.session() as session:
        assert session.scalar(select(func.count()).select_from(GroupBroadcast)) == 0

    line.set_quota(None)
    _create(groups, broadcasts.Target(province="กรุงเทพมหานคร"), link_url="https://example.go.th/a")
    for gid in (first, second):
        texts = wait_until(lambda: [t for t in line.texts_for(gid) if "ประชุมด่วน" in t] or None)
        assert texts == ["ประชุมด่วน 14:00 น.\n\nรายละเอียด: https://example.go.th/a"]
    assert not [t for t in line.texts_for(elsewhere) if "ประชุมด่วน" in t]


def test_a_scheduled_broadcast_goes_out_once_when_due(groups, line):
    gid, _ = groups.link(AGENCY)
    with groups.session() as session:  # no daily digest: run_due counts it too when ``later`` passes 08:00
        session.execute(GroupLink.__table__.update().values(digest_time=None))
    later = utcnow() + timedelta(hours=2)
    broadcast_id, status = _create(groups, broadcasts.Target(groups=(gid,)), send_at=later)
    assert status == "scheduled"
    with groups.bot.app.app_context():
        assert run_due(groups.services, now=utcnow(), force=True) == 0
        assert run_due(groups.services, now=later + timedelta(minutes=1), force=True) == 1
        assert run_due(groups.services, now=later + timedelta(minutes=2), force=True) == 0
    wait_until(lambda: [t for t in line.texts_for(gid) if "ประชุมด่วน" in t] or None)
    with groups.session() as session:
        assert session.get(GroupBroadcast, broadcast_id).status == "sent"
        assert session.scalar(select(func.count()).select_from(GroupBroadcastDelivery)) == 1


def test_the_daily_digest_counts_open_and_overdue_cases_once_a_day(groups, line):
    gid, _ = groups.link(AGENCY)
    groups.file(AGENCY, target_days=-2.0)  # already past its target
    groups.file(AGENCY)
    with groups.session() as session:
        link = session.scalar(select(GroupLink).where(GroupLink.group_line_id == gid))
        link.digest_time = "07:30"
    tomorrow = (utcnow().astimezone(BANGKOK) + timedelta(days=1)).date()
    at = datetime.combine(tomorrow, time(7, 45), tzinfo=BANGKOK)
    with groups.bot.app.app_context():
        assert run_due(groups.services, now=at - timedelta(minutes=30), force=True) == 0  # before 07:30
        assert run_due(groups.services, now=at, force=True) == 1
        assert run_due(groups.services, now=at + timedelta(hours=3), force=True) == 0
    # The bot's own sweeper runs on the real clock and may send today's digest at any moment since the link:
    # tomorrow's is the one run_due was asked for.
    heading = f"สรุปประจำวัน {thai_date(at, 'th')}\n"
    digest = wait_until(lambda: [t for t in line.texts_for(gid) if t.startswith(heading)] or None)
    assert len(digest) == 1
    assert "เรื่องที่ยังเปิดอยู่: 2 เรื่อง" in digest[0] and "เกินกำหนด: 1 เรื่อง" in digest[0]


@pytest.mark.slow
@pytest.mark.postgres
def test_a_broadcast_to_300_groups_is_delivered_exactly_once_with_a_worker_killed(line, pg_url, redis_url, workers,
                                                                                  emulator_server):
    people = [line.create_user()["user_id"] for _ in range(2)]
    gids = [line.create_group(name=f"กลุ่ม {n}", member_ids=people)["group_id"] for n in range(300)]
    engine = create_engine(pg_url)
    with engine.begin() as connection:
        now = utcnow()
        connection.execute(insert(ChatGroup), [
            {"line_id": gid, "kind": "group", "name": gid[-6:], "member_count": 2, "active": True,
             "joined_at": now, "updated_at": now} for gid in gids])
        ids = dict(connection.execute(select(ChatGroup.line_id, ChatGroup.id)).all())
        connection.execute(insert(GroupLink), [
            {"group_id": ids[gid], "group_line_id": gid, "agency_id": f"damrongdhama:{n % 3 + 10}",
             "provinces": "[]", "active": True, "linked_by": "test", "linked_at": now, "digest_time": None}
            for n, gid in enumerate(gids)])
    engine.dispose()

    line.set_faults(latency_ms=40)  # slow enough that the kill lands mid-run
    app = create_app(make_settings(pg_url, emulator_server.base_url, redis_url=redis_url))
    try:
        with app.app_context(), app.extensions["siang"].transaction() as session:
            row = broadcasts.create(session, app.extensions["siang"], text="แจ้งทุกกลุ่ม", created_by="test",
                                    target=broadcasts.Target())
            assert (row.group_count, row.estimated_cost) == (300, 600)
    finally:
        stop_background(app)

    group = workers(JOB_QUEUE_NAME=TEST_QUEUE)
    doomed, _ = group.start(2)
    wait_until(lambda: status_counts(pg_url).get("sent", 0) >= 40, timeout=90, what="40 sent")
    group.kill(doomed)
    assert status_counts(pg_url).get("sent", 0) < 300, "the kill must land mid-run"
    counts = wait_until_sent(pg_url, 300, timeout=150, check=group.assert_alive)
    assert counts == {"sent": 300}

    delivered, texts = delivered_by_key(line)
    assert sorted(texts) == sorted(gids) and all(t == ["แจ้งทุกกลุ่ม"] for t in texts.values())
    assert all(n == 1 for n in delivered.values())
    assert line.quota_usage()["used"] == 600
    engine = create_engine(pg_url)
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(OutboxMessage)) == 300
    engine.dispose()
