"""Fitting messages to LINE's request limits: texts of at most 5,000 UTF-16 units, 5 messages per request.

Splitting prefers a paragraph break, then a line break, then a space, and never cuts a surrogate pair or
separates a Thai vowel or tone mark from its consonant (LINE counts both in UTF-16 units, §10).
"""

from __future__ import annotations

import unicodedata

from bot.messages import TEXT_LIMIT, utf16_length

MAX_MESSAGES_PER_REQUEST = 5


def split_text(body: str, limit: int = TEXT_LIMIT) -> list[str]:
    """``body`` as consecutive parts of at most ``limit`` UTF-16 units; joined, they give ``body`` back."""
    parts: list[str] = []
    rest = body
    while utf16_length(rest) > limit:
        cut = _cut_point(rest, limit)
        parts.append(rest[:cut])
        rest = rest[cut:]
    if rest or not parts:
        parts.append(rest)
    return parts


def _cut_point(text: str, limit: int) -> int:
    """The largest index at which ``text[:index]`` fits, moved back to a natural break when there is one."""
    units, hard = 0, 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            break
        hard = index + 1
    while hard > 1 and _is_mark(text[hard]):
        hard -= 1  # keep a mark with the character it sits on
    window = text[:hard]
    for separator in ("\n\n", "\n", " "):
        found = window.rfind(separator)
        if found > hard // 2:
            return found + len(separator)
    return hard


def _is_mark(char: str) -> bool:
    """Combining marks, including Thai above/below vowels and tone marks (category Mn)."""
    return unicodedata.category(char).startswith("M")


def split_long_texts(messages: list[dict]) -> list[dict]:
    """Every text message too long for LINE becomes several; other messages pass unchanged. A quick reply
    stays on the last part, where LINE shows it."""
    result: list[dict] = []
    for message in messages:
        if message.get("type") != "text" or utf16_length(message.get("text", "")) <= TEXT_LIMIT:
            result.append(message)
            continue
        parts = split_text(message["text"])
        # Emoji positions and a quote token belong to the original text; only the sender carries over.
        extras = {key: value for key, value in message.items() if key == "sender"}
        for number, part in enumerate(parts):
            piece = {"type": "text", "text": part, **extras}
            if number == len(parts) - 1 and "quickReply" in message:
                piece["quickReply"] = message["quickReply"]
            result.append(piece)
    return result


def requests_for(messages: list[dict]) -> list[list[dict]]:
    """Messages (long texts split) grouped into requests of at most five, in order."""
    fitted = split_long_texts(messages)
    return [fitted[start:start + MAX_MESSAGES_PER_REQUEST]
            for start in range(0, len(fitted), MAX_MESSAGES_PER_REQUEST)]
