"""POST /callback: signatures, bad bodies, and events stored exactly once."""

from __future__ import annotations

import time

import pytest
import requests
from sqlalchemy import func, select

from bot.events import signature_ok
from storage.models import InboxEvent, OutboxMessage
from tests import events
from tests.support import SECRET, post, stored, wait_until


def test_lines_published_signature_vectors_verify():
    docs_body = b'{"destination":"U8e742f61d673b39c7fff3cecb7536ef0","events":[]}'
    assert signature_ok("8c570fa6dd201bb328f1c1eac23a96d8", docs_body,
                        "GhRKmvmHys4Pi8DxkF4+EayaH0OqtJtaZxgTD9fMDLs=")
    assert signature_ok("channel_secret", b"bodybodybodybody", "/gg9a+LvFevTH1sd7XCQycD7tsWclCsInj7MhBHxN7k=")
    assert not signature_ok("channel_secret", b"bodybodybodybodY", "/gg9a+LvFevTH1sd7XCQycD7tsWclCsInj7MhBHxN7k=")


@pytest.mark.parametrize("signature", [None, "", "not-base64!", events.sign("another-secret", b"x")])
def test_a_missing_or_wrong_signature_is_refused_and_nothing_is_stored(app, signature):
    payload = events.body(events.text(events.user_id(), "สวัสดี"))
    response = post(app.test_client(), payload, signature)
    assert response.status_code == 400
    assert stored(app) == 0


def test_a_signature_over_other_bytes_is_refused(app):
    payload = events.body(events.text(events.user_id(), "ถนนเป็นหลุม"))
    tampered = payload.replace("ถนน".encode(), "ทาง".encode())
    response = app.test_client().post("/callback", data=tampered,
                                      headers={"x-line-signature": events.sign(SECRET, payload)})
    assert response.status_code == 400


def test_the_console_verify_request_with_no_events_gets_200(app):
    response = post(app.test_client(), b'{"destination":"U' + b"0" * 32 + b'","events":[]}')
    assert response.status_code == 200
    assert stored(app) == 0


def test_a_body_over_one_megabyte_gets_413(app):
    payload = events.body(events.text(events.user_id(), "ก" * 400_000))
    assert len(payload) > 1024 * 1024
    response = post(app.test_client(), payload)
    assert response.status_code == 413
    assert stored(app) == 0


@pytest.mark.parametrize("payload", [b"{not json", b"[]", b'{"events": {}}', b'{"destination": "U1"}',
                                     b"\xff\xfe\x00garbage", b"[" * 100_000 + b"]" * 100_000,
                                     b'{"events": [' + b"[" * 5_000 + b"]" * 5_000 + b"]}"])
def test_a_body_with_nothing_readable_gets_400_never_500(app, payload):
    response = post(app.test_client(), payload)
    assert response.status_code == 400
    assert "message" in response.get_json()


def test_an_event_the_sdk_cannot_parse_is_kept_aside_and_the_rest_is_handled(app):
    good = events.text(events.user_id(), "ไฟดับทั้งซอย")
    broken = events.text(events.user_id(), "ไม่มี mode")
    del broken["mode"]  # the SDK rejects an event without mode even as UnknownEvent
    response = post(app.test_client(), events.body(good, broken))
    assert response.status_code == 200
    assert stored(app, InboxEvent.status == "pending") == 1
    assert stored(app, InboxEvent.status == "invalid", InboxEvent.webhook_event_id == broken["webhookEventId"]) == 1


def test_a_request_of_only_unparseable_events_gets_200_and_keeps_them(app):
    # LINE redelivers what is not answered 2xx: a 400 would only bring the same stored events back.
    broken = events.text(events.user_id(), "ข้อความ")
    del broken["deliveryContext"]
    assert post(app.test_client(), events.body(broken, 1, "two", None)).status_code == 200
    assert stored(app, InboxEvent.status == "invalid") == 4


