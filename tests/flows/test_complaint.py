"""Filing a complaint through LINE, as a citizen does it: happy path, every validation error, edits."""

from __future__ import annotations

import re
import time

import pytest

from bot.flows import understanding
from storage.models import (
    Case,
    CaseAttachment,
    CaseSourceEvent,
    Consent,
    HandoverRequest,
    InboxEvent,
    StatusChange,
    StoredContent,
)
from tests.flows.conftest import rows
from tests.support import STORY, choose_category_if_asked, start, to_summary, walk_to_confirm


def the_case(bot) -> Case:
    (case,) = rows(bot.services, Case)
    return case


def test_a_complaint_from_the_menu_becomes_a_ticket_with_photos_place_and_history(bot, line, chat):
    line.configure(content_preparing_calls=1)  # the content API answers 202 once, then 200
    chat.tap_data("menu=complaint")
    assert "ข้อมูลส่วนบุคคล" in chat.said and chat.labels[:2] == ["ยินยอม", "ไม่ยินยอม"]
    chat.tap("ยินยอม")
    assert "เล่าเรื่องที่พบ" in chat.said and chat.labels[:2] == ["ถ่ายรูป", "เลือกรูป"]  # photos welcome
    chat.send(STORY)
    assert "เกิดเหตุที่ไหน" in chat.said and chat.quick[0]["type"] == "location"
    chat.photo(caption="ไฟดับ")
    assert "ได้รับรูปภาพแล้ว 1 รูป" in chat.said and "เกิดเหตุที่ไหน" in chat.said  # kept, then asked again
    chat.photo(caption="ซอยมืด")
    assert "2 รูป" in chat.said
    chat.send("มีหลอดไฟอีกสองต้นที่ดับด้วยค่ะ")
    assert "เพิ่มข้อความ" in chat.said and "เกิดเหตุที่ไหน" in chat.said
    chat.location(16.4322, 102.8236, title="ตลาดบางลำภู", address="ถนนกลางเมือง ขอนแก่น")
    choose_category_if_asked(chat, "ไฟส่องสว่าง")
    assert {"ยืนยันส่งเรื่อง", "เพิ่มเบอร์โทร", "วันที่เกิดเหตุ", "ไม่เปิดเผยชื่อ"} <= set(chat.labels)
    chat.tap("วันที่เกิดเหตุ")
    picker = next(a for a in chat.quick if a["type"] == "datetimepicker")
    chat.tap("เลือกวันที่", expect=2, date="2026-11-20")
    assert "ยืนยันส่งเรื่อง" in chat.labels and "เพิ่มเบอร์โทร" not in chat.labels  # offered once
    chat.send("๐๘๑-๒๓๔-๕๖๗๘", expect=2)  # a phone number typed at the summary is the phone
    chat.send("ไม่เปิดเผยชื่อ", expect=2)
    card = str(chat.flex()[0])
    assert picker["mode"] == "date" and "20 พ.ย. 2569" in card and "0812345678" in card and "ไม่เปิดเผย" in card
    assert "ขอนแก่น" in card and "2" in card
    chat.tap("ยืนยันส่งเรื่อง", expect=2)
    ticket = re.search(r"DR-\d{4}-\d{6}", chat.said).group(0)
    assert chat.flex()[0]["altText"] == f"เลขที่เรื่อง {ticket}"
    assert "ส่งถึง" in chat.said and "วัน" in chat.said and "ติดตามเรื่อง" in chat.said

    case = the_case(bot)
    assert case.ticket == ticket and ticket.startswith("DR-25") and case.status == "received"
    assert "สองต้น" in case.description and STORY in case.description
    assert (case.province, case.district) == ("ขอนแก่น", "เมืองขอนแก่น")
    assert case.latitude == pytest.approx(16.4322) and case.phone == "0812345678" and case.anonymous
    assert case.occurred_on == "2026-11-20" and case.target_due_at is not None
    assert [s.to_status for s in rows(bot.services, StatusChange)] == ["received"]
    attachments = rows(bot.services, CaseAttachment, CaseAttachment.case_id == case.id)
    assert len(attachments) == 2
    deadline = time.monotonic() + 8
    while {c.status for c in rows(bot.services, StoredContent)} != {"stored"} and time.monotonic() < deadline:
        time.sleep(0.1)
    assert {c.status for c in rows(bot.services, StoredContent)} == {"stored"}
    sources = rows(bot.services, CaseSourceEvent, CaseSourceEvent.case_id == case.id)
    first_event = rows(bot.services, InboxEvent)[0]
    assert first_event.id in [s.inbox_event_id for s in sources] and len(sources) >= 10
    (consent,) = rows(bot.services, Consent)
    assert consent.given and consent.version
    assert [call["chatId"] for call in line.loading_calls()][:1] == [chat.user_id]  # typing dots while classifying


