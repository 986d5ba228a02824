"""A citizen who chats with the bot through the emulator, reading replies and tapping quick replies by label."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from sqlalchemy import select

from bot.messages import utf16_length
from storage.flows import add_topic
from storage.models import FlowState
from tests.conftest import make_settings


class Chat:
    """One simulated citizen: every method sends one webhook and returns the bot's answer to it. The wait is
    generous: the first place lookup and the first classification of a process load their data (~10 s)."""

    def __init__(self, line, user_id: str, timeout: float = 20.0) -> None:
        self.line, self.user_id, self.timeout = line, user_id, timeout
        self.cursor = 0
        self.last: list[dict[str, Any]] = []

    # --- reading --------------------------------------------------------------------------------------------

    def _await(self, count: int = 1) -> list[dict[str, Any]]:
        deadline = time.monotonic() + self.timeout
        found: list[dict[str, Any]] = []
        while True:
            found = self.line.messages(self.user_id, since=self.cursor)["messages"]
            if len(found) >= count:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(found)} of {count} replies reached {self.user_id}: {found}")
            time.sleep(0.02)
        self.cursor = max(d["seq"] for d in found)
        self.last = [d["message"] for d in found]
        for message in self.last:
            check_limits(message)
        return self.last

    def quiet(self, seconds: float = 0.4) -> list[dict[str, Any]]:
        """What arrived within ``seconds`` (for "nothing more was said")."""
        time.sleep(seconds)
        found = self.line.messages(self.user_id, since=self.cursor)["messages"]
        if found:
            self.cursor = max(d["seq"] for d in found)
        return [d["message"] for d in found]

    @property
    def texts(self) -> list[str]:
        return [m["text"] for m in self.last if m["type"] == "text"]

    @property
    def said(self) -> str:
        return "\n".join(self.texts)

    @property
    def quick(self) -> list[dict[str, Any]]:
        items = (self.last[-1].get("quickReply") or {}).get("items", []) if self.last else []
        return [item["action"] for item in items]

    @property
    def labels(self) -> list[str]:
        return [action.get("label") for action in self.quick]

    def flex(self) -> list[dict[str, Any]]:
        return [m for m in self.last if m["type"] == "flex"]

    # --- doing ------------------------------------------------------------------------------------------------

    def send(self, text: str, expect: int = 1):
        self.result = self.line.send_text(self.user_id, text)
        assert self.result.status == 200
        return self._await(expect)

    def tap(self, label: str, expect: int = 1, **params: str):
        """Tap the quick reply with this label on the bot's last message."""
        for action in self.quick:
            if action.get("label") == label:
                break
        else:
            raise AssertionError(f"no quick reply {label!r} among {self.labels}")
        kind = action["type"]
        if kind == "message":
            return self.send(action["text"], expect)
        if kind in ("postback", "datetimepicker"):
            self.result = self.line.tap_postback(self.user_id, action["data"], params=params or None)
            return self._await(expect)
        raise AssertionError(f"cannot tap a {kind} action here")

    def tap_data(self, data: str, expect: int = 1, **params: str):
        self.result = self.line.tap_postback(self.user_id, data, params=params or None)
        return self._await(expect)

    def photo(self, expect: int = 1, **options):
        self.result = self.line.send_image(self.user_id, **options)
        return self._await(expect)

    def location(self, latitude: float, longitude: float, expect: int = 1, **options):
        self.result = self.line.send_location(self.user_id, latitude, longitude, **options)
        return self._await(expect)

    def sticker(self, expect: int = 1):
        self.result = self.line.send_sticker(self.user_id)
        return self._await(expect)


def check_limits(message: dict[str, Any]) -> None:
    """LINE's limits that the OpenAPI spec does not state: 13 quick replies, labels, text length."""
    if message["type"] == "text":
        assert utf16_length(message["text"]) <= 5000
    items = (message.get("quickReply") or {}).get("items", [])
    assert len(items) <= 13, items
    for item in items:
        label = item["action"].get("label")
        assert label and len(label) <= 20, label
    if message["type"] == "flex":
        assert len(json.dumps(message["contents"]).encode()) <= 30_000 or \
            message["contents"]["type"] == "carousel"
        assert len(message["altText"]) <= 1500


@pytest.fixture
def settings(database_url, emulator_server):
    """Test citizens answer faster than people: flood control is raised here (tested on its own)."""
    return make_settings(database_url, emulator_server.base_url, flood_burst=10_000)


@pytest.fixture
def chat(bot, line):
    """A Thai-speaking citizen, friend of the OA."""
    user = line.create_user("สมศรี ใจดี", language="th")
    return Chat(line, user["user_id"])


@pytest.fixture
def new_chat(bot, line):
    def make(name: str = "ผู้ใช้ทดสอบ", language: str = "th") -> Chat:
        return Chat(line, line.create_user(name, language=language)["user_id"])
    return make


def age_flow(services, user_id: str, seconds: float) -> None:
    """Pretend the citizen left the flow ``seconds`` ago (database store)."""
    with services.transaction() as session:
        row = session.get(FlowState, user_id)
        state = json.loads(row.state)
        state["active"]["updated"] -= seconds
        row.state = json.dumps(state, ensure_ascii=False)


def topic(services, title: str, **fields):
    with services.transaction() as session:
        return add_topic(session, title, **fields).id


def rows(services, model, *conditions):
    with services.transaction() as session:
        return list(session.scalars(select(model).where(*conditions)))