def test_an_unknown_event_type_is_accepted_and_ignored(bot, line):
    future = events.base("somethingNew", {"type": "user", "userId": events.user_id()}, replyToken="r" * 32)
    payload = events.body(future)
    response = requests.post(f"{bot.url}/callback", data=payload,
                             headers={"x-line-signature": events.sign(SECRET, payload)}, timeout=5)
    assert response.status_code == 200
    wait_until(lambda: stored(bot.app, InboxEvent.status == "done") == 1)
    with bot.services.transaction() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_huge_odd_thai_text_is_stored_and_answered(bot, line):
    user = line.create_user()["user_id"]
    odd = "ก\u200b\u0e4c\u0e4c" * 2000 + "😀" * 500 + "\u202e\ufeff" + "๑๒๓" * 1000
    assert line.send_text(user, odd).status == 200
    assert line.wait_for_messages(user, 1, timeout=10)


def test_a_thousand_events_with_a_third_repeated_are_each_handled_once(bot, line):
    # One citizen per event: the point is duplicates, not one person's flood (which is slowed down on purpose).
    originals = [events.text(events.user_id(), f"เรื่องที่ {n}") for n in range(750)]
    repeats = [dict(e, deliveryContext={"isRedelivery": True}) for e in originals[::3]]
    batch = originals + repeats
    assert len(batch) == 1000
    client = bot.app.test_client()
    for start in range(0, len(batch), 50):
        assert post(client, events.body(*batch[start:start + 50])).status_code == 200
    wait_until(lambda: stored(bot.app, InboxEvent.status == "done") == 750, timeout=180)
    with bot.services.transaction() as session:
        replies = session.scalar(select(func.count()).select_from(OutboxMessage))
        per_event = session.execute(select(OutboxMessage.source_event_id, func.count())
                                    .group_by(OutboxMessage.source_event_id)).all()
    assert stored(bot.app) == 750
    assert replies == 750 and all(count == 1 for _, count in per_event)


def test_a_redelivered_event_from_the_platform_is_acknowledged_and_not_handled_again(bot, line):
    user = line.create_user()["user_id"]
    first = line.send_text(user, "น้ำท่วมหน้าบ้าน")
    line.wait_for_messages(user, 2)
    again = line.redeliver(first.event_id)
    assert again.status == 200 and again.event["deliveryContext"]["isRedelivery"] is True
    time.sleep(0.5)
    assert len(line.messages_for(user)) == 2
    assert stored(bot.app) == 1



def test_a_database_that_cannot_be_reached_gets_503_so_that_line_redelivers():
    from bot import create_app, stop_background
    from tests.support import make_settings

    application = create_app(make_settings("postgresql+psycopg://postgres@127.0.0.1:1/nowhere", "http://127.0.0.1:9"))
    try:
        response = post(application.test_client(), events.body(events.text(events.user_id(), "ไฟดับ")))
        assert response.status_code == 503
        assert "message" in response.get_json()
    finally:
        stop_background(application)


@pytest.mark.postgres
def test_the_request_threads_connection_lost_meanwhile_is_replaced_and_the_event_stored(postgres_database):
    from sqlalchemy import create_engine, text

    from bot import create_app, stop_background
    from storage import direct
    from tests.conftest import empty_tables
    from tests.support import make_settings

    empty_tables(postgres_database)
    application = create_app(make_settings(postgres_database, "http://127.0.0.1:9"))
    try:
        assert post(application.test_client(), events.body(events.text(events.user_id(), "ไฟดับ"))).status_code == 200
        pid = direct.connections(application.extensions["siang"].engine)._local.connection.info.backend_pid
        admin = create_engine(postgres_database)
        with admin.connect() as connection:  # PostgreSQL restarted, say: this thread's connection is gone
            assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
        admin.dispose()
        time.sleep(0.2)
        assert post(application.test_client(), events.body(events.text(events.user_id(), "น้ำไม่ไหล"))).status_code == 200
        assert stored(application, InboxEvent.status == "pending") == 2
    finally:
        stop_background(application)
