"""Helpers shared by test files and by ``bench/``: one module, so that no test file imports another.

Fixtures stay in the ``conftest.py`` files; what is here is plain code: the test channel and settings, waiting,
webhook posts and counts, outbox rows and worker processes for delivery, what LINE shows of a message, the
complaint walk in chat and the console's sign-in page. Rows to start from are built by ``tests.factories``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, insert, select

from bot.casework.states import STATES
from bot.config import Settings
from storage.models import InboxEvent, OutboxMessage, utcnow
from tests import events

# --- the test channel and settings ----------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SIANG_SHARED", ROOT.parent / "shared"))
LINE_SPEC = SHARED / "line-openapi" / "messaging-api.yml"
SECRET, TOKEN = "test-channel-secret", "test-access-token"
# Jobs of this test run go to a queue of their own, whatever else shares the Redis server.
TEST_QUEUE = f"siang-test-{uuid.uuid4().hex[:8]}"
SIANG = Path(sys.executable).with_name("siang")


def make_settings(database_url: str, emulator_url: str, **overrides: Any) -> Settings:
    """The bot's settings against the emulator at ``emulator_url``, fast leases and sweeps, own job queue."""
    values = dict(
        line_channel_secret=SECRET, line_channel_access_token=TOKEN, line_api_base_url=emulator_url,
        line_data_api_base_url=emulator_url, database_url=database_url, secret_key="test-secret",
        job_lease_seconds=5, sweep_interval_seconds=0.2, line_timeout_seconds=5.0, log_level="WARNING",
        job_queue_name=TEST_QUEUE,
    )
    values.update(overrides)
    return Settings(**values)


