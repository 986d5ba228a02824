"""Redis mode: the webhook stores an event and hands its id to the workers; no RQ job is built in the request.

The hand-over is a plain Redis list the workers move into RQ. It only makes work prompt: an id that never
reaches a worker is still a pending row, and the sweeper has it handled, once.
"""

from __future__ import annotations

import pytest
from redis import Redis
from sqlalchemy import select

from storage.models import InboxEvent
from tests import events
from tests.processes import bot_environment, start_web, start_worker
from tests.support import count_events, outbox_summary, post, stored, wait_until


@pytest.mark.redis
def test_a_new_event_is_handed_over_as_its_id_and_a_worker_turns_it_into_one_job(redis_app):
    jobs = redis_app.extensions["siang"].jobs
    first = events.text(events.user_id(), "ไฟดับ")
    assert post(redis_app.test_client(), events.body(first)).status_code == 200
    assert post(redis_app.test_client(), events.body(first)).status_code == 200  # LINE's redelivery
    with redis_app.extensions["siang"].transaction() as session:
        (row_id,) = session.scalars(select(InboxEvent.id)).all()
    assert jobs.connection.lrange(jobs.events_key, 0, -1) == [str(row_id).encode()]  # once: the duplicate adds none
    assert jobs.queue.count == 0  # the request built no RQ job

    assert jobs.feed_events(wait_seconds=0) == 1
    assert jobs.connection.llen(jobs.events_key) == 0
    assert jobs.queue.job_ids == [f"handle_event-{row_id}"]
    assert stored(redis_app, InboxEvent.status == "pending") == 1


@pytest.mark.redis
@pytest.mark.slow
def test_an_event_whose_hand_over_was_lost_is_still_handled_once(redis_settings, line, processes):
    started, logs = processes
    env = bot_environment(redis_settings)
    web, url = start_web(env, logs)
    started.append(web)
    line.configure(webhook_url=f"{url}/callback")
    user = line.create_user()["user_id"]
    assert line.send_text(user, "สวัสดีครับ").status == 200  # stored and handed over; no worker runs yet
    redis = Redis.from_url(redis_settings.redis_url)
    key = f"siang:new-events:{redis_settings.job_queue_name}"
    assert redis.delete(key) == 1  # the hand-over is lost (Redis flushed, say)
    started.append(start_worker(env, logs))
    wait_until(lambda: count_events(redis_settings.database_url, InboxEvent.status == "done") == 1, timeout=60)
    assert count_events(redis_settings.database_url, InboxEvent.attempts > 1) == 0
    wait_until(lambda: outbox_summary(redis_settings.database_url)["unsent"] == 0, timeout=30)
    assert line.wait_for_messages(user, 1, timeout=20)


@pytest.mark.redis
def test_a_hand_over_socket_closed_by_redis_meanwhile_is_replaced(redis_app):
    jobs = redis_app.extensions["siang"].jobs
    assert post(redis_app.test_client(), events.body(events.text(events.user_id(), "ไฟดับ"))).status_code == 200
    port = jobs._pusher._local.socket.getsockname()[1]  # this thread's hand-over socket
    (client,) = [line for line in jobs.connection.client_list() if line["addr"].endswith(f":{port}")]
    assert jobs.connection.client_kill_filter(_id=client["id"]) == 1  # Redis restarted, say
    assert post(redis_app.test_client(), events.body(events.text(events.user_id(), "น้ำไม่ไหล"))).status_code == 200
    assert jobs.connection.llen(jobs.events_key) == 2  # both handed over, none twice
