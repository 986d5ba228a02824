"""Redis mode: the webhook stores an event and announces its id in the same statement; no Redis in the request.

The announcement is a PostgreSQL notification on the queue's channel, which one worker's feeder turns into an
RQ job. It only makes work prompt: an id that never reaches a worker is still a pending row, queued when a
feeder starts listening or by the sweeper, and handled once.
"""

from __future__ import annotations

import threading
import time

import pytest
from redis import Redis
from sqlalchemy import select

from bot import create_app, event_feed, stop_background
from storage.models import InboxEvent
from tests import events
from tests.test_processes import count_events, outbox_summary, processes, redis_settings  # noqa: F401
from tests.processes import bot_environment, start_web, start_worker
from tests.test_webhook import post, stored, wait_until


@pytest.fixture
def redis_app(redis_settings):  # noqa: F811 - the fixture imported above
    application = create_app(redis_settings)
    yield application
    stop_background(application)


def _listening(settings, channel: str):
    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    url = make_url(settings.database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = psycopg.connect(url, autocommit=True)
    connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
    return connection


@pytest.mark.redis
def test_a_new_event_is_announced_by_its_insert_and_a_feeder_turns_it_into_one_job(redis_app, redis_settings):  # noqa: F811
    services = redis_app.extensions["siang"]
    jobs = services.jobs
    if redis_settings.database_url.startswith("sqlite"):  # no NOTIFY: the request queues the job itself
        first = events.text(events.user_id(), "ไฟดับ")
        for _ in range(2):  # the second is LINE's redelivery
            assert post(redis_app.test_client(), events.body(first)).status_code == 200
        with services.transaction() as session:
            (row_id,) = session.scalars(select(InboxEvent.id)).all()
        assert jobs.queue.job_ids == [f"handle_event-{row_id}"]
        return
    listener = _listening(redis_settings, jobs.events_channel)
    first = events.text(events.user_id(), "ไฟดับ")
    assert post(redis_app.test_client(), events.body(first)).status_code == 200
    assert post(redis_app.test_client(), events.body(first)).status_code == 200  # LINE's redelivery
    with services.transaction() as session:
        (row_id,) = session.scalars(select(InboxEvent.id)).all()
    heard = [note.payload for note in listener.notifies(timeout=2, stop_after=1)]
    heard += [note.payload for note in listener.notifies(timeout=0.3)]
    listener.close()
    assert heard == [str(row_id)]  # once: the duplicate announces nothing
    assert jobs.queue.count == 0  # the request built no RQ job and sent nothing to Redis

    stopping = threading.Event()
    feeder = threading.Thread(target=event_feed.listen, args=(services, stopping, 0.2), daemon=True)
    feeder.start()
    try:
        wait_until(lambda: jobs.queue.job_ids == [f"handle_event-{row_id}"], timeout=10)  # caught up on start
        second = events.text(events.user_id(), "น้ำไม่ไหล")
        assert post(redis_app.test_client(), events.body(second)).status_code == 200
        with services.transaction() as session:
            new_id = session.scalar(select(InboxEvent.id).where(InboxEvent.id != row_id))
        wait_until(lambda: jobs.queue.job_ids == [f"handle_event-{row_id}", f"handle_event-{new_id}"], timeout=10)
    finally:
        stopping.set()
        feeder.join(timeout=5)
    assert stored(redis_app, InboxEvent.status == "pending") == 2


@pytest.mark.redis
def test_one_feeder_listens_at_a_time_so_an_event_becomes_one_job(redis_app, redis_settings):  # noqa: F811
    if redis_settings.database_url.startswith("sqlite"):
        pytest.skip("the feeder listens on PostgreSQL only")
    services = redis_app.extensions["siang"]
    jobs = services.jobs
    stopping = threading.Event()
    feeders = [threading.Thread(target=event_feed.listen, args=(services, stopping, 0.2), daemon=True)
               for _ in range(2)]
    for feeder in feeders:
        feeder.start()
    try:
        time.sleep(1)  # both started; one holds the channel
        for n in range(5):
            assert post(redis_app.test_client(), events.body(events.text(events.user_id(), f"ไฟดับ {n}"))).status_code == 200
        wait_until(lambda: jobs.queue.count >= 5, timeout=10)
        time.sleep(0.5)
    finally:
        stopping.set()
        for feeder in feeders:
            feeder.join(timeout=5)
    assert jobs.queue.count == 5


@pytest.mark.redis
@pytest.mark.slow
def test_an_event_whose_hand_over_was_lost_is_still_handled_once(redis_settings, line, processes):  # noqa: F811
    started, logs = processes
    env = bot_environment(redis_settings)
    web, url = start_web(env, logs)
    started.append(web)
    line.configure(webhook_url=f"{url}/callback")
    user = line.create_user()["user_id"]
    assert line.send_text(user, "สวัสดีครับ").status == 200  # stored; no worker runs yet
    queued = Redis.from_url(redis_settings.redis_url).delete(f"rq:queue:{redis_settings.job_queue_name}")
    # PostgreSQL: nobody listened, so the announcement is gone and nothing was queued; SQLite: the request
    # queued the job itself, and it is lost here (Redis flushed, say).
    assert queued == (1 if redis_settings.database_url.startswith("sqlite") else 0)
    started.append(start_worker(env, logs))
    wait_until(lambda: count_events(redis_settings.database_url, InboxEvent.status == "done") == 1, timeout=60)
    assert count_events(redis_settings.database_url, InboxEvent.attempts > 1) == 0
    wait_until(lambda: outbox_summary(redis_settings.database_url)["unsent"] == 0, timeout=30)
    assert line.wait_for_messages(user, 1, timeout=20)