def test_every_invalid_answer_gets_a_thai_reprompt_and_the_same_step_again(bot, line, chat):
    start(chat)
    chat.send("ไฟดับ")
    assert "รายละเอียดเพิ่ม" in chat.said and "เล่าเรื่องที่พบ" in chat.said
    chat.send("ต้องเล่าละเอียดแค่ไหนคะ?")
    assert "ขั้นตอนนี้ขอให้เล่าปัญหา" in chat.said  # a question is answered, not taken as the story
    chat.send(STORY)
    chat.line.send_file(chat.user_id, b"%PDF-1.4", "เอกสาร.pdf")
    chat._await()
    assert "รับได้เฉพาะรูปภาพและวิดีโอ" in chat.said and "เกิดเหตุที่ไหน" in chat.said
    burst = [{"kind": "image", "user_id": chat.user_id, "image_set": {"id": "s1", "index": n, "total": 20}}
             for n in range(1, 21)]
    line.send_events(*burst)
    chat._await()
    assert "20 รูป" in chat.said
    chat.photo()
    assert "ครบ 20 รูป" in chat.said
    chat.location(35.6762, 139.6503, title="Tokyo")
    assert "นอกประเทศไทย" in chat.said and chat.quick[0]["type"] == "location"
    chat.send("บ้านฉันเอง")
    assert "ยังไม่พบจังหวัด" in chat.said
    chat.send("หน้าวัด จังหวัดเชียงใหม่")
    assert "อำเภอ/เขตใดของจังหวัดเชียงใหม่" in chat.said
    chat.send("บางรัก")
    assert "ไม่พบอำเภอ/เขตนี้ในจังหวัดเชียงใหม่" in chat.said
    chat.send("หางดง")
    to_summary(chat)
    chat.tap("วันที่เกิดเหตุ")
    chat.tap("เลือกวันที่", date="2099-01-01")
    assert "ยังมาไม่ถึง" in chat.said
    chat.send("ประมาณช่วงต้นเดือนที่แล้วตอนกลางคืนหลังฝนตกหนักมาก ๆ")
    assert "ขอสั้น ๆ" in chat.said
    chat.send("เมื่อวาน", expect=2)
    chat.send("12345")
    assert "เบอร์โทรไม่ถูกต้อง" in chat.said  # a number at the summary that is no phone number
    chat.send("โอเค")
    assert "ยืนยันส่งเรื่อง" in chat.said  # not a story: the summary's choices again
    chat.tap("แก้ไข")
    chat.tap("เบอร์โทร")
    chat.send("เบอร์อะไรก็ได้ใช่ไหมคะ")
    assert "ใช้เพื่อให้เจ้าหน้าที่สอบถาม" in chat.said  # a question gets the step's explanation
    chat.send("02 123 4567", expect=2)
    chat.tap("แก้ไข")
    chat.tap("การเปิดเผยชื่อ")
    chat.send("ขอคิดดูก่อน")
    assert "กรุณาเลือก \"เปิดเผยชื่อ\"" in chat.said
    chat.tap("เปิดเผยชื่อ", expect=2)
    chat.tap("ยืนยันส่งเรื่อง", expect=2)
    case = the_case(bot)
    assert (case.province, case.district, case.phone) == ("เชียงใหม่", "หางดง", "021234567")
    assert not case.anonymous and case.occurred_on and "12345" not in case.description
    assert len(rows(bot.services, CaseAttachment)) == 20


def test_back_returns_to_the_previous_question(chat):
    start(chat)
    chat.send("ย้อนกลับ")
    assert "ขั้นตอนแรก" in chat.said or "ยินยอม" in chat.labels
    if "ยินยอม" in chat.labels:
        chat.tap("ยินยอม")
    chat.send(STORY)
    assert "เกิดเหตุที่ไหน" in chat.said
    chat.send("ย้อนกลับ")
    assert "เล่าเรื่องที่พบ" in chat.said
    chat.send(STORY)  # told again: it replaces the story, it is not added twice
    chat.send("จังหวัดน่าน")
    assert "อำเภอ/เขตใดของจังหวัดน่าน" in chat.said
    chat.send("ย้อนกลับ")
    assert "เกิดเหตุที่ไหน" in chat.said
    chat.send("อ.ปัว จ.น่าน")
    to_summary(chat)
    chat.tap("แก้ไข")
    chat.send("ย้อนกลับ", expect=2)
    assert "ยืนยันส่งเรื่อง" in chat.labels


