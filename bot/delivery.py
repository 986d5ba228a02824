"""Delivering outbox rows to LINE: exactly once, in order per chat, surviving crashes and LINE's errors.

Every attempt carries the row's ``X-Line-Retry-Key``; LINE answers a repeat with 409, which we count as
delivered. Retryable failures (5xx, timeouts, rate limits) are rescheduled with exponential backoff and
jitter; other 4xx are permanent and stored with LINE's details. A reply row holds its token alone: a first
attempt refused, or first claimed after its deadline, drops the token and pushes; a later attempt (an earlier
one may have spent it) always tries the token first, and a refusal, inside or after the window, means spent,
so the reply counts as delivered. Reply rows are leased only as long as one attempt (``reply_lease_seconds``),
so a takeover after a kill comes while the token lives (issue 18). Replies cannot carry a retry key: this
is their exactly-once rule.

Before each request a worker reserves a slot of the endpoint's shared rate limiter (``bot.ratelimit``), so
the workers together never exceed LINE's limits. A 429 that is LINE's monthly limit (told apart by its
message and by reading the quota) pauses every counted send until ``DeliveryAlert.paused_until`` and alerts
staff; the first send that gets through afterwards closes the alert.

A ``siang worker`` runs one RQ job at a time, and one request to LINE takes tens of milliseconds, so a
worker hands rows to a small pool of delivery threads and keeps ``delivery_threads`` requests in flight.
The pool is bounded: the RQ job waits while every thread is busy, so a killed worker loses at most a few
queue messages, which the sweeper re-enqueues from the database.

Rows to many chats (an announcement's multicasts) are not one queue job each: a thread that finished some
takes the oldest due ones itself, ``UNORDERED_BATCH`` at a time (``storage.outbox.claim_next_unordered``, in
the same transaction that records the results), up to ``CHAIN_LIMIT`` rows, then queues a job to carry on so
that pushes to citizens queued meanwhile get a thread. A queue job cost about 2.4 ms of CPU (RQ's bookkeeping
in the worker and in Redis), as much as the whole request; the queue now only wakes threads up. A multicast
body is sent as the JSON the row already holds (``LineClients.post_json``), its message objects validated
with the SDK's models.
"""

from __future__ import annotations

import json
import logging
import queue
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app
from linebot.v3.messaging import (
    ApiException,
    BroadcastRequest,
    Message,
    PushMessageRequest,
    ReplyMessageRequest,
)
from sqlalchemy import Row, func, select, update

from bot.ratelimit import RateLimiter, make_limiter
from bot.services import Services, current_services
from storage import outbox
from storage.models import DeliveryAlert, OutboxMessage, utcnow

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 20  # with the backoff cap, about 1.5 hours: well inside the retry key's 24 hours
MAX_SLOT_WAIT = 2.0  # seconds a worker may sleep for a rate-limit slot before rescheduling the row instead
PAUSE_CHECK_SECONDS = 1.0  # how stale a worker's view of the monthly-limit pause may be
QUOTA_CHECK_SECONDS = 10.0  # LINE's quota figures are read at most this often per process
COUNTED = frozenset({"push", "multicast", "broadcast", "narrowcast"})  # reply is free (line-platform.md §6)
MONTHLY_LIMIT = "monthly_limit"
CHAIN_LIMIT = 50  # rows to many chats one thread sends in a row (a few seconds) before others get a turn
REPLY_LEASE_MARGIN = 3.0  # seconds beyond one reply attempt's longest run, for the database round trips
UNORDERED_BATCH = 4  # rows to many chats a thread claims (and records) at once: a quarter of the commits


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


def deliver_outbox(message_id: int) -> None:
    """Job: deliver one row, then carry on (see ``deliver_chain``).

    In a ``siang worker`` the row goes to this process's delivery pool; embedded workers are threads
    already and deliver inline."""
    services = current_services()
    if services.settings.embedded or services.settings.delivery_threads <= 1:
        deliver_chain(services, message_id)
    else:
        runtime(services).pool(current_app._get_current_object()).submit(message_id)


@dataclass(frozen=True)
class Claimed:
    """A row this thread holds the lease of: the ORM object, or the row ``claim_next_unordered`` returned
    (the same attributes)."""

    row: OutboxMessage | Row[Any]
    token: str

    @property
    def unordered(self) -> bool:
        return self.row.recipient == outbox.UNORDERED


