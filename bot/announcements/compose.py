"""What an announcement looks like on a citizen's phone, and the checks against LINE's limits.

Lengths are counted as LINE counts them, in UTF-16 code units (a Thai character is one, most emoji two).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from bot import messages
from bot.announcements.topics import ALL, TOPICS

TITLE_LIMIT = 100
IMAGE_URL_LIMIT = 2000  # LINE: originalContentUrl / previewImageUrl, HTTPS
LINK_URL_LIMIT = 1000


@dataclass
class Draft:
    """What staff typed into the compose form."""

    title: str
    text: str
    topics: list[str]
    provinces: list[str] = field(default_factory=lambda: [ALL])
    image_url: str | None = None
    link_url: str | None = None
    everyone: bool = False


def body_text(title: str, text: str, link_url: str | None, lang: str = "th") -> str:
    parts = [messages.text("ann_message_title", lang, title=title.strip()), text.strip()]
    if link_url:
        parts.append(messages.text("ann_message_link", lang, url=link_url))
    parts.append(messages.text("ann_message_footer", lang))
    return "\n\n".join(parts)


def line_messages(title: str, text: str, image_url: str | None = None, link_url: str | None = None) -> list[dict]:
    """The 1-2 message objects of one announcement (the same for every recipient, so one multicast body)."""
    items = [messages.text_message(body_text(title, text, link_url))]
    if image_url:
        items.append({"type": "image", "originalContentUrl": image_url, "previewImageUrl": image_url})
    return items


def messages_of(announcement) -> list[dict]:
    return line_messages(announcement.title, announcement.text, announcement.image_url, announcement.link_url)


def validate(draft: Draft, provinces: set[str], lang: str = "th") -> list[str]:
    """Problems with a draft, as sentences for staff; empty when it can be published."""
    def say(key: str, **values) -> str:
        return messages.text(key, lang, **values)

    problems: list[str] = []
    title, text = draft.title.strip(), draft.text.strip()
    if not title:
        problems.append(say("ann_error_title_missing"))
    elif messages.utf16_length(title) > TITLE_LIMIT:
        problems.append(say("ann_error_title_long", limit=TITLE_LIMIT))
    if not text:
        problems.append(say("ann_error_text_missing"))
    length = messages.utf16_length(body_text(title, text, draft.link_url))
    if length > messages.TEXT_LIMIT:
        problems.append(say("ann_error_text_long", length=length, limit=messages.TEXT_LIMIT))
    for value, limit, key in ((draft.image_url, IMAGE_URL_LIMIT, "ann_error_image_url"),
                              (draft.link_url, LINK_URL_LIMIT, "ann_error_link_url")):
        if value and (not value.startswith("https://") or len(value) > limit or any(c.isspace() for c in value)):
            problems.append(say(key, limit=limit))
    if draft.everyone:
        if draft.topics and draft.topics != [ALL] or draft.provinces not in ([], [ALL]):
            problems.append(say("ann_error_everyone_filtered"))
    else:
        if not draft.topics or any(t not in TOPICS for t in draft.topics):
            problems.append(say("ann_error_topics"))
        if not draft.provinces or (draft.provinces != [ALL] and any(p not in provinces for p in draft.provinces)):
            problems.append(say("ann_error_provinces"))
    return problems


def audience_lists(draft: Draft) -> tuple[str, str]:
    """The JSON stored in ``Announcement.topics`` / ``provinces``."""
    topics = [ALL] if draft.everyone else sorted(set(draft.topics))
    provinces = [ALL] if draft.everyone or ALL in draft.provinces else sorted(set(draft.provinces))
    return json.dumps(topics, ensure_ascii=False), json.dumps(provinces, ensure_ascii=False)


def schedule_from_local(value: str, zone: str = "Asia/Bangkok") -> datetime:
    """``2026-12-01T08:30`` (a datetime-local field, Bangkok time) -> an aware datetime."""
    from zoneinfo import ZoneInfo

    moment = datetime.fromisoformat(value)
    return moment.replace(tzinfo=ZoneInfo(zone)) if moment.tzinfo is None else moment
