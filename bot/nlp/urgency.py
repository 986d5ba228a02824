"""Danger-to-life cues (fire, electrocution, collapse, people trapped by flooding, injury).

A false alarm costs a staff member a minute; a missed one can cost a life, so cues are broad but each has
``unless`` patterns for the common look-alikes seen in complaints: past events (``ไฟไหม้เมื่อปีที่แล้ว``),
fears (``เกรงว่าจะถล่ม``), and street lights that are out (``ไฟดับ`` is not a fire).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from bot.nlp.cues import compile_any, cues, literal_prefilter
from bot.nlp.normalize import normalize


@dataclass(frozen=True)
class Urgency:
    """Whether a text signals danger to life, why, and the hotline to tell the citizen to call."""

    urgent: bool
    reason: str | None = None
    hotline: str | None = None


@cache
def _rules() -> list[tuple[str, str, object, object]]:
    return [(u["reason"], u["hotline"], compile_any(u["any"]), compile_any(u.get("unless", [])))
            for u in cues()["urgency"]]


@cache
def _maybe_urgent():
    """A first look over every rule's cues (plain substring tests): rules out most messages at once."""
    return literal_prefilter([p for u in cues()["urgency"] for p in u["any"]])


def detect_urgency(text: str, normalized: str | None = None) -> Urgency:
    """First danger cue found in the text (by rule order), or not urgent."""
    norm = normalize(text) if normalized is None else normalized
    if not _maybe_urgent()(norm):
        return Urgency(False)
    for reason, hotline, any_re, unless_re in _rules():
        if any_re.search(norm) and not (unless_re and unless_re.search(norm)):
            return Urgency(True, reason, hotline)
    return Urgency(False)
