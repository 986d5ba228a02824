"""Turning raw webhook JSON into line-bot-sdk event objects, one event at a time.

The SDK's own ``WebhookParser`` parses a whole body and raises on the first event it cannot even read as
``UnknownEvent``; parsing each event separately lets one bad event be set aside while the others proceed.

``problem()`` is the front door's judgement of one event: a few ``isinstance`` and length checks on the
fields that Siang's storage and handlers rely on (the columns they go into, the attributes handlers read),
so that a malformed event is kept aside as ``invalid`` instead of failing its whole request or its worker.
It runs for every event on the request path, so it stays cheap: no schema library, no walk of the event.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import math
import re
from typing import Any

from linebot.v3.models.events import UnknownEvent
from linebot.v3.webhooks import Event

log = logging.getLogger(__name__)

ID_MAX = 64  # every LINE id goes into a String(64) column (inbox, citizens, groups, outbox)
TYPE_MAX = 40  # inbox_events.event_type
# LINE timestamps are milliseconds since the epoch; anything outside 2000..2200 is not a LINE event.
TIMESTAMP_RANGE = (946_684_800_000, 7_258_118_400_000)
SOURCE_KEYS = {"user": "userId", "group": "groupId", "room": "roomId"}
# Event types whose handlers read the event's source (``bot.handlers.HANDLERS``): it must be a real one.
NEEDS_SOURCE = frozenset({"message", "postback", "follow", "unfollow", "join", "leave", "memberJoined",
                          "memberLeft", "unsend"})
# A JSON escape of a UTF-16 surrogate or of NUL: the only ways either gets into a decoded body. No database
# column can hold a lone surrogate (it cannot be encoded) and no PostgreSQL text can hold NUL.
_UNSTORABLE_ESCAPE = re.compile(rb"\\u(?:[dD][89a-fA-F]|0000)")
_UNSTORABLE = re.compile("[\ud800-\udfff\x00]")


def signature_ok(channel_secret: str, body: bytes, signature: str | None) -> bool:
    """LINE's signature: base64(HMAC-SHA256(channel secret, raw body)), compared in constant time."""
    if not signature:
        return False
    digest = hmac.new(channel_secret.encode("utf-8"), body, hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(digest), signature.strip().encode("ascii", "replace"))


def parse_event(raw: dict) -> Event | None:
    """The SDK model for ``raw``; ``UnknownEvent`` for types it does not know; None if unreadable."""
    try:
        return Event.from_dict(raw)
    except (ValueError, TypeError, KeyError):
        pass
    try:
        return UnknownEvent.new_from_json_dict(raw)
    except (ValueError, TypeError, KeyError):
        return None


def may_hold_unstorable(body: bytes) -> bool:
    """True when the raw body escapes a UTF-16 surrogate (a pair or a lone one) or NUL: only then is a walk
    needed (a pair decodes to one character and is left alone)."""
    return _UNSTORABLE_ESCAPE.search(body) is not None


def storable(value: Any) -> Any:
    """``value`` with every lone surrogate and NUL in its strings (keys too) replaced by U+FFFD.

    ``json.loads`` accepts ``"\\ud800"`` but no database driver can encode it, so it would fail the insert of
    the whole request. Iterative, because a parsed document may be nested up to the parser's own limit.
    """
    if isinstance(value, str):
        return _UNSTORABLE.sub("\ufffd", value)
    if not isinstance(value, (dict, list)):
        return value
    root: list[Any] = [value]
    stack: list[tuple[Any, Any]] = [(root, 0)]
    while stack:
        container, key = stack.pop()
        item = container[key]
        if isinstance(item, str):
            container[key] = _UNSTORABLE.sub("\ufffd", item)
        elif isinstance(item, list):
            stack.extend((item, index) for index in range(len(item)))
        elif isinstance(item, dict):
            if any(isinstance(name, str) and _UNSTORABLE.search(name) for name in item):
                renamed = {_UNSTORABLE.sub("\ufffd", name): entry for name, entry in item.items()}
                item.clear()
                item.update(renamed)
            stack.extend((item, name) for name in item)
    return root[0]


def is_id(value: Any) -> bool:
    """A LINE id as Siang stores it: a non-empty printable ASCII string that fits its column."""
    return isinstance(value, str) and 0 < len(value) <= ID_MAX and value.isascii() and value.isprintable()


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (isinstance(value, float) and math.isfinite(value)) or _is_int(value)


def timestamp_ok(value: Any) -> bool:
    return _is_int(value) and TIMESTAMP_RANGE[0] <= value <= TIMESTAMP_RANGE[1]


