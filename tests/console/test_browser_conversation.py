"""The case page in a real browser (headless Chromium) while an officer talks with a citizen: the citizen's
answer appears on the open page without a reload and in the agency's LINE group; no new case is made; after
the officer closes the conversation, the citizen's new story starts a complaint."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from storage.models import Case, FlowState
from tests.console.conftest import make_staff, seed
from tests.flows.conftest import Chat
from tests.groups.conftest import AGENCY, Groups
from tests.support import sign_in, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)]
WAIT = 30
STORY = "ไฟถนนดับทั้งซอยมาหนึ่งสัปดาห์แล้ว มืดมาก อันตราย ซอยรามคำแหง 24 เขตบางกะปิ"


def test_the_citizens_answer_appears_live_on_the_case_page_and_in_the_group(bot, line, page):
    services = bot.services
    seed(services)
    groups = Groups(bot, line)
    gid, _ = groups.link(AGENCY)
    case_id = groups.file(AGENCY)
    ticket, citizen = groups.case(case_id).ticket, groups.citizen_of(case_id)
    wait_until(lambda: groups.cards(gid), what="the case card in the group")
    make_staff(services, "centre1", "agency_staff", agency_id=AGENCY)
    chat = Chat(line, citizen, timeout=WAIT)

    sign_in(page, bot.url, "centre1")
    page.goto(f"{bot.url}/console/cases/{ticket}")
    page.fill("#reply-text", "ขอรูปถ่ายจุดที่ไฟดับด้วยครับ")
    page.click("#reply-submit")
    page.wait_for_selector("#conversation-items li.staff:has-text('ขอรูปถ่ายจุดที่ไฟดับด้วยครับ')")
    assert "การสนทนาเปิดอยู่" in page.inner_text("#thread-state")
    [asked] = chat._await(1)
    assert "ขอรูปถ่ายจุดที่ไฟดับด้วยครับ" in asked["text"]

    cursor = groups._cursor(gid)
    chat.send(STORY)
    assert "ส่งถึงเจ้าหน้าที่แล้ว" in chat.said
    # The page was not reloaded: the answer arrives by the page's own polling.
    page.wait_for_selector(f"#conversation-items li.citizen:has-text('รามคำแหง 24')", timeout=WAIT * 1000)
    posted = line.wait_for_messages(gid, 1, timeout=WAIT, since=cursor)
    assert ticket in posted[0]["message"]["text"] and "รามคำแหง 24" in posted[0]["message"]["text"]
    with services.transaction() as db:
        assert db.scalar(select(func.count()).select_from(Case)) == 1

    page.click("#thread-close")
    page.wait_for_selector(".flash:has-text('ปิดการสนทนาแล้ว')")
    assert "ไม่มีการสนทนาที่เปิดอยู่" in page.inner_text("#thread-state")
    [closed] = chat._await(1)
    assert "ปิดการสนทนา" in closed["text"]
    chat.send(STORY)
    with services.transaction() as db:
        state = json.loads(db.get(FlowState, citizen).state)
    assert state["active"]["flow"] == "complaint"