def wait_until(condition, timeout: float = 20.0, what: str = "condition"):
    """Poll ``condition`` until it returns something true, and return that; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached in {timeout}s (last: {value!r})")
        time.sleep(0.05)


# --- the webhook and its inbox ----------------------------------------------------------------------------

def post(client, payload: bytes, signature: str | None = "sign"):
    """POST ``payload`` to /callback, signed with the channel secret ("sign"), unsigned (None) or as given."""
    headers = {"Content-Type": "application/json"}
    if signature == "sign":
        headers["x-line-signature"] = events.sign(SECRET, payload)
    elif signature is not None:
        headers["X-Line-Signature"] = signature
    return client.post("/callback", data=payload, headers=headers)


def stored(app, *conditions) -> int:
    """Inbox events of ``app`` matching ``conditions``."""
    with app.extensions["siang"].transaction() as session:
        return session.scalar(select(func.count()).select_from(InboxEvent).where(*conditions))


def count_events(url: str, *conditions) -> int:
    """Inbox events matching ``conditions``, read from the database at ``url`` (other processes wrote them)."""
    engine = create_engine(url)
    with engine.connect() as connection:
        result = connection.scalar(select(func.count()).select_from(InboxEvent).where(*conditions))
    engine.dispose()
    return result


def outbox_summary(url: str) -> dict[str, int]:
    """Outbox rows, those not yet sent, events answered and messages sent, at ``url``."""
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(select(OutboxMessage.source_event_id, OutboxMessage.status,
                                         OutboxMessage.messages)).all()
    engine.dispose()
    return {
        "rows": len(rows),
        "unsent": sum(1 for row in rows if row.status in ("pending", "sending")),
        "events_answered": len({row.source_event_id for row in rows}),
        "messages": sum(len(json.loads(row.messages)) for row in rows if row.status == "sent"),
    }


# --- delivery: outbox rows and worker processes -----------------------------------------------------------

def add_pushes(database_url: str, recipients: list[str], per_recipient: int) -> list[int]:
    """``per_recipient`` numbered text pushes to each recipient, interleaved, in one transaction."""
    now = utcnow()
    rows = [
        {"kind": "push", "recipient": to, "retry_key": str(uuid.uuid4()), "status": "pending", "attempts": 0,
         "next_attempt_at": now, "created_at": now, "notification_disabled": False,
         "messages": json.dumps([{"type": "text", "text": f"{to[-6:]} #{n}"}])}
        for n in range(per_recipient) for to in recipients
    ]
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(insert(OutboxMessage), rows)
        ids = list(connection.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)))
    with engine.begin() as connection:
        # A live outbox has statistics; one filled in one statement a moment ago has none until autovacuum
        # comes by, and the planner would read every unfinished row for the claim's window of the oldest.
        connection.exec_driver_sql("ANALYZE outbox_messages")
    engine.dispose()
    return ids


def enqueue_all(redis_url: str, ids: list[int]) -> None:
    """A delivery job for each outbox row, in batches of a thousand."""
    from bot.jobs import RedisQueue

    jobs = RedisQueue(redis_url)
    for start in range(0, len(ids), 1000):
        jobs.enqueue_many("deliver_outbox", ids[start:start + 1000])
    jobs.stop()


class Workers:
    """``siang worker`` processes against one database, Redis and emulator."""

    def __init__(self, database_url: str, redis_url: str, emulator_url: str, **env: str) -> None:
        self.env = {**os.environ, "LINE_CHANNEL_SECRET": SECRET, "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
                    "LINE_API_BASE_URL": emulator_url, "LINE_DATA_API_BASE_URL": emulator_url,
                    "DATABASE_URL": database_url, "REDIS_URL": redis_url, "SECRET_KEY": "test-secret",
                    "JOB_LEASE_SECONDS": "3", "SWEEP_INTERVAL_SECONDS": "0.5", "LOG_LEVEL": "WARNING",
                    "LINE_TIMEOUT_SECONDS": "3", **env}
        self.processes: list[subprocess.Popen] = []

    def start(self, count: int = 1) -> list[subprocess.Popen]:
        started = [subprocess.Popen([str(SIANG), "worker"], cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE) for _ in range(count)]
        self.processes.extend(started)
        return started

    def kill(self, process: subprocess.Popen) -> None:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def assert_alive(self) -> None:
        for process in self.processes:
            if process.poll() not in (None, -signal.SIGKILL):
                raise AssertionError(f"worker {process.pid} died: {process.stderr.read().decode()[-3000:]}")

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# --- what a citizen sees ----------------------------------------------------------------------------------

AGENCY_ID = re.compile(r"[a-z]+-[a-z-]*:\d+|:\d{4}\b|\bbma-")
# English labels use the same words as some ids ("Not accepted"); a code shows as an id with "_" or alone.
STATE_CODE = re.compile(r"\b(" + "|".join(s for s in STATES if "_" in s) + r")\b")
TICKET = re.compile(r"DR-\d{4}-\d{6}")
INTERNAL = ("citizen:", "staff:", "group:", "→")


def shown(message: dict) -> list[str]:
    """What LINE shows of a message object: texts, alt text and button labels (not postback data or links)."""
    found: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("text", "altText", "label") and isinstance(value, str):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message)
    return found


def assert_no_codes(strings: list[str], lang: str) -> None:
    """No agency id, actor, state code or (in Thai) stray English in what a citizen is shown."""
    for said in strings:
        assert not AGENCY_ID.search(said), said
        assert not any(word in said for word in INTERNAL), said
        assert not STATE_CODE.search(said) and said.strip() not in STATES, said
        if lang == "th":
            assert not re.search(r"[A-Za-z]", TICKET.sub("", said)), f"English in a Thai card: {said!r}"


# --- a complaint in chat (a ``tests.flows.conftest.Chat``) ------------------------------------------------

STORY = "ไฟถนนหน้าบ้านดับมาสามวันแล้ว ซอยมืดมาก เด็กเดินกลับบ้านอันตราย"


def start(chat) -> None:
    """Open the complaint from the menu, consenting if asked."""
    chat.tap_data("menu=complaint")
    if "ยินยอม" in chat.labels:
        chat.tap("ยินยอม")
    assert "เล่าเรื่องที่พบ" in chat.said


def choose_category_if_asked(chat, label: str | None = None) -> None:
    if "ไม่ใช่ทั้งหมด" in chat.labels:
        chat.tap(label if label in chat.labels else chat.labels[0], expect=2)


def to_summary(chat) -> None:
    """After the last answer: the category if the model is unsure, a similar case if one is near, then the
    summary with its "send" button."""
    choose_category_if_asked(chat)
    if "แจ้งเรื่องใหม่" in chat.labels:
        chat.tap("แจ้งเรื่องใหม่", expect=2)
    assert "ยืนยันส่งเรื่อง" in chat.labels, chat.said


def walk_to_confirm(chat, story: str = STORY, place: str = "หน้าตลาดสด อ.เมือง จ.ขอนแก่น") -> None:
    """From the menu: the story (no place in it), then the place; the summary follows."""
    start(chat)
    chat.send(story)
    assert "เกิดเหตุที่ไหน" in chat.said
    chat.send(place)  # one reply: the summary card with its question, or the category question
    to_summary(chat)


# --- the staff console in a browser -----------------------------------------------------------------------

PASSWORD = "correct horse battery"  # every test staff account's (tests.console.conftest.make_staff)


def sign_in(page, base: str, username: str, password: str = PASSWORD) -> None:
    """Sign in to the console at ``base`` in a Playwright page."""
    page.goto(f"{base}/console/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-button")
    page.wait_for_selector("header.top form")
