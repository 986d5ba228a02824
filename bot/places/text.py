"""Province, district and sub-district named in a message, precision first.

A place is taken only where the text says so: after a marker (จ. จังหวัด อ. อำเภอ เขต แขวง ต. ตำบล), a
province's full name, or a district name found in only one province of the list. A name right after a road,
soi, junction or building word (ถนนลาดพร้าว, ซ.สุขุมวิท, หมู่บ้านบางกะปิ) is that road or place, not a
district, and so is a name followed by a number or a dash (ลาดพร้าว 101, บางนา-ตราด). A marked district beats
an unmarked one; two different districts with the same strength give none (the flow asks instead).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from bot.places.gazetteer import (
    BANGKOK_TH,
    bangkok_districts,
    district_provinces,
    province_names,
    provinces,
    subdistrict_places,
)

# Markers as citizens type them, each with the level it names; "เขต"/"แขวง" are Bangkok's words.
_MARKERS = re.compile(r"(จังหวัด|จ\s?\.|อำเภอ|อ\s?\.|เขต|ตำบล|ต\s?\.|แขวง)\s*[:：]?\s*")
# Not a marker: a university campus (วิทยาเขตบางนา) or a court (ศาลแขวงปทุมวัน) named after the area.
_NOT_MARKER_BEFORE = re.compile(r"(วิทยา|ศาล)\s*$")
_LEVEL = {"จังหวัด": "province", "จ.": "province", "อำเภอ": "district", "อ.": "district", "เขต": "district",
          "ตำบล": "subdistrict", "ต.": "subdistrict", "แขวง": "subdistrict"}
# Words after which a name is a road or a place named after a district, not the district itself.
_NOT_AREA_BEFORE = re.compile(
    r"(ถนน|ถ\s?\.|ซอย|ซ\s?\.|แยก|หมู่บ้าน|มบ\s?\.|คอนโด|สะพาน|ตลาด|สถานี|สน\s?\.|ทางด่วน|ทางพิเศษ|ท่าเรือ|"
    r"โรงเรียน|ร\s?\.\s?ร\s?\.|โรงพยาบาล|รพ\s?\.|วัด|ห้าง|คลอง|สาย|ปากซอย|โรงแรม|ต้น|bts|mrt|arl|road|soi)\s*$",
    re.IGNORECASE)
_NOT_AREA_AFTER = re.compile(r"\s*(\d|[-–]|ซอย|ซ\.|(road|rd|street|st|soi|alley|lane|market|station|bridge)\b)",
                             re.IGNORECASE)
# English markers of a district: "Bang Kapi district", "Khet Bang Kapi", "Amphoe Hang Dong", "district of …".
_EN_MARK_BEFORE = re.compile(r"\b(khet|amphoe|amphur|district of|district)\s+$")
_EN_MARK_AFTER = re.compile(r"\s+(district|khet|amphoe)\b")
# A district after these words is an office the citizen contacted, weaker evidence than "เขตบางกะปิ" alone, and
# the power company's branches (การไฟฟ้าเขต…) cover other areas than the district offices.
_OFFICE_BEFORE = re.compile(r"(สำนักงาน|สนง\s?\.?|แจ้ง|ผู้อำนวยการ|ผอ\s?\.?|ที่|ทาง|ฝ่าย\S*|เจ้าหน้าที่|จนท\s?\.?)\s*$")
_POWER_BEFORE = re.compile(r"(การไฟฟ้า|กฟน\s?\.?|ไฟฟ้านครหลวง)\s*$")
# A marker after these words names a neighbour or a destination ("ไปเขตบางกะปิ", "ระหว่างเขตสายไหม และ …").
_ELSEWHERE_BEFORE = re.compile(r"(ไป|ระหว่าง|ถึง|จาก|ติด|เข้า|ติดต่อ|ข้าม|กับ|เชื่อม)\s*(ทาง|ที่)?\s*$")
# A marker after these words is a guess, a denial, a comparison or the citizen's home, not the problem's place
# ("น่าจะเขตสายไหม", "คิดว่าเป็นเขตสวนหลวง", "ไม่ใช่เขต…", "เหมือนที่เขตดุสิตทำ", "บ้านอยู่เขตสะพานสูง").
_HEDGE_BEFORE = re.compile(r"(น่าจะ|คิดว่า|อาจจะ|อาจ|หรือ|ไม่แน่ใจ|ไม่ใช่|ไม่ทราบ|รึ|(เหมือน|อย่าง|เช่น)\S{0,12}|"
                           r"บ้าน|อาศัย)\s*(เป็น|อยู่|ใน|ที่|ทาง)?\s*(ใน)?\s*(พื้นที่)?\s*$")
# A bridge, or a road along a canal or a railway, shortly before a marker: Bangkok's districts meet along canals,
# rivers and railways, so the district named there is often the other bank's ("ใต้สะพานพิบูลสงคราม เขตบางซื่อ"
# filed from ดุสิต, "ถนนเลียบคลองทวีวัฒนา เขตบางแค" from หนองแขม). Not a footbridge (สะพานลอย) nor the places
# named สะพานสูง/สะพานสอง/สะพานใหม่/สะพานควาย.
_BOUNDARY_BEFORE = re.compile(r"สะพาน(?!ลอย|สูง|สอง|ใหม่|ควาย)|เลียบ|ริมคลอง|ทางรถไฟ|รางรถไฟ")
_BOUNDARY_CHARS = 30
# A district name right after a marked one is a list of districts ("เขตบางคอแหลม สาทร", "เขตดอนเมืองหลักสี่").
_LIST_AFTER = re.compile(r"\s*(,|และ|/|หรือ)?\s*")
# What is left of a text that names only a place ("บางกะปิ ค่ะ", "หางดง เชียงใหม่").
_FILLER = re.compile(r"[\s\d.,:;/()\-–!?#\"']+|ค่ะ|คะ|ครับ|คับ|นะ|จ้า|จ้ะ|ค่า|กทม\.?|กรุงเทพฯ?|ประเทศไทย|thailand|bangkok|province|changwat", re.IGNORECASE)
# Common misspellings of district names (ฎ/ฏ, the long official name).
_ALIASES = {"ราษฏร์บูรณะ": "ราษฎร์บูรณะ", "ราษฎร์บูรณ": "ราษฎร์บูรณะ", "ป้อมปราบ": "ป้อมปราบศัตรูพ่าย"}
# Unmarked names that are mostly something else in complaints (measured on the tuning tickets).
_UNMARKED_STOP = frozenset({"เมือง", "บางพลี", "สามพราน", "บางใหญ่", "บางบัวทอง", "ปากเกร็ด", "พระประแดง",
                            "ลำลูกกา", "ธัญบุรี", "คลองหลวง", "บางกรวย", "บางเสาธง", "ไทรน้อย", "บางพลัด"})
_MIN_UNMARKED = 4


@dataclass(frozen=True)
class Found:
    """What the text says: each level's names, marked or not."""

    provinces: tuple[str, ...]
    districts: tuple[str, ...]
    marked_districts: tuple[str, ...]
    office_districts: tuple[str, ...]
    subdistricts: tuple[str, ...]
    # Names the text gives but not as the place of the problem: a way (ไปเขต…, ระหว่างเขต…) or a guess
    # (น่าจะเขต…), with their level. They still count when two districts disagree.
    elsewhere: tuple[tuple[str, str], ...] = ()
    # Districts read after เขต or แขวง, Bangkok's own words: they are Bangkok's (จอมทอง is also in เชียงใหม่).
    khet: tuple[str, ...] = ()
    # The text is nothing but place names and markers ("บางกะปิ", "หางดง เชียงใหม่"): an answer to "where?".
    only_places: bool = False
    # Marked names right after a bridge or a road along a canal or railway, with their level: where two districts
    # meet. A complaint does not take them (they count as ``elsewhere``); an answer to "which district?" does.
    at_boundary: tuple[tuple[str, str], ...] = ()


