"""Injected faults come in the configured shares, repeatably with a seed, and can change while running."""

from __future__ import annotations

import time

import requests

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
    assert client.config()["faults"] == {"latency_ms": 0, "fail_500": 0.0, "fail_429": 0.0, "seed": None}
