"""Webhooks as LINE sends them: signed, complete enough for the SDK's parser, batched, redelivered."""

from __future__ import annotations

import json
import time

import pytest
from linebot.v3 import WebhookParser
from linebot.v3.messaging import MessagingApi, ReplyMessageRequest, TextMessage
from linebot.v3.webhooks import (AudioMessageContent, FileMessageContent, FollowEvent, GroupSource,
                                 ImageMessageContent, JoinEvent, LeaveEvent, LocationMessageContent,
                                 MemberJoinedEvent, MemberLeftEvent, MessageEvent, PostbackEvent, RoomSource,
                                 StickerMessageContent, TextMessageContent, UnfollowEvent, UnsendEvent,
                                 UserSource, VideoMessageContent)
from ulid import ULID

from emulator.webhooks import sign

def test_the_signature_matches_lines_published_vector():
    body = b'{"destination":"U8e742f61d673b39c7fff3cecb7536ef0","events":[]}'
    assert sign("8c570fa6dd201bb328f1c1eac23a96d8", body) == "GhRKmvmHys4Pi8DxkF4+EayaH0OqtJtaZxgTD9fMDLs="
    assert sign("channel_secret", b"bodybodybodybody") == "/gg9a+LvFevTH1sd7XCQycD7tsWclCsInj7MhBHxN7k="


def test_a_webhook_is_signed_over_its_raw_body(client, bot, citizen, emulator):
    result = client.send_text(citizen["user_id"], "ถนนชำรุด หน้าบ้านเลขที่ ๑๒")
    assert result.ok and result.status == 200
    received = bot.received[0]
    secret = emulator.emulator.settings.channel_secret
    assert received["headers"]["X-Line-Signature"] == sign(secret, received["body"].encode("utf-8"))
    payload = WebhookParser(secret).parse(received["body"], received["headers"]["X-Line-Signature"],
                                          as_payload=True)
    assert payload.destination == emulator.emulator.settings.bot_user_id
    raw = json.loads(received["body"])["events"][0]
    assert raw["mode"] == "active" and raw["deliveryContext"] == {"isRedelivery": False}
    assert ULID.from_str(raw["webhookEventId"]) and abs(raw["timestamp"] - time.time() * 1000) < 5000
    assert raw["message"]["quoteToken"] and raw["message"]["markAsReadToken"]


def test_a_bad_secret_fails_verification(client, bot, citizen):
    client.configure(channel_secret="not-the-secret")
    result = client.send_text(citizen["user_id"], "สวัสดี")
    assert result.status == 400 and not result.ok and bot.events() == []


def sdk_event(bot, result):
    [event] = [e for e in bot.events() if e.webhook_event_id == result.event_id]
    return event


def test_every_message_kind_parses_to_its_sdk_class(client, bot, citizen):
    uid = citizen["user_id"]
    group = client.create_group(member_ids=[uid])
    cases = [
        (client.send_text(uid, "สวัสดีค่ะ 😀"), TextMessageContent),
        (client.send_text(uid, "ในกลุ่ม", group_id=group["group_id"]), TextMessageContent),
        (client.send_image(uid), ImageMessageContent),
        (client.send_video(uid), VideoMessageContent),
        (client.send_audio(uid), AudioMessageContent),
        (client.send_file(uid, b"%PDF-1.4", "คำร้อง.pdf"), FileMessageContent),
        (client.send_location(uid, 13.7563, 100.5018, "ศาลาว่าการกรุงเทพมหานคร", "ถนนดินสอ"), LocationMessageContent),
        (client.send_sticker(uid), StickerMessageContent),
    ]
    for result, content_class in cases:
        event = sdk_event(bot, result)
        assert isinstance(event, MessageEvent) and isinstance(event.message, content_class), event
        assert event.reply_token == result.reply_token
    in_group = sdk_event(bot, cases[1][0])
    assert isinstance(in_group.source, GroupSource) and in_group.source.user_id == uid
    assert sdk_event(bot, cases[0][0]).message.text == "สวัสดีค่ะ 😀"
    assert sdk_event(bot, cases[5][0]).message.file_size == 8


