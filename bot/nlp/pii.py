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
