"""What is published names and locates no one: titled Thai names, the citizen's own names and house numbers
are masked (``bot.nlp.pii.mask_public``), while words that only look like titles are kept."""

from __future__ import annotations

import pytest

from bot.nlp.pii import mask_public

MASKED = [
    ("นายสมปอง ใจดี แจ้งว่าถนนหน้าบ้านเป็นหลุม", ["สมปอง", "ใจดี"]),
    ("ติดต่อคุณวิชัย ที่ร้านหน้าปากซอย", ["วิชัย"]),
    ("นางสาวมาลี ศรีสุข เป็นคนแจ้ง", ["มาลี", "ศรีสุข"]),
    ("น.ส.กนกวรรณ โทรมาแจ้ง", ["กนกวรรณ"]),
    ("ด.ช.ภูมิ ถูกสุนัขกัดหน้าโรงเรียน", ["ภูมิ"]),
    ("ลูกชาย ด.ญ.ปิยะดา ตกท่อระบายน้ำ", ["ปิยะดา"]),
    ("นายกมล เพื่อนบ้านเปิดเพลงดังทั้งคืน", ["กมล"]),
    ("บ้านนาง สมศรี มีน้ำท่วมขัง", ["สมศรี"]),
    ("ขยะกองอยู่หน้าบ้านเลขที่ 123/45 ซอยลาดพร้าว 71", ["123/45"]),
    ("บ้านเลขที่ ๑๒๓/๔ น้ำประปาไม่ไหลสามวัน", ["๑๒๓/๔"]),
    ("ไฟฟ้าดับที่เลขที่ 99 หมู่ 4", ["99 หมู่"[:2]]),
    ("รถจอดขวางหน้าบ้าน 45/12 ทุกวัน", ["45/12"]),
]
KEPT = [
    "นายกเทศมนตรีสัญญาว่าจะซ่อมถนนแต่ยังไม่ซ่อม",
    "ขอบคุณที่ช่วยดูแลครับ",
    "คุณภาพน้ำประปาแย่มาก มีกลิ่น",
    "นายอำเภอรับเรื่องแล้วแต่เงียบ",
    "นางพยาบาลที่อนามัยไม่อยู่เวร",
    "นายจ้างไม่จ่ายค่าแรงสองเดือน",
    "เกิดเหตุวันที่ 12/08/2567 เวลา 14:30 น.",
    "ถนนหมู่ 5 ตำบลบางพลี",
    "ทนายความแนะนำให้แจ้งเรื่องนี้",
    "คุณแม่ผมล้มเพราะทางเท้าพัง",
]


@pytest.mark.parametrize("text,secrets", MASKED, ids=[t[:12] for t, _ in MASKED])
def test_names_after_a_title_and_house_numbers_are_masked(text, secrets):
    masked = mask_public(text)
    assert all(secret not in masked for secret in secrets), masked
    assert "[ชื่อ]" in masked or "[เลขที่บ้าน]" in masked


@pytest.mark.parametrize("text", KEPT, ids=[t[:12] for t in KEPT])
def test_words_that_only_look_like_titles_and_dates_are_kept(text):
    assert mask_public(text) == text


def test_the_names_the_citizen_gave_the_bot_are_masked_without_a_title():
    text = "สมชายเดินผ่านแล้วเจอท่อแตก ใจดีบอกให้แจ้ง"
    masked = mask_public(text, ["สมชาย ใจดี"])
    assert "สมชาย" not in masked and "ใจดี" not in masked and "ท่อแตก" in masked


def test_phones_and_ids_are_still_masked_with_the_rest():
    masked = mask_public("นายสมปอง โทร 081-234-5678 บัตร 1101700230708 บ้านเลขที่ 7")
    assert masked == "นาย[ชื่อ] โทร [เบอร์โทร] บัตร [เลขบัตรประชาชน] บ้านเลขที่ [เลขที่บ้าน]"
