"""Opinions, volunteers and "talk to a person"."""

from __future__ import annotations

from datetime import timedelta

from storage.models import HandoverRequest, Opinion, Volunteer, utcnow
from tests.flows.conftest import rows, topic


def test_an_opinion_on_an_open_topic_is_stored_with_its_rating(bot, chat):
    first = topic(bot.services, "ปฏิรูปการศึกษา", title_en="Education reform")
    topic(bot.services, "หัวข้อที่ปิดแล้ว", closes_at=utcnow() - timedelta(days=1))
    topic(bot.services, "หัวข้อที่ยังไม่เปิด", opens_at=utcnow() + timedelta(days=1))
    chat.tap_data("menu=opinion")
    assert "1. ปฏิรูปการศึกษา" in chat.said and "ปิดแล้ว" not in chat.said and "ยังไม่เปิด" not in chat.said
    chat.send("7")
    assert "กรุณาเลือกหัวข้อ" in chat.said
    chat.tap("1. ปฏิรูปการศึกษา")
    chat.send("ดี")
    assert "เพิ่มอีกนิด" in chat.said
    chat.send("อยากให้ลดการบ้านและเพิ่มกิจกรรมนอกห้องเรียนค่ะ")
    chat.send("สิบดาว")
    assert "1-5 ดาว" in chat.said
    chat.tap("★★★★")
    assert "ขอบคุณสำหรับความคิดเห็น" in chat.said
    (opinion,) = rows(bot.services, Opinion)
    assert (opinion.topic_id, opinion.rating) == (first, 4) and "การบ้าน" in opinion.text


def test_without_open_topics_the_citizen_is_told_so(bot, chat):
    chat.tap_data("menu=opinion")
    assert "ยังไม่มีหัวข้อ" in chat.said and "ร้องเรียน" in chat.labels


def test_volunteer_registration_validates_and_can_be_edited_later(bot, chat):
    chat.tap_data("menu=volunteer")
    chat.send("ส")
    assert "ชื่อ-นามสกุล" in chat.said
    chat.send("สมศรี ใจดี")
    chat.send("0123")
    assert "เบอร์โทรไม่ถูกต้อง" in chat.said
    chat.send("0891234567")
    chat.send("ดาวอังคาร")
    assert "ไม่พบชื่อจังหวัด" in chat.said
    chat.send("เชียงใหม่")
    assert "ปฐมพยาบาล" in chat.labels
    chat.tap("ปฐมพยาบาล")
    chat.tap("วันหยุด")
    assert "ยินยอม" in chat.labels
    chat.tap("ยินยอม")
    assert "ลงทะเบียนอาสาสมัครเรียบร้อย" in chat.said
    (volunteer,) = rows(bot.services, Volunteer)
    assert (volunteer.name, volunteer.phone, volunteer.province, volunteer.skills, volunteer.availability) == (
        "สมศรี ใจดี", "0891234567", "เชียงใหม่", "ปฐมพยาบาล", "วันหยุด")
    chat.tap_data("menu=volunteer")
    assert "0891234567" in chat.said and "บันทึก" in chat.labels
    chat.tap("จังหวัด")
    chat.send("ลำพูน")
    assert "จังหวัด: ลำพูน" in chat.said
    chat.tap("บันทึก")
    assert "บันทึกข้อมูลอาสาสมัคร" in chat.said
    (volunteer,) = rows(bot.services, Volunteer)
    assert volunteer.province == "ลำพูน"


def test_talk_to_a_person_records_one_open_request(bot, chat):
    chat.tap_data("menu=person")
    chat.send("อยากสอบถามเรื่องเบี้ยผู้สูงอายุค่ะ")
    assert "ส่งคำขอคุยกับเจ้าหน้าที่แล้ว" in chat.said
    chat.send("คุยกับเจ้าหน้าที่")  # asked again while the request is open: said to that same request
    assert "คำขอคุยกับเจ้าหน้าที่ #1" in chat.said
    (request,) = rows(bot.services, HandoverRequest)
    assert (request.reason, request.status, request.line_user_id) == ("asked", "open", chat.user_id)
    assert "เบี้ยผู้สูงอายุ" in request.message


def test_a_citizen_whose_line_is_in_english_is_answered_in_english(bot, new_chat):
    chat = new_chat("Alice", language="en")
    chat.tap_data("menu=complaint")
    assert "personal data" in chat.said and chat.labels[:2] == ["I agree", "I do not agree"]
    chat.tap("I agree")
    chat.send("The street light in front of my house has been off for three days")
    assert "Where did it happen" in chat.said and "Send location" in chat.labels
    chat.tap("Cancel")
    assert "cancelled" in chat.said
