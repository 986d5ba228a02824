"""Two-way with staff (issue 14): while an officer's reply or a hand-over is open, what the citizen sends
reaches that officer (the case, the agency's LINE group, the console), never a new complaint, until the
officer closes it, it goes idle, or the citizen starts something else explicitly."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from bot import messages
from bot.casework.work import reply_to_citizen
from storage.models import (
    Case, CaseAttachment, CaseMessage, FlowState, HandoverMessage, HandoverRequest, StaffThread, utcnow,
)
from tests.flows.conftest import Chat
from tests.groups.conftest import card_rows
from tests.support import wait_until

@pytest.fixture
def new_console_client(bot):
    """An administrator signed in to the running bot's console (hand-overs without a case are theirs)."""
    from tests.console.conftest import login, make_staff, seed

    seed(bot.services)
    make_staff(bot.services, "admin1", "administrator")
    client = bot.app.test_client()
    login(client, "admin1")
    return client, bot.services


STORY = "ถนนหน้าบ้านพังเป็นหลุมใหญ่มาก รถจักรยานยนต์ล้มไปสองคันแล้ว ซอยลาดพร้าว 71 เขตวังทองหลาง"


def count(groups, model) -> int:
    with groups.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def flow_of(groups, user: str) -> str | None:
    with groups.session() as session:
        row = session.get(FlowState, user)
        return (json.loads(row.state).get("active") or {}).get("flow") if row else None


def group_texts(groups, gid: str, since: int = 0) -> list[str]:
    return [m["message"].get("text", "") for m in groups.line.messages_for(gid, since)]


def test_a_citizens_answers_to_a_group_reply_reach_the_case_and_the_group_not_a_new_complaint(groups, line):
    gid, members = groups.link()
    case_id = groups.file()
    ticket, citizen = groups.case(case_id).ticket, groups.citizen_of(case_id)
    chat = Chat(line, citizen)
    cases_before = count(groups, Case)
    [card] = wait_until(lambda: groups.cards(gid), what="the case card in the group")
    assert f"ตอบ {ticket}" in card_rows(card)["ตอบประชาชน"]  # the card says how to answer the citizen

    answer = groups.say(gid, members[0], f"ตอบ {ticket} ขอรูปหลุมเพิ่มเติม และตำแหน่งที่แน่นอนครับ")
    assert ticket in answer[0]["text"] and "ส่งข้อความถึงประชาชนแล้ว" in answer[0]["text"]
    [staff_said] = chat._await(1)
    assert "ขอรูปหลุมเพิ่มเติม" in staff_said["text"] and ticket in staff_said["text"]

    cursor = groups._cursor(gid)
    chat.send(STORY)  # a complete complaint story, but it answers the officer
    assert "ส่งถึงเจ้าหน้าที่แล้ว" in chat.said and ticket in chat.said
    posted = line.wait_for_messages(gid, 1, timeout=20, since=cursor)
    assert "ประชาชนตอบ" in posted[0]["message"]["text"] and "ลาดพร้าว 71" in posted[0]["message"]["text"]

    cursor = groups._cursor(gid)
    assert line.send_image(citizen, caption="หลุม").status == 200
    line.wait_for_messages(gid, 1, timeout=20, since=cursor)
    cursor = groups._cursor(gid)
    assert line.send_location(citizen, 13.7791, 100.6094, title="หน้าบ้าน", address="ซอยลาดพร้าว 71").status == 200
    located = [m["message"] for m in line.wait_for_messages(gid, 2, timeout=20, since=cursor)]
    assert located[1]["type"] == "location" and abs(located[1]["latitude"] - 13.7791) < 1e-6

    with groups.session() as session:
        said = list(session.scalars(select(CaseMessage).where(CaseMessage.case_id == case_id)
                                    .order_by(CaseMessage.id)))
        assert [bool(m.content_id) for m in said] == [False, True, False]
        assert said[0].text == STORY and (said[2].latitude, said[2].longitude) == (13.7791, 100.6094)
        assert session.scalar(select(func.count()).select_from(CaseAttachment)
                              .where(CaseAttachment.case_id == case_id)) == 1
    assert count(groups, Case) == cases_before and flow_of(groups, citizen) is None  # no new complaint

    closed = groups.say(gid, members[0], f"ปิดสนทนา {ticket}")
    assert "ปิดการสนทนา" in closed[0]["text"]
    [told] = chat._await(1)
    assert "ปิดการสนทนา" in told["text"]
    chat.send(STORY)  # the same story now is a new complaint
    assert flow_of(groups, citizen) == "complaint"


