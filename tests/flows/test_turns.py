"""How many answers a citizen reads before the ticket (issue 14): a citizen who knows what happened and where,
reading only the bot's messages and doing what they ask, reaches a ticket in at most 3 bot turns when they
have agreed to the privacy notice before, 4 the first time; the same with a shared location instead of a
typed place. Photos sent at once (a LINE image set) are all attached, and answered once."""

from __future__ import annotations

import re

from bot import messages
from storage.models import Case, CaseAttachment
from tests.flows.conftest import Chat, rows

STORY_WITH_PLACE = "ถนนหน้าบ้านเป็นหลุมใหญ่ รถมอเตอร์ไซค์ล้มไปสองคันแล้ว ซอยลาดพร้าว 71 เขตวังทองหลาง"
STORY_WITHOUT_PLACE = "ถนนหน้าบ้านเป็นหลุมใหญ่ รถมอเตอร์ไซค์ล้มไปสองคันแล้ว ช่วยซ่อมด้วยค่ะ"
SIAM = (13.74776, 100.52846)  # in ปทุมวัน, on its district polygon
TICKET = re.compile(r"DR-\d{4}-\d{6}")


def t(key: str) -> str:
    return messages.text(key, "th")


def file_as_a_citizen(chat: Chat, story: str, location: tuple[float, float] | None = None,
                      max_turns: int = 8) -> tuple[int, str]:
    """Tell the story, then answer whatever the bot asks, as a citizen who reads the last message only:
    agree to the notice, no photo, share the location when asked where, send. (turns, ticket)."""
    chat.send(story)
    turns = 1
    while turns <= max_turns:
        said, labels = chat.said, chat.labels
        ticket = TICKET.search(said)
        if ticket and t("complaint_btn_confirm") not in labels:
            return turns, ticket.group(0)
        kinds = [action["type"] for action in chat.quick]
        if t("privacy_btn_agree") in labels:
            chat.tap(t("privacy_btn_agree"))
        elif t("complaint_btn_confirm") in labels:
            chat.tap(t("complaint_btn_confirm"), expect=2)
        elif "location" in kinds and location is not None:
            chat.location(*location, title="สยาม")
        elif t("complaint_btn_no_photo") in labels:
            chat.tap(t("complaint_btn_no_photo"))
        else:
            raise AssertionError(f"the citizen does not know what the bot wants after {turns} turns: {said!r}")
        turns += 1
    raise AssertionError(f"no ticket after {max_turns} turns")


def test_a_complete_story_with_its_place_reaches_a_ticket_in_4_turns_then_3_once_consent_is_given(bot, chat):
    first, ticket = file_as_a_citizen(chat, STORY_WITH_PLACE)
    assert first <= 4, first
    second, again = file_as_a_citizen(
        chat, "ท่อระบายน้ำอุดตัน น้ำเน่าส่งกลิ่นเหม็นมาหนึ่งสัปดาห์ ซอยรามคำแหง 39 เขตวังทองหลาง")
    assert second <= 3, second
    cases = {c.ticket: c for c in rows(bot.services, Case)}
    assert set(cases) == {ticket, again}
    assert (cases[ticket].province, cases[ticket].district) == ("กรุงเทพมหานคร", "วังทองหลาง")
    assert "ลาดพร้าว 71" in cases[ticket].description
    print(f"turns: first-time {first}, returning {second}")


def test_a_shared_location_instead_of_a_typed_place_takes_as_many_turns(bot, chat):
    first, ticket = file_as_a_citizen(chat, STORY_WITHOUT_PLACE, location=SIAM)
    assert first <= 4, first
    second, _ = file_as_a_citizen(chat, "ไฟถนนดับทั้งซอย มืดมาก เดินกลับบ้านตอนกลางคืนอันตราย", location=SIAM)
    assert second <= 3, second
    (case, _) = sorted(rows(bot.services, Case), key=lambda c: c.id)
    assert (case.ticket, case.district) == (ticket, "ปทุมวัน") and case.latitude is not None
    print(f"turns with a location: first-time {first}, returning {second}")


def test_a_location_sent_before_the_story_is_kept_and_the_bot_asks_only_what_happened(bot, chat):
    chat.location(*SIAM, title="สยาม")
    assert "สยาม" in chat.said and t("privacy_btn_agree") in chat.labels  # kept; the notice comes first
    chat.tap(t("privacy_btn_agree"))
    assert t("complaint_describe_ask_photos") in chat.said  # not "where?": the place is known
    chat.send(STORY_WITHOUT_PLACE)
    assert t("complaint_btn_confirm") in chat.labels  # photos were invited with the question: no "photo?"
    chat.tap(t("complaint_btn_confirm"), expect=2)
    (case,) = rows(bot.services, Case)
    assert case.district == "ปทุมวัน" and "หลุมใหญ่" in case.description


def test_twenty_photos_sent_at_once_are_all_attached_and_answered_once(bot, line, chat):
    chat.send(STORY_WITH_PLACE)
    chat.tap(t("privacy_btn_agree"))
    assert t("complaint_btn_no_photo") in chat.labels
    photos = [{"kind": "image", "user_id": chat.user_id, "caption": f"หลุม {n}",
               "image_set": {"id": "set-1", "index": n, "total": 20}} for n in range(1, 21)]
    assert line.send_events(*photos).status == 200
    chat._await(2)  # one answer for the whole set: the summary card and its question
    assert t("complaint_btn_confirm") in chat.labels and "20" in str(chat.flex()[0])
    assert chat.quiet() == []
    chat.tap(t("complaint_btn_confirm"), expect=2)
    (case,) = rows(bot.services, Case)
    assert len(rows(bot.services, CaseAttachment, CaseAttachment.case_id == case.id)) == 20


def test_a_photo_sent_before_the_bot_asks_is_kept(bot, chat):
    chat.send(STORY_WITHOUT_PLACE)
    chat.tap(t("privacy_btn_agree"))
    assert "เกิดเหตุที่ไหน" in chat.said
    chat.photo()
    assert "ได้รับรูปภาพแล้ว 1 รูป" in chat.said and "เกิดเหตุที่ไหน" in chat.said
    chat.send("หน้าตลาดสด อ.เมือง จ.ขอนแก่น")
    assert t("complaint_btn_confirm") in chat.labels  # the photo question is not asked: one is there
    chat.tap(t("complaint_btn_confirm"), expect=2)
    (case,) = rows(bot.services, Case)
    assert case.province == "ขอนแก่น" and len(rows(bot.services, CaseAttachment)) == 1
