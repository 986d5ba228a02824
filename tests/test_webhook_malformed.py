"""A malformed event is kept aside as invalid; the valid events beside it are stored and handled."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from bot.handlers import handle_event
from storage import inbox
from storage.models import InboxEvent
from tests import events
from tests.support import post, stored


def _text(**changes) -> dict:
    event = events.text(events.user_id(), "ขอแจ้งไฟถนนดับ")
    for key, value in changes.items():
        event[key] = value
    return event


def _message(**fields) -> dict:
    event = _text()
    event["message"] = {**event["message"], **fields}
    return event


MALFORMED = {
    "source is a string": lambda: _text(source="U1234"),
    "source is a list": lambda: _text(source=[{"type": "user"}]),
    "source has no type": lambda: _text(source={"userId": events.user_id()}),
    "deliveryContext is a string": lambda: _text(deliveryContext="redelivery"),
    "userId is a list": lambda: _text(source={"type": "user", "userId": [events.user_id()]}),
    "userId longer than its column": lambda: _text(source={"type": "user", "userId": "U" * 65}),
    "timestamp is NaN": lambda: _text(timestamp=float("nan")),
    "timestamp is huge": lambda: _text(timestamp=10**30),
    "timestamp is negative": lambda: _text(timestamp=-10**15),
    "timestamp is a string": lambda: _text(timestamp="1700000000000"),
    "timestamp is a boolean": lambda: _text(timestamp=True),
    "webhookEventId is a number": lambda: _text(webhookEventId=12345),
    "webhookEventId longer than its column": lambda: _text(webhookEventId="0" * 65),
    "type is a number": lambda: _text(type=7),
    "message is a string": lambda: _text(message="สวัสดี"),
    "message id is a list": lambda: _message(id=["1"]),
    "message id longer than its column": lambda: _message(id="9" * 65),
    "text is a number": lambda: _message(text=42),
    "replyToken is an object": lambda: _text(replyToken={"a": 1}),
    "location is NaN": lambda: _message(type="location", latitude=float("nan"), longitude=100.5),
    "join from a user": lambda: events.base("join", {"type": "user", "userId": events.user_id()}),
    "unsend without a message": lambda: events.base("unsend", {"type": "user", "userId": events.user_id()},
                                                    unsend={"messageId": 5}),
    "a huge array as the message": lambda: _text(message=[0] * 100_000),
    "not an object": lambda: [1, 2, 3],
    "null": lambda: None,
}


def _body(*items) -> bytes:
    return json.dumps({"destination": "U" + "0" * 32, "events": list(items)}, ensure_ascii=False).encode()


@pytest.mark.parametrize("shape", list(MALFORMED))
def test_a_malformed_event_is_kept_aside_and_the_valid_one_beside_it_is_stored(app, shape):
    good = _text()
    response = post(app.test_client(), _body(good, MALFORMED[shape]()))
    assert response.status_code == 200
    assert stored(app, InboxEvent.status == "pending", InboxEvent.webhook_event_id == good["webhookEventId"]) == 1
    with app.extensions["siang"].transaction() as session:
        kept = session.scalars(select(InboxEvent).where(InboxEvent.status == "invalid")).all()
    assert len(kept) == 1
    assert len(kept[0].payload) <= inbox.INVALID_EXCERPT_CHARS + 300
    assert json.loads(kept[0].payload)["invalid"]


def test_the_same_malformed_event_redelivered_is_kept_once(app):
    broken = _text(webhookEventId=["not", "an", "id"])
    client = app.test_client()
    assert post(client, _body(_text(), broken)).status_code == 200
    assert post(client, _body(_text(), broken)).status_code == 200
    assert stored(app, InboxEvent.status == "invalid") == 1
    assert stored(app, InboxEvent.status == "pending") == 2


def test_a_lone_surrogate_is_stored_replaced_and_the_event_handled(app):
    good = _text()
    odd = _message(text="ถนน\ud800พัง")
    payload = json.dumps({"events": [good, odd]}).encode()  # ensure_ascii: the lone surrogate as \\ud800
    assert b"\\ud800" in payload
    assert post(app.test_client(), payload).status_code == 200
    with app.extensions["siang"].transaction() as session:
        row = session.scalars(select(InboxEvent).where(InboxEvent.webhook_event_id == odd["webhookEventId"])).one()
    assert row.status == "pending"
    assert json.loads(row.payload)["message"]["text"] == "ถนน\ufffdพัง"


def test_an_emoji_escaped_as_a_surrogate_pair_is_kept_whole(app):
    event = _message(text="ไฟดับ \U0001F62D")
    payload = json.dumps({"events": [event]}).encode()  # ensure_ascii: the emoji becomes \\ud83d\\ude2d
    assert b"\\ud83d" in payload
    assert post(app.test_client(), payload).status_code == 200
    with app.extensions["siang"].transaction() as session:
        row = session.scalars(select(InboxEvent)).one()
    assert json.loads(row.payload)["message"]["text"] == "ไฟดับ \U0001F62D"


def test_json_nested_thousands_deep_inside_an_event_is_a_400_not_a_500(app):
    payload = b'{"events":[{"webhookEventId":"x","deep":' + b"[" * 50_000 + b"]" * 50_000 + b"}]}"
    assert post(app.test_client(), payload).status_code == 400


def test_a_junk_batch_keeps_a_bounded_number_of_invalid_rows(app):
    good = _text()
    response = post(app.test_client(), _body(good, *range(5_000)))
    assert response.status_code == 200
    assert stored(app, InboxEvent.status == "invalid") == 1000
    assert stored(app, InboxEvent.status == "pending") == 1


def _stored_row(app, payload: dict, chat: str) -> int:
    """A pending row as an older Siang (or a database edit) may have left it, bypassing the webhook's check."""
    with app.extensions["siang"].transaction() as session:
        row = InboxEvent(webhook_event_id=events.event_id(), event_type="message", chat_id=chat, user_id=chat,
                         payload=json.dumps(payload), status="pending")
        session.add(row)
        session.flush()
        return row.id


@pytest.mark.parametrize("source", ["U123", None, {"type": "group"}, ["user"]])
def test_the_worker_sets_a_stored_malformed_event_aside_at_once_and_carries_the_chat_on(app, source):
    chat = events.user_id()
    bad = _stored_row(app, _text(source=source), chat)
    good = _stored_row(app, events.text(chat, "สวัสดี"), chat)
    with app.app_context():
        handle_event(bad)
    with app.extensions["siang"].transaction() as session:
        row, after = session.get(InboxEvent, bad), session.get(InboxEvent, good)
        assert (row.status, row.attempts) == ("invalid", 1)
        assert row.last_error == "source"
        assert after.status == "done"  # carried on by the same job, not blocked behind retries
        assert session.scalar(select(func.count()).select_from(InboxEvent)
                              .where(InboxEvent.status == "pending")) == 0


def test_the_worker_sets_an_unreadable_payload_aside(app):
    chat = events.user_id()
    with app.extensions["siang"].transaction() as session:
        row = InboxEvent(webhook_event_id=events.event_id(), event_type="message", chat_id=chat,
                         payload="{not json", status="pending")
        session.add(row)
        session.flush()
        row_id = row.id
    with app.app_context():
        handle_event(row_id)
    with app.extensions["siang"].transaction() as session:
        assert session.get(InboxEvent, row_id).status == "invalid"
