"""Signing, sending and redelivering webhooks the way LINE does (line-platform.md §2).

The body is `{"destination", "events"}` serialised once; the signature is computed over exactly those bytes.
A reply slower than the timeout (2 s) or any non-2xx answer is a failure; with redelivery on, the same events
are sent again later with `deliveryContext.isRedelivery: true`, the same `webhookEventId` and `replyToken`.
Every attempt is recorded with its status and latency.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import threading
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import requests

from emulator.state import WebhookAttempt, now_ms

if TYPE_CHECKING:
    from emulator.runtime import Emulator


def sign(channel_secret: str, body: bytes) -> str:
    """base64(HMAC-SHA256(channel secret, raw body)), the `x-line-signature` value."""
    digest = hmac.new(channel_secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


@dataclass
class WebhookResult:
    """What the bot answered to one webhook request, returned by every "user does X" control call."""

    status: int | None
    ok: bool
    latency_ms: float
    error: str | None
    events: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class WebhookSender:
    def __init__(self, emulator: "Emulator") -> None:
        self._emulator = emulator
        self._timers: set[threading.Timer] = set()
        self._lock = threading.Lock()
        self._local = threading.local()

    def send(self, events: list[dict[str, Any]]) -> WebhookResult:
        """Deliver new events in one request, remembering them for redelivery and duplicates."""
        platform = self._emulator.platform
        with platform.lock:
            for event in events:
                platform.events[event["webhookEventId"]] = copy.deepcopy(event)
        result = self._post(events, is_redelivery=False)
        if not result.ok and self._emulator.settings.redelivery:
            self._schedule_redelivery(events, self._emulator.settings.redelivery_attempts)
        return result

    def redeliver(self, event_ids: list[str]) -> WebhookResult:
        """Send stored events again as LINE's redelivery does; their reply tokens get a fresh minute."""
        return self._post(self._redelivered(self._stored(event_ids)), is_redelivery=True)

    def duplicate(self, event_ids: list[str]) -> WebhookResult:
        """Send stored events again byte-for-byte as first sent (LINE may do this without redelivery)."""
        return self._post(self._stored(event_ids), is_redelivery=False)

    def cancel_pending(self) -> None:
        with self._lock:
            for timer in self._timers:
                timer.cancel()
            self._timers.clear()

    def _stored(self, event_ids: list[str]) -> list[dict[str, Any]]:
        platform = self._emulator.platform
        with platform.lock:
            missing = [eid for eid in event_ids if eid not in platform.events]
            if missing:
                raise KeyError(", ".join(missing))
            return [copy.deepcopy(platform.events[eid]) for eid in event_ids]

    def _redelivered(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        events = copy.deepcopy(events)
        for event in events:
            event["deliveryContext"]["isRedelivery"] = True
            if "replyToken" in event:
                self._emulator.platform.refresh_reply_token(event["replyToken"])
        return events

    def _schedule_redelivery(self, events: list[dict[str, Any]], attempts_left: int) -> None:
        if attempts_left <= 0:
            return

        def attempt() -> None:
            with self._lock:
                self._timers.discard(timer)
            result = self._post(self._redelivered(events), is_redelivery=True)
            if not result.ok:
                self._schedule_redelivery(events, attempts_left - 1)

        timer = threading.Timer(self._emulator.settings.redelivery_delay, attempt)
        timer.daemon = True
        with self._lock:
            self._timers.add(timer)
        timer.start()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def _post(self, events: list[dict[str, Any]], is_redelivery: bool) -> WebhookResult:
        settings, platform = self._emulator.settings, self._emulator.platform
        body = json.dumps({"destination": settings.bot_user_id, "events": events},
                          ensure_ascii=False, separators=(",", ":"))
        raw = body.encode("utf-8")
        status: int | None = None
        error: str | None = None
        started = time.perf_counter()
        if not settings.webhook_url:
            error = "no webhook URL configured"
        else:
            try:
                response = self._session().post(
                    settings.webhook_url, data=raw, timeout=settings.webhook_timeout,
                    headers={"Content-Type": "application/json; charset=utf-8",
                             "x-line-signature": sign(settings.channel_secret, raw),
                             "User-Agent": "LineBotWebhook/2.0"})
                status = response.status_code
                if not 200 <= status < 300:
                    error = "error_status_code"
            except requests.Timeout:
                error = "request_timeout"
            except requests.RequestException as exc:
                error = f"could_not_connect: {type(exc).__name__}"
        latency = (time.perf_counter() - started) * 1000
        with platform.lock:
            platform.webhook_attempts.append(WebhookAttempt(
                platform.next_seq(), settings.webhook_url or "", [e["webhookEventId"] for e in events],
                is_redelivery, status, error, round(latency, 2), now_ms(), body))
        return WebhookResult(status, error is None, round(latency, 2), error, events)
