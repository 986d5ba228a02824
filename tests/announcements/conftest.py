"""Fixtures for announcements: subscribers written straight to the database, and counting at the emulator."""

from __future__ import annotations

import hashlib
import time
from collections import Counter

from sqlalchemy import create_engine, insert, select

from bot.announcements import service
from bot.announcements.compose import Draft
from storage.models import Announcement, Citizen, Subscription, utcnow
from tests.delivery.conftest import pg_url, workers  # noqa: F401 - real worker processes on PostgreSQL


def line_id(n: int, salt: str = "") -> str:
    return "U" + hashlib.md5(f"{salt}{n}".encode()).hexdigest()


def add_subscribers(database_url: str, pairs_by_user: dict[str, list[tuple[str, str]]],
                    inactive: set[str] = frozenset()) -> dict[str, int]:
    """Citizens with the given (topic, province) subscriptions; returns line id -> citizen id."""
    engine = create_engine(database_url)
    now = utcnow()
    with engine.begin() as connection:
        connection.execute(insert(Citizen), [
            {"line_user_id": uid, "active": uid not in inactive, "first_seen_at": now, "last_seen_at": now}
            for uid in pairs_by_user])
        ids = dict(connection.execute(select(Citizen.line_user_id, Citizen.id)
                                      .where(Citizen.line_user_id.in_(list(pairs_by_user)))).all())
        rows = [{"citizen_id": ids[uid], "topic": t, "province": p, "active": True, "created_at": now,
                 "updated_at": now} for uid, pairs in pairs_by_user.items() for t, p in pairs]
        for start in range(0, len(rows), 5000):
            connection.execute(insert(Subscription), rows[start:start + 5000])
    engine.dispose()
    return ids


def draft(title: str, topics=("agriculture",), provinces=("all",), **fields) -> Draft:
    return Draft(title=title, text=fields.pop("text", "เนื้อหาประกาศทดสอบ"), topics=list(topics),
                 provinces=list(provinces), **fields)


def received(line, title: str) -> Counter:
    """LINE user id -> how many times the announcement titled ``title`` reached them (blocked or not)."""
    counts: Counter = Counter()
    for message in line.messages(include_undelivered=True)["messages"]:
        if message["endpoint"] in ("multicast", "broadcast") and f"📢 {title}\n" in message["message"].get("text", ""):
            counts[message["chat_id"]] += 1
    return counts


def announcement(database_url: str, announcement_id: int) -> Announcement:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        row = connection.execute(select(Announcement).where(Announcement.id == announcement_id)).one()
    engine.dispose()
    return row


def wait_for_status(services, announcement_id: int, status: str, timeout: float = 60, check=None):
    deadline = time.monotonic() + timeout
    while True:
        figures = service.progress(services, announcement_id)
        if figures.status == status:
            return figures
        if check is not None:
            check()
        assert time.monotonic() < deadline, f"announcement still {figures.status} after {timeout}s: {figures}"
        time.sleep(0.1)
