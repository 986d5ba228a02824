"""Injected faults come in the configured shares, repeatably with a seed, and can change while running."""

from __future__ import annotations

import time
import uuid

import pytest
import requests
from linebot.v3.messaging import ApiException, PushMessageRequest, ReplyMessageRequest, TextMessage

from emulator.server import RunningEmulator
from emulator.settings import Faults


def statuses(running: RunningEmulator, count: int) -> list[int]:
    headers = {"Authorization": f"Bearer {running.emulator.settings.access_token}"}
    with requests.Session() as http:
        return [http.get(f"{running.base_url}/v2/bot/message/quota", timeout=5, headers=headers).status_code
                for _ in range(count)]


def test_fault_shares_are_roughly_right_and_repeatable_with_a_seed(start_emulator_with):
    runs = []
    for _ in range(2):
        running = start_emulator_with(faults=Faults(fail_500=0.2, fail_429=0.1, seed=7))
        runs.append(statuses(running, 300))
        rejections = running.client.rejections()
    first = runs[0]
    assert 0.14 < first.count(500) / 300 < 0.26 and 0.05 < first.count(429) / 300 < 0.15
    assert runs[0] == runs[1]
    assert rejections == {"injected_500": first.count(500), "injected_429": first.count(429)}


def test_faults_change_at_run_time_and_spare_the_control_api(client, emulator, citizen):
    client.set_faults(fail_500=1.0)
    assert set(statuses(emulator, 5)) == {500}
    assert client.user(citizen["user_id"])["display_name"]
    client.set_faults(latency_ms=150)
    started = time.perf_counter()
    assert statuses(emulator, 2) == [200, 200]
    assert time.perf_counter() - started >= 0.3
    client.clear_faults()
    assert client.config()["faults"] == {"latency_ms": 0, "fail_500": 0.0, "fail_429": 0.0, "seed": None,
                                        "lose_answer": 0.0}


def test_a_lost_answer_is_a_500_for_a_request_that_was_carried_out(client, line, citizen):
    """LINE did the work and the answer went missing: the push is delivered, its retry key and the reply
    token are spent, and only a retry key (409) or a careful bot avoids saying it twice."""
    client.set_faults(lose_answer=1.0)
    key = str(uuid.uuid4())
    push = PushMessageRequest(to=citizen["user_id"], messages=[TextMessage(text="สถานะใหม่")])
    with pytest.raises(ApiException) as lost:
        line.push_message(push, x_line_retry_key=key)
    assert lost.value.status == 500
    token = client.send_text(citizen["user_id"], "สวัสดี").reply_token
    with pytest.raises(ApiException) as lost_reply:
        line.reply_message(ReplyMessageRequest(reply_token=token, messages=[TextMessage(text="รับเรื่องแล้ว")]))
    assert lost_reply.value.status == 500
    client.clear_faults()
    with pytest.raises(ApiException) as retried:
        line.push_message(push, x_line_retry_key=key)
    assert retried.value.status == 409
    with pytest.raises(ApiException) as spent:
        line.reply_message(ReplyMessageRequest(reply_token=token, messages=[TextMessage(text="รับเรื่องแล้ว")]))
    assert spent.value.status == 400 and "Invalid reply token" in spent.value.body
    assert client.texts_for(citizen["user_id"]) == ["สถานะใหม่", "รับเรื่องแล้ว"]
    assert client.lost_answers() == {"push": 1, "reply": 1}
    assert "injected_lost_answer" not in client.rejections()