def test_the_citizen_leaves_the_thread_by_asking_for_the_menu_and_an_idle_thread_ends(groups, line):
    gid, members = groups.link()
    case_id = groups.file()
    citizen = groups.citizen_of(case_id)
    chat = Chat(line, citizen)
    with groups.bot.app.app_context(), groups.session() as session:
        reply_to_citizen(session, session.get(Case, case_id), "สะดวกให้เจ้าหน้าที่เข้าไปดูวันพรุ่งนี้ไหมครับ", "staff:1")
    chat._await(1)
    chat.send("สะดวกค่ะ")
    assert "ส่งถึงเจ้าหน้าที่แล้ว" in chat.said

    chat.send("เมนู")  # explicit: the thread ends, the menu comes
    assert messages.text("thread_left") in chat.said and messages.text("menu_prompt") in chat.said
    with groups.session() as session:
        assert session.scalar(select(StaffThread.closed_by)) == "citizen"
    chat.send(STORY)
    assert flow_of(groups, citizen) == "complaint"
    chat.send("ยกเลิก")

    # A new reply opens the thread again; left unanswered past THREAD_IDLE_SECONDS it ends by itself.
    with groups.bot.app.app_context(), groups.session() as session:
        reply_to_citizen(session, session.get(Case, case_id), "ขอเบอร์ติดต่อกลับด้วยครับ", "staff:1")
    chat._await(1)
    idle = groups.services.settings.thread_idle_seconds
    with groups.session() as session:
        session.execute(update(StaffThread).where(StaffThread.closed_at.is_(None))
                        .values(last_activity_at=utcnow() - timedelta(seconds=idle + 60)))
    chat.send(STORY)
    assert flow_of(groups, citizen) == "complaint"
    with groups.session() as session:
        assert session.scalar(select(StaffThread.closed_by).order_by(StaffThread.id.desc()).limit(1)) == "idle"
        assert session.scalar(select(func.count()).select_from(CaseMessage)) == 1  # only "สะดวกค่ะ"


def test_an_emergency_or_another_cases_ticket_leaves_the_thread(groups, line):
    gid, members = groups.link()
    case_id = groups.file()
    citizen = groups.citizen_of(case_id)
    chat = Chat(line, citizen)
    with groups.bot.app.app_context(), groups.session() as session:
        reply_to_citizen(session, session.get(Case, case_id), "ขอรายละเอียดเพิ่มครับ", "staff:1")
    chat._await(1)
    chat.send("มีคนจมน้ำ ช่วยด้วย")
    assert "1669" in chat.said or "191" in chat.said  # the emergency numbers, not the officer
    with groups.session() as session:
        assert session.scalar(select(StaffThread.closed_by)) == "citizen"
        assert session.scalar(select(func.count()).select_from(CaseMessage)) == 0

    # Another case's number is a question about that case; their own case's number stays in the thread.
    other = groups.case(groups.file()).ticket
    with groups.bot.app.app_context(), groups.session() as session:
        reply_to_citizen(session, session.get(Case, case_id), "ขอรายละเอียดเพิ่มครับ", "staff:1")
    chat._await(1)
    chat.send(f"เรื่อง {groups.case(case_id).ticket} ค่ะ หลุมลึกประมาณ 30 ซม.")
    assert "ส่งถึงเจ้าหน้าที่แล้ว" in chat.said
    chat.send(other)
    assert "ส่งถึงเจ้าหน้าที่แล้ว" not in chat.said and messages.text("thread_left") in chat.said
    with groups.session() as session:
        assert session.scalar(select(func.count()).select_from(CaseMessage)) == 1


