"""The Messaging API rules the bot must live with: reply tokens, retry keys, limits, quota, auth."""

from __future__ import annotations

import time
import uuid

import pytest
import requests
from linebot.v3.messaging import (ApiException, BroadcastRequest, ErrorResponse, MessagingApi,
                                  MulticastRequest, PushMessageRequest, ReplyMessageRequest, ShowLoadingAnimationRequest,
                                  TextMessage)


def raw_post(emulator, path: str, body: dict, **headers: str) -> requests.Response:
    """Bypasses the SDK, whose client-side validation would stop a bad body before it is sent."""
    token = emulator.emulator.settings.access_token
    return requests.post(f"{emulator.base_url}{path}", json=body, timeout=10,
                         headers={"Authorization": f"Bearer {token}", **headers})


def text(value: str = "สวัสดีครับ") -> TextMessage:
    return TextMessage(text=value)


def test_a_reply_token_works_once(client, line, citizen):
    token = client.send_text(citizen["user_id"], "สวัสดี").reply_token
    sent = line.reply_message(ReplyMessageRequest(reply_token=token, messages=[text("รับเรื่องแล้ว")]))
    assert sent.sent_messages[0].id
    with pytest.raises(ApiException) as again:
        line.reply_message(ReplyMessageRequest(reply_token=token, messages=[text()]))
    assert again.value.status == 400
    assert ErrorResponse.from_json(again.value.body).message == "Invalid reply token"
    assert client.texts_for(citizen["user_id"]) == ["รับเรื่องแล้ว"]


def test_a_reply_token_expires(client, line, citizen):
    client.configure(reply_token_ttl=0.2)
    token = client.send_text(citizen["user_id"], "ช้าไป").reply_token
    time.sleep(0.3)
    with pytest.raises(ApiException) as late:
        line.reply_message(ReplyMessageRequest(reply_token=token, messages=[text()]))
    assert late.value.status == 400 and "Invalid reply token" in late.value.body
    assert client.rejections()["invalid_reply_token"] == 1


def test_a_retried_push_is_answered_409_and_not_delivered_twice(client, line, citizen):
    key = str(uuid.uuid4())
    request = PushMessageRequest(to=citizen["user_id"], messages=[text("สถานะ: กำลังดำเนินการ")])
    first = line.push_message_with_http_info(request, x_line_retry_key=key)
    with pytest.raises(ApiException) as retry:
        line.push_message(request, x_line_retry_key=key)
    assert retry.value.status == 409
    assert retry.value.headers["x-line-accepted-request-id"] == first.headers["x-line-request-id"]
    body = ErrorResponse.from_json(retry.value.body)
    assert body.message == "The retry key is already accepted"
    assert body.sent_messages[0].id == first.data.sent_messages[0].id
    delivered = client.messages_for(citizen["user_id"])
    assert len(delivered) == 1 and delivered[0]["retry_key"] == key


def test_a_retry_key_is_refused_on_reply_and_must_be_a_uuid(emulator, client, citizen):
    token = client.send_text(citizen["user_id"], "สวัสดี").reply_token
    reply = raw_post(emulator, "/v2/bot/message/reply",
                     {"replyToken": token, "messages": [{"type": "text", "text": "x"}]},
                     **{"X-Line-Retry-Key": str(uuid.uuid4())})
    assert reply.status_code == 400
    not_uuid = raw_post(emulator, "/v2/bot/message/push",
                        {"to": citizen["user_id"], "messages": [{"type": "text", "text": "x"}]},
                        **{"X-Line-Retry-Key": "attempt-1"})
    assert not_uuid.status_code == 400
    assert client.messages_for(citizen["user_id"]) == []


def test_every_response_carries_a_request_id(emulator, line, citizen):
    response = line.get_profile_with_http_info(citizen["user_id"])
    assert uuid.UUID(response.headers["x-line-request-id"])
    assert requests.get(f"{emulator.base_url}/v2/bot/info", timeout=5).headers["x-line-request-id"]