def test_every_other_event_kind_parses_to_its_sdk_class(client, bot, citizen):
    uid = citizen["user_id"]
    other = client.create_user(display_name="สมศักดิ์")["user_id"]
    group = client.create_group(member_ids=[uid], bot_joined=False)
    room = client.create_group(member_ids=[uid], kind="room")
    sent = client.send_text(uid, "จะลบ")
    results = {
        "postback": client.tap_postback(uid, "action=date", {"date": "2026-11-23"}),
        "unfollow": client.unfollow(uid),
        "follow": client.follow(uid),
        "join": client.join_group(group["group_id"]),
        "joined": client.members_joined(group["group_id"], [other]),
        "left": client.members_left(group["group_id"], [other]),
        "leave": client.leave_group(group["group_id"]),
        "room": client.send_text(uid, "ห้อง", group_id=room["group_id"]),
        "unsend": client.unsend(uid, sent.message_id),
    }
    expected = {"postback": PostbackEvent, "unfollow": UnfollowEvent, "follow": FollowEvent, "join": JoinEvent,
                "joined": MemberJoinedEvent, "left": MemberLeftEvent, "leave": LeaveEvent,
                "room": MessageEvent, "unsend": UnsendEvent}
    events = {name: sdk_event(bot, result) for name, result in results.items()}
    for name, event in events.items():
        assert isinstance(event, expected[name]), (name, event)
    assert events["postback"].postback.params == {"date": "2026-11-23"}
    assert events["follow"].follow.is_unblocked is True
    assert isinstance(events["unfollow"].source, UserSource)
    assert events["joined"].joined.members[0].user_id == other
    assert isinstance(events["room"].source, RoomSource)
    assert events["unsend"].unsend.message_id == sent.message_id
    assert results["unfollow"].reply_token is None and results["leave"].reply_token is None
    assert results["join"].reply_token and results["joined"].reply_token


def test_a_first_follow_is_not_an_unblock(client, bot):
    newcomer = client.create_user(status="stranger")["user_id"]
    assert sdk_event(bot, client.follow(newcomer)).follow.is_unblocked is False
    assert client.user(newcomer)["status"] == "friend"


def test_several_events_from_several_users_in_one_request(client, bot):
    a, b = client.create_user()["user_id"], client.create_user()["user_id"]
    result = client.send_events({"kind": "text", "user_id": a, "text": "หนึ่ง"},
                                {"kind": "text", "user_id": b, "text": "สอง"},
                                {"kind": "postback", "user_id": a, "data": "action=menu"})
    assert result.ok and len(bot.received) == 1
    assert [type(e).__name__ for e in bot.received[0]["events"]] == ["MessageEvent", "MessageEvent",
                                                                     "PostbackEvent"]


def test_a_failed_webhook_is_redelivered_with_the_same_id_and_token(client, bot, citizen):
    client.configure(redelivery=True, redelivery_delay=0.1)
    bot.status = 500
    first = client.send_text(citizen["user_id"], "ไฟดับ")
    assert first.status == 500 and not first.ok
    bot.status = 200
    deadline = time.time() + 5
    while len(bot.received) < 2 and time.time() < deadline:
        time.sleep(0.02)
    again = json.loads(bot.received[1]["body"])["events"][0]
    assert again["deliveryContext"]["isRedelivery"] is True
    assert again["webhookEventId"] == first.event_id and again["replyToken"] == first.reply_token
    # The emulator records an attempt once the bot's answer is in: a moment after the bot saw the body.
    while len(attempts := client.webhook_attempts()) < 2 and time.time() < deadline + 5:
        time.sleep(0.02)
    assert [(a["status"], a["is_redelivery"]) for a in attempts] == [(500, False), (200, True)]


def test_a_slow_bot_times_out_and_nothing_is_redelivered_when_redelivery_is_off(client, bot, citizen):
    client.configure(webhook_timeout=0.2)
    bot.delay = 0.5
    result = client.send_text(citizen["user_id"], "ช้า")
    assert result.status is None and result.error == "request_timeout"
    time.sleep(0.5)
    assert len(client.webhook_attempts()) == 1


def test_redeliver_and_duplicate_on_demand(client, bot, citizen, line: MessagingApi):
    first = client.send_text(citizen["user_id"], "ซ้ำ")
    line.reply_message(ReplyMessageRequest(reply_token=first.reply_token, messages=[TextMessage(text="ok")]))
    redelivered = client.redeliver(first.event_id)
    duplicated = client.duplicate(first.event_id)
    assert redelivered.event["deliveryContext"]["isRedelivery"] is True
    assert bot.received[2]["body"] == bot.received[0]["body"]
    assert {e.webhook_event_id for e in bot.events()} == {first.event_id}
    assert duplicated.event == first.event
    with pytest.raises(Exception):
        client.redeliver("01J0000000000000000000000")


def test_image_content_is_a_real_png(client, blob, citizen):
    result = client.send_image(citizen["user_id"], caption="ถนนเป็นหลุม")
    response = blob.get_message_content_with_http_info(result.message_id)
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/png"
    assert bytes(response.data).startswith(b"\x89PNG")
    jpeg = client.send_image(citizen["user_id"], data=b"\xff\xd8jpeg", content_type="image/jpeg")
    assert bytes(blob.get_message_content(jpeg.message_id)) == b"\xff\xd8jpeg"