def deliver_chain(services: Services, message_id: int) -> None:
    """Deliver one row, then carry on: the next waiting row to the same chat, or, after rows to many chats,
    the next ``UNORDERED_BATCH`` due rows to many chats (``CHAIN_LIMIT`` of them at most; then a queued job
    carries on)."""
    step: int | list[Claimed] = message_id
    unordered = 0
    while step:
        claimed = _claim(services, step) if isinstance(step, int) else step
        if not claimed:
            return
        unordered += sum(1 for item in claimed if item.unordered)
        step = _deliver_claimed(services, claimed, carry_on=unordered < CHAIN_LIMIT)


def _claim(services: Services, message_id: int) -> list[Claimed]:
    """The row, if ours to send now. A row to many chats already taken (a thread carrying on got there first)
    is no reason to idle: the job takes the oldest due ones instead."""
    lease = services.settings.job_lease_seconds
    with services.transaction() as session:
        token = outbox.claim(session, message_id, lease)
        if token is not None:
            row = outbox.get(session, message_id)
            if row is not None and row.kind == "reply" and row.reply_token:
                outbox.limit_lease(session, message_id, token, reply_lease_seconds(services))
                session.refresh(row)
            return [Claimed(row, token)] if row is not None else []
        kind = outbox.is_unordered(session, message_id)
        taken = outbox.claim_next_unordered(session, kind, lease, UNORDERED_BATCH) if kind else []
        return [Claimed(row, row.lease_token) for row in taken]


def reply_lease_seconds(services: Services) -> float:
    """A reply row holding a token is leased only as long as one attempt can last (a rate-limit slot wait
    plus LINE's timeout, and a margin), never longer than ``JOB_LEASE_SECONDS``: after a kill another worker
    takes it over while its token still lives, so the token itself tells whether the reply went out."""
    settings = services.settings
    return min(settings.job_lease_seconds, MAX_SLOT_WAIT + settings.line_timeout_seconds + REPLY_LEASE_MARGIN)


def _deliver_claimed(services: Services, claimed: list[Claimed], carry_on: bool) -> int | list[Claimed]:
    """Send the claimed rows one after another and record every outcome in one transaction; returns what to
    deliver next (a row id to claim, rows already claimed in the same transaction, or nothing: 0 or [])."""
    state = runtime(services)
    claimed_at = time.monotonic()
    outcomes = [_attempt(services, state, item.row, claimed_at) for item in claimed]
    last = claimed[-1]
    wake: int | None = None
    with services.transaction() as session:
        carry = [_record(session, item, outcome) for item, outcome in zip(claimed, outcomes)]
        if not all(carry):
            return 0
        if not last.unordered:
            next_step: int | list[Claimed] = outbox.next_for_recipient(session, last.row.recipient,
                                                                       last.row.id) or 0
        elif carry_on:
            taken = outbox.claim_next_unordered(session, last.row.kind, services.settings.job_lease_seconds,
                                                UNORDERED_BATCH)
            next_step = [Claimed(row, row.lease_token) for row in taken]
        else:
            next_step, wake = [], outbox.next_unordered_id(session, last.row.kind)
    if wake is not None:
        services.jobs.enqueue("deliver_outbox", wake)
    if any(outcome.state == "sent" and outcome.via in COUNTED for outcome in outcomes):
        state.resumed(services)
    return next_step


def _attempt(services: Services, state: "DeliveryRuntime", row: OutboxMessage | Row[Any],
             claimed_at: float) -> Outcome:
    """One row's attempt at LINE, or why it is not attempted now (a pause; our lease running low because the
    rows claimed before it in the same batch waited long for rate-limit slots)."""
    paused_until = state.paused_until(services) if endpoint_of(row) in COUNTED else None
    if paused_until:
        return Outcome("retry", error="paused: LINE monthly limit", counts=False,
                       delay=(paused_until - utcnow()).total_seconds() + random.uniform(0, 1))
    if time.monotonic() - claimed_at > services.settings.job_lease_seconds / 2:
        return Outcome("retry", error="lease running low", counts=False)
    outcome = send(services, row)
    if outcome.state == MONTHLY_LIMIT:
        paused_until = state.pause(services, outcome.details)
        outcome = Outcome("retry", error=outcome.error, counts=False,
                          delay=(paused_until - utcnow()).total_seconds() + random.uniform(0, 1))
    return outcome


