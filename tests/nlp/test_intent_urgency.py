"""Top-level intent of a free message, and danger-to-life cues with their look-alikes."""

import re

import pytest

from bot.nlp import detect_intent, detect_urgency, normalize
from bot.nlp.cues import cues, literal_prefilter, required_literals


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
    ("สายไฟแรงสูงขาดพาดกลางถนน", "live_wire"),
    ("สะพานคนเดินข้ามถล่มลงมา", "collapse"),
    ("น้ำท่วมสูงมาก มีคนแก่ติดอยู่ในบ้านออกไม่ได้", "flood_trapped"),
])
def test_danger_to_life_is_urgent(text, reason):
    u = detect_urgency(text)
    assert u.urgent and u.reason == reason and u.hotline == u.hotlines[0]


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


@pytest.mark.parametrize("pattern, literals", [
    ("ไฟไหม้", ["ไฟไหม้"]),
    (r"\bfire\b", ["fire"]),
    ("ถูกไฟ(?:ฟ้า)?ดูด", ["ถูกไฟ"]),
    ("(?:ติดอยู่|ติดค้าง).{0,40}ท่วม", ["ติดอยู่", "ติดค้าง"]),
    ("ab|cd(?:x|y)", ["ab", "cd"]),
    ("(?<!ฝน)(?<!แ)ตกน้ำ(?!ท่วม)", ["ตกน้ำ"]),  # look-arounds read outside the match: the literal is in it
    ("x?y", None),      # the quantifier makes the first letter optional: nothing can be read off
    (".{0,5}ไฟ", None),
    ("a|[bc]d", None),  # one option has no plain start
])
def test_required_literals_are_read_off_cue_patterns(pattern, literals):
    assert required_literals(pattern) == literals


def test_the_urgency_first_look_never_rules_out_a_text_a_cue_matches(traffy_examples):
    """Over every shared complaint: where the plain-substring first look says no, no urgency cue matches."""
    patterns = [re.compile(p) for u in cues()["urgency"] for p in u["any"]]
    maybe = literal_prefilter([p.pattern for p in patterns])
    texts = [normalize(e.text) for e in traffy_examples]
    assert [t for t in texts if not maybe(t) and any(p.search(t) for p in patterns)] == []
    assert sum(map(maybe, texts)) < 0.5 * len(texts)  # and it does rule most texts out
