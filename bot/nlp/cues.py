"""Compiled word cues from bot/data/cues.toml, shared by the intent and urgency rules."""

from __future__ import annotations

import re
import tomllib
from functools import cache
from importlib import resources


@cache
def cues() -> dict:
    return tomllib.loads(resources.files("bot.data").joinpath("cues.toml").read_text("utf-8"))


def compile_any(patterns: list[str]) -> re.Pattern[str] | None:
    """One alternation of ``patterns`` (None when empty, so nothing matches)."""
    return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None


_META = set(".^$*+?{}[]|()\\")
_ALTERNATIVES_RE = re.compile(r"\(\?:([^()\\.^$*+?{}\[\]]+)\)")
_LOOKBEHIND_RE = re.compile(r"^(?:\(\?<[!=][^()]*\))+")


def required_literals(pattern: str) -> list[str] | None:
    """Plain strings one of which every match of ``pattern`` contains, or None when none can be read off.

    Python's ``re`` finds a single leading literal fast but tries every alternative at every position of
    an alternation (~10 us on a message for the urgency cues); ``literal in text`` is ~0.1 us. Reads the
    leading literal run (after a ``\\b`` or leading look-behinds, which only read text before the match),
    or the options of a leading ``(?:a|b|c)`` group of literals.
    """
    top = _top_level_alternatives(pattern)
    if len(top) > 1:
        found = [required_literals(a) for a in top]
        return None if None in found else [lit for f in found for lit in f]
    p = _LOOKBEHIND_RE.sub("", pattern.removeprefix("\\b"), count=1)
    m = _ALTERNATIVES_RE.match(p)
    if m:
        return m.group(1).split("|")
    run = ""
    for i, ch in enumerate(p):
        if ch in _META:
            if ch in "?*{" and run:  # the quantifier applies to the run's last character
                run = run[:-1]
            break
        run += ch
    return [run] if run else None


def _top_level_alternatives(pattern: str) -> list[str]:
    parts, depth, start, i = [], 0, 0, 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 1
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    return parts + [pattern[start:]]


def literal_prefilter(patterns: list[str]):
    """A function ``text -> bool`` that is False only when no pattern can match (a cheap first look)."""
    literals: set[str] = set()
    for p in patterns:
        found = required_literals(p)
        if found is None:
            return lambda text: True
        literals.update(found)
    ordered = tuple(sorted(lit for lit in literals if not any(o != lit and o in lit for o in literals)))
    return lambda text: any(lit in text for lit in ordered)
