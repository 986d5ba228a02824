"""bench/conversation.py: complete complaint conversations per second, and webhook→reply latency.

N simulated citizens talk to Siang in parallel through the LINE emulator (its own process), each filing
complaints as a person would (menu, consent, story, "no photo", place, date, phone, name, category,
confirm), answering as soon as the bot's reply arrives. Siang runs in production shape: gunicorn web workers
in Redis mode on PostgreSQL, and ``siang worker`` processes handling the events. Measured in the same run:

* webhook-only throughput: signed text events per second the web tier accepts (events queued, answers
  produced in the background), the baseline the conversations are compared with;
* conversations per second completed, and the time from each webhook to its reply at the emulator
  (p50/p99, from the emulator's own delivery timestamp).

Rates are divided by the real elapsed time of their phase (the last conversation may end after the planned
seconds), and printed beside the webhook-only rate as ratios. The emulator validates every request body
against LINE's OpenAPI spec, as in the tests; the shipped category model is loaded (the bench says how many
stories it was unsure of, each one more turn). Flood control is raised for the simulated citizens (they
answer in milliseconds, no person does).

    .venv/bin/python bench/conversation.py [--citizens 16] [--seconds 20] [--web 2] [--workers 4]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SECRET, TOKEN = "bench-channel-secret", "bench-access-token"
POSTGRES_ADMIN = os.environ.get("SIANG_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("SIANG_BENCH_REDIS", "redis://127.0.0.1:6379/8")
SPEC = Path(os.environ.get("SIANG_SHARED", ROOT.parent / "shared")) / "line-openapi" / "messaging-api.yml"
BENCH_OVERRIDES = {"flood_burst": 1_000_000}
PLACES = ("อ.เมือง จ.ขอนแก่น", "เขตบางรัก กรุงเทพ", "อ.หางดง จ.เชียงใหม่", "อ.ปัว จ.น่าน", "อ.เมือง จ.ลำปาง")


def bench_app():
    """The gunicorn app of the bench: Siang from the environment, flood control raised."""
    from bot import create_app
    from bot.config import Settings

    return create_app(Settings.from_env().with_overrides(**BENCH_OVERRIDES))


def bench_worker() -> None:
    """A ``siang worker`` with the bench's settings."""
    from bot import create_app
    from bot.config import Settings
    from bot.worker import run_worker

    run_worker(create_app(Settings.from_env().with_overrides(**BENCH_OVERRIDES)))


class Citizen:
    """One simulated person: sends, waits for the reply at the emulator, taps quick replies by label."""

    def __init__(self, client, user_id: str) -> None:
        self.client, self.user_id = client, user_id
        self.cursor = client.messages(user_id)["cursor"]  # only replies to what this citizen says from now
        self.last: list[dict] = []
        self.latencies_ms: list[float] = []
        self.unsure = 0  # stories the classifier asked the citizen to categorise

    def _wait(self, sent_at_ms: float, count: int = 1, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            found = self.client.messages(self.user_id, since=self.cursor)["messages"]
            if len(found) >= count:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"no reply for {self.user_id}")
            time.sleep(0.03)  # the latency is read from the emulator, not from this poll
        self.cursor = max(d["seq"] for d in found)
        self.last = [d["message"] for d in found]
        self.latencies_ms.append(min(d["timestamp"] for d in found) - sent_at_ms)

    def send(self, text: str, count: int = 1) -> None:
        sent = time.time() * 1000
        self.client.send_text(self.user_id, text)
        self._wait(sent, count)

    def tap(self, label: str, count: int = 1) -> None:
        items = (self.last[-1].get("quickReply") or {}).get("items", [])
        action = next(i["action"] for i in items if i["action"].get("label") == label)
        if action["type"] == "message":
            return self.send(action["text"], count)
        sent = time.time() * 1000
        self.client.tap_postback(self.user_id, action["data"])
        self._wait(sent, count)

    @property
    def labels(self) -> list[str]:
        return [i["action"].get("label") for i in (self.last[-1].get("quickReply") or {}).get("items", [])]

    def complaint(self, n: int) -> None:
        sent = time.time() * 1000
        self.client.tap_postback(self.user_id, "menu=complaint")
        self._wait(sent)
        if "ยินยอม" in self.labels:
            self.tap("ยินยอม")
        self.send(f"ไฟถนนหน้าบ้านดับมาหลายวันแล้ว ซอยมืดมาก เรื่องที่ {n} ของ {self.user_id[-6:]}")
        # The flow's order changes as the flow does (the place is asked before photos now): answer whatever
        # is asked, by the quick replies it offers, until the summary's confirm button.
        for _ in range(12):
            labels = self.labels
            if "ยืนยันส่งเรื่อง" in labels:
                self.tap("ยืนยันส่งเรื่อง", 2)
                break
            if "ไม่ใช่ทั้งหมด" in labels:
                self.unsure += 1
                self.tap(labels[0], 2)
            elif "แจ้งเรื่องใหม่" in labels:
                self.tap("แจ้งเรื่องใหม่", 2)
            elif "ไม่มีรูป" in labels:
                self.tap("ไม่มีรูป")
            elif "ส่งตำแหน่ง" in labels:
                self.send(PLACES[n % len(PLACES)])
            elif "วันนี้" in labels:
                self.tap("วันนี้")
            elif "เปิดเผยชื่อ" in labels:
                self.tap("เปิดเผยชื่อ")
            elif any("เบอร์" in m.get("text", "") for m in self.last):
                self.send("0812345678")
            else:
                raise RuntimeError(f"unexpected step: {self.last!r}"[:1500])
        assert any("DR-" in m.get("text", "") for m in self.last), self.last


