"""English and Thai (issue 14): every citizen-facing text exists in both languages in the one catalogue; an
English-speaking citizen can name places in English and an English complaint gets a category or the list."""

from __future__ import annotations

import re
import string

import pytest

from bot import messages
from bot.flows import understanding
from bot.nlp import classify
from bot.places import resolve_text
from storage.models import Case
from tests.flows.conftest import rows


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def test_every_catalogue_text_has_thai_and_english_with_the_same_placeholders():
    missing, mismatched = [], []
    for key, entry in messages.catalogue().items():
        if not (entry.get("th") or "").strip() or not (entry.get("en") or "").strip():
            missing.append(key)
        elif _fields(entry["th"]) != _fields(entry["en"]):
            mismatched.append(key)
    assert missing == [] and mismatched == []


def test_an_english_text_is_never_shown_in_thai_script():
    """An English entry that still holds Thai letters would show Thai to an English speaker (the Thai words
    citizens may type, in quotes, are the exception)."""
    thai = re.compile("[\u0e00-\u0e7f]")
    leaking = [key for key, entry in messages.catalogue().items()
               if thai.search(re.sub(r'"[^"]*"|“[^”]*”', "", entry.get("en", "")))
               and not key.startswith("grp_") and key not in ALLOWED_THAI_IN_ENGLISH]
    assert leaking == []


# Texts whose English keeps Thai on purpose: the Thai word the citizen types, names of Thai agencies.
ALLOWED_THAI_IN_ENGLISH = frozenset()


@pytest.mark.parametrize("typed, district", [
    ("Phra Nakhon", "พระนคร"), ("phra nakhon", "พระนคร"), ("Bang Kapi district", "บางกะปิ"),
    ("Khet Bang Kapi", "บางกะปิ"), ("Wang Thonglang District, Bangkok", "วังทองหลาง"),
    ("a pothole on Sukhumvit road in Watthana district", "วัฒนา"),
    ("Mueang Chiang Mai, Chiang Mai province", "เมืองเชียงใหม่"),
])
def test_english_place_names_map_to_the_place_list(typed, district):
    place = resolve_text(typed)
    assert place is not None and place.district == district


def test_an_english_road_named_after_a_district_is_no_district():
    assert resolve_text("Lat Phrao Road is flooded") is None
    assert resolve_text("Phra Nakhon Si Ayutthaya").province == "พระนครศรีอยุธยา"


@pytest.mark.parametrize("story, category", [
    ("There is a big pothole in the road in front of my house", "ถนน"),
    ("The street light in my soi has been broken for a week", "แสงสว่าง"),
    ("Garbage has not been collected for five days", "ความสะอาด"),
    ("Power outage in my area since this morning", "ไฟฟ้า"),
    ("A water pipe burst and there is no tap water", "ประปา"),
    ("Loud karaoke music from a bar every night", "เสียงรบกวน"),
])
def test_an_english_complaint_gets_its_category(story, category):
    found = classify(story)
    assert (found.category, found.confident) == (category, True)


def test_an_english_complaint_without_a_cue_gets_the_common_categories_to_choose_from():
    found = classify("My neighbour keeps doing this and nobody helps")
    assert not found.confident
    offered = [found.category, *(a.category for a in found.alternatives)]
    assert offered[:3] == ["ถนน", "ความสะอาด", "แสงสว่าง"]
    assert all(understanding.category_label(c, "en").isascii() for c in offered)


# --- through the chat, as an English-speaking citizen -----------------------------------------------------------

def en(key: str) -> str:
    return messages.text(key, "en")


def walk(chat, story: str, place: str = "Phra Nakhon", turns: int = 14) -> dict:
    """Type ``story`` and answer whatever the bot asks, as a citizen reading only its messages; returns what
    it asked (the place? a category, with which labels?) and how many turns it took to the ticket."""
    asked = {"where": False, "category": None, "turns": 0}
    said = chat.send(story) + chat.quiet(0.6)
    for _ in range(turns):
        asked["turns"] += 1
        texts = " ".join(m.get("text", "") for m in said if m["type"] == "text")
        flex = " ".join(str(m) for m in said if m["type"] == "flex")
        chat.last = said
        labels = chat.labels
        if re.search(r"DR-\d{4}-\d{6}", texts + flex) and en("complaint_btn_confirm") not in labels:
            return asked
        if en("complaint_where_ask").split("(")[0][:20] in texts:
            asked["where"] = True
            said = chat.send(place) + chat.quiet(0.6)
            continue
        for key in ("privacy_btn_agree", "complaint_btn_no_photo", "complaint_btn_today", "complaint_btn_skip",
                    "complaint_btn_named", "complaint_btn_file_new", "complaint_btn_confirm"):
            if en(key) in labels:
                said = chat.tap(en(key)) + chat.quiet(0.6)
                break
        else:
            if en("complaint_btn_none_of_these") in labels:
                asked["category"] = labels
                said = chat.tap(labels[0]) + chat.quiet(0.6)
                continue
            raise AssertionError(f"stuck at: {texts} {labels}")
    raise AssertionError("no ticket")


def test_an_english_complaint_is_filed_with_its_category_and_english_place_without_asking_what(bot, new_chat):
    """(Whether "where" is asked when the story names the place is the slot-filling work of the flows; the
    answer, if asked, is the same English district.)"""
    chat = new_chat("John Smith", language="en")
    asked = walk(chat, "There is a big pothole in front of my house on Lat Phrao 71, Wang Thonglang district",
                 place="Wang Thonglang district")
    assert asked["category"] is None
    (case,) = rows(bot.services, Case)
    assert (case.category, case.district, case.province) == ("ถนน", "วังทองหลาง", "กรุงเทพมหานคร")


def test_an_english_complaint_the_bot_cannot_read_gets_the_list_and_an_english_place(bot, new_chat):
    chat = new_chat("Jane Doe", language="en")
    asked = walk(chat, "Somebody keeps leaving things in front of my gate and nobody helps", place="Phra Nakhon")
    assert asked["where"] is True and asked["category"] is not None
    assert all(label.isascii() for label in asked["category"])  # English labels, not Thai ones
    (case,) = rows(bot.services, Case)
    assert case.district == "พระนคร" and case.category == "ถนน"
