"""English complaints: the category from English cue words (``bot/data/english_cues.toml``).

The shipped model learnt from Thai tickets; on a text with no Thai letters its scores are noise (a burst
water pipe came out as "footpath"). ``classify`` asks this module instead for such texts: one category's cues
matched is a confident answer, several are the choices offered, none gives the most common categories as the
choice list, so an English-speaking citizen always gets a sensible list, never a guess.
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from importlib import resources

_THAI = re.compile("[\u0e00-\u0e7f]")
_LATIN = re.compile("[a-z]", re.IGNORECASE)
# Offered when no cue matched: the categories citizens file most (Traffy's counts), then the catch-all.
COMMON = ("ถนน", "ความสะอาด", "แสงสว่าง", "ทางเท้า", "น้ำท่วม", "ท่อระบายน้ำ", "เสียงรบกวน", "ไฟฟ้า", "ประปา",
          "อื่นๆ")


def is_english(text: str) -> bool:
    """No Thai letter and some Latin ones: the Thai model cannot read it."""
    return not _THAI.search(text) and bool(_LATIN.search(text))


@cache
def _cues() -> tuple[tuple[str, re.Pattern], ...]:
    raw = tomllib.loads(resources.files("bot.data").joinpath("english_cues.toml").read_text("utf-8"))
    return tuple((category, re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE))
                 for category, patterns in raw.items())


def english_categories(text: str) -> list[str]:
    """Categories whose English cues the text matches, in the file's order (most specific first is not
    promised: the caller asks when there are several)."""
    lowered = " ".join(text.lower().split())
    return [category for category, cue in _cues() if cue.search(lowered)]
