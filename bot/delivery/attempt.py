"""One attempt at LINE for one outbox row: send it, classify LINE's answer, and the back-off of a retry.

``send`` never raises: whatever happens becomes an ``Outcome`` (sent, retry after a delay, failed for good,
or LINE's monthly limit). ``classify`` reads a refusal as LINE means it (line-platform.md §8: 409 is a retry
key already accepted, 429 is a rate or the monthly limit, other 4xx are permanent, 401 is our token);
it and ``backoff`` are plain functions, unit tested in tests/delivery/test_attempt.py.
"""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass
from typing import Any, Callable

from linebot.v3.messaging import (
    ApiException,
    BroadcastRequest,
    Message,
    PushMessageRequest,
    ReplyMessageRequest,
)
from sqlalchemy import Row

from bot.ratelimit import RateLimiter
from bot.services import Services
from storage import outbox
from storage.models import OutboxMessage, utcnow

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 20  # with the backoff cap, about 1.5 hours: well inside the retry key's 24 hours
MAX_SLOT_WAIT = 2.0  # seconds a worker may sleep for a rate-limit slot before rescheduling the row instead
COUNTED = frozenset({"push", "multicast", "broadcast", "narrowcast"})  # reply is free (line-platform.md §6)
MONTHLY_LIMIT = "monthly_limit"


@dataclass(frozen=True)
class Outcome:
    state: str  # sent | retry | failed | monthly_limit
    via: str | None = None
    request_id: str | None = None
    error: str | None = None
    delay: float = 0.0
    status: int | None = None  # LINE's HTTP status of a failure
    details: str | None = None  # LINE's error body (JSON) of a failure
    counts: bool = True  # False: our own throttling or a pause, not a real attempt at LINE


def endpoint_of(row: OutboxMessage) -> str:
    return "push" if row.kind == "reply" and not row.reply_token else row.kind


def send(services: Services, row: OutboxMessage) -> Outcome:
    """One attempt at the LINE API for ``row`` (or, for a ``webhook`` row, at the integrator's URL); never
    raises."""
    if row.kind == "webhook":
        from bot.integrations import webhooks

        return webhooks.send(services, row)
    line = services.line
    state = services.delivery  # the process's limiter and quota cache
    limiter = state.limiter
    messages = json.loads(row.messages)
    try:
        if row.kind == "reply" and row.reply_token and (row.attempts > 1 or _before(row.reply_deadline)):
            if not _slot(limiter, "reply"):
                return _own_throttle("reply")
            try:
                response = line.api.reply_message_with_http_info(
                    ReplyMessageRequest.from_dict({"replyToken": row.reply_token, "messages": messages}),
                    _request_timeout=line.timeout,
                )
                return Outcome("sent", via="reply", request_id=response.headers.get("x-line-request-id"))
            except ApiException as exc:
                if exc.status != 400 or "reply token" not in (exc.body or "").lower():
                    raise
                if row.attempts > 1:
                    # An earlier claim of this row (its only user) may have spent the token: LINE's answer
                    # lost, a timeout, a worker killed or a lease taken over before the result was recorded.
                    # Inside or after the window, a refusal now means spent: a push would say it twice.
                    log.info("reply token spent by an earlier attempt", extra={"outbox_id": row.id})
                    return Outcome("sent", via="reply")
                log.info("reply token refused; pushing instead", extra={"outbox_id": row.id})
        if row.kind == "reply" and row.reply_token and not _give_up_token(services, row):
            return Outcome("retry", error="lease lost", counts=False)
        endpoint = "push" if row.kind == "reply" else row.kind
        if not _slot(limiter, endpoint):
            return _own_throttle(endpoint)
        return _push_like(services, row, messages)
    except ApiException as exc:
        return classify(exc, row.kind, row.attempts, lambda: state.quota(services), row.id,
                        cap=services.settings.retry_cap_seconds)
    except ValueError as exc:  # the SDK's models refused a message (pydantic errors are ValueErrors): permanent
        return Outcome("failed", error=f"invalid message: {exc}"[:1000])
    except Exception as exc:  # noqa: BLE001 - timeouts, refused connections, DNS, Redis down: all retryable
        return Outcome("retry", error=type(exc).__name__,
                       delay=backoff(row.attempts, cap=services.settings.retry_cap_seconds))


