"""The message catalogue: every citizen-facing sentence, and builders for LINE message objects.

Texts live in ``texts/*.toml`` (Thai with English alongside; one file per area, one catalogue); code refers
to them by key only, so wording can be reviewed in one place. The language follows the citizen's LINE setting when known, Thai otherwise.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from typing import Any

TEXT_LIMIT = 5000  # UTF-16 code units per text message (LINE)
QUICK_REPLY_LIMIT = 13
LABEL_LIMIT = 20


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    """Every text of every ``texts/*.toml``; a key defined twice is an error, not a silent override."""
    merged: dict[str, dict[str, str]] = {}
    for item in sorted(resources.files(__package__).joinpath("texts").iterdir(), key=lambda p: p.name):
        if not item.name.endswith(".toml"):
            continue
        with item.open("rb") as handle:
            for key, entry in tomllib.load(handle).items():
                if key in merged:
                    raise ValueError(f"message key {key!r} is defined twice (again in {item.name})")
                merged[key] = entry
    return merged


def language_of(line_language: str | None) -> str:
    """LINE reports e.g. ``th``, ``en``, ``en-US``; anything not English gets Thai."""
    return "en" if (line_language or "").lower().startswith("en") else "th"


def text(key: str, lang: str = "th", **values: Any) -> str:
    entry = catalogue()[key]
    return (entry.get(lang) or entry["th"]).format(**values)


@lru_cache(maxsize=None)
def words(key: str) -> frozenset[str]:
    """The words a citizen may type for ``key`` (``words_*`` entries: alternatives separated by ``|``), in
    every language of the catalogue and lower-cased with spaces collapsed, as ``Input.word`` compares them."""
    entry = catalogue()[key]
    return frozenset(" ".join(w.split()).lower() for value in entry.values() for w in value.split("|") if w.strip())


def utf16_length(value: str) -> int:
    return len(value.encode("utf-16-le")) // 2


def text_message(body: str, quick_reply: list[dict] | None = None) -> dict:
    if utf16_length(body) > TEXT_LIMIT:
        raise ValueError("text message longer than LINE allows; split it first")
    message: dict[str, Any] = {"type": "text", "text": body}
    if quick_reply:
        message["quickReply"] = {"items": quick_reply[:QUICK_REPLY_LIMIT]}
    return message


def message_action(label: str, said: str) -> dict:
    return {"type": "action", "action": {"type": "message", "label": label[:LABEL_LIMIT], "text": said}}


def postback_action(label: str, data: str, display: str | None = None) -> dict:
    action = {"type": "postback", "label": label[:LABEL_LIMIT], "data": data}
    if display:
        action["displayText"] = display
    return {"type": "action", "action": action}


def camera_action(label: str) -> dict:
    """Quick reply opening the phone's camera (LINE sends the photo as an image message)."""
    return {"type": "action", "action": {"type": "camera", "label": label[:LABEL_LIMIT]}}


def camera_roll_action(label: str) -> dict:
    """Quick reply opening the photo gallery (several photos arrive as one LINE image set)."""
    return {"type": "action", "action": {"type": "cameraRoll", "label": label[:LABEL_LIMIT]}}


def location_action(label: str) -> dict:
    """Quick reply opening LINE's map to share a location."""
    return {"type": "action", "action": {"type": "location", "label": label[:LABEL_LIMIT]}}


def date_picker_action(label: str, data: str, latest: str) -> dict:
    """Quick reply with LINE's date picker; no day after ``latest`` (ISO date) can be chosen."""
    return {"type": "action", "action": {"type": "datetimepicker", "label": label[:LABEL_LIMIT], "data": data,
                                         "mode": "date", "max": latest}}


MENU_KEYS = ("menu_complaint", "menu_opinion", "menu_track", "menu_news", "menu_volunteer", "menu_person")


def main_menu(lang: str) -> list[dict]:
    """Quick-reply items for the main services; each sends a postback the flows understand."""
    return [postback_action(text(key, lang), f"menu={key.removeprefix('menu_')}", text(key, lang))
            for key in MENU_KEYS]
