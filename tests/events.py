"""Webhook bodies as LINE sends them, with every field the spec requires (see line-platform notes §19):
without ``mode``, ``webhookEventId``, ``deliveryContext`` or ``quoteToken`` the SDK silently degrades them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import time
import uuid

_counter = itertools.count()


def event_id() -> str:
    """A ULID-shaped id (26 Crockford base32 characters), unique within the test run."""
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    n = (int(time.time() * 1000) << 80) | (uuid.uuid4().int >> 48)
    return "".join(alphabet[(n >> (5 * i)) & 31] for i in reversed(range(26)))


def user_id(n: int | None = None) -> str:
    return "U" + (f"{n:032x}" if n is not None else uuid.uuid4().hex)


def base(kind: str, source: dict, **fields) -> dict:
    event = {
        "type": kind,
        "mode": "active",
        "timestamp": int(time.time() * 1000),
        "source": source,
        "webhookEventId": event_id(),
        "deliveryContext": {"isRedelivery": False},
    }
    event.update(fields)
    return event


def text(user: str, body: str, group: str | None = None) -> dict:
    source = {"type": "group", "groupId": group, "userId": user} if group else {"type": "user", "userId": user}
    return base("message", source, replyToken=uuid.uuid4().hex, message={
        "id": str(10**15 + next(_counter)), "type": "text", "quoteToken": uuid.uuid4().hex, "text": body})


def follow(user: str, unblocked: bool = False) -> dict:
    return base("follow", {"type": "user", "userId": user}, replyToken=uuid.uuid4().hex,
                follow={"isUnblocked": unblocked})


def unfollow(user: str) -> dict:
    return base("unfollow", {"type": "user", "userId": user})


def body(*events: dict) -> bytes:
    return json.dumps({"destination": "U" + "0" * 32, "events": list(events)}, ensure_ascii=False).encode()


def sign(secret: str, payload: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), payload, hashlib.sha256).digest()).decode()
