"""Personal data: consent with its version, and "ลบข้อมูลของฉัน" after a confirmation."""

from __future__ import annotations

from bot.flows.privacy import CONSENT_VERSION
from storage.models import Case, Citizen, Consent, FlowState, InboxEvent, StoredContent, Volunteer
from tests.flows.conftest import rows
from tests.support import to_summary, walk_to_confirm


def test_the_first_complaint_records_consent_with_its_version_and_the_next_does_not_ask(bot, chat):
    walk_to_confirm(chat)
    chat.tap("ยืนยันส่งเรื่อง", expect=2)
    (consent,) = rows(bot.services, Consent)
    assert (consent.purpose, consent.version, consent.given) == ("complaint", CONSENT_VERSION, True)
    chat.tap_data("menu=complaint")
    assert "ข้อมูลส่วนบุคคล" not in chat.said and "เล่าเรื่องที่พบ" in chat.said


def test_delete_my_data_anonymises_cases_and_removes_personal_data_after_confirmation(bot, chat):
    chat.photo(expect=2)
    chat.tap("ยินยอม")
    chat.send("ท่อน้ำแตกหน้าบ้านเลขที่ 99 โทรหาฉันได้ที่ 0812345678")  # the phone fills its slot
    chat.location(13.7563, 100.5018, address="99 ถนนราชดำเนิน")
    to_summary(chat)
    chat.tap("ยืนยันส่งเรื่อง", expect=2)
    chat.send("ลบข้อมูลของฉัน")
    assert "ต้องการลบข้อมูลส่วนบุคคล" in chat.said
    chat.tap("ไม่ลบ")
    assert rows(bot.services, Case)[0].phone == "0812345678"
    chat.send("ลบข้อมูลของฉัน")
    chat.tap("ยืนยันลบข้อมูล")
    assert "ลบข้อมูลส่วนบุคคลของคุณเรียบร้อยแล้ว" in chat.said
    (case,) = rows(bot.services, Case)
    assert case.citizen_id is None and case.phone is None and case.latitude is None and case.address is None
    assert case.province == "กรุงเทพมหานคร" and case.category  # statistics survive
    assert {c.status for c in rows(bot.services, StoredContent)} == {"deleted"}
    assert all(c.data is None for c in rows(bot.services, StoredContent))
    (citizen,) = rows(bot.services, Citizen)
    assert citizen.display_name is None
    assert all("0812345678" not in e.payload for e in rows(bot.services, InboxEvent)
               if e.user_id == chat.user_id)
    assert all(c.withdrawn_at is not None for c in rows(bot.services, Consent))
    assert rows(bot.services, FlowState) == [] and rows(bot.services, Volunteer) == []
    chat.send(case.ticket)
    assert "ไม่พบเรื่อง" in chat.said  # no longer linked to this person