def _record(session, claimed: Claimed, outcome: Outcome) -> bool:
    """Record one outcome; False when the chain should stop here (a retry of a row to one chat holds the
    rows behind it; a pause or our own throttle would hold the next rows too)."""
    row, token = claimed.row, claimed.token
    if outcome.state == "sent":
        outbox.mark_sent(session, row.id, token, outcome.via or row.kind, outcome.request_id,
                         keep_error=row.kind == "webhook")
        log.info("delivered", extra={"outbox_id": row.id, "line_request_id": outcome.request_id,
                                     "status": outcome.via})
    elif outcome.state == "failed":
        outbox.mark_failed(session, row.id, token, outcome.error or "failed", status=outcome.status,
                           details=outcome.details)
        log.warning("delivery failed permanently", extra={"outbox_id": row.id, "reason": outcome.error})
    elif outcome.counts and row.attempts >= MAX_ATTEMPTS:
        outbox.mark_failed(session, row.id, token, f"gave up after {row.attempts} attempts: {outcome.error}")
        log.error("delivery given up", extra={"outbox_id": row.id, "reason": outcome.error})
    else:
        extra = {} if outcome.counts else {"attempts": row.attempts - 1}
        outbox.schedule_retry(session, row.id, token, outcome.delay, outcome.error or "retry", **extra)
        log.info("delivery rescheduled", extra={"outbox_id": row.id, "attempt": row.attempts,
                                                "delay": round(outcome.delay, 2), "reason": outcome.error})
        return claimed.unordered and outcome.counts
    return True


def endpoint_of(row: OutboxMessage) -> str:
    return "push" if row.kind == "reply" and not row.reply_token else row.kind


def send(services: Services, row: OutboxMessage) -> Outcome:
    """One attempt at the LINE API for ``row`` (or, for a ``webhook`` row, at the integrator's URL); never
    raises."""
    if row.kind == "webhook":
        from bot.integrations import webhooks

        return webhooks.send(services, row)
    line = services.line
    limiter = runtime(services).limiter
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
        return _classify(services, row, exc)
    except ValueError as exc:  # the SDK's models refused a message (pydantic errors are ValueErrors): permanent
        return Outcome("failed", error=f"invalid message: {exc}"[:1000])
    except Exception as exc:  # noqa: BLE001 - timeouts, refused connections, DNS, Redis down: all retryable
        return Outcome("retry", error=type(exc).__name__, delay=backoff(row.attempts))


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


def _classify(services: Services, row: OutboxMessage, exc: ApiException) -> Outcome:
    headers = exc.headers or {}
    if exc.status == 409:  # the retry key was already accepted: delivered by an earlier attempt
        return Outcome("sent", via=row.kind if row.kind != "reply" else "push",
                       request_id=headers.get("x-line-accepted-request-id"))
    detail = (exc.body or "")[:4000]
    if exc.status == 429:
        quota = runtime(services).quota(services)
        if "monthly limit" in detail.lower() or quota.get("exhausted"):
            return Outcome(MONTHLY_LIMIT, error="429 monthly limit",
                           details=json.dumps({"line": _json_or_text(detail), "quota": quota}, ensure_ascii=False))
        return Outcome("retry", error="429 rate limit", delay=backoff(row.attempts, base=1.0))
    if exc.status is None or exc.status >= 500:
        return Outcome("retry", error=f"{exc.status} {detail[:200]}", delay=backoff(row.attempts))
    if exc.status == 401:  # our access token, not this message: keep the row until the token is fixed
        log.error("LINE refused the channel access token (401)", extra={"outbox_id": row.id})
        return Outcome("retry", error="401 unauthorized", delay=backoff(row.attempts, base=5.0))
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
    if deadline is None:
        return False
    if deadline.tzinfo is None:
        deadline = deadline.replace(tzinfo=utcnow().tzinfo)
    return utcnow() < deadline


# --- per-process delivery state ---------------------------------------------------------------------------

