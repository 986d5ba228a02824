"""Agencies' groups in the emulator: groups the bot joins, link codes, registered staff and filed cases."""

from __future__ import annotations

import time
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from sqlalchemy import select

from bot.groups import post_case_card
from bot.groups.linking import create_code
from storage import groups as store
from storage.models import Case, Citizen, InboxEvent
from tests import factories
from tests.support import wait_until

AGENCY = "damrongdhama:10"  # Bangkok's centre
OTHER_AGENCY = "mea"


class Groups:
    """Test helpers bound to one running bot and the emulator."""

    def __init__(self, bot, line) -> None:
        self.bot, self.line = bot, line
        self.services = bot.services

    def session(self):
        return self.services.transaction()

    def join(self, name: str = "กลุ่มเจ้าหน้าที่", members: int = 3) -> tuple[str, list[str]]:
        """A group with ``members`` people that the bot joins (join event: recorded with name and size)."""
        member_ids = [self.line.create_user(display_name=f"จนท {n}")["user_id"] for n in range(members)]
        gid = self.line.create_group(name=name, member_ids=member_ids, bot_joined=False)["group_id"]
        assert self.line.join_group(gid).status == 200
        self.line.wait_for_messages(gid, 1, timeout=20)  # the hello
        return gid, member_ids

    def code(self, agency_id: str = AGENCY, ttl: timedelta = timedelta(hours=1), purpose: str = "group",
             provinces: list[str] | None = None) -> str:
        with self.bot.app.app_context(), self.session() as session:
            return create_code(session, agency_id, "test", provinces, ttl, purpose=purpose).code

    def say(self, gid: str, user: str, text: str, expect: int | None = 1) -> list[dict]:
        """Type in the group; wait for ``expect`` answers (None: wait until the event is handled, expect none)."""
        cursor = self._cursor(gid)
        result = self.line.send_text(user, text, group_id=gid)
        assert result.status == 200
        return self._answers(gid, cursor, result.event_id, expect)

    def press(self, gid: str, user: str, data: str, expect: int | None = 1) -> list[dict]:
        cursor = self._cursor(gid)
        result = self.line.tap_postback(user, data, group_id=gid)
        assert result.status == 200
        return self._answers(gid, cursor, result.event_id, expect)

    def link(self, agency_id: str = AGENCY, members: int = 3, staff: int = 1,
             provinces: list[str] | None = None) -> tuple[str, list[str]]:
        """A joined group linked to ``agency_id`` whose first ``staff`` members are registered staff."""
        gid, member_ids = self.join(members=members)
        answer = self.say(gid, member_ids[0], f"เชื่อมกลุ่ม {self.code(agency_id, provinces=provinces)}")
        assert "เชื่อมกลุ่มนี้กับ" in answer[0]["text"]
        with self.session() as session:
            for user in member_ids[:staff]:
                store.register_staff(session, user, agency_id, "test")
        return gid, member_ids

    def file(self, agency_id: str = AGENCY, **fields) -> int:
        """A filed case (as the complaint flow files it), its card posted; returns the case id."""
        citizen_line_id = self.line.create_user(display_name="สมชาย ใจดี")["user_id"]
        values = dict(description="ถนนหน้าบ้านเป็นหลุม โทร 0812345678", category="ถนน", agency_id=agency_id,
                      province="กรุงเทพมหานคร", district="บางรัก", address="ซอยสีลม 5", latitude=13.7246,
                      longitude=100.5296, phone="0899999999", target_days=7.0)
        with self.bot.app.app_context(), self.session() as session:
            citizen = factories.citizen(session, citizen_line_id, display_name="สมชาย ใจดี")
            case = factories.case(session, citizen, **{**values, **fields})
            post_case_card(session, case)
            return case.id

    def case(self, case_id: int) -> Case:
        with self.session() as session:
            case = session.get(Case, case_id)
            session.expunge(case)
            return case

    def citizen_of(self, case_id: int) -> str:
        with self.session() as session:
            return session.scalar(select(Citizen.line_user_id).join(Case, Case.citizen_id == Citizen.id)
                                  .where(Case.id == case_id))

    def cards(self, gid: str, since: int = 0) -> list[dict]:
        return [m["message"] for m in self.line.messages_for(gid, since) if m["message"]["type"] == "flex"]

    def _cursor(self, gid: str) -> int:
        return max((m["seq"] for m in self.line.messages_for(gid)), default=0)

    def _answers(self, gid: str, cursor: int, event_id: str, expect: int | None) -> list[dict]:
        def handled():
            with self.session() as session:
                status = session.scalar(select(InboxEvent.status).where(InboxEvent.webhook_event_id == event_id))
                return status == "done"

        if expect is None:
            wait_until(handled, what="event handled")
            time.sleep(0.3)  # let any (wrong) answer's delivery land before we look
            return [m["message"] for m in self.line.messages_for(gid, cursor)]
        return [m["message"] for m in self.line.wait_for_messages(gid, expect, timeout=20, since=cursor)]


def buttons(card: dict) -> dict[str, dict]:
    """A case card's buttons by label."""
    footer = card["contents"].get("footer", {}).get("contents", [])
    return {b["action"]["label"]: b["action"] for b in footer}


def card_rows(card: dict) -> dict[str, str]:
    return {row["contents"][0]["text"]: row["contents"][1]["text"] for row in card["contents"]["body"]["contents"]}


def data_of(action: dict) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(action["data"]).items()}


@pytest.fixture
def groups(bot, line) -> Groups:
    return Groups(bot, line)


from tests.delivery.conftest import pg_url, workers  # noqa: E402,F401 - real worker processes (Redis mode)
