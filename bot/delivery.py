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
ORDERED_BATCH = 4  # chats a thread claims at once when no other thread of its pool is idle to share them
HINTS_PER_CLAIM = 2  # rows named by queue jobs a claim takes first (beside the batch)
MAX_HINTS = 512  # rows named by jobs a pool keeps for its threads (a bound, not a queue: see DeliveryPool)
PEER_WAKE_SECONDS = 1.0  # how often a saturated pool may queue a job for other worker processes


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


def deliver_outbox(message_ids: int | list[int]) -> None:
    """Job: deliver these rows (or whatever is due, if they are taken), then carry on (``deliver_chain``).

    A job names up to ``bot.jobs.DELIVERY_IDS_PER_JOB`` rows; they are hints: the threads
    deliver every due row anyway, a hint only puts a row first. In a ``siang worker`` they go to this
    process's delivery pool; embedded workers are threads already and deliver inline."""
    ids = [message_ids] if isinstance(message_ids, int) else list(message_ids)
    services = current_services()
    if services.settings.embedded or services.settings.delivery_threads <= 1:
        deliver_chain(services, ids)
    else:
        runtime(services).pool(current_app._get_current_object()).submit(ids)


@dataclass(frozen=True)
class Claimed:
    """A row this thread holds the lease of: the ORM object, or the row a claim returned (the same
    attributes)."""

    row: OutboxMessage | Row[Any]
    token: str

    @property
    def unordered(self) -> bool:
        return self.row.recipient == outbox.UNORDERED


def deliver_chain(services: Services, hints: int | list[int], pool: "DeliveryPool | None" = None) -> None:
    """Deliver the hinted rows and the due ones, batch after batch, until nothing is due.

    Each batch is claimed in the transaction that records the previous one (``outbox.claim_due``): up to
    ``ORDERED_BATCH`` chats whose turn it is, the pool's hints, and after rows to many chats the next
    ``UNORDERED_BATCH`` of them (``CHAIN_LIMIT`` in a row at most; then a queued job carries on). Without a
    pool (embedded mode, one thread) a call stops after ``CHAIN_LIMIT`` rows and queues a job to go on, so a
    backlog does not hold a worker thread that events need."""
    deliver_claimed_chain(services, _claim(services, [hints] if isinstance(hints, int) else list(hints)), pool)


def deliver_claimed_chain(services: Services, claimed: list[Claimed], pool: "DeliveryPool | None" = None
                          ) -> None:
    """``deliver_chain`` from rows already claimed (by this thread, or by one that shared them)."""
    delivered = unordered = 0
    while claimed:
        if pool is not None:
            claimed = pool.share(claimed)
        delivered += len(claimed)
        unordered += sum(1 for item in claimed if item.unordered)
        go_on = pool is not None or delivered < CHAIN_LIMIT
        claimed = _deliver_claimed(services, claimed, pool, pull=go_on, carry_on=unordered < CHAIN_LIMIT)
        if not go_on and not claimed:
            _wake(services)
            return


def _claim(services: Services, hints: list[int], session=None, unordered_kinds: tuple[str, ...] = ()
           ) -> list[Claimed]:
    """The hinted rows that are ours to send now, and the due rows of chats whose turn it is, in one
    statement (in ``session`` if given). A hinted row to many chats already taken (a thread carrying on got
    there first) is no reason to idle: the oldest due ones of its kind come instead."""
    settings = services.settings
    arguments = dict(lease_seconds=settings.job_lease_seconds, reply_lease_seconds=reply_lease_seconds(services),
                     limit=ORDERED_BATCH, hints=[i for i in hints if i][:HINTS_PER_CLAIM],
                     unordered_kinds=unordered_kinds, unordered_limit=UNORDERED_BATCH)
    if session is not None:
        rows = outbox.claim_due(session, **arguments)
    else:
        with services.transaction() as session:
            rows = outbox.claim_due(session, **arguments)
    return [Claimed(row, row.lease_token) for row in rows]


def reply_lease_seconds(services: Services) -> float:
    """A reply row holding a token is leased only as long as one attempt can last (a rate-limit slot wait
    plus LINE's timeout, and a margin), never longer than ``JOB_LEASE_SECONDS``: after a kill another worker
    takes it over while its token still lives, so the token itself tells whether the reply went out."""
    settings = services.settings
    return min(settings.job_lease_seconds, MAX_SLOT_WAIT + settings.line_timeout_seconds + REPLY_LEASE_MARGIN)


