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
