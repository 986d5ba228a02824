"""Personal data in free text: Thai citizen IDs (checksum-valid), phone numbers and e-mail addresses.

Complaints are shown to staff, agency groups and sometimes published; what a citizen typed about
themselves must be findable so it can be masked. Patterns are deliberately strict (a citizen ID must pass
its checksum) so that ticket numbers, house numbers and dates are not masked by mistake.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bot.nlp._speedups import longest_digit_run

PiiKind = Literal["citizen_id", "phone", "email"]

_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_THAI_DIGIT_RE = re.compile("[๐-๙]")


def to_ascii_digits(text: str) -> str:
    """Thai digits as ASCII ones, string positions unchanged (``str.translate`` is slow on Thai text, so
    it runs only when there is a Thai digit)."""
    return text.translate(_THAI_DIGITS) if _THAI_DIGIT_RE.search(text) else text

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
# 13 digits, optionally grouped 1-4-5-2-1 with dashes or spaces (as printed on the card).
CITIZEN_ID_RE = re.compile(r"(?<![\d])\d[ \-]?\d{4}[ \-]?\d{5}[ \-]?\d{2}[ \-]?\d(?![\d])")
# Mobile 06/08/09 + 8 digits, Bangkok/provincial landlines 02-07 + 7 digits, or +66 without the 0.
PHONE_RE = re.compile(
    r"(?<![\d+])(?:\+66[ \-]?|0)(?:[689](?:[ \-.]?\d){8}|[2-7](?:[ \-.]?\d){7})(?![\d])"
)


@dataclass(frozen=True)
class PiiMatch:
    """One piece of personal data: its kind and where it is in the text (str indices, end exclusive)."""

    kind: PiiKind
    start: int
    end: int


def citizen_id_valid(digits: str) -> bool:
    """True when 13 digits carry a correct Thai citizen ID check digit (mod-11 over weights 13..2)."""
    digits = re.sub(r"\D", "", to_ascii_digits(digits))
    if len(digits) != 13:
        return False
    total = sum(int(d) * (13 - i) for i, d in enumerate(digits[:12]))
    return (11 - total % 11) % 10 == int(digits[12])


def find_pii(text: str) -> list[PiiMatch]:
    """Every e-mail, valid citizen ID and phone number in ``text``, sorted, never overlapping.

    Thai digits are read as digits (the translation keeps string positions unchanged).
    """
    plain = to_ascii_digits(text)
    has_at = "@" in plain
    if not has_at and longest_digit_run(plain) < 9:  # too few digits for a phone number or an ID
        return []
    found: list[PiiMatch] = []
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in taken)

    for kind, pattern in (("email", EMAIL_RE), ("citizen_id", CITIZEN_ID_RE), ("phone", PHONE_RE)):
        if kind == "email" and not has_at:
            continue
        for m in pattern.finditer(plain):
            if kind == "citizen_id" and not citizen_id_valid(m.group()):
                continue
            if free(m.start(), m.end()):
                found.append(PiiMatch(kind, m.start(), m.end()))  # type: ignore[arg-type]
                taken.append((m.start(), m.end()))
    return sorted(found, key=lambda p: p.start)


MASKS: dict[str, str] = {"citizen_id": "[เลขบัตรประชาชน]", "phone": "[เบอร์โทร]", "email": "[อีเมล]"}


def mask_pii(text: str, masks: dict[str, str] | None = None) -> str:
    """``text`` with each piece of personal data replaced by a placeholder naming its kind."""
    masks = masks or MASKS
    out, last = [], 0
    for p in find_pii(text):
        out.append(text[last : p.start])
        out.append(masks[p.kind])
        last = p.end
    out.append(text[last:])
    return "".join(out)


# --- published text: names and house numbers too ----------------------------------------------------------
#
# What leaves the console (Open311, the agency API, agencies' LINE groups) must not name or locate a person.
# A Thai personal name is recognised by its title: นาย, นาง, นางสาว (น.ส.), คุณ, เด็กชาย/เด็กหญิง (ด.ช./ด.ญ.),
# and the name (and surname, when the next word follows one space) after it. Thai has no spaces between
# words, so a name written into a sentence takes the rest of its run with it: more is masked, never less.
# Words that merely start like a title (นายก, นายอำเภอ, คุณภาพ, ขอบคุณ, นางพยาบาล) are left alone.

NAME_MASK = "[ชื่อ]"
HOUSE_MASK = "[เลขที่บ้าน]"
_THAI_LETTERS = "ก-ฮฤฦะ-ฺเ-ๅ็-๎"  # consonants, vowels and tone marks; not Thai digits or ๆ ฯ
_NOT_TITLES = {
    "คุณ": ("ภาพ", "ค่า", "สมบัติ", "ธรรม", "ประโยชน์", "วุฒิ", "ลักษณ", "งาม", "ความดี", "นาย", "หญิง", "ครู",
            "แม่", "พ่อ", "ป้า", "ลุง", "ยาย", "ภาวะ"),
    "นาย": ("กเทศ", "กรัฐ", "กอบ", "กสมาคม", "กสภา", "กฯ", "กฝ่าย", "อำเภอ", "จ้าง", "ทุน", "หน้า", "ช่าง", "สถานี", "ตรวจ", "ร้อย", "พัน", "พล", "สิบ", "ดาบ",
            "แพทย์", "ประกัน", "ทะเบียน", "ด่าน", "งาน", "ห้าง", "เรือ", "ท้าย", "ทหาร", "ตำรวจ", "บ่อน", "ประตู"),
    "นาง": ("พยาบาล", "ฟ้า", "งาม", "เอก", "แบบ", "สนม", "พญา", "ร้าย", "เงือก", "เลิ้ง", "รอง", "กำนัล", "ใน",
            "ไม้", "แมว"),
}
# Words that follow a name rather than being its surname ("นายสมปอง โทร 08…").
_NOT_SURNAMES = ("โทร", "บอก", "แจ้ง", "อยู่", "ที่", "ได้", "มา", "ไป", "เป็น", "ครับ", "ค่ะ", "คะ", "ว่า", "และ",
                 "กับ", "ซึ่ง", "เบอร์", "บ้าน", "ร้อง", "ขอ", "ให้", "ถูก", "ก็", "จะ", "เคย", "ยัง", "ไม่", "เจ้าของ",
                 "หมู่", "ซอย", "ถนน", "เขต", "แขวง", "ตำบล", "อำเภอ", "จังหวัด", "เลขที่", "มี", "เห็น", "ช่วย")
# The title, also inside a run of Thai ("ติดต่อคุณวิชัย": Thai has no spaces), but not the end of a word
# (ขอบคุณ, บุญคุณ, พระคุณ, ทวีคุณ, ทนาย), then its name.
_TITLE_RE = re.compile(
    r"(?P<title>นางสาว|น\.ส\.|นาง|(?<!ท)นาย|(?<!ขอบ)(?<!บุญ)(?<!พระ)(?<!ทวี)(?<!การ)คุณ|เด็กชาย|เด็กหญิง"
    r"|ด\.ช\.|ด\.ญ\.)"
    rf"(?P<gap>\s?)(?P<name>[{_THAI_LETTERS}]{{2,40}})(?P<surname>\s[{_THAI_LETTERS}]{{2,30}}(?![{_THAI_LETTERS}]))?"
)
_DIGITS = r"[0-9๐-๙]"
# "บ้านเลขที่ 123/45", "เลขที่ 99", "บ้าน ๑๒/๓"; and a bare "45/12" that is not part of a date.
_HOUSE_RE = re.compile(
    rf"(?P<lead>(?:บ้าน\s*)?เลขที่\s*|บ้าน\s*)(?P<number>{_DIGITS}{{1,5}}(?:\s*/\s*{_DIGITS}{{1,5}})?)(?!{_DIGITS}|/)"
    rf"|(?<![0-9๐-๙/.:\-])(?P<bare>{_DIGITS}{{1,4}}/{_DIGITS}{{1,4}})(?![0-9๐-๙/])"
)


def _name_match(m: re.Match[str]) -> str:
    if m.group("name").startswith(_NOT_TITLES.get(m.group("title"), ())):
        return m.group(0)
    surname = m.group("surname") or ""
    kept = surname if surname[1:].startswith(_NOT_SURNAMES) else ""
    return m.group("title") + m.group("gap") + NAME_MASK + kept


def mask_titled_names(text: str) -> str:
    """Every title + name (+ surname) as the title and ``[ชื่อ]``: "นายสมปอง ใจดี" -> "นาย[ชื่อ]"."""
    return _TITLE_RE.sub(_name_match, text) if any(t in text for t in ("นา", "คุณ", "ด.", "น.ส", "เด็ก")) else text


def mask_known_names(text: str, names: tuple[str, ...] | list[str] = ()) -> str:
    """Each word of the names the citizen gave the bot (LINE profile, volunteer form), wherever it appears."""
    words = sorted({w for name in names if name for w in re.split(r"\s+", name.strip()) if len(w) >= 2},
                   key=len, reverse=True)
    if not words:
        return text
    return re.sub("|".join(re.escape(w) for w in words), NAME_MASK, text, flags=re.IGNORECASE)


def mask_house_numbers(text: str) -> str:
    """House numbers as ``[เลขที่บ้าน]``, keeping the word that introduced them ("บ้านเลขที่ [เลขที่บ้าน]")."""
    def replace(m: re.Match[str]) -> str:
        return HOUSE_MASK if m.group("bare") else m.group("lead") + HOUSE_MASK

    return _HOUSE_RE.sub(replace, text)


def mask_public(text: str, names: tuple[str, ...] | list[str] = ()) -> str:
    """``text`` as it may be published: no phone, ID or e-mail, no personal name, no house number."""
    return mask_pii(mask_house_numbers(mask_titled_names(mask_known_names(text or "", names))))


def normalise_phone(text: str) -> str | None:
    """``text`` as a Thai phone number in its plain form (``0812345678``), or None when it is not one whole
    phone number (a flow's "your phone?" answer). Thai digits, spaces, dashes, dots, brackets and 66/+66 are
    accepted. The number itself is :data:`PHONE_RE`'s, the one phone pattern (masking finds what this takes)."""
    digits = re.sub(r"[\s\-().]", "", to_ascii_digits(text or ""))
    if digits.startswith("66"):
        digits = "+" + digits  # typed without its plus: an answer to "your phone?" is only a number
    if not PHONE_RE.fullmatch(digits):
        return None
    return "0" + digits.removeprefix("+66") if digits.startswith("+") else digits


def phone_in(text: str) -> str | None:
    """The first phone number written anywhere in ``text`` ("โทร 081-234-5678 ได้ค่ะ"), plain; or None."""
    for match in find_pii(text):
        if match.kind == "phone":
            return normalise_phone(to_ascii_digits(text)[match.start:match.end])
    return None