def _give_up_token(services: Services, row: OutboxMessage | Row[Any]) -> bool:
    """Before a reply falls back to a push, forget its token durably (only while we hold the lease): a worker
    that takes the row over after a kill then pushes with the retry key (409 if already done) instead of
    trying a token nobody spent and counting its refusal as "spent" (the message would be lost)."""
    with services.transaction() as session:
        return outbox.forget_reply_token(session, row.id, row.lease_token)


def _slot(limiter: RateLimiter, endpoint: str) -> bool:
    delay = limiter.reserve(endpoint, MAX_SLOT_WAIT)
    if delay is None:
        return False
    if delay > 0:
        time.sleep(delay)
    return True


def _own_throttle(endpoint: str) -> Outcome:
    """The endpoint is booked further ahead than a worker should sleep (e.g. broadcast's 60/hour)."""
    return Outcome("retry", error=f"waiting for a {endpoint} rate-limit slot", delay=random.uniform(1, 5),
                   counts=False)


def _push_like(services: Services, row: OutboxMessage, messages: list[dict]) -> Outcome:
    line = services.line
    options = {"x_line_retry_key": row.retry_key, "_request_timeout": line.timeout}
    if row.kind in ("reply", "push"):
        request = PushMessageRequest.from_dict({"to": row.recipient, "messages": messages,
                                                "notificationDisabled": row.notification_disabled})
        response = line.api.push_message_with_http_info(request, **options)
        via = "push"
    elif row.kind == "multicast":
        for message in messages:
            Message.from_dict(message)  # the SDK's own check of each message object; raises ValueError
        body = {"to": json.loads(row.recipients or "[]"), "messages": messages,
                "notificationDisabled": bool(row.notification_disabled)}
        response = line.post_json("/v2/bot/message/multicast", body, row.retry_key)
        via = "multicast"
    elif row.kind == "broadcast":
        request = BroadcastRequest.from_dict({"messages": messages,
                                              "notificationDisabled": row.notification_disabled})
        response = line.api.broadcast_with_http_info(request, **options)
        via = "broadcast"
    else:
        return Outcome("failed", error=f"unknown outbox kind {row.kind!r}")
    return Outcome("sent", via=via, request_id=response.headers.get("x-line-request-id"))


def classify(exc: ApiException, kind: str, attempts: int, read_quota: Callable[[], dict],
             row_id: int | None = None, cap: float = 300.0) -> Outcome:
    """What LINE's refusal of an attempt at a ``kind`` row (its ``attempts``-th) means. ``read_quota`` gives
    LINE's quota figures (read only for a 429, to tell the monthly limit from a rate limit); ``cap`` is the
    longest back-off (``RETRY_CAP_SECONDS``)."""
    headers = exc.headers or {}
    if exc.status == 409:  # the retry key was already accepted: delivered by an earlier attempt
        return Outcome("sent", via=kind if kind != "reply" else "push",
                       request_id=headers.get("x-line-accepted-request-id"))
    detail = (exc.body or "")[:4000]
    if isinstance(detail, bytes):
        detail = detail.decode("utf-8", "replace")
    if exc.status == 429:
        quota = read_quota()
        if "monthly limit" in detail.lower() or quota.get("exhausted"):
            return Outcome(MONTHLY_LIMIT, error="429 monthly limit",
                           details=json.dumps({"line": _json_or_text(detail), "quota": quota}, ensure_ascii=False))
        return Outcome("retry", error="429 rate limit", delay=backoff(attempts, base=1.0, cap=cap))
    if exc.status is None or exc.status >= 500:
        return Outcome("retry", error=f"{exc.status} {detail[:200]}", delay=backoff(attempts, cap=cap))
    if exc.status == 401:  # our access token, not this message: keep the row until the token is fixed
        log.error("LINE refused the channel access token (401)", extra={"outbox_id": row_id})
        return Outcome("retry", error="401 unauthorized", delay=backoff(attempts, base=5.0, cap=cap))
    return Outcome("failed", error=f"{exc.status} {_line_message(detail)}"[:1000], status=exc.status,
                   details=detail or None)


def _json_or_text(body: str):
    try:
        return json.loads(body)
    except ValueError:
        return body


def _line_message(body: str) -> str:
    parsed = _json_or_text(body)
    return parsed.get("message", body) if isinstance(parsed, dict) else body


def backoff(attempt: int, base: float = 0.5, cap: float = 300.0) -> float:
    """Exponential backoff with full jitter, so that many workers do not retry in step."""
    return random.uniform(base, min(cap, base * 2 ** max(attempt, 1)))


def _before(deadline) -> bool:
    return deadline is not None and utcnow() < deadline