def test_cancel_at_any_step_discards_the_draft_and_files_nothing(bot, chat):
    steps = {"describe": [], "where": [STORY], "summary": [STORY, "เขตบางรัก กรุงเทพ"]}
    for step, answers in steps.items():
        start(chat)
        for what in answers:
            chat.send(what)
        if step == "summary":
            to_summary(chat)
        chat.tap("ยกเลิก")
        assert "ยกเลิกเรื่องร้องเรียนแล้ว" in chat.said and "ร้องเรียน" in chat.labels, step
        chat.tap_data("menu=complaint")
        assert "เล่าเรื่องที่พบ" in chat.said and "ยังทำไม่เสร็จ" not in chat.said  # a fresh start
        chat.send("ยกเลิก")
    assert rows(bot.services, Case) == []


def test_menu_mid_flow_keeps_the_draft_and_the_citizen_continues_later(bot, chat):
    start(chat)
    chat.send(STORY)
    chat.send("เมนู")
    assert "เก็บเรื่องร้องเรียนที่ทำไว้" in chat.said and "ติดตามเรื่อง" in chat.labels
    chat.tap("ติดตามเรื่อง")
    assert "ยังไม่มีเรื่อง" in chat.said
    chat.tap("ร้องเรียน")
    assert "ยังทำไม่เสร็จ" in chat.said
    chat.tap("ทำต่อจากเดิม")
    assert "เกิดเหตุที่ไหน" in chat.said
    chat.send("เขตบางรัก กรุงเทพ")
    to_summary(chat)
    chat.tap("ยืนยันส่งเรื่อง", expect=2)
    assert the_case(bot).description == STORY


def test_cancel_after_menu_forgets_the_paused_draft(bot, chat):
    start(chat)
    chat.send(STORY)
    chat.send("เมนู")
    chat.send("ยกเลิก")
    assert "ยกเลิก" in chat.said and "เก็บเรื่องร้องเรียนที่ทำไว้" not in chat.said
    chat.tap("ร้องเรียน")
    assert "ยังทำไม่เสร็จ" not in chat.said and "เล่าเรื่องที่พบ" in chat.said


def test_edit_from_the_summary_changes_one_field_and_returns_to_the_summary(bot, chat):
    walk_to_confirm(chat)
    chat.tap("แก้ไข")
    assert {"รายละเอียด", "สถานที่", "เบอร์โทร"} <= set(chat.labels)
    chat.tap("เบอร์โทร")
    chat.send("0899999999", expect=2)
    assert "0899999999" in str(chat.flex()[0]) and "ยืนยันส่งเรื่อง" in chat.labels
    chat.tap("แก้ไข")
    chat.tap("สถานที่")
    chat.send("อ.แม่สาย จ.เชียงราย", expect=2)
    assert "แม่สาย" in str(chat.flex()[0])
    chat.tap("ยืนยันส่งเรื่อง", expect=2)
    case = the_case(bot)
    assert (case.phone, case.province, case.district) == ("0899999999", "เชียงราย", "แม่สาย")


def test_declining_consent_files_nothing_and_is_recorded(bot, chat):
    chat.tap_data("menu=complaint")
    chat.tap("ไม่ยินยอม")
    assert "ไม่เก็บเรื่องนี้" in chat.said
    assert [c.given for c in rows(bot.services, Consent)] == [False]
    chat.tap_data("menu=complaint")
    assert "ข้อมูลส่วนบุคคล" in chat.said  # asked again next time


def test_a_photo_sent_outside_any_flow_starts_a_complaint_with_it(bot, chat):
    chat.photo(expect=2)
    assert "เรามาแจ้งเรื่องร้องเรียนพร้อมรูปนี้" in chat.said
    chat.tap("ยินยอม")
    assert "เล่าเรื่องที่พบ" in chat.said
    chat.send(STORY)
    chat.send("เขตบางรัก กรุงเทพ")
    to_summary(chat)
    chat.tap("ยืนยันส่งเรื่อง", expect=2)
    assert len(rows(bot.services, CaseAttachment)) == 1


