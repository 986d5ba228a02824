"""A citizen sees and changes their news subscriptions in chat; each change is confirmed and takes effect."""

from __future__ import annotations

from bot.announcements import service
from storage.models import Citizen, Subscription
from tests.announcements.conftest import draft, received, wait_for_status
from tests.flows.conftest import Chat, rows
from tests.flows.conftest import settings  # noqa: F401 - flood control raised for quick test citizens


def subscriptions(bot, user_id: str) -> set[tuple[str, str]]:
    citizen = rows(bot.services, Citizen, Citizen.line_user_id == user_id)[0]
    return {(s.topic, s.province) for s in rows(bot.services, Subscription, Subscription.citizen_id == citizen.id,
                                                Subscription.active)}


def test_the_news_menu_shows_topics_and_each_tap_is_confirmed(bot, line):
    chat = Chat(line, line.create_user("สมหญิง")["user_id"])
    chat.send("สวัสดี")
    chat.tap("รับข่าวสาร", expect=2)
    assert "ยังไม่ได้รับข่าวสาร" in chat.said
    chat.tap("เกษตร")
    assert chat.said == "✓ รับข่าวเกษตรแล้วค่ะ" or chat.texts[0] == "✓ รับข่าวเกษตรแล้วค่ะ"
    assert "✓ เกษตร" in chat.labels
    chat.tap("สุขภาพ")
    chat.tap("เสร็จแล้ว")
    assert "เกษตร" in chat.said and "สุขภาพ" in chat.said and "ทุกจังหวัด" in chat.said
    chat.tap("เลือกจังหวัด")
    chat.send("เชียงใหม่")
    assert "รับข่าวจังหวัดเชียงใหม่แล้วค่ะ" in chat.said
    assert subscriptions(bot, chat.user_id) == {("agriculture", "เชียงใหม่"), ("health", "เชียงใหม่")}


def test_typed_commands_subscribe_and_unsubscribe(bot, line):
    chat = Chat(line, line.create_user("สมชาย")["user_id"])
    chat.send("สวัสดี")
    chat.send("รับข่าว เกษตร")
    assert chat.said == "✓ รับข่าวเกษตรแล้วค่ะ"
    chat.send("รับข่าว เชียงใหม่")
    assert "เชียงใหม่" in chat.said
    chat.send("รับข่าว ภัยพิบัติ")
    assert subscriptions(bot, chat.user_id) == {("agriculture", "เชียงใหม่"), ("disaster", "เชียงใหม่")}
    chat.send("เลิกรับข่าว เกษตร")
    assert chat.said == "✓ เลิกรับข่าวเกษตรแล้วค่ะ"
    assert subscriptions(bot, chat.user_id) == {("disaster", "เชียงใหม่")}
    chat.send("รับข่าว ดาวอังคาร")
    assert "ไม่รู้จัก" in chat.said
    chat.send("เลิกรับข่าว")
    assert "เลิกรับข่าวสารทั้งหมดแล้ว" in chat.said
    assert subscriptions(bot, chat.user_id) == set()


def test_unfollowing_stops_everything_and_following_again_asks_again(bot, line):
    user = line.create_user("สมปอง")["user_id"]
    chat = Chat(line, user)
    chat.send("สวัสดี")
    chat.send("รับข่าว ทั้งหมด")
    assert subscriptions(bot, user) == {("all", "all")}
    line.unfollow(user)
    deadline_check = wait_unsubscribed(bot, user)
    assert deadline_check
    news = service.create(bot.services, draft("ข่าวหลังเลิกติดตาม", topics=["health"]), actor="staff@test")
    service.publish(bot.services, news, actor="staff@test")
    assert wait_for_status(bot.services, news, "sent").audience == 0
    assert received(line, "ข่าวหลังเลิกติดตาม") == {}

    chat.result = line.follow(user)
    chat._await(4)
    assert "เคยรับข่าวสาร" in chat.texts[-1]
    chat.tap("รับข่าวอีกครั้ง", expect=2)
    assert "ยังไม่ได้รับข่าวสาร" in chat.said


def wait_unsubscribed(bot, user: str, timeout: float = 10) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while subscriptions(bot, user):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
