"""A case card is posted again wherever the case changes (console, agency API, another group, the citizen),
officers are named (never by LINE id), a reopening and a rating reach the owner's group, and a group can ask
for the open cases filed before it was linked (issue 15)."""

from __future__ import annotations

import json

import requests
from sqlalchemy import select

from bot.casework.lifecycle import rate
from bot.casework import work
from storage import staff as staff_store
from storage.models import Case, StaffMember
from tests.console.conftest import make_staff, seed
from tests.groups.conftest import AGENCY, OTHER_AGENCY, buttons, card_rows, data_of
from tests.support import wait_until

CENTRE = "ศูนย์ดำรงธรรมกรุงเทพมหานคร"


def _new_cards(groups, gid: str, since: int, count: int) -> list[dict]:
    return wait_until(lambda: (cards := groups.cards(gid, since)) and len(cards) >= count and cards,
                      what=f"{count} new cards in {gid}")


def _cursor(groups, gid: str) -> int:
    return max((m["seq"] for m in groups.line.messages_for(gid)), default=0)


def test_a_change_anywhere_posts_the_card_again_naming_the_officer(groups, line):
    seed(groups.services)
    gid, members = groups.link(AGENCY, staff=0)
    registered = groups.say(gid, members[0], f"ลงทะเบียนเจ้าหน้าที่ {groups.code(AGENCY, purpose='staff')}")
    assert "ลงทะเบียน" in registered[0]["text"]
    with groups.session() as session:
        assert session.scalar(select(StaffMember.display_name).where(StaffMember.line_user_id == members[0])) == "จนท 0"
    officer = make_staff(groups.services, "somsri", "agency_staff", agency_id=AGENCY)
    with groups.session() as session:
        session.get(staff_store.StaffUser, officer).display_name = "สมศรี ใจดี"
        _, key = staff_store.create_api_key(session, name="erp", scope="agency", agency_id=AGENCY, created_by="t")
    case_id = groups.file(AGENCY)
    wait_until(lambda: groups.cards(gid) or None)
    ticket = groups.case(case_id).ticket

    # The console: the card comes again with the new status and the officer's name and office.
    cursor = _cursor(groups, gid)
    with groups.bot.app.app_context(), groups.session() as session:
        work.set_status(session, session.get(Case, case_id), "accepted", f"staff:{officer}")
    [card] = _new_cards(groups, gid, cursor, 1)
    rows = card_rows(card)
    assert rows["สถานะ"] == "หน่วยงานรับเรื่องแล้ว" and rows["ดำเนินการล่าสุดโดย"].startswith("สมศรี ใจดี, ")
    assert "staff:" not in json.dumps(card, ensure_ascii=False)

    # The agency API: again.
    cursor = _cursor(groups, gid)
    answer = requests.post(f"{groups.bot.url}/api/v1/cases/{ticket}/status", json={"status": "in_progress"},
                           headers={"Authorization": f"Bearer {key}"}, timeout=20)
    assert answer.status_code == 200
    [card] = _new_cards(groups, gid, cursor, 1)
    assert card_rows(card)["สถานะ"] == "กำลังดำเนินการ" and "(API)" in card_rows(card)["ดำเนินการล่าสุดโดย"]

    # A press in the group: answered there by one card (the reply), naming the officer, not their LINE id.
    cursor = _cursor(groups, gid)
    groups.press(gid, members[0], buttons(card)["แก้ไขเสร็จแล้ว"]["data"])
    [updated] = groups.say(gid, members[0], "ซ่อมถนนเรียบร้อยแล้ว")
    assert card_rows(updated)["ดำเนินการล่าสุดโดย"] == f"จนท 0, {CENTRE}"
    assert members[0] not in json.dumps(updated)
    assert len(groups.cards(gid, cursor)) == 1

    # The citizen says "not solved" and rates: the owner's group hears of both on the card.
    cursor = _cursor(groups, gid)
    with groups.bot.app.app_context(), groups.session() as session:
        rate(session, session.get(Case, case_id), 2, False, "citizen")
    [card] = _new_cards(groups, gid, cursor, 1)
    news = card_rows(card)["ความคืบหน้า"]
    assert "ผู้ร้องให้คะแนน ★★☆☆☆ (2/5)" in news and "เปิดเรื่องอีกครั้ง" in news
    assert card_rows(card)["สถานะ"] == "เปิดเรื่องอีกครั้ง"
    assert groups.case(case_id).status == "reopened"


def test_a_group_lists_the_open_cases_filed_before_it_was_linked(groups, line):
    seed(groups.services)
    before = [groups.file(AGENCY, description=f"ถนนเป็นหลุม จุดที่ {n}") for n in range(3)]
    groups.file(OTHER_AGENCY, province="เชียงใหม่", district=None)  # another agency, outside the centre's province
    closed = groups.file(AGENCY)
    with groups.bot.app.app_context(), groups.session() as session:
        work.set_status(session, session.get(Case, closed), "rejected", "system", reason="ซ้ำกับเรื่องอื่น")
    gid, members = groups.link(AGENCY)
    assert groups.cards(gid) == []

    summary, carousel = groups.say(gid, members[1], "เรื่องค้าง", expect=2)
    assert "3 จาก 3 เรื่อง" in summary["text"]
    bubbles = carousel["contents"]["contents"]
    tickets = [groups.case(i).ticket for i in before]
    assert [b["header"]["contents"][0]["text"].split()[-1] for b in bubbles] == tickets
    accept = next(b for b in bubbles[0]["footer"]["contents"] if b["action"]["label"] == "รับเรื่อง")["action"]
    assert data_of(accept)["c"] == str(before[0])
    # Listed once: the group has those cards now, and their changes reach it.
    again = groups.say(gid, members[1], "เรื่องค้าง")
    assert "ไม่มีเรื่องที่ยังเปิดอยู่" in again[0]["text"]
    cursor = _cursor(groups, gid)
    groups.press(gid, members[0], accept["data"])
    assert groups.case(before[0]).status == "accepted"
    assert len(groups.cards(gid, cursor)) == 1  # the reply; no second push to the same group