def test_none_of_these_categories_goes_to_a_person_at_the_provincial_centre(bot, chat, monkeypatch):
    monkeypatch.setattr(understanding, "understand",
                        lambda *a, **k: understanding.Understanding(None, 0.2, False, [("ถนน", 0.2), ("แสงสว่าง", 0.1)]))
    start(chat)
    chat.send(STORY)
    chat.send("อ.เมือง จ.ลำปาง")
    assert chat.labels[:3] == ["ถนน", "ไฟส่องสว่าง", "ไม่ใช่ทั้งหมด"]
    chat.tap("ไม่ใช่ทั้งหมด", expect=2)
    assert "ศูนย์ดำรงธรรมจังหวัดลำปาง" in str(chat.flex()[0])
    chat.tap("ยืนยันส่งเรื่อง", expect=2)
    case = the_case(bot)
    assert case.category == "อื่นๆ"
    (handover,) = rows(bot.services, HandoverRequest)
    assert handover.case_id == case.id and handover.reason == "category_unknown" and handover.province == "ลำปาง"


def test_an_urgent_complaint_gets_the_numbers_at_once_and_is_flagged(bot, chat):
    """The real urgency rules, no stand-in: a live wire down gets the power companies and fire-rescue."""
    start(chat)
    chat.send("สายไฟฟ้าแรงสูงขาดพาดถนน มีประกายไฟ", expect=2)
    assert all(n in chat.texts[0] for n in ("1130", "1129", "199")) and "ส่งตำแหน่ง" in chat.labels
    chat.send("เขตบางรัก กรุงเทพ")
    to_summary(chat)
    chat.tap("ยืนยันส่งเรื่อง", expect=2)
    assert the_case(bot).urgent


def walk_to_the_model_s_answer(chat, story: str, place: str = "เขตบางรัก กรุงเทพ"):
    start(chat)
    chat.send(story)
    chat.send(place)  # one reply: the summary card and its question, or the category one


# Texts whose category is not in doubt (the model may be retrained; these must stay right).
CLEAR = [
    ("ถนนหน้าบ้านเป็นหลุมใหญ่ รถตกบ่อย", "ถนน"),
    ("น้ำท่วมขังหน้าบ้านหลังฝนตกหนัก ระบายไม่ทัน", "น้ำท่วม"),
    ("ขยะล้นถังไม่มีคนมาเก็บ ส่งกลิ่นเหม็น", "ความสะอาด"),
]


@pytest.mark.parametrize("story, category", CLEAR)
def test_a_clear_complaint_is_filed_with_the_models_category_and_agency_without_asking(bot, chat, story,
                                                                                        category):
    walk_to_the_model_s_answer(chat, story)
    assert "ไม่ใช่ทั้งหมด" not in chat.labels and "ยืนยันส่งเรื่อง" in chat.labels  # not asked: confident
    assert "สำนักงานเขตบางรัก" in str(chat.flex()[0])
    chat.tap("ยืนยันส่งเรื่อง", expect=2)
    assert "สำนักงานเขตบางรัก" in chat.said
    case = the_case(bot)
    assert (case.category, case.agency_id) == (category, "bma-district:1004")
    assert case.category_confidence >= 0.9


def test_when_the_classifier_fails_the_citizen_chooses_and_the_error_is_logged(bot, chat, monkeypatch,
                                                                               caplog):
    from bot import nlp

    def broken(*args, **kwargs):
        raise RuntimeError("the model file is damaged")

    monkeypatch.setattr(nlp, "classify", broken)  # the model fails; everything else is real
    caplog.set_level("ERROR", logger="bot.flows.understanding")
    walk_to_the_model_s_answer(chat, CLEAR[0][0])
    assert "ไม่ใช่ทั้งหมด" in chat.labels and "ยืนยันส่งเรื่อง" not in chat.labels  # asked, not guessed
    chat.tap("ถนน", expect=2)
    chat.tap("ยืนยันส่งเรื่อง", expect=2)
    assert the_case(bot).category == "ถนน"
    (record,) = [r for r in caplog.records if r.name == "bot.flows.understanding"]
    assert record.levelname == "ERROR" and record.exc_info[0] is RuntimeError
    assert "RuntimeError" in record.getMessage()