def webhook_only(client, users: list[str], seconds: float) -> float:
    """Signed text events per second accepted by the web tier (each answered 200 by /callback)."""
    counts = [0] * len(users)
    stop = time.monotonic() + seconds

    def run(index: int) -> None:
        while time.monotonic() < stop:
            result = client.send_text(users[index], "สวัสดีค่ะ")
            if result.status == 200:
                counts[index] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(users))]
    started = time.monotonic()
    [t.start() for t in threads]
    [t.join() for t in threads]
    return sum(counts) / (time.monotonic() - started)


def drain(client, quiet_seconds: float = 1.5, limit: float = 120.0) -> None:
    """Wait until the bot has answered everything (no new message for ``quiet_seconds``)."""
    cursor, quiet_since, deadline = client.messages()["cursor"], time.monotonic(), time.monotonic() + limit
    while time.monotonic() - quiet_since < quiet_seconds and time.monotonic() < deadline:
        time.sleep(0.2)
        now = client.messages(since=cursor)["cursor"]
        if now != cursor:
            cursor, quiet_since = now, time.monotonic()


def conversations(client, users: list[str], seconds: float) -> tuple[float, list[float], int, float, int]:
    """Complete conversations per real second, every turn's reply latency, conversations, elapsed seconds,
    and how many stories the classifier was unsure of."""
    citizens = [Citizen(client, u) for u in users]
    done = [0] * len(citizens)
    errors: list[str] = []
    stop = time.monotonic() + seconds

    def run(index: int) -> None:
        n = 0
        while time.monotonic() < stop:
            try:
                citizens[index].complaint(n)
                done[index] += 1
            except Exception as exc:  # noqa: BLE001 - counted and reported, the bench goes on
                errors.append(f"{type(exc).__name__}: {exc}"[:200])
                return
            n += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(citizens))]
    started = time.monotonic()
    [t.start() for t in threads]
    [t.join() for t in threads]
    elapsed = time.monotonic() - started
    if errors:
        print(f"{len(errors)} conversation(s) failed, e.g. {errors[0]}", file=sys.stderr)
    return (sum(done) / elapsed, [ms for c in citizens for ms in c.latencies_ms], sum(done), elapsed,
            sum(c.unsure for c in citizens))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citizens", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--web", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--workers", type=int, default=4, help="siang worker processes")
    args = parser.parse_args()

    import requests
    from redis import Redis
    from sqlalchemy import create_engine, text

    from emulator.client import EmulatorClient
    from storage.migrate import upgrade
    from tests.processes import Process, free_port

    workdir = Path(tempfile.mkdtemp(prefix="siang-bench-conv-"))
    database = f"siang_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    database_url = POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{database}"
    upgrade(database_url)
    Redis.from_url(REDIS).flushdb()
    emulator_port, web_port = free_port(), free_port()
    emulator_url = f"http://127.0.0.1:{emulator_port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "DATABASE_", "REDIS_"))}
    env.update({"LINE_CHANNEL_SECRET": SECRET, "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
                "LINE_API_BASE_URL": emulator_url, "LINE_DATA_API_BASE_URL": emulator_url,
                "DATABASE_URL": database_url, "REDIS_URL": REDIS, "SECRET_KEY": "bench", "LOG_LEVEL": "ERROR",
                "JOB_QUEUE_NAME": f"bench-{uuid.uuid4().hex[:6]}", "PYTHONPATH": str(ROOT)})
    processes = [Process([sys.executable, "-m", "emulator", "--port", str(emulator_port), "--webhook-url",
                          f"http://127.0.0.1:{web_port}/callback", "--channel-secret", SECRET,
                          "--access-token", TOKEN, "--spec", str(SPEC)], env, workdir / "emulator.log")]
    processes.append(Process([sys.executable, "-m", "gunicorn", "--config", "python:bot.gunicorn_conf", "--bind",
                              f"127.0.0.1:{web_port}", "--workers", str(args.web), "--threads", str(args.threads),
                              "bench.conversation:bench_app()"], env, workdir / "gunicorn.log"))
    for n in range(args.workers):
        processes.append(Process([sys.executable, "-c", "from bench.conversation import bench_worker; bench_worker()"],
                                 env, workdir / f"worker-{n}.log"))
    try:
        for url in (f"{emulator_url}/_emulator/config", f"http://127.0.0.1:{web_port}/healthz"):
            for _ in range(300):
                try:
                    if requests.get(url, timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                time.sleep(0.1)
        client = EmulatorClient(emulator_url, timeout=30)
        users = [client.create_user(f"ประชาชน {n}")["user_id"] for n in range(args.citizens)]
        time.sleep(2)  # workers import and connect: start-up is not throughput
        Citizen(client, users[0]).complaint(0)  # warm-up: first imports, first consent
        webhook_rate = webhook_only(client, users, min(10.0, args.seconds / 2))
        drain(client)  # the greetings' answers, before the conversations start
        rate, latencies, completed, elapsed, unsure = conversations(client, users, args.seconds)
    finally:
        for process in reversed(processes):
            process.stop()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        Redis.from_url(REDIS).flushdb()
    turns = len(latencies)
    turn_rate = turns / elapsed
    print(f"\ncomplaint conversations, {args.citizens} citizens in parallel, gunicorn {args.web}x{args.threads} "
          f"(Redis mode, PostgreSQL), {args.workers} siang workers, {elapsed:.1f}s measured "
          f"({args.seconds:.0f}s planned), emulator validating against {SPEC.name}; load {os.getloadavg()[0]:.1f}")
    print(f"{'':40} {'per s':>9} {'x webhook-only':>15}")
    print(f"{'webhook-only (events accepted/s)':40} {webhook_rate:9.1f} {1:15.2f}   (baseline, same run)")
    print(f"{'conversation turns handled/s':40} {turn_rate:9.1f} {turn_rate / webhook_rate:15.3f}   ({turns} turns)")
    print(f"{'complete complaint conversations/s':40} {rate:9.2f} {rate / webhook_rate:15.4f}   "
          f"({completed} tickets filed; classifier unsure of {unsure} stories)")
    print(f"{'webhook -> reply p50 ms':40} {percentile(latencies, 0.50):9.1f}")
    print(f"{'webhook -> reply p99 ms':40} {percentile(latencies, 0.99):9.1f}")
    print(json.dumps({"citizens": args.citizens, "webhook_events_per_s": round(webhook_rate, 1),
                      "elapsed_s": round(elapsed, 1), "unsure": unsure,
                      "turns_ratio": round(turn_rate / webhook_rate, 3),
                      "conversations_ratio": round(rate / webhook_rate, 4),
                      "conversations_per_s": round(rate, 2), "turns_per_s": round(turn_rate, 1),
                      "reply_p50_ms": round(percentile(latencies, 0.5), 1),
                      "reply_p99_ms": round(percentile(latencies, 0.99), 1),
                      "median_turn_ms": round(statistics.median(latencies), 1) if latencies else None}))


if __name__ == "__main__":
    main()