def test_a_hand_over_is_a_conversation_until_staff_close_it(groups, line, new_console_client):
    client, services = new_console_client
    chat = Chat(line, line.create_user("มานี มีนา")["user_id"])
    chat.send("คุยกับเจ้าหน้าที่")
    chat.send("อยากสอบถามเรื่องสิทธิบัตรทอง")
    with groups.session() as session:
        handover = session.scalar(select(HandoverRequest))
        handover_id = handover.id
    chat.send(STORY)  # goes to the person, not to a complaint
    assert "ส่งถึงเจ้าหน้าที่แล้ว" in chat.said and f"#{handover_id}" in chat.said
    assert flow_of(groups, chat.user_id) is None and count(groups, Case) == 0

    from tests.console.conftest import token

    csrf = token(client, f"/console/handovers/{handover_id}")
    assert client.post(f"/console/handovers/{handover_id}",
                       data={"action": "reply", "text": "ได้ครับ ขอเลขบัตรประชาชนด้วย", "from": "page",
                             "csrf_token": csrf}).status_code == 302
    [reply] = chat._await(1)
    assert "ขอเลขบัตรประชาชนด้วย" in reply["text"]
    assert line.send_location(chat.user_id, 13.75, 100.5, title="บ้าน").status == 200
    shown = wait_until(lambda: [i for i in client.get(f"/console/handovers/{handover_id}/conversation").json["items"]
                                if i["map"]], what="the location on the hand-over page")
    assert shown[0]["who"] == "citizen"
    items = client.get(f"/console/handovers/{handover_id}/conversation").json["items"]
    assert [i["who"] for i in items] == ["citizen", "citizen", "staff", "citizen"]
    assert items[1]["text"] == STORY

    assert client.post(f"/console/handovers/{handover_id}", data={"action": "close", "csrf_token": csrf}
                       ).status_code == 302
    chat._await(1)
    chat.send(STORY)
    assert flow_of(groups, chat.user_id) == "complaint"
    with groups.session() as session:
        assert session.scalar(select(func.count()).select_from(HandoverMessage)) == 3


def test_delete_my_data_leaves_the_thread_and_removes_what_the_citizen_said_in_it(groups, line):
    chat = Chat(line, line.create_user("มานะ ใจกล้า")["user_id"])
    chat.send("คุยกับเจ้าหน้าที่")
    chat.send("บ้านเลขที่ 99 ถูกน้ำท่วม โทร 0812345678")
    chat.send("ส่งตำแหน่งให้นะคะ")
    assert line.send_location(chat.user_id, 13.75, 100.5, title="บ้าน").status == 200
    wait_until(lambda: count(groups, HandoverMessage) == 2, what="the citizen's messages in the hand-over")
    chat.send("ลบข้อมูลของฉัน")  # their right: never swallowed by the thread
    chat.tap("ยืนยันลบข้อมูล")
    assert "ลบข้อมูลส่วนบุคคลของคุณเรียบร้อยแล้ว" in chat.said
    assert count(groups, HandoverMessage) == 0
    with groups.session() as session:
        assert session.scalar(select(StaffThread.closed_by)) == "citizen"
        assert session.scalar(select(HandoverRequest.message)) is None


def test_the_end_chat_button_leaves_the_thread_and_asking_for_a_person_again_stays_in_it(groups, line):
    chat = Chat(line, line.create_user("ชูใจ ใจดี")["user_id"])
    chat.send("คุยกับเจ้าหน้าที่")
    chat.send("ขอคุยเรื่องเบี้ยผู้สูงอายุ")
    chat.send("คุยกับเจ้าหน้าที่")  # said to the person already being asked for, not a second request
    assert "ส่งถึงเจ้าหน้าที่แล้ว" in chat.said
    chat.tap(messages.text("thread_btn_leave"))
    assert messages.text("thread_left") in chat.said
    chat.send(STORY)
    assert flow_of(groups, chat.user_id) == "complaint"
    with groups.session() as session:
        assert session.scalar(select(func.count()).select_from(HandoverRequest)) == 1
        assert [m.text for m in session.scalars(select(HandoverMessage))] == ["คุยกับเจ้าหน้าที่"]


def test_the_thread_ends_when_the_case_is_resolved(groups, line):
    """After "resolved" the citizen answers the bot ("solved?", a rating, a new story), not a finished thread."""
    from bot.casework.lifecycle import change_status

    case_id = groups.file()
    citizen = groups.citizen_of(case_id)
    chat = Chat(line, citizen)
    with groups.bot.app.app_context(), groups.session() as session:
        reply_to_citizen(session, session.get(Case, case_id), "จะเข้าไปซ่อมพรุ่งนี้ครับ", "staff:1")
    chat._await(1)
    with groups.bot.app.app_context(), groups.session() as session:
        case = session.get(Case, case_id)
        change_status(session, case, "accepted", "staff:1")
        change_status(session, case, "resolved", "staff:1", note="ซ่อมถนนเรียบร้อยแล้ว")
    chat._await(2)
    chat.send(STORY)
    assert flow_of(groups, citizen) == "complaint"
    with groups.session() as session:
        assert session.scalar(select(StaffThread.closed_by)) == "case_closed"
        assert session.scalar(select(func.count()).select_from(CaseMessage)) == 0
