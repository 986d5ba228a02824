"""The platform's memory: people, groups, what was delivered to whom, tokens, retry keys, content, rich menus.

One `Platform` per emulator, guarded by one re-entrant lock: the bot pushes from many worker threads at once and
tests hammer it with thousands of requests, and a single lock keeps every rule (single-use reply tokens, retry
keys, quota) exact without clever ordering. Records are plain dataclasses that serialise with `asdict`.

A request to many chats at once (multicast, broadcast, narrowcast) is kept as one `FanOut` record: the message
objects once and the list of recipients, from which the per-recipient `Delivery` records are derived when
someone reads them. Building 500 `Delivery` objects (each with its own message id and quote token) under the
lock cost about 4 ms per multicast and half a kilobyte per recipient, which made a million-recipient
announcement slow down on the emulator and fill its memory; the derived records carry the same fields.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Iterable, Iterator

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


QUOTED_TYPES = frozenset({"text", "textV2", "sticker", "image", "video"})  # messages that get a quote token


@dataclass
class FanOut:
    """One request to many chats: recipient ``i``'s message ``j`` is seq ``first_seq + i * m + j`` and message id
    ``first_message_id + i * m + j`` (``m`` messages), exactly as if each had been recorded one by one."""

    first_seq: int
    chat_ids: list[str]
    endpoint: str
    request_id: str
    retry_key: str | None
    timestamp: int
    messages: list[dict[str, Any]]
    first_message_id: int
    reachable: frozenset[str]
    salt: bytes = field(default_factory=lambda: secrets.token_bytes(16))

    @property
    def last_seq(self) -> int:
        return self.first_seq + len(self.chat_ids) * len(self.messages) - 1

    @cached_property
    def positions(self) -> dict[str, int]:
        """Chat id -> its place in ``chat_ids``; built on the first per-chat read (the chat page, a test)."""
        return {chat_id: index for index, chat_id in enumerate(self.chat_ids)}

    def quote_token(self, seq: int) -> str:
        """A stable random-looking token per recorded message, derived rather than stored."""
        digest = hmac.new(self.salt, seq.to_bytes(8, "big"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:24]).decode()

    def expand(self, index: int, since: int = 0) -> Iterator[Delivery]:
        """The `Delivery` records of recipient ``index`` with a seq above ``since``."""
        chat_id, width = self.chat_ids[index], len(self.messages)
        for j, message in enumerate(self.messages):
            offset = index * width + j
            seq = self.first_seq + offset
            if seq <= since:
                continue
            quoted = self.quote_token(seq) if message.get("type") in QUOTED_TYPES else None
            yield Delivery(seq, chat_id, self.endpoint, self.request_id, self.retry_key, self.timestamp,
                           str(self.first_message_id + offset), quoted, message, chat_id in self.reachable)

    def deliveries(self, since: int = 0, chat_id: str | None = None) -> Iterator[Delivery]:
        if chat_id is not None:
            index = self.positions.get(chat_id)
            if index is not None:
                yield from self.expand(index, since)
            return
        first = max(0, (since + 1 - self.first_seq) // len(self.messages))
        for index in range(first, len(self.chat_ids)):
            yield from self.expand(index, since)


Record = Delivery | FanOut


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
    deliveries: list[Record] = field(default_factory=list)  # in seq order; read them through `sent`
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
    lost_answers: Counter[str] = field(default_factory=Counter)  # endpoint -> requests done, answered 500
    narrowcasts: dict[str, dict[str, Any]] = field(default_factory=dict)
    loading: list[dict[str, Any]] = field(default_factory=list)
    quota_used: int = 0
    last_seq: int = 0
    _next_message_id: int = 560000000000000001

    def next_seq(self) -> int:
        with self.lock:
            self.last_seq += 1
            return self.last_seq

    def next_message_id(self) -> str:
        with self.lock:
            self._next_message_id += 1
            return str(self._next_message_id - 1)

    def _reserve(self, count: int) -> tuple[int, int]:
        """The first of ``count`` consecutive seq numbers and message ids (caller holds the lock)."""
        seq, message_id = self.last_seq + 1, self._next_message_id
        self.last_seq += count
        self._next_message_id += count
        return seq, message_id

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
                if message.get("type") in QUOTED_TYPES:
                    entry["quoteToken"] = secrets.token_urlsafe(24)
                self.deliveries.append(Delivery(self.next_seq(), chat_id, endpoint, request_id, retry_key, stamp,
                                                entry["id"], entry.get("quoteToken"), message, delivered))
                sent.append(entry)
        return sent

    def fan_out(self, chat_ids: list[str], endpoint: str, request_id: str, retry_key: str | None,
                messages: list[dict[str, Any]], reachable: Iterable[str]) -> FanOut:
        """Record one request to many chats (each id once); ``reachable`` are those it was delivered to."""
        with self.lock:
            first_seq, first_id = self._reserve(len(chat_ids) * len(messages))
            record = FanOut(first_seq, chat_ids, endpoint, request_id, retry_key, now_ms(), messages, first_id,
                            frozenset(reachable))
            self.deliveries.append(record)
        return record

    def snapshot(self) -> tuple[list[Record], int]:
        """The records and the last seq handed out, read together. A request's messages are recorded one by
        one under the lock, so a cursor read apart from the records could stop in the middle of a request
        and hide its last messages from a reader that pages with it."""
        with self.lock:
            return list(self.deliveries), self.last_seq

    def sent(self, since: int = 0, chat_id: str | None = None,
             records: list[Record] | None = None) -> Iterator[Delivery]:
        """Every message the bot sent with a seq above ``since`` (optionally to one chat), in seq order.

        Reads a snapshot of the record list (``records``, or one taken now); records are never changed after
        they are appended."""
        if records is None:
            records, _ = self.snapshot()
        for record in records:
            if isinstance(record, FanOut):
                if record.last_seq > since:
                    yield from record.deliveries(since, chat_id)
            elif record.seq > since and (chat_id is None or record.chat_id == chat_id):
                yield record

    def accepted_times(self, endpoint: str) -> list[int]:
        """When each accepted request of ``endpoint`` was recorded (ms since the epoch), in order: the rate the
        platform saw, whatever the bot's own bookkeeping says."""
        with self.lock:
            records = list(self.deliveries)
        times: dict[str, int] = {}
        for record in records:
            if record.endpoint == endpoint:
                times.setdefault(record.request_id, record.timestamp)
        return list(times.values())

    def recipient_counts(self, endpoints: Iterable[str] = ("multicast", "broadcast", "narrowcast"),
                         text: str | None = None) -> Counter[str]:
        """Chat id -> how many accepted requests of ``endpoints`` reached it (delivered or not), optionally only
        requests with a text message containing ``text``: the exactly-once check of a large fan-out, without
        deriving a record per recipient."""
        wanted = set(endpoints)
        counts: Counter[str] = Counter()
        with self.lock:
            records = list(self.deliveries)
        seen_single: set[tuple[str, str]] = set()
        for record in records:
            if record.endpoint not in wanted:
                continue
            if isinstance(record, FanOut):
                if text is None or any(text in str(m.get("text", "")) for m in record.messages):
                    counts.update(record.chat_ids)
            elif (record.request_id, record.chat_id) not in seen_single and (
                    text is None or text in str(record.message.get("text", ""))):
                seen_single.add((record.request_id, record.chat_id))
                counts[record.chat_id] += 1
        return counts

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
