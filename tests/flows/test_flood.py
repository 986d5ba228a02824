"""Flood control: a citizen faster than a person is slowed politely; everyone else is answered."""

from __future__ import annotations

import time

import pytest

from bot.floodwindow import LocalWindow, RedisWindow
from tests.conftest import make_settings


@pytest.fixture
def settings(database_url, emulator_server):
    """The default limits, as in production."""
    return make_settings(database_url, emulator_server.base_url)


def test_a_flooding_citizen_is_slowed_once_politely_and_others_are_unaffected(bot, line):
    flooder = line.create_user("เร็วมาก")["user_id"]
    calm = line.create_user("ใจเย็น")["user_id"]
    for n in range(30):
        assert line.send_text(flooder, f"ข้อความที่ {n}").status == 200
    line.send_text(calm, "สวัสดีค่ะ")
    calm_replies = line.wait_for_messages(calm, 1)
    assert "สวัสดี" in calm_replies[0]["message"]["text"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        texts = line.texts_for(flooder)
        if len(texts) >= 21:
            break
        time.sleep(0.05)
    time.sleep(0.3)
    texts = line.texts_for(flooder)
    assert texts.count("ส่งข้อความเร็วเกินไปค่ะ กรุณารอสักครู่แล้วส่งใหม่นะคะ") == 1
    assert len(texts) == 21  # 20 answered, then one polite notice, the rest dropped


def test_a_cry_for_help_from_a_flooding_citizen_is_still_answered_with_the_numbers(bot, line):
    """People in danger send fast: flood control never drops a message about danger to life."""
    flooder = line.create_user("ตกใจ")["user_id"]
    for n in range(25):
        assert line.send_text(flooder, f"ข้อความที่ {n}").status == 200
    assert line.send_text(flooder, "ช่วยด้วย ไฟไหม้บ้าน").status == 200
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any("199" in t for t in line.texts_for(flooder)):
        time.sleep(0.05)
    assert any("199" in t and "โทรทันที" in t for t in line.texts_for(flooder))


@pytest.mark.parametrize("kind", ["local", "redis"])
def test_the_window_counts_event_timestamps_per_user(kind, request):
    if kind == "redis":
        from redis import Redis

        window = RedisWindow(Redis.from_url(request.getfixturevalue("redis_url")))
    else:
        window = LocalWindow()
    results = [window.hit("u1", str(n), 1000.0 + n * 0.1, 5, 10.0) for n in range(7)]
    assert results[:5] == [(False, False)] * 5 and results[5] == (True, True) and results[6] == (True, False)
    assert window.hit("u2", "x", 1000.6, 5, 10.0) == (False, False)
    assert window.hit("u1", "later", 1020.0, 5, 10.0) == (False, False)  # a person's pace again


def test_a_fast_citizen_s_complaint_photos_are_all_kept_though_the_answers_slow_down(bot, line):
    """Issue 14: flood control slows the answers, never drops a complaint's content."""
    from storage.models import Case, CaseAttachment
    from tests.flows.conftest import Chat, rows

    chat = Chat(line, line.create_user("ช่างภาพ")["user_id"], timeout=30)
    chat.send("ถนนหน้าบ้านเป็นหลุมใหญ่ รถมอเตอร์ไซค์ล้มไปสองคันแล้ว ซอยลาดพร้าว 71 เขตวังทองหลาง")
    chat.tap("ยินยอม")
    for n in range(22):  # one by one, not as a set: past the limit of 20 events in 10 s
        assert line.send_image(chat.user_id, caption=f"รูป {n}").status == 200
    time.sleep(11)  # a person's pace again
    chat.quiet(0.5)
    chat.tap_data("f=complaint&s=summary&v=yes", expect=2)
    (case,) = rows(bot.services, Case)
    assert len(rows(bot.services, CaseAttachment, CaseAttachment.case_id == case.id)) == 20  # the most a case takes