@dataclass
class DeliveryRuntime:
    """What a process keeps for delivery: the shared limiter, its thread pool, cached pause and quota."""

    limiter: RateLimiter
    threads: int
    _pool: "DeliveryPool | None" = None
    _pause: tuple[float, datetime | None, bool] = (0.0, None, False)  # (checked at, until, alert open)
    _quota: tuple[float, dict] = (0.0, {})
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def pool(self, app: Flask) -> "DeliveryPool":
        with self._lock:
            if self._pool is None:
                self._pool = DeliveryPool(app, self.threads)
            return self._pool

    def paused_until(self, services: Services) -> datetime | None:
        checked, until, _ = self._pause
        if time.monotonic() - checked > PAUSE_CHECK_SECONDS:
            until, is_open = _open_pause(services)
            self._pause = (time.monotonic(), until, is_open)
        return until if until is not None and until > utcnow() else None

    def pause(self, services: Services, details: str | None) -> datetime:
        """Record LINE's monthly limit: one open alert for staff (renewed while it lasts) and a pause."""
        until = utcnow() + timedelta(seconds=services.settings.monthly_limit_pause_seconds)
        with services.transaction() as session:
            alert = session.scalar(select(DeliveryAlert).where(DeliveryAlert.kind == MONTHLY_LIMIT,
                                                               DeliveryAlert.resolved_at.is_(None))
                                   .order_by(DeliveryAlert.id.desc()).limit(1).with_for_update())
            if alert is None:
                alert = DeliveryAlert(kind=MONTHLY_LIMIT, occurrences=0,
                                      message="LINE's monthly message limit is reached: pushes are paused")
                session.add(alert)
            current = alert.paused_until
            if current is not None and current.tzinfo is None:
                current = current.replace(tzinfo=until.tzinfo)
            if current is None or current < until:
                alert.paused_until = until
            alert.occurrences = (alert.occurrences or 0) + 1
            alert.last_seen_at = utcnow()
            alert.details = details
            until = max(until, current or until)
        self._pause = (time.monotonic(), until, True)
        log.error("LINE monthly message limit reached: sending paused", extra={"paused_until": until.isoformat(),
                                                                             "details": details})
        return until

    def resumed(self, services: Services) -> None:
        """A counted send got through: close the monthly-limit alert if one is open."""
        if not self._pause[2]:
            return
        with services.transaction() as session:
            closed = session.execute(update(DeliveryAlert)
                                     .where(DeliveryAlert.kind == MONTHLY_LIMIT, DeliveryAlert.resolved_at.is_(None),
                                            DeliveryAlert.paused_until <= utcnow())
                                     .values(resolved_at=utcnow())).rowcount
        self._pause = (0.0, None, False)
        if closed:
            log.warning("LINE accepts pushes again: monthly-limit alert closed")

    def quota(self, services: Services) -> dict:
        """LINE's quota and consumption, read at most every ``QUOTA_CHECK_SECONDS`` (§6: quota endpoints)."""
        checked, figures = self._quota
        if time.monotonic() - checked < QUOTA_CHECK_SECONDS:
            return figures
        try:
            if not _slot(self.limiter, "quota"):
                return figures
            limit = services.line.api.get_message_quota(_request_timeout=services.line.timeout)
            used = services.line.api.get_message_quota_consumption(_request_timeout=services.line.timeout)
            figures = {"type": limit.type, "value": limit.value, "total_usage": used.total_usage}
            figures["exhausted"] = bool(limit.type == "limited" and limit.value is not None
                                        and used.total_usage >= limit.value)
        except Exception:  # noqa: BLE001 - the 429's own message still decides; the figures are extra
            log.warning("reading LINE's quota failed", exc_info=True)
            figures = {}
        self._quota = (time.monotonic(), figures)
        return figures


def _open_pause(services: Services) -> tuple[datetime | None, bool]:
    with services.transaction() as session:
        until, count = session.execute(
            select(func.max(DeliveryAlert.paused_until), func.count(DeliveryAlert.id))
            .where(DeliveryAlert.kind == MONTHLY_LIMIT, DeliveryAlert.resolved_at.is_(None))).one()
    if until is not None and until.tzinfo is None:
        until = until.replace(tzinfo=utcnow().tzinfo)
    return until, bool(count)


class DeliveryPool:
    """Daemon threads delivering rows handed over by RQ jobs; ``submit`` blocks while all are busy."""

    def __init__(self, app: Flask, threads: int) -> None:
        self._queue: queue.Queue[int] = queue.Queue(maxsize=threads)
        for n in range(threads):
            threading.Thread(target=self._run, args=(app,), name=f"siang-delivery-{n}", daemon=True).start()

    def submit(self, message_id: int) -> None:
        self._queue.put(message_id)

    def _run(self, app: Flask) -> None:
        services: Services = app.extensions["siang"]
        while True:
            message_id = self._queue.get()
            try:
                with app.app_context():
                    deliver_chain(services, message_id)
            except Exception:  # noqa: BLE001 - e.g. the database restarting; the sweeper retries the row
                log.exception("delivery failed", extra={"outbox_id": message_id})


_runtimes_lock = threading.Lock()


def runtime(services: Services) -> DeliveryRuntime:
    """This process's delivery state for ``services`` (one per app), built on first use."""
    with _runtimes_lock:
        for item in services.background:
            if isinstance(item, DeliveryRuntime):
                return item
        limiter = make_limiter(services.settings.line_rate_limits,
                               None if services.settings.embedded else services.redis)
        item = DeliveryRuntime(limiter=limiter, threads=services.settings.delivery_threads)
        services.background.append(item)
        return item
