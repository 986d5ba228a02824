"""A reply reaches the citizen exactly once when the worker that sent it died before recording it (issue 18),
whatever ``JOB_LEASE_SECONDS`` is beside the reply window.

The dead worker is played by this test: it claims the row as a worker does, and LINE (the emulator) carries
out the reply; nothing is recorded, so the row stays "sending" under a lease that runs out. A second worker
then takes the row over, as the sweeper would hand it to one.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import update

from bot import create_app, stop_background
from bot.delivery import deliver_chain, reply_lease_seconds, send
from storage import outbox
from storage.models import OutboxMessage, utcnow
from tests.conftest import make_settings


@pytest.fixture
def long_lease_app(database_url, emulator_server):
    """The production defaults that caused issue 18: a work lease (60 s) longer than the reply window."""
    application = create_app(make_settings(database_url, emulator_server.base_url, job_lease_seconds=60,
                                           line_timeout_seconds=10.0))
    yield application
    stop_background(application)


def reply_row(services, user: str, token: str) -> int:
    with services.transaction() as session:
        return outbox.add_message(session, kind="reply", recipient=user, reply_token=token,
                                  reply_deadline=utcnow() + timedelta(seconds=50),
                                  messages=[{"type": "text", "text": "รับเรื่องแล้วค่ะ"}]).id


def die_after_line_carried_out_the_reply(services, row_id: int) -> None:
    """Claim and send like a worker, then record nothing; the lease is already over when the worker is gone."""
    with services.transaction() as session:
        token = outbox.claim(session, row_id, lease_seconds=0)
        row = outbox.get(session, row_id)
    assert token is not None
    assert send(services, row).state == "sent"


@pytest.mark.parametrize("taken_over", ["inside the window", "after the window"])
def test_a_reply_carried_out_by_a_killed_worker_is_not_sent_again(long_lease_app, line, taken_over):
    services = long_lease_app.extensions["siang"]
    user = line.create_user()["user_id"]
    token = line.send_text(user, "ถนนเป็นหลุม").reply_token
    row_id = reply_row(services, user, token)
    with long_lease_app.app_context():
        die_after_line_carried_out_the_reply(services, row_id)
        if taken_over == "after the window":  # a 60 s lease ends after the 50 s window
            with services.transaction() as session:
                session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id)
                                .values(reply_deadline=utcnow() - timedelta(seconds=1)))
        deliver_chain(services, row_id)
    with services.transaction() as session:
        row = outbox.get(session, row_id)
        assert (row.status, row.sent_via, row.attempts) == ("sent", "reply", 2)
    delivered = line.messages_for(user)
    assert [m["endpoint"] for m in delivered] == ["reply"], "the citizen got the answer twice"
    assert line.rejections().get("invalid_reply_token") == 1  # the takeover asked LINE, which said "spent"


def test_a_reply_row_is_leased_well_inside_the_window_whatever_the_work_lease(long_lease_app, line):
    services = long_lease_app.extensions["siang"]
    user = line.create_user()["user_id"]
    row_id = reply_row(services, user, line.send_text(user, "ไฟดับ").reply_token)
    with long_lease_app.app_context():
        from bot.delivery import _claim

        (claimed,) = _claim(services, [row_id])
    expires = claimed.row.lease_expires_at
    expires = expires if expires.tzinfo else expires.replace(tzinfo=utcnow().tzinfo)  # SQLite keeps no zone
    lease = (expires - utcnow()).total_seconds()
    assert lease <= reply_lease_seconds(services) < 50 < services.settings.job_lease_seconds


def test_a_reply_falling_back_to_a_push_forgets_its_token_first(long_lease_app, line):
    """A first attempt whose token LINE refuses pushes instead; the token is dropped before the push, so a
    worker taking over after a kill pushes with the retry key (409) rather than count the refusal as spent."""
    services = long_lease_app.extensions["siang"]
    user = line.create_user()["user_id"]
    row_id = reply_row(services, user, "0" * 32)  # a token LINE never issued
    with long_lease_app.app_context():
        with services.transaction() as session:
            outbox.claim(session, row_id, lease_seconds=0)
            row = outbox.get(session, row_id)
        assert send(services, row).state == "sent"  # pushed; then "the worker died"
        deliver_chain(services, row_id)
    with services.transaction() as session:
        row = outbox.get(session, row_id)
        assert (row.status, row.reply_token) == ("sent", None)
    assert [m["endpoint"] for m in line.messages_for(user)] == ["push"]
    assert line.rejections().get("retry_key_conflict") == 1


@pytest.mark.slow
@pytest.mark.postgres
def test_a_worker_process_killed_after_line_carried_out_the_reply_does_not_repeat_it(line, pg_url, redis_url,
                                                                                      workers):
    """A real ``siang worker`` with the default 60 s lease, SIGKILLed after LINE carried out its reply and
    while it waits to record it (a lock held on the row by the test); a second worker takes the row over."""
    from sqlalchemy import create_engine, select, text

    from storage.db import make_engine, make_sessionmaker
    from tests.delivery.conftest import wait_until_sent
    from tests.support import enqueue_all

    engine = make_engine(pg_url)
    sessions = make_sessionmaker(engine)
    user = line.create_user()["user_id"]
    token = line.send_text(user, "น้ำท่วมซอย").reply_token
    with sessions() as session:
        row_id = outbox.add_message(session, kind="reply", recipient=user, reply_token=token,
                                    reply_deadline=utcnow() + timedelta(seconds=50),
                                    messages=[{"type": "text", "text": "รับเรื่องแล้วค่ะ"}]).id
        session.commit()
    group = workers(JOB_LEASE_SECONDS="60", LINE_TIMEOUT_SECONDS="3")
    (doomed,) = group.start(1)
    line.set_faults(latency_ms=1500)  # time to take the row's lock while LINE works on the reply
    enqueue_all(redis_url, [row_id])
    locker = create_engine(pg_url).connect()
    try:
        deadline = time.monotonic() + 30
        while locker.scalar(select(OutboxMessage.status).where(OutboxMessage.id == row_id)) != "sending":
            locker.rollback()
            assert time.monotonic() < deadline, "the worker never claimed the reply"
            time.sleep(0.02)
        locker.execute(text("SELECT id FROM outbox_messages WHERE id = :id FOR UPDATE"), {"id": row_id})
        while not line.messages_for(user):
            assert time.monotonic() < deadline, "LINE never carried out the reply"
            time.sleep(0.02)
        time.sleep(0.5)  # the worker has LINE's 200 and waits on the lock to record it
        group.kill(doomed)
    finally:
        locker.rollback()
        locker.close()
    line.clear_faults()
    group.start(1)
    wait_until_sent(pg_url, 1, timeout=90, check=group.assert_alive)
    with sessions() as session:
        row = outbox.get(session, row_id)
        assert (row.status, row.sent_via, row.attempts) == ("sent", "reply", 2)
    engine.dispose()
    assert [m["endpoint"] for m in line.messages_for(user)] == ["reply"], "the citizen got the answer twice"
