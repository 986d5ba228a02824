"""Danger to life is answered in the first reply, before consent or any question, whatever is open; the
complaint then goes on and is filed urgent. Real rules, real emulator, a citizen who never consented."""

from __future__ import annotations

import pytest

from storage.models import Case, Consent
from tests.flows.conftest import rows
from tests.support import to_summary, walk_to_confirm

ENGLISH_HEADING = "call at once"
THAI_HEADING = "โทรทันที"


def first_reply(chat, text: str) -> list[str]:
    """Send ``text`` and return the texts of the bot's answer, the first one first."""
    chat.send(text, expect=2)
    return chat.texts


@pytest.mark.parametrize("text, numbers", [
    ("สามีกำลังตบตีภรรยาอยู่ตอนนี้", ["191", "1300"]),
    ("มีคนถูกแทงที่ปากซอยลาดพร้าว 64", ["191"]),
    ("ผมไม่อยากมีชีวิตอยู่แล้ว จะฆ่าตัวตายคืนนี้", ["1323"]),
    ("เด็กข้างบ้านถูกพ่อทุบตีร้องไห้เสียงดังมาก", ["1300"]),
    ("แก๊สรั่วในห้องครัว กลิ่นแรงมาก", ["199", "1669"]),
    ("สายไฟแรงสูงขาดพาดกลางถนน มีประกายไฟ", ["1130", "1129"]),
    ("มีเด็กจมน้ำในคลองหน้าวัด", ["1669"]),
    ("ดินถล่มทับบ้านในหมู่บ้าน", ["1784"]),
])
def test_a_first_time_citizens_first_reply_names_the_numbers_for_the_danger_in_thai_and_english(chat, text,
                                                                                               numbers):
    texts = first_reply(chat, text)
    first = texts[0]
    assert all(n in first for n in numbers), first
    assert first.index(THAI_HEADING) < first.index(ENGLISH_HEADING)  # a Thai citizen reads Thai first
    assert "ข้อมูลส่วนบุคคล" not in first and "ข้อมูลส่วนบุคคล" in chat.said  # consent is asked after it
    assert chat.labels[:2] == ["ยินยอม", "ไม่ยินยอม"]


def test_an_english_speaker_reads_english_first(bot, new_chat):
    chat = new_chat("Tom", language="en")
    first = first_reply(chat, "someone is drowning in the canal")[0]
    assert "1669" in first and first.index(ENGLISH_HEADING) < first.index(THAI_HEADING)


def test_the_urgent_complaint_goes_on_after_the_numbers_and_is_filed_urgent(bot, chat):
    story = "ไฟไหม้บ้านในซอย 5 ช่วยด้วย ควันเต็มซอย"
    assert "199" in first_reply(chat, story)[0]
    chat.tap("ยินยอม")  # the story is kept: the next question is where (it names no place)
    assert "เกิดเหตุที่ไหน" in chat.said
    chat.send("เขตบางรัก กรุงเทพ")
    to_summary(chat)
    chat.tap("ยืนยันส่งเรื่อง", expect=2)
    (case,) = rows(bot.services, Case)
    assert case.urgent and case.description.startswith(story)
    assert "199" not in chat.said  # the numbers were given once, not again at filing
    assert [c.given for c in rows(bot.services, Consent)] == [True]


def test_declining_consent_after_the_numbers_keeps_nothing(bot, chat):
    first_reply(chat, "มีคนหมดสติอยู่หน้าเซเว่น")
    chat.tap("ไม่ยินยอม")
    assert rows(bot.services, Case) == []


def test_the_emergency_wins_inside_another_flow_and_mid_complaint(bot, chat):
    chat.tap_data("menu=opinion")
    texts = first_reply(chat, "มีคนติดอยู่ในลิฟต์คอนโดมาครึ่งชั่วโมงแล้ว")
    assert "199" in texts[0] and THAI_HEADING in texts[0]

    chat.tap("ยินยอม")
    assert "เกิดเหตุที่ไหน" in chat.said  # now at "where": an emergency typed here is still answered first
    texts = first_reply(chat, "ตอนนี้มีคนโดนไฟดูดล้มอยู่ตรงนี้")
    assert "1669" in texts[0] and "1130" in texts[0]


def test_a_look_alike_gets_no_emergency_numbers(bot, chat):
    chat.send("ไฟดับทั้งซอยตั้งแต่เมื่อคืน มืดมาก", expect=2)
    assert THAI_HEADING not in chat.said and "191" not in chat.said
    assert "ข้อมูลส่วนบุคคล" in chat.said


def test_an_emergency_typed_at_the_summary_gets_the_numbers_first(bot, chat):
    walk_to_confirm(chat, story="ไฟฟ้าส่องสว่างในซอยดับมาสามวันแล้ว มืดมาก กลัวโจร")
    texts = first_reply(chat, "ไฟไหม้ มีคนติดอยู่ข้างใน")
    assert "199" in texts[0] and THAI_HEADING in texts[0], texts


def test_an_emergency_typed_at_the_summary_of_a_located_complaint_gets_the_numbers_first(bot, chat):
    chat.send("ไฟฟ้าส่องสว่างในซอยดับมาสามวันแล้ว มืดมาก กลัวโจร", expect=2)
    chat.tap("ยินยอม")
    chat.location(13.7563, 100.5018)
    to_summary(chat)
    texts = first_reply(chat, "ไฟไหม้ มีคนติดอยู่ข้างใน")
    assert "199" in texts[0] and THAI_HEADING in texts[0], texts