def test_a_wrong_bearer_token_is_401(emulator, client):
    response = requests.get(f"{emulator.base_url}/v2/bot/info", timeout=5,
                            headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401 and "message" in response.json()
    assert client.rejections()["unauthorized"] == 1


def test_a_body_over_2_mb_is_413(emulator, citizen):
    big = "ก" * (2 * 1024 * 1024)
    response = raw_post(emulator, "/v2/bot/message/push", {"to": citizen["user_id"],
                                                            "messages": [{"type": "text", "text": big}]})
    assert response.status_code == 413


@pytest.mark.parametrize("messages, prop", [
    ([{"type": "text", "text": "ข้อความ"}] * 6, "messages"),
    ([{"type": "text", "text": "ก่" * 2501}], "messages[0].text"),  # 5,002 UTF-16 units
    ([{"type": "text", "text": "x", "quickReply": {"items": [
        {"type": "action", "action": {"type": "message", "label": str(i), "text": str(i)}} for i in range(14)]}}],
     "messages[0].quickReply.items"),
    ([{"type": "template", "altText": "ก" * 1501, "template": {"type": "confirm", "text": "ยืนยัน?", "actions": [
        {"type": "postback", "label": "ใช่", "data": "yes"}, {"type": "postback", "label": "ไม่", "data": "no"}]}}],
     "messages[0].altText"),
])
def test_documented_message_limits_are_400_with_details(emulator, client, citizen, messages, prop):
    response = raw_post(emulator, "/v2/bot/message/push", {"to": citizen["user_id"], "messages": messages})
    assert response.status_code == 400
    assert prop in [d["property"] for d in response.json()["details"]]
    assert client.messages_for(citizen["user_id"], include_undelivered=True) == []


def test_the_limits_hold_without_a_spec_file(start_emulator_with):
    running = start_emulator_with(spec_path=None)
    user = running.client.create_user()
    response = raw_post(running, "/v2/bot/message/push",
                        {"to": user["user_id"], "messages": [{"type": "text", "text": "x"}] * 6})
    assert response.status_code == 400
    assert response.json()["details"][0] == {"message": "Size must be between 1 and 5", "property": "messages"}
    assert running.client.spec_violations() == []


def test_multicast_takes_at_most_500_user_ids(emulator, client):
    users = [f"U{i:032x}" for i in range(501)]
    response = raw_post(emulator, "/v2/bot/message/multicast",
                        {"to": users, "messages": [{"type": "text", "text": "ประกาศ"}]})
    assert response.status_code == 400
    group = client.create_group()
    to_group = raw_post(emulator, "/v2/bot/message/multicast",
                        {"to": [group["group_id"]], "messages": [{"type": "text", "text": "x"}]})
    assert to_group.status_code == 400


def test_a_push_to_a_blocked_or_unknown_user_is_accepted_but_not_delivered(client, line, citizen):
    client.unfollow(citizen["user_id"])
    line.push_message(PushMessageRequest(to=citizen["user_id"], messages=[text()]))
    line.push_message(PushMessageRequest(to="U" + "0" * 32, messages=[text()]))
    assert client.messages_for(citizen["user_id"]) == []
    undelivered = client.messages_for(citizen["user_id"], include_undelivered=True)
    assert [m["delivered"] for m in undelivered] == [False]
    assert client.quota_usage()["used"] == 0


def test_the_monthly_quota_counts_people_and_ends_in_429(client, line):
    members = [client.create_user(display_name=f"เจ้าหน้าที่ {i}")["user_id"] for i in range(4)]
    group = client.create_group(name="ศูนย์ดำรงธรรม", member_ids=members)
    client.set_quota(5)
    line.push_message(PushMessageRequest(to=group["group_id"], messages=[text("เรื่องใหม่"), text("รายละเอียด")]))
    assert client.quota_usage()["used"] == 4
    assert line.get_message_quota_consumption().total_usage == 4
    with pytest.raises(ApiException) as over:
        line.push_message(PushMessageRequest(to=group["group_id"], messages=[text()]))
    assert over.value.status == 429
    assert ErrorResponse.from_json(over.value.body).message == "You have reached your monthly limit."
    token = client.send_text(members[0], "สวัสดี").reply_token
    line.reply_message(ReplyMessageRequest(reply_token=token, messages=[text("ตอบฟรี")]))
    assert client.rejections()["quota"] == 1
    assert line.get_message_quota().value == 5


def test_a_small_rate_limit_answers_429(client, line, citizen):
    client.set_rate_limit("push", "5/s")
    statuses = []
    for _ in range(12):
        try:
            line.push_message(PushMessageRequest(to=citizen["user_id"], messages=[text()]))
            statuses.append(200)
        except ApiException as error:
            assert error.body and "The API rate limit has been exceeded" in error.body
            statuses.append(error.status)
    assert statuses.count(200) in (5, 6) and statuses.count(429) == 12 - statuses.count(200)
    assert client.rejections()["rate_limit"] == statuses.count(429)
    assert client.rejections_by_endpoint()["push"]["rate_limit"] == statuses.count(429)
    time.sleep(0.25)
    line.push_message(PushMessageRequest(to=citizen["user_id"], messages=[text()]))


def test_multicast_and_broadcast_reach_friends_only(client, line):
    friends = [client.create_user()["user_id"] for _ in range(3)]
    blocked = client.create_user(status="blocked")["user_id"]
    line.multicast(MulticastRequest(to=friends[:2] + [blocked], messages=[text("ประกาศน้ำประปาหยุดไหล")]))
    line.broadcast(BroadcastRequest(messages=[text("ประกาศทั่วไป")]))
    assert client.texts_for(friends[0]) == ["ประกาศน้ำประปาหยุดไหล", "ประกาศทั่วไป"]
    assert client.texts_for(friends[2]) == ["ประกาศทั่วไป"]
    assert client.texts_for(blocked) == []
    assert client.quota_usage()["used"] == 2 + 3


def test_narrowcast_is_accepted_with_a_progress_endpoint(emulator, client, line):
    client.create_user()
    response = raw_post(emulator, "/v2/bot/message/narrowcast", {"messages": [{"type": "text", "text": "x"}]})
    assert response.status_code == 202
    progress = line.get_narrowcast_progress(response.headers["x-line-request-id"])
    assert progress.phase == "succeeded" and progress.success_count == 1


def test_profiles_groups_and_rooms(client, line):
    somchai = client.create_user(display_name="สมชาย", language="th")
    stranger = client.create_user(display_name="คนนอก")
    group = client.create_group(name="อสม. หมู่ 5", member_ids=[somchai["user_id"]])
    room = client.create_group(name="ห้อง", member_ids=[somchai["user_id"], stranger["user_id"]], kind="room")
    assert line.get_profile(somchai["user_id"]).display_name == "สมชาย"
    assert line.get_group_summary(group["group_id"]).group_name == "อสม. หมู่ 5"
    assert line.get_group_member_count(group["group_id"]).count == 1
    assert line.get_group_member_profile(group["group_id"], somchai["user_id"]).display_name == "สมชาย"
    assert line.get_room_member_count(room["room_id"] if "room_id" in room else room["group_id"]).count == 2
    with pytest.raises(ApiException) as outsider:
        line.get_group_member_profile(group["group_id"], stranger["user_id"])
    assert outsider.value.status == 404
    client.unfollow(stranger["user_id"])
    with pytest.raises(ApiException) as blocked:
        line.get_profile(stranger["user_id"])
    assert blocked.value.status == 404
    line.leave_group(group["group_id"])
    line.push_message(PushMessageRequest(to=group["group_id"], messages=[text()]))
    assert client.messages_for(group["group_id"]) == []


def test_loading_animation_is_for_one_to_one_chats(client, line, citizen):
    response = line.show_loading_animation_with_http_info(
        ShowLoadingAnimationRequest(chat_id=citizen["user_id"], loading_seconds=10))
    assert response.status_code == 202
    assert client.loading_calls()[0]["chatId"] == citizen["user_id"]
    group = client.create_group(member_ids=[citizen["user_id"]])
    with pytest.raises(ApiException) as in_group:
        line.show_loading_animation(ShowLoadingAnimationRequest(chat_id=group["group_id"]))
    assert in_group.value.status == 400


def test_bot_info(emulator, line: MessagingApi):
    info = line.get_bot_info()
    assert info.user_id == emulator.emulator.settings.bot_user_id and info.chat_mode == "bot"


def test_concurrent_pushes_are_all_recorded(client, emulator, citizen, auth):
    import threading
    from concurrent.futures import ThreadPoolExecutor
    local = threading.local()

    def push(i: int) -> int:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        return local.session.post(
            f"{emulator.base_url}/v2/bot/message/push", timeout=10,
            json={"to": citizen["user_id"], "messages": [{"type": "text", "text": f"#{i}"}]},
            headers={**auth, "X-Line-Retry-Key": str(uuid.UUID(int=i % 100))},
        ).status_code

    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(push, range(400)))
    assert statuses.count(200) == 100 and statuses.count(409) == 300
    assert len(client.messages_for(citizen["user_id"])) == 100


def test_a_reader_paging_with_the_cursor_never_sees_half_a_request(client, emulator, citizen, auth):
    """A request's messages are recorded one by one; a reader polling meanwhile must get all of them or none
    (the chat tests read a reply as soon as its first message is there)."""
    import threading

    pushed, seen, stop = 300, [], threading.Event()

    def read() -> None:
        cursor = 0
        while not stop.is_set() or cursor < 5 * pushed:
            found = client.messages(citizen["user_id"], since=cursor)["messages"]
            if found:
                cursor = max(m["seq"] for m in found)
                seen.append([m["message"]["text"] for m in found])

    reader = threading.Thread(target=read)
    reader.start()
    with requests.Session() as http:
        for i in range(pushed):
            http.post(f"{emulator.base_url}/v2/bot/message/push", timeout=10, headers=auth,
                      json={"to": citizen["user_id"],
                            "messages": [{"type": "text", "text": f"{i}.{j}"} for j in range(5)]})
    stop.set()
    reader.join(timeout=30)
    texts = [t for batch in seen for t in batch]
    assert texts == [f"{i}.{j}" for i in range(pushed) for j in range(5)]
    assert all(len(batch) % 5 == 0 for batch in seen), "a read ended in the middle of a request"