def _deliver_claimed(services: Services, claimed: list[Claimed], pool: "DeliveryPool | None", pull: bool,
                     carry_on: bool) -> list[Claimed]:
    """Send the claimed rows one after another, record every outcome and claim the next batch in one
    transaction; returns the next batch (empty: stop). A pause, our own throttle or a lost lease
    stops the chain (the rows wait for their time; the sweeper or a job takes them up)."""
    state = runtime(services)
    outcomes = []
    leased_at = time.monotonic()
    for n, item in enumerate(claimed):
        if time.monotonic() - leased_at > services.settings.job_lease_seconds / 2:
            # The rows before this one waited long (rate-limit slots, a busy machine): renew the lease of the
            # rest, so that nobody takes them over while we send them. Rows whose lease was lost are skipped.
            with services.transaction() as session:
                kept = outbox.renew_leases(session, [rest.row.id for rest in claimed[n:]], item.token,
                                           services.settings.job_lease_seconds, reply_lease_seconds(services))
            leased_at = time.monotonic()
        else:
            kept = None
        if kept is not None and item.row.id not in kept:
            outcomes.append(Outcome("retry", error="lease lost", counts=False))
            continue
        outcomes.append(_attempt(services, state, item.row))
    hold = any(not outcome.counts for outcome in outcomes)
    to_many = [item.row.kind for item in claimed if item.unordered]
    wake: int | None = None
    next_batch: list[Claimed] = []
    with services.transaction() as session:
        outbox.finish_many(session, [_result(item, outcome) for item, outcome in zip(claimed, outcomes)])
        if pull and not hold:
            kinds = (to_many[-1],) if to_many and carry_on else ()
            next_batch = _claim(services, pool.take_hints() if pool is not None else [], session, kinds)
        if to_many and not carry_on:
            wake = outbox.next_unordered_id(session, to_many[-1])
    if wake is not None:
        services.jobs.enqueue("deliver_outbox", wake)
    if any(outcome.state == "sent" and outcome.via in COUNTED for outcome in outcomes):
        state.resumed(services)
    return next_batch


def hand_over(services: Services, ids: list[int]) -> list[int]:
    """The sweeper's rows go straight to this process's delivery threads when it runs them (a ``siang
    worker`` that has delivered): ahead of every queued job, without one of their own. Returns the rows left
    for the queue (all of them in a process without a pool, e.g. a web process's sweeper)."""
    state = runtime(services)
    if not ids or state._pool is None:
        return ids
    state._pool.submit(ids)
    return []


def _wake(services: Services) -> None:
    """Queue a job to carry on (no row named: the job's thread takes what is due)."""
    try:
        services.jobs.requeue("deliver_outbox", 0)
    except Exception:  # noqa: BLE001 - Redis down: the sweeper finds the rows
        log.warning("queueing delivery failed", exc_info=True)


def _attempt(services: Services, state: "DeliveryRuntime", row: OutboxMessage | Row[Any]) -> Outcome:
    """One row's attempt at LINE, or why it is not attempted now (LINE's monthly limit pauses it)."""
    paused_until = state.paused_until(services) if endpoint_of(row) in COUNTED else None
    if paused_until:
        return Outcome("retry", error="paused: LINE monthly limit", counts=False,
                       delay=(paused_until - utcnow()).total_seconds() + random.uniform(0, 1))
    outcome = send(services, row)
    if outcome.state == MONTHLY_LIMIT:
        paused_until = state.pause(services, outcome.details)
        outcome = Outcome("retry", error=outcome.error, counts=False,
                          delay=(paused_until - utcnow()).total_seconds() + random.uniform(0, 1))
    return outcome


def _result(claimed: Claimed, outcome: Outcome) -> tuple[int, str, dict]:
    """What to record of one outcome: ``(row id, lease token, columns)`` for ``outbox.finish_many``."""
    row, token = claimed.row, claimed.token
    if outcome.state == "sent":
        log.info("delivered", extra={"outbox_id": row.id, "line_request_id": outcome.request_id,
                                     "status": outcome.via})
        return row.id, token, outbox.sent_values(outcome.via or row.kind, outcome.request_id)
    if outcome.state == "failed":
        log.warning("delivery failed permanently", extra={"outbox_id": row.id, "reason": outcome.error})
        return row.id, token, outbox.failed_values(outcome.error or "failed", outcome.status, outcome.details)
    if outcome.counts and row.attempts >= MAX_ATTEMPTS:
        log.error("delivery given up", extra={"outbox_id": row.id, "reason": outcome.error})
        return row.id, token, outbox.failed_values(f"gave up after {row.attempts} attempts: {outcome.error}")
    extra = {} if outcome.counts else {"attempts": row.attempts - 1}
    log.info("delivery rescheduled", extra={"outbox_id": row.id, "attempt": row.attempts,
                                            "delay": round(outcome.delay, 2), "reason": outcome.error})
    return row.id, token, outbox.retry_values(outcome.delay, outcome.error or "retry", **extra)


