"""Danger to life, measured on sentences written for this test: most urgent ones are caught with the right
numbers for their kind, and look-alikes (past, fears, idioms, gambling, ads, fiction, animals) are not."""

from __future__ import annotations

import pytest

from bot.flows.emergency import emergency_text
from bot.flows.understanding import Urgency as FlowUrgency
from bot.nlp import classify, detect_urgency
from bot.nlp.cues import cues
from tests.nlp.urgency_sentences import LOOK_ALIKES, URGENT

RECALL_BAR = 0.95
FALSE_ALARM_BAR = 0.05


def test_the_sentence_sets_are_large_enough_and_distinct():
    assert len(URGENT) >= 100 and len(LOOK_ALIKES) >= 100
    assert len({t for t, _ in URGENT}) == len(URGENT) and len(set(LOOK_ALIKES)) == len(LOOK_ALIKES)
    assert not {t for t, _ in URGENT} & set(LOOK_ALIKES)


def test_urgent_sentences_are_caught_with_the_numbers_for_their_kind():
    """Recall counts a sentence only when every number its kind needs is among the ones given."""
    missed = [(t, need, detect_urgency(t)) for t, need in URGENT
              if not (detect_urgency(t).urgent and need <= set(detect_urgency(t).hotlines))]
    recall = 1 - len(missed) / len(URGENT)
    print(f"urgency recall {recall:.3f} on {len(URGENT)} written sentences")
    assert recall >= RECALL_BAR, missed


def test_look_alikes_raise_few_false_alarms():
    alarms = [(t, detect_urgency(t).reason) for t in LOOK_ALIKES if detect_urgency(t).urgent]
    rate = len(alarms) / len(LOOK_ALIKES)
    print(f"urgency false alarms {rate:.3f} on {len(LOOK_ALIKES)} written look-alikes")
    assert rate <= FALSE_ALARM_BAR, alarms


@pytest.mark.parametrize("text, reason, numbers", [
    ("สามีกำลังตบตีภรรยาอยู่ตอนนี้", "domestic_violence", ("191", "1300")),
    ("มีคนถูกแทงที่ปากซอย", "violence", ("191", "1669")),
    ("ผมจะฆ่าตัวตาย", "suicide", ("1323", "1669")),
    ("เด็กข้างบ้านถูกพ่อทุบตี", "child_abuse", ("1300", "191")),
    ("มีคนหมดสติอยู่หน้าร้าน", "medical", ("1669",)),
    ("มีคนติดอยู่ในลิฟต์", "trapped", ("199", "1669")),
    ("น้ำท่วมสูง ยายติดอยู่ในบ้าน", "flood_trapped", ("1669", "1784")),
    ("แก๊สรั่วในครัว", "gas", ("199", "1669")),
    ("มีคนโดนไฟดูดที่เสาไฟ", "electrocution", ("1669", "199", "1130", "1129")),
    ("สายไฟแรงสูงขาดพาดถนน", "live_wire", ("1130", "1129", "199")),
    ("ไฟไหม้บ้านข้าง ๆ", "fire", ("199", "1669")),
    ("เด็กจมน้ำในคลอง", "drowning", ("1669", "191")),
    ("ตึกถล่มมีคนติดอยู่", "collapse", ("199", "1669", "1784")),
    ("ดินถล่มทับบ้าน", "disaster", ("1784", "1669")),
])
def test_each_kind_of_danger_names_its_numbers_in_order(text, reason, numbers):
    assert detect_urgency(text) == detect_urgency(text.strip())
    found = detect_urgency(text)
    assert (found.reason, found.hotlines) == (reason, numbers)


def test_a_kind_in_the_rules_has_its_advice_and_every_number_a_name_in_both_languages():
    """The first reply is built from the catalogue: a rule whose reason or number has no text would fail
    at the worst moment, so every one is rendered here, Thai first then English and the other way."""
    for rule in cues()["urgency"]:
        found = FlowUrgency(True, rule["reason"], tuple(rule["hotlines"]))
        for lang in ("th", "en"):
            text = emergency_text(found, lang)
            assert all(n in text for n in rule["hotlines"])
            assert ("โทรทันที" in text) and ("call at once" in text)
            assert text.index("โทรทันที" if lang == "th" else "call at once") < \
                text.index("call at once" if lang == "th" else "โทรทันที")


def test_classify_reports_the_same_urgency_with_all_numbers():
    c = classify("สามีกำลังตบตีภรรยาอยู่ตอนนี้")
    assert c.urgent and c.urgency_reason == "domestic_violence" and c.hotlines == ("191", "1300")
    assert c.hotline == "191"
    assert not classify("ไฟถนนดับทั้งซอย").urgent
