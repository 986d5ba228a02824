"""Embedded mode (SQLite): LINE is never called while an event holds the database's one write lock.

A slow LINE (2 s per call here) inside the write transaction would stall every other chat's event and the
console behind it. A probe tries to take the write lock (``BEGIN IMMEDIATE``, no waiting) every 20 ms while a
new citizen's first message (its profile is fetched) and a story (classified under the typing animation) are
handled; the lock may be busy for the moments of a write, never for the length of a LINE call.
"""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from storage.models import Citizen
from tests.flows.conftest import Chat, rows
from tests.support import start

LATENCY = 2.0


class LockProbe(threading.Thread):
    """The longest stretch during which SQLite's write lock could not be taken."""

    def __init__(self, path: str) -> None:
        super().__init__(daemon=True)
        self.path, self.stop, self.longest = path, threading.Event(), 0.0

    def run(self) -> None:
        busy_since = None
        while not self.stop.is_set():
            connection = sqlite3.connect(self.path, timeout=0, isolation_level=None)
            try:
                connection.execute("BEGIN IMMEDIATE")
                connection.execute("ROLLBACK")
                busy_since = None
            except sqlite3.OperationalError:  # "database is locked": someone holds the write lock
                busy_since = busy_since or time.monotonic()
                self.longest = max(self.longest, time.monotonic() - busy_since)
            finally:
                connection.close()
            time.sleep(0.02)


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_slow_line_never_holds_the_sqlite_write_lock(bot, line, chat, database_url):
    start(chat)  # consent given, the data of places and the classifier loaded, before LINE turns slow
    probe = LockProbe(database_url.removeprefix("sqlite:///"))
    probe.start()
    line.set_faults(latency_ms=int(LATENCY * 1000))
    try:
        newcomer = Chat(line, line.create_user("ผู้มาใหม่", language="th")["user_id"], timeout=30)
        newcomer.send("สวัสดีครับ")  # first contact: the profile is asked of LINE
        chat.timeout = 30
        chat.send("ถนนหน้าบ้านเป็นหลุมใหญ่ รถตกบ่อยมาก เขตบางรัก กรุงเทพ")  # classified: the typing dots
    finally:
        line.clear_faults()
        probe.stop.set()
        probe.join()
    assert line.loading_calls(), "the story was classified under the typing animation"
    (newcomer_row,) = rows(bot.services, Citizen, Citizen.line_user_id == newcomer.user_id)
    assert (newcomer_row.display_name, newcomer_row.language) == ("ผู้มาใหม่", "th")  # the profile was asked
    assert probe.longest < LATENCY / 2, f"the write lock was held {probe.longest:.2f} s across a LINE call"
