"""Danger-to-life cues: violence (domestic, against a child, with weapons), suicide and self-harm, medical
collapse, people trapped, gas, electrocution and live wires, fire, drowning, collapse and disasters.

A false alarm costs the citizen one extra message and a staff member a minute; a missed one can cost a
life, so cues are broad, and the look-alikes that are common in complaints are ruled out by context rather
than by narrowing the cues: a rule's own ``unless`` (แทงบอล, ยิงโฆษณา, ไฟดับ), a fear or warning just before
the cue (``กลัวว่าจะ…``, ``อาจโดนไฟดูด``), a negation (``ไม่มีคนบาดเจ็บ``), and past, habitual or fictional
context near it (``เมื่อปีที่แล้ว``, ``ทุกคืน``, ``ในหนัง``) unless the text also says it is happening now.
Every rule names the numbers to call for that kind of danger, most important first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from bot.nlp.cues import compile_any, cues, literal_prefilter
from bot.nlp.normalize import normalize

HYPOTHETICAL_WINDOW = 40  # characters before a cue (or inside it) in which a fear or a warning makes it one
NEGATION_WINDOW = 12
NEAR_WINDOW = 40  # characters either side in which a rule's `near` must be said
DISTANT_WINDOW = 80  # characters either side in which past or fiction makes a cue not about now...
NOW_WINDOW = 80  # ...unless a "now" marker is this close (a long complaint mixes its story with today)


@dataclass(frozen=True)
class Urgency:
    """Whether a text signals danger to life, which kind, and the numbers to call (most important first)."""

    urgent: bool
    reason: str | None = None
    hotlines: tuple[str, ...] = ()

    @property
    def hotline(self) -> str | None:
        """The first number to call (kept for callers that show one)."""
        return self.hotlines[0] if self.hotlines else None


@dataclass(frozen=True)
class _Rule:
    reason: str
    hotlines: tuple[str, ...]
    any: re.Pattern[str]
    unless: re.Pattern[str] | None
    near: re.Pattern[str] | None  # what must also be said close to the cue (a flood, for people trapped)
    always: bool  # fears, past and fiction do not rule it out (a suicide threat is one whatever its tense)


@dataclass(frozen=True)
class _Context:
    hypothetical: re.Pattern[str]
    negated: re.Pattern[str]
    distant: re.Pattern[str]
    now: re.Pattern[str]


@cache
def _rules() -> tuple[_Rule, ...]:
    return tuple(_Rule(u["reason"], tuple(u["hotlines"]), compile_any(u["any"]),
                       compile_any(u.get("unless", [])), compile_any(u.get("near", [])),
                       bool(u.get("always", False)))
                 for u in cues()["urgency"])


@cache
def _context() -> _Context:
    c = cues()["urgency_context"]
    return _Context(compile_any(c["hypothetical"]), compile_any(c["negated"]), compile_any(c["distant"]),
                    compile_any(c["now"]))


@cache
def _maybe_urgent():
    """A first look over every rule's cues (plain substring tests): rules out most messages at once."""
    return literal_prefilter(urgency_patterns())


def urgency_patterns() -> list[str]:
    """Every ``any`` pattern of every rule (what the first look must never rule out)."""
    return [p for u in cues()["urgency"] for p in u["any"]]


def detect_urgency(text: str, normalized: str | None = None) -> Urgency:
    """The first rule (in file order) with a cue that is about a danger now, or not urgent."""
    norm = normalize(text) if normalized is None else normalized
    if not _maybe_urgent()(norm):
        return Urgency(False)
    context = _context()
    for rule in _rules():
        if rule.unless is not None and rule.unless.search(norm):
            continue
        if any(_counts(norm, m, rule, context) for m in rule.any.finditer(norm)):
            return Urgency(True, rule.reason, rule.hotlines)
    return Urgency(False)


def _counts(norm: str, match: re.Match[str], rule: _Rule, context: _Context) -> bool:
    """Whether this occurrence of a cue is about a danger now (not feared, denied, past or fiction)."""
    start, end = match.span()
    if context.negated.search(norm[max(0, start - NEGATION_WINDOW):start]):
        return False
    if rule.near is not None and not rule.near.search(norm[max(0, start - NEAR_WINDOW):end + NEAR_WINDOW]):
        return False
    if rule.always:
        return True
    if (context.hypothetical.search(norm[max(0, start - HYPOTHETICAL_WINDOW):start])
            or context.hypothetical.search(match.group())):
        return False
    if not context.distant.search(norm[max(0, start - DISTANT_WINDOW):end + DISTANT_WINDOW]):
        return True
    return bool(context.now.search(norm[max(0, start - NOW_WINDOW):end + NOW_WINDOW]))
