"""How delivery answers LINE's refusals: a permanent 400 is kept with LINE's details and never retried; the
monthly limit pauses sending, alerts staff, and sending resumes once LINE accepts again."""

from __future__ import annotations

import logging
import time

from sqlalchemy import select

from bot.delivery import deliver_chain
from storage import outbox
from storage.models import DeliveryAlert, OutboxMessage


def push(bot, to: str, *messages: dict) -> int:
    with bot.services.transaction() as session:
        row_id = outbox.add_message(session, kind="push", recipient=to, messages=list(messages)).id
    bot.services.jobs.enqueue("deliver_outbox", row_id)
    return row_id


def wait_for_status(bot, row_id: int, status: str, timeout: float = 10.0) -> OutboxMessage:
    deadline = time.monotonic() + timeout
    while True:
        with bot.services.transaction() as session:
            row = session.get(OutboxMessage, row_id)
            session.expunge(row)
        if row.status == status:
            return row
        assert time.monotonic() < deadline, f"row {row_id} is {row.status}, not {status}: {row.last_error}"
        time.sleep(0.05)


def test_a_permanent_400_is_stored_with_lines_details_and_not_retried(bot, line):
    user = line.create_user()["user_id"]
    too_long = {"type": "text", "text": "ก" * 5001}
    row_id = push(bot, user, too_long)
    row = wait_for_status(bot, row_id, "failed")
    assert row.error_status == 400 and row.attempts == 1 and row.failed_at is not None
    details = outbox.error_details(row)
    assert details["details"][0]["property"] == "messages[0].text"
    assert "400" in row.last_error
    with bot.services.transaction() as session:
        shown = outbox.failures(session)
    assert [r.id for r in shown] == [row_id]
    time.sleep(0.6)  # several sweeps: the failed row is not taken again
    assert line.rejections_by_endpoint()["push"].get("invalid_request") == 1
    assert line.messages_for(user) == []


def test_the_monthly_limit_pauses_sending_alerts_staff_and_resumes(database_url, emulator_server, line, caplog):
    from bot import create_app
    from tests.conftest import BotServer, make_settings

    server = BotServer(create_app(make_settings(database_url, emulator_server.base_url,
                                                monthly_limit_pause_seconds=1.5))).start()
    try:
        user = line.create_user()["user_id"]
        line.set_quota(3)
        with caplog.at_level(logging.ERROR, logger="bot.delivery"):
            ids = [push(server, user, {"type": "text", "text": f"update {n}"}) for n in range(6)]
            line.wait_for_messages(user, 3)
            deadline = time.monotonic() + 5
            while not caplog.records and time.monotonic() < deadline:
                time.sleep(0.05)
        assert any("monthly message limit" in r.getMessage() for r in caplog.records)
        with server.services.transaction() as session:
            alert = session.scalar(select(DeliveryAlert))
            assert alert.kind == "monthly_limit" and alert.resolved_at is None and alert.paused_until is not None
        time.sleep(1.0)  # inside the pause: nothing hammers LINE
        refused = line.rejections().get("quota", 0)
        assert 1 <= refused <= 2, f"{refused} requests refused for quota: sending did not pause"
        assert len(line.messages_for(user)) == 3
        line.set_quota(None)  # next month, or a bigger plan
        found = line.wait_for_messages(user, 6, timeout=10)
        assert [m["message"]["text"] for m in found] == [f"update {n}" for n in range(6)]
        for row_id in ids:
            wait_for_status(server, row_id, "sent")
        with server.services.transaction() as session:
            assert session.scalar(select(DeliveryAlert)).resolved_at is not None
        assert line.rejections().get("quota", 0) == refused
    finally:
        line.set_quota(None)
        server.stop()


def test_pushes_to_one_citizen_keep_their_order_under_concurrent_workers_and_failures(bot, line):
    line.set_faults(fail_500=0.3, seed=3)
    users = [line.create_user()["user_id"] for _ in range(3)]
    ids = {user: [] for user in users}
    with bot.services.transaction() as session:
        for n in range(15):
            for user in users:
                ids[user].append(outbox.add_message(session, kind="push", recipient=user,
                                                    messages=[{"type": "text", "text": f"step {n}"}]).id)
    every = sorted(i for group in ids.values() for i in group)
    bot.services.jobs.enqueue_many("deliver_outbox", list(reversed(every)))  # newest first, on purpose
    for user in users:
        found = line.wait_for_messages(user, 15, timeout=30)
        assert [m["message"]["text"] for m in found] == [f"step {n}" for n in range(15)]
    assert line.rejections().get("injected_500", 0) > 0


def test_a_row_is_sent_once_even_when_its_first_success_was_not_recorded(bot, line):
    """A worker that dies after LINE accepted but before recording it: the retry key makes LINE answer 409."""
    user = line.create_user()["user_id"]
    with bot.services.transaction() as session:
        row = outbox.add_message(session, kind="push", recipient=user, messages=[{"type": "text", "text": "hi"}])
    from bot.delivery import send

    with bot.app.app_context():
        first = send(bot.services, row)  # sent, but "the worker died" before marking it
        deliver_chain(bot.services, row.id)
    assert first.state == "sent"
    assert wait_for_status(bot, row.id, "sent").attempts == 1
    assert len(line.messages_for(user)) == 1
    assert line.rejections().get("retry_key_conflict") == 1


def test_a_reply_whose_answer_was_lost_is_not_pushed_again(bot, line):
    """LINE took the reply and its answer was lost: the retry finds the token spent, and that means delivered
    (the row is the token's only user), not "push it instead"."""
    user = line.create_user()["user_id"]
    line.set_faults(lose_answer=1.0)
    line.send_text(user, "สวัสดีค่ะ")
    deadline = time.monotonic() + 10
    while not line.lost_answers().get("reply"):
        assert time.monotonic() < deadline, "the bot never replied"
        time.sleep(0.05)
    line.clear_faults()
    with bot.services.transaction() as session:
        (row_id,) = session.scalars(select(OutboxMessage.id).where(OutboxMessage.kind == "reply"))
    row = wait_for_status(bot, row_id, "sent")
    assert row.attempts >= 2 and row.sent_via == "reply"
    assert line.rejections().get("invalid_reply_token", 0) >= 1  # the retry really found the token spent
    delivered = line.messages_for(user)
    assert delivered and {m["endpoint"] for m in delivered} == {"reply"}
    assert len({m["request_id"] for m in delivered}) == 1, "the answer went out twice"
