"""Co-handlers and proof of work in agencies' LINE groups (the emulator): a co-handler's group gets the card
and its presses move its own part; a "resolved" on a category that needs an after-photo waits for the note
and the photo the officer sends in the group, and the citizen's push shows both; a forward back is refused."""

from __future__ import annotations

import json

import requests
from sqlalchemy import select

from bot.casework import cohandling, forwarding
from emulator.assets import sample_png
from storage.models import Case, CaseAttachment, Category, StatusChange
from tests.groups.conftest import AGENCY, OTHER_AGENCY, buttons, data_of
from tests.support import wait_until

WATER = "mwa"


def test_a_co_handlers_group_gets_the_card_and_its_press_moves_its_part_not_the_case(groups, line):
    lead_gid, lead_staff = groups.link(AGENCY, staff=1)
    water_gid, water_staff = groups.link(WATER, staff=1)
    case_id = groups.file(AGENCY)
    wait_until(lambda: groups.cards(lead_gid) or None)
    assert groups.cards(water_gid) == []
    with groups.bot.app.app_context(), groups.session() as session:
        cohandling.invite(session, session.get(Case, case_id), WATER, "staff:1")
    card = wait_until(lambda: groups.cards(water_gid) or None)[0]
    answer = groups.press(water_gid, water_staff[0], buttons(card)["รับเรื่อง"]["data"])[0]
    assert "การประปานครหลวง" in answer["text"] and "รับเรื่องร่วมดำเนินการ" in answer["text"]
    assert groups.case(case_id).status == "received"  # the lead's status is the lead's
    with groups.session() as session:
        assert cohandling.part_of(session, session.get(Case, case_id), WATER).status == "accepted"


def test_resolved_in_a_group_waits_for_the_note_and_the_after_photo_and_the_citizen_gets_both(groups, line):
    groups.services.settings = groups.services.settings.with_overrides(media_base_url=groups.bot.url)
    gid, members = groups.link(AGENCY, staff=1)
    with groups.session() as session:
        from storage import staff as staff_store

        staff_store.seed_catalogue(session)
        session.get(Category, "ถนน").requires_after_photo = True
    case_id = groups.file(AGENCY)
    citizen = groups.citizen_of(case_id)
    accept = buttons(wait_until(lambda: groups.cards(gid) or None)[0])["รับเรื่อง"]["data"]
    resolve = buttons(groups.press(gid, members[0], accept)[0])["แก้ไขเสร็จแล้ว"]["data"]
    assert "รูปถ่ายหลังแก้ไข" in groups.press(gid, members[0], resolve)[0]["text"]
    assert "ส่งรูปถ่าย" in groups.say(gid, members[0], "ปูถนนใหม่เรียบร้อยแล้ว")[0]["text"]
    assert groups.case(case_id).status == "accepted"  # no photo yet
    # Another member's photo is not the proof; the officer's is.
    cursor = groups._cursor(gid)
    assert line.send_image(members[1], group_id=gid, caption="รูปเล่น").status == 200
    photo = sample_png("หลังซ่อม")
    assert line.send_image(members[0], data=photo, group_id=gid).status == 200
    updated = line.wait_for_messages(gid, 1, timeout=20, since=cursor)[0]["message"]
    assert updated["type"] == "flex"
    assert groups.case(case_id).status == "resolved"
    with groups.session() as session:
        note = session.scalar(select(StatusChange.note).where(StatusChange.case_id == case_id,
                                                              StatusChange.to_status == "resolved"))
        assert note == "ปูถนนใหม่เรียบร้อยแล้ว"
        assert session.scalar(select(CaseAttachment.added_by).where(CaseAttachment.case_id == case_id,
                                                                   CaseAttachment.kind == "after")).startswith("group:")
    image = wait_until(lambda: next((m["message"] for m in line.messages_for(citizen)
                                     if m["message"]["type"] == "image"), None), what="the after-photo")
    assert "ปูถนนใหม่เรียบร้อยแล้ว" in json.dumps([m["message"] for m in line.messages_for(citizen)],
                                                  ensure_ascii=False)
    served = wait_until(lambda: (lambda r: r if r.status_code == 200 else None)(
        requests.get(image["originalContentUrl"], timeout=10)), what="the photo fetched from LINE and served")
    assert served.content == photo


def test_a_forward_back_from_a_group_is_refused(groups):
    gid, members = groups.link(OTHER_AGENCY, staff=1)
    groups.link(AGENCY)
    case_id = groups.file(AGENCY)
    with groups.bot.app.app_context(), groups.session() as session:
        forwarding.forward_case(session, session.get(Case, case_id), OTHER_AGENCY, "staff:1")
        from bot.groups import post_case_card

        post_case_card(session, session.get(Case, case_id))
    card = wait_until(lambda: groups.cards(gid) or None)[-1]
    question = groups.press(gid, members[0], buttons(card)["ส่งต่อหน่วยงานอื่น"]["data"])[0]
    choices = {data_of(item["action"])["to"]: item["action"]["data"] for item in question["quickReply"]["items"]}
    answer = groups.press(gid, members[0], choices[AGENCY])[0]
    assert "เคยอยู่ที่" in answer["text"]
    assert groups.case(case_id).agency_id == OTHER_AGENCY