def problem(raw: Any) -> str | None:
    """Why ``raw`` cannot be handled as a LINE event (a short reason, no content), or None when it can."""
    if not isinstance(raw, dict):
        return "event is not an object"
    if not is_id(raw.get("webhookEventId")):
        return "webhookEventId"
    kind = raw.get("type")
    if not isinstance(kind, str) or not 0 < len(kind) <= TYPE_MAX:
        return "type"
    if not isinstance(raw.get("mode"), str):
        return "mode"
    if not timestamp_ok(raw.get("timestamp")):
        return "timestamp"
    context = raw.get("deliveryContext")
    if not isinstance(context, dict) or not isinstance(context.get("isRedelivery"), bool):
        return "deliveryContext"
    reason = _source_problem(raw.get("source"), required=kind in NEEDS_SOURCE)
    if reason:
        return reason
    token = raw.get("replyToken")
    if token is not None and not is_id(token):
        return "replyToken"
    check = _BODY_CHECKS.get(kind)
    return check(raw) if check else None


def _source_problem(source: Any, required: bool) -> str | None:
    if source is None and not required:
        return None
    if not isinstance(source, dict):
        return "source"
    kind = source.get("type")
    key = SOURCE_KEYS.get(kind) if isinstance(kind, str) else None
    if key is None or not is_id(source.get(key)):
        return "source"
    user = source.get("userId")
    if user is not None and not is_id(user):
        return "source.userId"
    return None


def _message_problem(raw: dict) -> str | None:
    message = raw.get("message")
    if not isinstance(message, dict) or not is_id(message.get("id")) or not isinstance(message.get("type"), str):
        return "message"
    kind = message["type"]
    if kind == "text" and not isinstance(message.get("text"), str):
        return "message.text"
    if kind == "location":
        latitude, longitude = message.get("latitude"), message.get("longitude")
        if not (_is_number(latitude) and _is_number(longitude) and abs(latitude) <= 90 and abs(longitude) <= 180):
            return "message.location"
        if any(message.get(key) is not None and not isinstance(message.get(key), str) for key in ("title", "address")):
            return "message.location"
    for key in ("duration", "fileSize"):
        if message.get(key) is not None and not (_is_int(message[key]) and message[key] >= 0):
            return f"message.{key}"
    provider = message.get("contentProvider")
    if provider is not None and not (isinstance(provider, dict) and isinstance(provider.get("type"), str)):
        return "message.contentProvider"
    return None


def _postback_problem(raw: dict) -> str | None:
    postback = raw.get("postback")
    if not isinstance(postback, dict) or not isinstance(postback.get("data"), str):
        return "postback"
    params = postback.get("params")
    if params is not None and not (isinstance(params, dict) and all(isinstance(v, str) for v in params.values())):
        return "postback.params"
    return None


def _unsend_problem(raw: dict) -> str | None:
    unsend = raw.get("unsend")
    return None if isinstance(unsend, dict) and is_id(unsend.get("messageId")) else "unsend"


def _follow_problem(raw: dict) -> str | None:
    follow = raw.get("follow")
    if follow is not None and not (isinstance(follow, dict) and isinstance(follow.get("isUnblocked", False), bool)):
        return "follow"
    return None


def _chat_source_problem(raw: dict) -> str | None:
    return None if raw["source"].get("type") in ("group", "room") else "source.type"


_BODY_CHECKS = {
    "message": _message_problem,
    "postback": _postback_problem,
    "unsend": _unsend_problem,
    "follow": _follow_problem,
    "join": _chat_source_problem,
    "leave": _chat_source_problem,
    "memberJoined": _chat_source_problem,
    "memberLeft": _chat_source_problem,
}


def judge(raw: Any) -> tuple[Event | None, str | None]:
    """The SDK event for ``raw`` and None, or None and the reason it is kept aside as ``invalid``.

    Never raises: whatever the SDK trips on (a pydantic error, a recursion limit in a deep field) is a
    reason to keep the event aside, logged by its class.
    """
    reason = problem(raw)
    if reason is not None:
        return None, reason
    try:
        event = parse_event(raw)
    except Exception as exc:  # noqa: BLE001 - any parser failure on outside input makes the event invalid
        log.warning("the SDK failed on a webhook event", extra={"webhook_event_id": raw["webhookEventId"],
                                                                "reason": type(exc).__name__})
        return None, f"sdk: {type(exc).__name__}"
    return (event, None) if event is not None else (None, "sdk")