def endpoint_of(row: OutboxMessage) -> str:
    return "push" if row.kind == "reply" and not row.reply_token else row.kind


def send(services: Services, row: OutboxMessage) -> Outcome:
    """One attempt at the LINE API for ``row``; never raises."""
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
    """Daemon threads delivering rows; queue jobs only wake them up and name rows to put first.

    A thread runs ``deliver_chain``: it claims due rows of several chats at once and, while other threads
    of the pool are idle, hands them all but one of the rows (``share``), so that with few chats waiting
    every chat still has a thread and with many a thread sends a few rows per round trip to the database.
    A thread whose claim came back full wakes an idle one; with none idle it asks, at most every
    ``PEER_WAKE_SECONDS``, for a queue job that another worker process may take. ``submit`` never blocks: a
    hint lost to the bound (``MAX_HINTS``) is a row the threads or the sweeper reach anyway."""

    def __init__(self, app: Flask, threads: int) -> None:
        self.app = app
        self.threads = threads
        self._hints: dict[int, None] = {}  # an ordered set, oldest first
        self._shared: list[list[Claimed]] = []  # rows claimed by one thread for idle ones
        self._wakeups = 0  # threads asked to look for due rows without a hint
        self._idle = 0
        self._peers_woken = 0.0
        self._cond = threading.Condition()
        for n in range(threads):
            threading.Thread(target=self._run, name=f"siang-delivery-{n}", daemon=True).start()

    def submit(self, ids: list[int]) -> None:
        """Hand over rows named by a job or by the sweeper; wake as many idle threads as they need."""
        with self._cond:
            for row_id in ids:
                if row_id:
                    self._hints.pop(row_id, None)
                    self._hints[row_id] = None
            while len(self._hints) > MAX_HINTS:
                del self._hints[next(iter(self._hints))]
            wanted = max(1, -(-len(ids) // HINTS_PER_CLAIM))
            self._wake_locked(wanted)

    def take_hints(self) -> list[int]:
        with self._cond:
            taken = []
            while self._hints and len(taken) < HINTS_PER_CLAIM:
                row_id = next(iter(self._hints))
                del self._hints[row_id]
                taken.append(row_id)
            return taken

    def share(self, claimed: list[Claimed]) -> list[Claimed]:
        """Keep the first row; give the others, one each, to idle threads (as many as there are). A full
        claim means more rows are due: wake an idle thread, or ask another process for help."""
        full = len(claimed) >= ORDERED_BATCH
        with self._cond:
            given = 0
            while len(claimed) - given > 1 and self._idle - self._wakeups - len(self._shared) > 0:
                self._shared.append([claimed[len(claimed) - 1 - given]])
                given += 1
            if given:
                self._cond.notify(given)
            kept = claimed[:len(claimed) - given]
            idle = self._idle - self._wakeups - len(self._shared) > 0
            if full and idle:
                self._wake_locked(1)
            wake_peers = full and not idle and time.monotonic() - self._peers_woken > PEER_WAKE_SECONDS
            if wake_peers:
                self._peers_woken = time.monotonic()
        if wake_peers:
            _wake(self.app.extensions["siang"])
        return kept

    def _wake_locked(self, count: int) -> None:
        count = min(count, self._idle - self._wakeups - len(self._shared))
        if count > 0:
            self._wakeups += count
            self._cond.notify(count)

    def _next(self) -> tuple[list[Claimed] | None, list[int]]:
        with self._cond:
            self._idle += 1
            while not (self._shared or self._hints or self._wakeups):
                self._cond.wait()
            self._idle -= 1
            if self._shared:
                return self._shared.pop(), []
            self._wakeups = max(0, self._wakeups - 1)
        return None, self.take_hints()

    def _run(self) -> None:
        services: Services = self.app.extensions["siang"]
        while True:
            shared, hints = self._next()
            try:
                with self.app.app_context():
                    if shared is not None:
                        deliver_claimed_chain(services, shared, self)
                    else:
                        deliver_chain(services, hints, self)
            except Exception:  # noqa: BLE001 - e.g. the database restarting; the sweeper retries the rows
                log.exception("delivery failed", extra={"outbox_ids": hints})


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