def test_a_similar_open_case_nearby_can_be_joined_instead_of_filed_again(bot, chat, new_chat):
    walk_to_confirm(chat, place="เขตบางรัก กรุงเทพ")
    chat.tap("ยืนยันส่งเรื่อง", expect=2)
    first = the_case(bot)
    neighbour = new_chat("สมชาย")
    start(neighbour)
    neighbour.send("ไฟถนนในซอยดับหลายวันแล้ว มืดมาก")
    neighbour.send("ซอยเจริญกรุง เขตบางรัก กรุงเทพ")
    if "ไม่ใช่ทั้งหมด" in neighbour.labels:
        neighbour.tap(understanding.category_label(first.category, "th"), expect=2)
    assert f"ร่วม {first.ticket}" in neighbour.labels and neighbour.flex()
    neighbour.tap(f"ร่วม {first.ticket}")
    assert f"ร่วมสนับสนุนเรื่อง {first.ticket}" in neighbour.said
    assert len(rows(bot.services, Case)) == 1
    neighbour.send(first.ticket)
    assert neighbour.flex()[0]["altText"].endswith(first.ticket)  # a supporter may follow the case


def test_a_complaint_typed_without_the_menu_starts_the_flow_with_that_text(bot, chat):
    chat.send("ถนนหน้าบ้านเป็นหลุมใหญ่มาก รถมอเตอร์ไซค์ล้มไปสองคันแล้ว ช่วยซ่อมด้วยค่ะ", expect=2)
    assert "รับทราบเรื่องที่แจ้งมา" in chat.texts[0] and "ข้อมูลส่วนบุคคล" in chat.said
    chat.tap("ยินยอม")
    assert "เกิดเหตุที่ไหน" in chat.said  # the story was kept: no need to tell it again
    chat.send("อ.เมือง จ.ขอนแก่น")
    to_summary(chat)
    chat.tap("ยืนยันส่งเรื่อง", expect=2)
    assert "หลุมใหญ่" in the_case(bot).description


def test_a_story_typed_while_the_news_settings_are_open_starts_a_complaint(bot, chat):
    """The open menu claims only what answers it (issue 14: it used to say "แตะปุ่มด้านล่าง...")."""
    chat.tap_data("menu=news")
    assert "หัวข้อ" in chat.said
    chat.send("ถนนหน้าบ้านเป็นหลุมใหญ่มาก รถมอเตอร์ไซค์ล้มไปสองคันแล้ว ซอยลาดพร้าว 71 เขตวังทองหลาง", expect=2)
    assert "รับทราบเรื่องที่แจ้งมา" in chat.texts[0] and "แตะปุ่ม" not in chat.said
    chat.tap("ยินยอม")
    chat.tap("ไม่มีรูป", expect=2)
    chat.tap("ยืนยันส่งเรื่อง", expect=2)
    assert the_case(bot).district == "วังทองหลาง"


def _file_road_complaint(chat, monkeypatch, place_step) -> None:
    monkeypatch.setattr(understanding, "understand",
                        lambda *a, **k: understanding.Understanding("ถนน", 0.95, True, []))
    start(chat)
    chat.send("ถนนหน้าบ้านเป็นหลุมใหญ่ รถตกหลุมทุกวันค่ะ")
    place_step(chat)
    assert "ยืนยันส่งเรื่อง" in chat.labels
    chat.tap("ยืนยันส่งเรื่อง", expect=2)


def test_a_typed_district_beats_the_district_a_soi_is_named_after(bot, chat, monkeypatch):
    _file_road_complaint(chat, monkeypatch, lambda c: c.send("ซอยลาดพร้าว 101 เขตบางกะปิ"))
    case = the_case(bot)
    assert (case.province, case.district, case.agency_id) == ("กรุงเทพมหานคร", "บางกะปิ", "bma-district:1006")


def test_a_shared_bangkok_location_goes_to_the_office_of_its_district_polygon(bot, chat, monkeypatch):
    # the nearest sub-district centre of this point is in ราชเทวี; the point lies in ปทุมวัน
    _file_road_complaint(chat, monkeypatch, lambda c: c.location(13.74776, 100.52846, title="สยาม"))
    case = the_case(bot)
    assert (case.province, case.district, case.agency_id) == ("กรุงเทพมหานคร", "ปทุมวัน", "bma-district:1007")


def test_a_road_alone_is_no_district_so_the_bot_asks_for_it(bot, chat, monkeypatch):
    def place_step(c):
        c.send("ถนนลาดพร้าว กรุงเทพ")
        assert "อำเภอ/เขตใดของจังหวัดกรุงเทพมหานคร" in c.said
        c.send("จตุจักร")

    _file_road_complaint(chat, monkeypatch, place_step)
    assert (the_case(bot).district, the_case(bot).agency_id) == ("จตุจักร", "bma-district:1030")
