"""What the bot does with each kind of LINE event, driven through the emulator as LINE would."""

from __future__ import annotations

from sqlalchemy import select

from bot import messages
from storage.models import ChatGroup, Citizen, InboxEvent, StoredContent
from tests.support import wait_until


def one(bot, query):
    with bot.services.transaction() as session:
        return session.scalar(query)


def test_a_new_friend_is_greeted_by_name_told_about_personal_data_and_offered_the_menu(bot, line):
    user = line.create_user(display_name="สมหญิง", language="th")["user_id"]
    assert line.follow(user).status == 200
    answer = line.wait_for_messages(user, 3)
    texts = [m["message"].get("text", "") for m in answer]
    assert any("สมหญิง" in t for t in texts)
    assert any(messages.text("privacy_notice", "th") == t for t in texts)
    assert answer[-1]["message"]["quickReply"]["items"], "the last message offers the menu"
    citizen = one(bot, select(Citizen).where(Citizen.line_user_id == user))
    assert citizen.active and citizen.display_name == "สมหญิง" and citizen.language == "th"


def test_an_english_speaking_friend_is_greeted_in_english(bot, line):
    user = line.create_user(display_name="John", language="en")["user_id"]
    line.follow(user)
    texts = [m["message"].get("text", "") for m in line.wait_for_messages(user, 3)]
    assert any(t.startswith("Hello John") for t in texts)


def test_a_citizen_who_blocks_the_bot_is_marked_inactive(bot, line):
    user = line.create_user()["user_id"]
    line.follow(user)
    line.wait_for_messages(user, 1)
    assert line.unfollow(user).status == 200
    wait_until(lambda: one(bot, select(Citizen.active).where(Citizen.line_user_id == user)) is False)


def test_a_photo_is_downloaded_even_while_line_is_still_preparing_it(bot, line):
    user = line.create_user()["user_id"]
    picture = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    sent = line.send_image(user, data=picture, preparing_calls=2)
    assert sent.status == 200
    wait_until(lambda: one(bot, select(StoredContent.status)) == "stored", timeout=15)
    stored = one(bot, select(StoredContent))
    assert stored.data == picture and stored.content_type == "image/png"
    assert stored.line_message_id == sent.message_id


def test_unsending_a_photo_deletes_what_we_kept(bot, line):
    user = line.create_user()["user_id"]
    sent = line.send_image(user)
    wait_until(lambda: one(bot, select(StoredContent.status)) == "stored", timeout=15)
    assert line.unsend(user, sent.message_id).status == 200
    wait_until(lambda: one(bot, select(StoredContent.status)) == "deleted")
    assert one(bot, select(StoredContent.data)) is None


def test_unsending_a_text_blanks_its_stored_words(bot, line):
    user = line.create_user()["user_id"]
    sent = line.send_text(user, "เบอร์โทร 0812345678 บ้านเลขที่ 99")
    line.wait_for_messages(user, 1)
    line.unsend(user, sent.message_id)
    wait_until(lambda: one(bot, select(InboxEvent.status).where(InboxEvent.event_type == "unsend")) == "done")
    payload = one(bot, select(InboxEvent.payload).where(InboxEvent.message_id == sent.message_id,
                                                        InboxEvent.event_type == "message"))
    assert "0812345678" not in payload and '"unsent":true' in payload


def test_joining_a_group_records_it_with_name_and_size_and_says_hello(bot, line):
    members = [line.create_user()["user_id"] for _ in range(3)]
    group = line.create_group(name="ศูนย์ดำรงธรรมจังหวัดน่าน", member_ids=members, bot_joined=False)
    gid = group["group_id"]
    assert line.join_group(gid).status == 200
    assert line.wait_for_messages(gid, 1)
    row = one(bot, select(ChatGroup).where(ChatGroup.line_id == gid))
    assert row.active and row.kind == "group" and row.name == "ศูนย์ดำรงธรรมจังหวัดน่าน" and row.member_count == 3

    newcomer = line.create_user()["user_id"]
    line.members_joined(gid, [newcomer])
    wait_until(lambda: one(bot, select(ChatGroup.member_count).where(ChatGroup.line_id == gid)) == 4)
    line.leave_group(gid)
    wait_until(lambda: one(bot, select(ChatGroup.active).where(ChatGroup.line_id == gid)) is False)


def test_ordinary_chatter_in_a_group_gets_no_answer(bot, line):
    member = line.create_user()["user_id"]
    gid = line.create_group(member_ids=[member])["group_id"]
    line.send_text(member, "ประชุมกี่โมงครับ", group_id=gid)
    wait_until(lambda: one(bot, select(InboxEvent.status).where(InboxEvent.chat_id == gid)) == "done")
    assert line.messages_for(gid) == []


def test_health_reports_the_database(app):
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["database"] == "ok"


def test_health_reports_redis_in_production_mode(database_url, redis_url, emulator_server):
    from bot import create_app, stop_background
    from tests.conftest import make_settings

    app = create_app(make_settings(database_url, emulator_server.base_url, redis_url=redis_url))
    assert app.test_client().get("/healthz").get_json()["redis"] == "ok"
    stop_background(app)
    broken = create_app(make_settings(database_url, emulator_server.base_url, redis_url="redis://127.0.0.1:1/0"))
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503 and response.get_json()["redis"].startswith("error")
    stop_background(broken)


def test_long_answers_are_split_to_lines_limits_and_the_rest_is_pushed(app):
    import json

    from bot.context import Context
    from bot.events import parse_event
    from storage import inbox
    from storage.models import OutboxMessage
    from tests import events

    services = app.extensions["siang"]
    raw = events.text(events.user_id(), "ขอข้อมูลทั้งหมด")
    with services.transaction() as session:
        [event_id] = inbox.record_once(session, [inbox.describe(raw)])
    with services.transaction() as session:
        row = inbox.get(session, event_id)
        ctx = Context(services, session, row, parse_event(raw))
        ctx.reply({"type": "text", "text": "ก" * 12_000}, *({"type": "text", "text": f"ข้อ {n}"} for n in range(4)))
        ctx.flush()
    with services.transaction() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        sent = [(r.kind, [m["text"] for m in json.loads(r.messages)]) for r in rows]
    assert [kind for kind, _ in sent] == ["reply", "push"]
    assert [len(t) for t in sent[0][1]] == [5000, 5000, 2000, "ข้อ 0".__len__(), "ข้อ 1".__len__()]
    assert sent[1][1] == ["ข้อ 2", "ข้อ 3"]
