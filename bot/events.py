"""Turning raw webhook JSON into line-bot-sdk event objects, one event at a time.

The SDK's own ``WebhookParser`` parses a whole body and raises on the first event it cannot even read as
``UnknownEvent``; parsing each event separately lets one bad event be set aside while the others proceed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging

from linebot.v3.models.events import UnknownEvent
from linebot.v3.webhooks import Event

log = logging.getLogger(__name__)


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
