"""Several real processes: two web processes racing on one event, a worker killed in the middle of one."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from storage.models import InboxEvent
from tests import events
from tests.processes import bot_environment, start_web, start_worker
from tests.support import SECRET, count_events, make_settings, outbox_summary, wait_until


@pytest.mark.redis
@pytest.mark.slow
def test_two_web_processes_receiving_the_same_events_at_once_handle_each_once(redis_settings, line, processes):
    started, logs = processes
    env = bot_environment(redis_settings)
    web_a, url_a = start_web(env, logs)
    web_b, url_b = start_web(env, logs)
    started += [web_a, web_b, start_worker(env, logs)]
    users = [line.create_user()["user_id"] for _ in range(10)]
    bodies = [events.body(events.text(users[n % 10], f"ไฟถนนดับ จุดที่ {n}")) for n in range(40)]

    def deliver(url: str, payload: bytes, barrier: threading.Barrier, statuses: list) -> None:
        barrier.wait()
        response = requests.post(f"{url}/callback", data=payload,
                                 headers={"x-line-signature": events.sign(SECRET, payload)}, timeout=10)
        statuses.append(response.status_code)

    statuses: list[int] = []
    for payload in bodies:
        barrier = threading.Barrier(2)
        racers = [threading.Thread(target=deliver, args=(url, payload, barrier, statuses)) for url in (url_a, url_b)]
        for racer in racers:
            racer.start()
        for racer in racers:
            racer.join()
    assert statuses == [200] * 80
    wait_until(lambda: count_events(redis_settings.database_url, InboxEvent.status == "done") == 40, timeout=60)
    assert count_events(redis_settings.database_url) == 40
    # Each event produced one answer, and the platform received exactly what was answered, once.
    wait_until(lambda: outbox_summary(redis_settings.database_url)["unsent"] == 0, timeout=60)
    summary = outbox_summary(redis_settings.database_url)
    assert summary["events_answered"] == 40 and summary["rows"] == 40
    time.sleep(0.5)
    assert sum(len(line.messages_for(user)) for user in users) == summary["messages"]


@pytest.mark.redis
@pytest.mark.slow
def test_a_worker_killed_while_handling_an_event_leaves_it_to_be_handled_later_once(redis_settings, line,
                                                                                   processes):
    started, logs = processes
    env = bot_environment(redis_settings)
    web, url = start_web(env, logs)
    started.append(web)
    line.configure(webhook_url=f"{url}/callback")
    doomed = start_worker(env, logs, "doomed")
    started.append(doomed)
    time.sleep(2)  # the worker is up and waiting on the queue
    user = line.create_user(display_name="ผู้ร้องเรียน")["user_id"]
    line.set_faults(latency_ms=2500)  # the profile lookup inside the handler now takes 2.5 s
    assert line.send_text(user, "มีต้นไม้ล้มขวางถนน").status == 200
    wait_until(lambda: count_events(redis_settings.database_url, InboxEvent.status == "processing") == 1, timeout=15)
    doomed.kill()
    line.clear_faults()
    assert count_events(redis_settings.database_url, InboxEvent.status == "done") == 0
    started.append(start_worker(env, logs, "survivor"))
    wait_until(lambda: count_events(redis_settings.database_url, InboxEvent.status == "done") == 1, timeout=30)
    assert count_events(redis_settings.database_url, InboxEvent.attempts == 2) == 1
    wait_until(lambda: outbox_summary(redis_settings.database_url)["unsent"] == 0, timeout=30)
    summary = outbox_summary(redis_settings.database_url)
    assert summary["events_answered"] == 1 and summary["rows"] == 1
    time.sleep(1)
    assert len(line.messages_for(user)) == summary["messages"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_under_gunicorn_the_embedded_mode_runs_its_own_worker(settings, line, processes):
    started, logs = processes
    web, url = start_web(bot_environment(settings), logs, workers=2)
    started.append(web)
    line.configure(webhook_url=f"{url}/callback")
    user = line.create_user()["user_id"]
    assert line.send_text(user, "สวัสดีครับ").status == 200
    assert line.wait_for_messages(user, 1, timeout=20)


@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_worker_killed_right_after_a_conversation_step_committed_neither_loses_nor_replays_it(
        database_url, private_redis, emulator_server, line, processes):
    """Issue 18: the kill lands after the step's commit and before the worker's next Redis write (once, the
    flow state's; now the delivery job's). The step holds: its answer arrives once and the next tap fits it."""
    from redis import Redis

    from tests.flows.conftest import Chat

    started, logs = processes
    settings = make_settings(database_url, emulator_server.base_url, redis_url=private_redis.url,
                             job_lease_seconds=3, sweep_interval_seconds=0.5)
    env = bot_environment(settings)
    web, url = start_web(env, logs)
    started.append(web)
    line.configure(webhook_url=f"{url}/callback")
    doomed = start_worker(env, logs, "doomed")
    started.append(doomed)
    chat = Chat(line, line.create_user("สมหญิง รักดี")["user_id"], timeout=30)
    chat.tap_data("menu=complaint")
    if "ยินยอม" in chat.labels:
        chat.tap("ยินยอม")
    done_before = count_events(database_url, InboxEvent.status == "done")

    line.set_faults(latency_ms=2500)  # the story step's loading animation holds the worker inside the step
    # The story names its place, so the step classifies it (with the loading animation) and shows the summary.
    assert line.send_text(chat.user_id, "ถนนหน้าบ้านเป็นหลุมใหญ่ รถตกบ่อยมาก เขตบางรัก กรุงเทพ").status == 200
    wait_until(lambda: count_events(database_url, InboxEvent.status == "processing") == 1, timeout=15)
    time.sleep(1.0)  # past the step's own Redis writes (flood window, rate limit), inside LINE's 2.5 s
    redis = Redis.from_url(private_redis.url)
    redis.execute_command("CLIENT", "PAUSE", 30000, "WRITE")  # the worker's next Redis write will wait
    try:
        wait_until(lambda: count_events(database_url, InboxEvent.status == "done") == done_before + 1,
                   timeout=20)  # the step committed...
        time.sleep(0.5)
        doomed.kill()  # ...and the worker dies before any later write
    finally:
        redis.execute_command("CLIENT", "UNPAUSE")
        redis.close()
    line.clear_faults()
    started.append(start_worker(env, logs, "survivor"))

    answers = chat._await(2)  # the summary, delivered by the survivor from the committed outbox row
    assert "ยืนยันส่งเรื่อง" in chat.labels, answers
    assert chat.quiet(1.5) == []  # and only once
    chat.tap("ยืนยันส่งเรื่อง", expect=2)
    # The next step follows the committed one: the summary's "send" files the case.
    assert "DR-" in chat.said, chat.last
    assert count_events(database_url, InboxEvent.attempts > 1) == 0  # the step was not handled again
