"""The platform's numeric rules that the OpenAPI spec does not encode, and its rate limiter.

LINE documents message limits in prose (5,000 UTF-16 units of text, 1,500 of altText, 13 quick-reply items, 300
of postback data, 5 messages, 500 multicast recipients; line-platform.md §10, §11, §18) and limits every endpoint
with a token bucket that refills gradually (§8). These checks run whether or not a spec file was given.
"""

from __future__ import annotations

import re
import threading
import time
from typing import Any, Iterator

from emulator.errors import detail
from emulator.settings import EmulatorSettings, Rate

MAX_MESSAGES = 5
MAX_MULTICAST_RECIPIENTS = 500
MAX_TEXT_UTF16 = 5000
MAX_ALT_TEXT = 1500
MAX_QUICK_REPLY_ITEMS = 13
MAX_POSTBACK_DATA = 300
MAX_BODY_BYTES = 2 * 1024 * 1024

USER_ID = re.compile(r"^U[0-9a-f]{32}$")
CHAT_ID = re.compile(r"^[UCR][0-9a-f]{32}$")


def utf16_length(text: str) -> int:
    """LINE counts text in UTF-16 code units: each Thai mark is one, a non-BMP emoji is two."""
    return len(text.encode("utf-16-le")) // 2


class TokenBucket:
    """Holds up to `rate.count` tokens and refills `rate.count` per `rate.period` seconds, continuously."""

    def __init__(self, rate: Rate) -> None:
        self.rate = rate
        self._tokens = float(rate.count)
        self._stamp = time.monotonic()
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            now = time.monotonic()
            refill = (now - self._stamp) * self.rate.count / self.rate.period
            self._tokens = min(float(self.rate.count), self._tokens + refill)
            self._stamp = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False


class RateLimiter:
    """One bucket per endpoint name, rebuilt when the configured rate changes."""

    def __init__(self, settings: EmulatorSettings) -> None:
        self._settings = settings
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()

    def allow(self, endpoint: str) -> bool:
        rate = self._settings.rate_for(endpoint)
        with self._lock:
            bucket = self._buckets.get(endpoint)
            if bucket is None or bucket.rate != rate:
                bucket = self._buckets[endpoint] = TokenBucket(rate)
        return bucket.take()

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()


def _walk(node: Any, path: str) -> Iterator[tuple[str, Any]]:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{path}[{index}]")


def message_violations(messages: Any) -> list[dict[str, str]]:
    """Details for every documented limit the `messages` array breaks, with LINE-style property paths."""
    if not isinstance(messages, list):
        return [detail("must be specified", "messages")]
    problems: list[dict[str, str]] = []
    if not 1 <= len(messages) <= MAX_MESSAGES:
        problems.append(detail(f"Size must be between 1 and {MAX_MESSAGES}", "messages"))
    for index, message in enumerate(messages):
        base = f"messages[{index}]"
        if not isinstance(message, dict):
            problems.append(detail("must be an object", base))
            continue
        text = message.get("text")
        if message.get("type") in ("text", "textV2") and isinstance(text, str) \
                and utf16_length(text) > MAX_TEXT_UTF16:
            problems.append(detail(f"Length must be between 0 and {MAX_TEXT_UTF16}", f"{base}.text"))
        alt = message.get("altText")
        if isinstance(alt, str) and utf16_length(alt) > MAX_ALT_TEXT:
            problems.append(detail(f"Length must be between 0 and {MAX_ALT_TEXT}", f"{base}.altText"))
        items = (message.get("quickReply") or {}).get("items")
        if isinstance(items, list) and len(items) > MAX_QUICK_REPLY_ITEMS:
            problems.append(detail(f"Size must be between 0 and {MAX_QUICK_REPLY_ITEMS}",
                                   f"{base}.quickReply.items"))
        for path, node in _walk(message, base):
            if isinstance(node, dict) and node.get("type") in ("postback", "datetimepicker") \
                    and isinstance(node.get("data"), str) and utf16_length(node["data"]) > MAX_POSTBACK_DATA:
                problems.append(detail(f"Length must be between 0 and {MAX_POSTBACK_DATA}", f"{path}.data"))
    return problems
