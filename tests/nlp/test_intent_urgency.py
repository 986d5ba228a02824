"""Top-level intent of a free message, and danger-to-life cues with their look-alikes."""

import pytest

from bot.nlp import detect_intent, detect_urgency


@pytest.mark.parametrize("text,intent", [
    ("ถนนหน้าบ้านเป็นหลุมใหญ่ รถตกบ่อย", "complaint"),
    ("ไฟดับ", "complaint"),
    ("สวัสดีครับ ถนนหน้าซอยพังมาหลายเดือนแล้ว", "complaint"),
    ("อยากเสนอแนะให้เพิ่มรถเมล์สายนี้", "opinion"),
    ("ขอชื่นชมเจ้าหน้าที่เขตที่มาเก็บขยะรวดเร็ว", "opinion"),
    ("เรื่อง DR-2569-000123 ถึงไหนแล้วครับ", "case_question"),
    ("ขอติดตามเรื่องที่แจ้งไว้เมื่อวาน", "case_question"),
    ("สวัสดีค่ะ", "greeting"),
    ("ขอบคุณมากครับ", "greeting"),
    ("thanks", "greeting"),
    ("555", "other"),
    ("🙂🙂", "other"),
    ("asdf", "other"),
])
def test_intent(text, intent):
    assert detect_intent(text) == intent


@pytest.mark.parametrize("text,reason", [
    ("ไฟไหม้บ้านในซอย 5 ช่วยด้วย", "fire"),
    ("มีคนโดนไฟดูดที่เสาไฟหน้าตลาด", "electrocution"),
    ("สายไฟแรงสูงขาดพาดกลางถนน", "electrocution"),
    ("สะพานคนเดินข้ามถล่มลงมา", "collapse"),
    ("น้ำท่วมสูงมาก มีคนแก่ติดอยู่ในบ้านออกไม่ได้", "flood_trapped"),
])
def test_danger_to_life_is_urgent(text, reason):
    u = detect_urgency(text)
    assert u.urgent and u.reason == reason and u.hotline


@pytest.mark.parametrize("text", [
    "ไฟถนนดับทั้งซอย มืดมาก",  # lights out, not a fire
    "ไฟฟ้าดับบ่อย",
    "น้ำท่วมขังหน้าบ้านหลังฝนตก",  # flooding, nobody trapped
    "รถติดมากเพราะน้ำท่วม",
    "เกรงว่าสะพานจะถล่ม อยากให้มาตรวจสอบ",  # a fear, not a collapse
    "ไฟไหม้เมื่อปีที่แล้ว ยังไม่มีใครมาเก็บซาก",
    "ทางเท้าชำรุด",
])
def test_look_alikes_are_not_urgent(text):
    assert not detect_urgency(text).urgent
