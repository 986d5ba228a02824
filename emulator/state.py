"""The platform's memory: people, groups, what was delivered to whom, tokens, retry keys, content, rich menus.

One `Platform` per emulator, guarded by one re-entrant lock: the bot pushes from many worker threads at once and
tests hammer it with thousands of requests, and a single lock keeps every rule (single-use reply tokens, retry
keys, quota) exact without clever ordering. Records are plain dataclasses that serialise with `asdict`.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

FRIEND, BLOCKED, STRANGER = "friend", "blocked", "stranger"


def new_id(prefix: str) -> str:
    """LINE's user, group and room ids: a letter and 32 hex digits."""
    return prefix + secrets.token_hex(16)


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class User:
    user_id: str
    display_name: str
    language: str = "th"
    status: str = FRIEND
    picture_url: str | None = None
    status_message: str | None = None

    def profile(self) -> dict[str, Any]:
        profile = {"userId": self.user_id, "displayName": self.display_name, "language": self.language}
        if self.picture_url:
            profile["pictureUrl"] = self.picture_url
        if self.status_message:
            profile["statusMessage"] = self.status_message
        return profile


@dataclass
class Group:
    """A group (`C…`) or a room (`R…`); `bot_joined` is False after the bot leaves or before it is invited."""

    group_id: str
    name: str
    kind: str = "group"
    member_ids: list[str] = field(default_factory=list)
    bot_joined: bool = True
    picture_url: str | None = None


@dataclass
class Delivery:
    """One message object sent by the bot to one chat; `delivered` is False for blocked or unknown targets."""

    seq: int
    chat_id: str
    endpoint: str
    request_id: str
    retry_key: str | None
    timestamp: int
    message_id: str
    quote_token: str | None
    message: dict[str, Any]
    delivered: bool


@dataclass
class ReplyToken:
    token: str
    chat_id: str
    issued_at: float
    event_time: float
    used: bool = False


@dataclass
class AcceptedRetryKey:
    request_id: str
    accepted_at: float
    body: dict[str, Any]


@dataclass
class Content:
    """Binary content a user sent; it answers 202 for `preparing_calls` downloads, 410 once unsent."""

    data: bytes
    content_type: str
    preparing_calls: int = 0
    unsent: bool = False


@dataclass
class RichMenu:
    rich_menu_id: str
    body: dict[str, Any]
    image: bytes | None = None
    image_type: str | None = None


@dataclass
class WebhookAttempt:
    seq: int
    url: str
    event_ids: list[str]
    is_redelivery: bool
    status: int | None
    error: str | None
    latency_ms: float
    timestamp: int
    body: str


@dataclass
class Platform:
    """All mutable state; take `lock` around any read-modify-write."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    users: dict[str, User] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    reply_tokens: dict[str, ReplyToken] = field(default_factory=dict)
    retry_keys: dict[str, AcceptedRetryKey] = field(default_factory=dict)
    contents: dict[str, Content] = field(default_factory=dict)
    user_messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    rich_menus: dict[str, RichMenu] = field(default_factory=dict)
    default_rich_menu: str | None = None
    user_rich_menus: dict[str, str] = field(default_factory=dict)
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    webhook_attempts: list[WebhookAttempt] = field(default_factory=list)
    spec_violations: list[dict[str, Any]] = field(default_factory=list)
    rejections: Counter[str] = field(default_factory=Counter)
    rejections_by_endpoint: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    narrowcasts: dict[str, dict[str, Any]] = field(default_factory=dict)
    loading: list[dict[str, Any]] = field(default_factory=list)
    quota_used: int = 0
    _seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(560000000000000001))

    def next_seq(self) -> int:
        return next(self._seq)

    def next_message_id(self) -> str:
        with self.lock:
            return str(next(self._message_ids))

    def reject(self, endpoint: str, reason: str) -> None:
        with self.lock:
            self.rejections[reason] += 1
            self.rejections_by_endpoint[endpoint][reason] += 1

    def chat_members(self, chat_id: str) -> list[str]:
        """The people a message to `chat_id` reaches: one friend, or a joined group's members."""
        if chat_id in self.users:
            return [chat_id] if self.users[chat_id].status == FRIEND else []
        group = self.groups.get(chat_id)
        if group is None or not group.bot_joined:
            return []
        return [uid for uid in group.member_ids if uid in self.users]

    def deliver(self, chat_id: str, endpoint: str, request_id: str, retry_key: str | None,
                messages: list[dict[str, Any]], delivered: bool) -> list[dict[str, str]]:
        """Record the messages for one chat and return their `sentMessages` entries."""
        sent: list[dict[str, str]] = []
        with self.lock:
            stamp = now_ms()
            for message in messages:
                entry = {"id": self.next_message_id()}
                if message.get("type") in ("text", "textV2", "sticker", "image", "video"):
                    entry["quoteToken"] = secrets.token_urlsafe(24)
                self.deliveries.append(Delivery(self.next_seq(), chat_id, endpoint, request_id, retry_key, stamp,
                                                entry["id"], entry.get("quoteToken"), message, delivered))
                sent.append(entry)
        return sent

    def issue_reply_token(self, chat_id: str) -> str:
        token = secrets.token_hex(16)
        with self.lock:
            self.reply_tokens[token] = ReplyToken(token, chat_id, time.monotonic(), time.monotonic())
        return token

    def take_reply_token(self, token: str, ttl: float) -> ReplyToken | None:
        """The token's record if it is unused and fresh, marking it used; None otherwise.

        A redelivered event's token lives `ttl` from the redelivery, but never past 20 minutes after the event.
        """
        with self.lock:
            entry = self.reply_tokens.get(token)
            now = time.monotonic()
            if entry is None or entry.used or now - entry.issued_at > ttl or now - entry.event_time > 20 * 60:
                return None
            entry.used = True
            return entry

    def refresh_reply_token(self, token: str) -> None:
        with self.lock:
            entry = self.reply_tokens.get(token)
            if entry is not None:
                entry.issued_at = time.monotonic()

    def effective_rich_menu(self, user_id: str | None) -> RichMenu | None:
        with self.lock:
            menu_id = self.user_rich_menus.get(user_id or "") or self.default_rich_menu
            return self.rich_menus.get(menu_id) if menu_id else None
