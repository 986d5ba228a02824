"""New cases reach their agency's group as a card; staff act from it through the case service."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.models import GroupAction, StatusChange
from tests.groups.conftest import AGENCY, OTHER_AGENCY, buttons, card_rows, data_of
from tests.support import wait_until


def test_a_new_case_is_posted_to_its_agency_group_only_with_personal_data_masked(groups, line):
    gid, _ = groups.link(AGENCY)
    other_gid, _ = groups.link(OTHER_AGENCY)
    groups.file(AGENCY)
    card = wait_until(lambda: groups.cards(gid) or None)[0]
    rows = card_rows(card)
    assert rows["ประเภท"] == "ถนน" and "ซอยสีลม 5" in rows["สถานที่"] and rows["สถานะ"]
    assert "0812345678" not in rows["รายละเอียด"] and "[เบอร์โทร]" in rows["รายละเอียด"]
    # A group is whoever was invited: the citizen's name and phone stay behind the console's login (issue 15).
    assert rows["ผู้ร้อง"] == "ชื่อและเบอร์โทรดูได้ในระบบเจ้าหน้าที่"
    assert "สมชาย" not in str(card) and "0899999999" not in str(card)
    labels = buttons(card)
    assert labels["ดูแผนที่"]["uri"].endswith("query=13.724600,100.529600")
    assert set(labels) == {"ดูแผนที่", "รับเรื่อง", "ส่งต่อหน่วยงานอื่น"}
    assert all(len(a["data"]) <= 300 for a in labels.values() if a["type"] == "postback")
    assert groups.cards(other_gid) == []

    groups.file(AGENCY, anonymous=True)
    anonymous = wait_until(lambda: groups.cards(gid)[1:] or None)[0]
    assert card_rows(anonymous)["ผู้ร้อง"] == "ไม่ประสงค์ออกนาม"
    assert "สมชาย" not in str(anonymous) and "0899999999" not in str(anonymous)


def test_registered_staff_accept_and_others_are_politely_refused(groups, line):
    gid, members = groups.link(AGENCY, staff=1)
    case_id = groups.file(AGENCY)
    card = wait_until(lambda: groups.cards(gid) or None)[0]
    accept = buttons(card)["รับเรื่อง"]["data"]

    refused = groups.press(gid, members[1], accept)
    assert "เฉพาะเจ้าหน้าที่ที่ลงทะเบียน" in refused[0]["text"]
    assert groups.case(case_id).status == "received"

    updated = groups.press(gid, members[0], accept)[0]
    assert updated["type"] == "flex" and card_rows(updated)["สถานะ"] != card_rows(card)["สถานะ"]
    assert "รับเรื่อง" not in buttons(updated) and "แก้ไขเสร็จแล้ว" in buttons(updated)
    assert groups.case(case_id).status == "accepted"
    with groups.session() as session:
        change = session.scalar(select(StatusChange).where(StatusChange.case_id == case_id,
                                                           StatusChange.to_status == "accepted"))
        assert change.actor.startswith("group:")
        audit = [(a.line_user_id, a.action, a.outcome) for a in session.scalars(
            select(GroupAction).where(GroupAction.case_id == case_id).order_by(GroupAction.id))]
    assert audit == [(members[1], "accept", "refused"), (members[0], "accepted", "done")]
    line.wait_for_messages(groups.citizen_of(case_id), 1, timeout=20)  # the citizen hears of it (lifecycle)


def test_a_double_press_is_handled_once(groups):
    gid, members = groups.link(AGENCY, staff=2)
    case_id = groups.file(AGENCY)
    accept = buttons(wait_until(lambda: groups.cards(gid) or None)[0])["รับเรื่อง"]["data"]
    cursor = groups._cursor(gid)
    first = groups.line.tap_postback(members[0], accept, group_id=gid)
    second = groups.line.tap_postback(members[1], accept, group_id=gid)
    assert first.status == second.status == 200
    answers = [m["message"] for m in groups.line.wait_for_messages(gid, 2, timeout=20, since=cursor)]
    assert sorted(m["type"] for m in answers) == ["flex", "text"]
    assert "ดำเนินการไปแล้ว" in next(m for m in answers if m["type"] == "text")["text"]
    with groups.session() as session:
        assert session.scalar(select(func.count()).select_from(StatusChange).where(
            StatusChange.case_id == case_id, StatusChange.to_status == "accepted")) == 1
    assert groups.case(case_id).status == "accepted"


def test_resolved_asks_for_a_note_and_the_next_message_of_that_member_is_it(groups):
    gid, members = groups.link(AGENCY, staff=1)
    case_id = groups.file(AGENCY)
    accept = buttons(wait_until(lambda: groups.cards(gid) or None)[0])["รับเรื่อง"]["data"]
    resolve = buttons(groups.press(gid, members[0], accept)[0])["แก้ไขเสร็จแล้ว"]["data"]
    assert "สรุปผล" in groups.press(gid, members[0], resolve)[0]["text"]
    assert groups.say(gid, members[1], "รับทราบครับ", expect=None) == []  # another member's chatter
    updated = groups.say(gid, members[0], "ซ่อมถนนเรียบร้อยแล้ว")[0]
    assert updated["type"] == "flex"
    assert groups.case(case_id).status == "resolved"
    with groups.session() as session:
        change = session.scalar(select(StatusChange).where(StatusChange.case_id == case_id,
                                                           StatusChange.to_status == "resolved"))
        assert change.note == "ซ่อมถนนเรียบร้อยแล้ว"
    assert groups.say(gid, members[0], "ขอบคุณทุกคน", expect=None) == []  # the note was taken once


def test_forwarding_moves_the_case_to_the_chosen_agency_and_its_group(groups):
    gid, members = groups.link(AGENCY, staff=1)
    other_gid, _ = groups.link(OTHER_AGENCY)
    case_id = groups.file(AGENCY)
    forward = buttons(wait_until(lambda: groups.cards(gid) or None)[0])["ส่งต่อหน่วยงานอื่น"]["data"]
    question = groups.press(gid, members[0], forward)[0]
    choices = {item["action"]["label"]: item["action"]["data"] for item in question["quickReply"]["items"]}
    assert data_of({"data": choices["การไฟฟ้านครหลวง"]})["to"] == OTHER_AGENCY
    # the centre's group covers Bangkok, so it gets the forwarded card too, beside the answer
    answers = groups.press(gid, members[0], choices["การไฟฟ้านครหลวง"], expect=2)
    assert any("ส่งต่อเรื่อง" in m.get("text", "") for m in answers)
    assert groups.case(case_id).status == "forwarded" and groups.case(case_id).agency_id == OTHER_AGENCY
    assert wait_until(lambda: groups.cards(other_gid) or None)


def test_a_card_links_to_the_case_page_of_the_console_when_its_address_is_configured(database_url, emulator_server):
    from bot import create_app
    from bot.groups.cards import case_card
    from tests import factories
    from tests.conftest import make_settings

    app = create_app(make_settings(database_url, emulator_server.base_url,
                                   console_base_url="https://siang.example.go.th/"))
    with app.app_context(), app.extensions["siang"].transaction() as session:
        case = factories.case(session, description="ไฟถนนดับ", category="แสงสว่าง")
        details = buttons(case_card(session, case))["รูปและรายละเอียด"]
    assert details == {"type": "uri", "label": "รูปและรายละเอียด",
                       "uri": f"https://siang.example.go.th/console/cases/{case.ticket}"}


def test_an_urgent_case_reaches_its_group_at_once_flagged_in_the_title_and_notification(groups):
    gid, _ = groups.link(AGENCY)
    groups.file(AGENCY, description="มีคนโดนไฟดูดที่เสาไฟหน้าตลาด", urgent=True)
    groups.file(AGENCY)
    urgent, ordinary = wait_until(lambda: groups.cards(gid) if len(groups.cards(gid)) == 2 else None)
    assert urgent["altText"].startswith("🚨 ด่วน") and not ordinary["altText"].startswith("🚨")
    title = urgent["contents"]["header"]["contents"][0]["text"]
    assert "ด่วน" in title and "อันตรายต่อชีวิต" in title
    colour = [card["contents"]["header"]["backgroundColor"] for card in (urgent, ordinary)]
    assert colour[0] != colour[1]
    assert card_rows(urgent)["ความเร่งด่วน"] == "ด่วน" and card_rows(ordinary)["ความเร่งด่วน"] != "ด่วน"
