"""What a free message at the top level wants: complaint, opinion, case question, greeting or other.

Rules, not a model: the data has no intent labels worth training on, the cases are few and clear, and a
rule is easy for staff to read and extend (bot/data/cues.toml). The order matters: a case reference wins
over everything, a greeting only counts when the message is short (``สวัสดีครับ ถนนพัง...`` is a
complaint), and anything long enough is treated as a complaint so a citizen who just types their problem
is not sent to a menu.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

from bot.nlp._speedups import longest_digit_run
from bot.nlp.cues import compile_any, cues
from bot.nlp.normalize import normalize

Intent = Literal["complaint", "opinion", "case_question", "greeting", "other"]
INTENTS: tuple[Intent, ...] = ("complaint", "opinion", "case_question", "greeting", "other")
GREETING_MAX_CHARS = 30


@cache
def _rules() -> dict:
    c = cues()["intent"]
    return {k: compile_any(c[k]) for k in ("case_reference", "case_question", "greeting", "opinion", "complaint")} | {
        "min_chars": int(c["complaint_min_chars"])}


def detect_intent(text: str, normalized: str | None = None) -> Intent:
    """The intent of a message (``other`` for empty or meaningless text)."""
    norm = normalize(text) if normalized is None else normalized
    if not norm:
        return "other"
    r = _rules()
    # Both reference patterns hold a run of four digits (``DR-2569-…``, ``2023-…``): the compiled digit count
    # (~0.3 us) rules most messages out before the regex (~7 us, the costliest rule here).
    if (longest_digit_run(norm) >= 4 and r["case_reference"].search(norm)) or r["case_question"].search(norm):
        return "case_question"
    if r["opinion"].search(norm):
        return "opinion"
    if len(norm) <= GREETING_MAX_CHARS and r["greeting"].search(norm) and not r["complaint"].search(norm):
        return "greeting"
    if r["complaint"].search(norm) or (len(norm) >= r["min_chars"] and _has_letters(norm)):
        return "complaint"
    return "other"


def _has_letters(text: str) -> bool:
    return any(ch.isalpha() for ch in text)