class _Names:
    """Spellings of one level -> names, with the lengths to try longest first."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names
        starts: dict[str, set[int]] = {}
        for spelling in names:
            starts.setdefault(spelling[:2], set()).add(len(spelling))
        self.lengths = {start: tuple(sorted(found, reverse=True)) for start, found in starts.items()}

    def length_at(self, text: str, at: int) -> int:
        """The length of the longest spelling at ``at``, 0 if none (an English one must end at a non-letter)."""
        for length in self.lengths.get(text[at:at + 2], ()):
            piece = text[at:at + length]
            if len(piece) == length and piece in self.names:
                if piece.isascii() and at + length < len(text) and text[at + length].isalpha():
                    continue
                return length
        return 0


@cache
def _levels() -> dict[str, _Names]:
    """Province (every spelling), district (Thai, English Bangkok names, misspellings) and sub-district names."""
    districts = {name: name for name in district_provinces()}
    districts.update({d.name_en.lower(): d.name_th for d in bangkok_districts().values()})
    # Outside Bangkok the list has Thai district names only; each province's capital district is named after
    # it, so "Mueang Chiang Mai" (and "Muang …") is known from the province's English name.
    for province in provinces().values():
        capital = f"เมือง{province.name_th}"
        if capital in districts:
            for word in ("mueang", "muang"):
                districts[f"{word} {province.name_en.lower()}"] = capital
    districts.update(_ALIASES)
    full_provinces = {k: v for k, v in province_names().items() if len(k) >= 5 or k.startswith("กทม")}
    bangkok = {d.name_th for d in bangkok_districts().values()}
    return {"province": _Names(province_names()), "full_province": _Names(full_provinces),
            "district": _Names(districts), "subdistrict": _Names({n: n for n in subdistrict_places()}),
            # เขต and แขวง are Bangkok's words: "เขตเสนานิเวศน์" is a housing estate, not อำเภอเสนา
            "เขต": _Names({k: v for k, v in districts.items() if v in bangkok}),
            "แขวง": _Names({n: n for n, pairs in subdistrict_places().items()
                            if any(p == BANGKOK_TH for p, _ in pairs)})}


def read(text: str) -> Found:
    """Every place name the text states, by level."""
    lowered = text.lower()
    levels = _levels()
    said: dict[str, list[str]] = {"province": [], "district": [], "marked": [], "office": [], "subdistrict": []}
    elsewhere: list[tuple[str, str]] = []
    at_boundary: list[tuple[str, str]] = []
    khet: list[str] = []
    taken = [False] * (len(lowered) + 1)
    for m in _MARKERS.finditer(lowered):
        if _NOT_MARKER_BEFORE.search(lowered[max(0, m.start() - 6):m.start()]):
            continue
        marker = re.sub(r"\s", "", m.group(1))
        level = _LEVEL[marker]
        start = m.end()
        before = lowered[max(0, m.start() - 16):m.start()]
        names = levels.get(marker, levels[level])
        length = names.length_at(lowered, start)
        name = names.names[lowered[start:start + length]] if length else None
        if name is None and level == "district" and lowered.startswith("เมือง", start):
            name, length = "เมือง", len("เมือง")  # อ.เมือง: the province decides which
        for k in range(m.start(), start + length):
            taken[k] = True  # a marked name is read here only, never again as an unmarked one
        if _POWER_BEFORE.search(before):
            continue
        if _ELSEWHERE_BEFORE.search(before[-8:]) or _HEDGE_BEFORE.search(before):
            if name:
                elsewhere.append((level, name))
            continue
        if name and marker in ("เขต", "แขวง"):
            khet.append(name)
        if (name and level in ("district", "subdistrict") and not _OFFICE_BEFORE.search(before)
                and _BOUNDARY_BEFORE.search(lowered[max(0, m.start() - _BOUNDARY_CHARS):m.start()])):
            at_boundary.append((level, name))
            continue
        if name and level == "district":
            gap = _LIST_AFTER.match(lowered, start + length).end()
            follow = levels["เขต"].length_at(lowered, gap)
            if follow and not _NOT_AREA_AFTER.match(lowered, gap + follow):
                elsewhere.append((level, levels["เขต"].names[lowered[gap:gap + follow]]))
        if name and level == "district" and _OFFICE_BEFORE.search(before):
            said["office"].append(name)
        elif name:
            said["marked" if level == "district" else level].append(name)
    at = 0
    while at < len(lowered):
        length, kind = (0, None) if taken[at] else _longest(lowered, at, levels)
        if not length:
            at += 1
            continue
        name = levels[kind].names[lowered[at:at + length]]
        for k in range(at, at + length):
            taken[k] = True
        if not _is_road(lowered, at, length):
            if kind == "full_province":
                said["province"].append(name)
            elif kind == "district" and _english_marked(lowered, at, length):
                said["marked"].append(name)
            elif kind == "district" and length >= _MIN_UNMARKED and name not in _UNMARKED_STOP:
                said["district"].append(name)
        at += length  # a shorter name inside a longer one (พร้าว in ลาดพร้าว) is no name
    rest = _FILLER.sub("", "".join(c for c, t in zip(lowered, taken) if not t))
    return Found(tuple(said["province"]), tuple(said["district"]), tuple(said["marked"]), tuple(said["office"]),
                 tuple(said["subdistrict"]), tuple(elsewhere), tuple(khet),
                 only_places=not rest, at_boundary=tuple(at_boundary))


def _longest(text: str, at: int, levels: dict[str, _Names]) -> tuple[int, str | None]:
    """The longest province, district or sub-district spelling at ``at`` (ties: the larger area)."""
    best: tuple[int, str | None] = (0, None)
    for kind in ("full_province", "district", "subdistrict"):
        length = levels[kind].length_at(text, at)
        if length > best[0]:
            best = (length, kind)
    return best


def _english_marked(text: str, at: int, length: int) -> bool:
    """An English district name with its English marker ("Bang Kapi district", "Khet Bang Kapi")."""
    if not text[at:at + length].isascii():
        return False
    return bool(_EN_MARK_BEFORE.search(text[max(0, at - 14):at]) or _EN_MARK_AFTER.match(text, at + length))


def _is_road(text: str, at: int, length: int) -> bool:
    before = text[max(0, at - 12):at]
    after = text[at + length:at + length + 10]
    return bool(_NOT_AREA_BEFORE.search(before) or _NOT_AREA_AFTER.match(after))
