"""Delivering outbox rows to LINE: exactly once, in order per chat, surviving crashes and LINE's errors.

Every attempt carries the row's ``X-Line-Retry-Key``; LINE answers a repeat with 409, which we count as
delivered. Retryable failures (5xx, timeouts, rate limits) are rescheduled with exponential backoff and
jitter; other 4xx are permanent and stored with LINE's details. A reply whose token has expired or was
refused falls back to a push, so a slow worker still answers the citizen.
"""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass

from linebot.v3.messaging import (
    ApiException,
    BroadcastRequest,
    MulticastRequest,
    PushMessageRequest,
    ReplyMessageRequest,
)
from pydantic import ValidationError

from bot.services import Services, current_services
from storage import outbox
from storage.models import OutboxMessage, utcnow

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 20  # with the backoff cap, about 1.5 hours: well inside the retry key's 24 hours
MONTHLY_LIMIT_PAUSE_SECONDS = 3600


@dataclass(frozen=True)
class Outcome:
    state: str  # sent | retry | failed
    via: str | None = None
    request_id: str | None = None
    error: str | None = None
    delay: float = 0.0


def deliver_outbox(message_id: int) -> None:
    """Job: deliver one row, then the rows to the same chat that were queued behind it."""
    services = current_services()
    next_id: int | None = message_id
    while next_id is not None:
        next_id = _deliver_one(services, next_id)


def _deliver_one(services: Services, message_id: int) -> int | None:
    with services.transaction() as session:
        token = outbox.claim(session, message_id, services.settings.job_lease_seconds)
        row = outbox.get(session, message_id) if token else None
    if token is None or row is None:
        return None
    outcome = send(services, row)
    with services.transaction() as session:
        if outcome.state == "sent":
            outbox.mark_sent(session, message_id, token, outcome.via or row.kind, outcome.request_id)
        elif outcome.state == "failed":
            outbox.mark_failed(session, message_id, token, outcome.error or "failed")
        elif row.attempts >= MAX_ATTEMPTS:
            outbox.mark_failed(session, message_id, token, f"gave up after {row.attempts} attempts: {outcome.error}")
        else:
            outbox.schedule_retry(session, message_id, token, outcome.delay, outcome.error or "retry")
            log.info("delivery rescheduled", extra={"outbox_id": message_id, "attempt": row.attempts,
                                                    "delay": round(outcome.delay, 2), "reason": outcome.error})
            return None
        return outbox.next_for_recipient(session, row.recipient, message_id)


def send(services: Services, row: OutboxMessage) -> Outcome:
    """One attempt at the LINE API for ``row``; never raises."""
    line = services.line
    messages = json.loads(row.messages)
    try:
        if row.kind == "reply" and row.reply_token and _before(row.reply_deadline):
            try:
                response = line.api.reply_message_with_http_info(
                    ReplyMessageRequest.from_dict({"replyToken": row.reply_token, "messages": messages}),
                    _request_timeout=line.timeout,
                )
                return Outcome("sent", via="reply", request_id=response.headers.get("x-line-request-id"))
            except ApiException as exc:
                if exc.status != 400 or "reply token" not in (exc.body or "").lower():
                    raise
                log.info("reply token refused; pushing instead", extra={"outbox_id": row.id})
        return _push_like(services, row, messages)
    except ApiException as exc:
        return _classify(services, row, exc)
    except ValidationError as exc:
        return Outcome("failed", error=f"invalid message: {exc.errors()[:3]}")
    except Exception as exc:  # noqa: BLE001 - timeouts, refused connections, DNS: all retryable
        return Outcome("retry", error=type(exc).__name__, delay=backoff(row.attempts))


def _push_like(services: Services, row: OutboxMessage, messages: list[dict]) -> Outcome:
    line = services.line
    options = {"x_line_retry_key": row.retry_key, "_request_timeout": line.timeout}
    if row.kind in ("reply", "push"):
        request = PushMessageRequest.from_dict({"to": row.recipient, "messages": messages,
                                                "notificationDisabled": row.notification_disabled})
        response = line.api.push_message_with_http_info(request, **options)
        via = "push"
    elif row.kind == "multicast":
        request = MulticastRequest.from_dict({"to": json.loads(row.recipients or "[]"), "messages": messages,
                                              "notificationDisabled": row.notification_disabled})
        response = line.api.multicast_with_http_info(request, **options)
        via = "multicast"
    elif row.kind == "broadcast":
        request = BroadcastRequest.from_dict({"messages": messages,
                                              "notificationDisabled": row.notification_disabled})
        response = line.api.broadcast_with_http_info(request, **options)
        via = "broadcast"
    else:
        return Outcome("failed", error=f"unknown outbox kind {row.kind!r}")
    return Outcome("sent", via=via, request_id=response.headers.get("x-line-request-id"))


def _classify(services: Services, row: OutboxMessage, exc: ApiException) -> Outcome:
    headers = exc.headers or {}
    if exc.status == 409:  # the retry key was already accepted: delivered by an earlier attempt
        return Outcome("sent", via=row.kind if row.kind != "reply" else "push",
                       request_id=headers.get("x-line-accepted-request-id"))
    detail = (exc.body or "")[:1000]
    if exc.status == 429:
        if "monthly limit" in detail.lower():
            log.error("LINE monthly message limit reached: sending paused", extra={"outbox_id": row.id})
            return Outcome("retry", error="429 monthly limit", delay=MONTHLY_LIMIT_PAUSE_SECONDS)
        return Outcome("retry", error="429 rate limit", delay=backoff(row.attempts, base=1.0))
    if exc.status is None or exc.status >= 500:
        return Outcome("retry", error=f"{exc.status} {detail[:200]}", delay=backoff(row.attempts))
    return Outcome("failed", error=f"{exc.status} {detail}")


def backoff(attempt: int, base: float = 0.5, cap: float = 300.0) -> float:
    """Exponential backoff with full jitter, so that many workers do not retry in step."""
    return random.uniform(base, min(cap, base * 2 ** max(attempt, 1)))


def _before(deadline) -> bool:
    if deadline is None:
        return False
    if deadline.tzinfo is None:
        deadline = deadline.replace(tzinfo=utcnow().tzinfo)
    return utcnow() < deadline
