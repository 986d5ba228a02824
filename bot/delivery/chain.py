"""The chain: a delivery thread claims the rows whose turn it is, sends them one by one (``attempt``),
records the results and claims the next ones in one transaction, until nothing is due.

A row to one chat is claimable only when no earlier row of that chat is unfinished, so a chat's messages
keep their order; rows of different chats are claimed together (``storage.outbox.claim_due``), rows to many
chats (multicasts) ``UNORDERED_BATCH`` at a time. Queue jobs name rows only as hints to put first.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import current_app
from sqlalchemy import Row

from bot.delivery.attempt import COUNTED, MAX_ATTEMPTS, MAX_SLOT_WAIT, MONTHLY_LIMIT, Outcome, endpoint_of, send
from bot.delivery.runtime import DeliveryRuntime
from bot.services import Services, current_services
from storage import outbox
from storage.models import OutboxMessage, utcnow

if TYPE_CHECKING:
    from bot.delivery.pool import DeliveryPool

log = logging.getLogger(__name__)
CHAIN_LIMIT = 50  # rows to many chats one thread sends in a row (a few seconds) before others get a turn
REPLY_LEASE_MARGIN = 3.0  # seconds beyond one reply attempt's longest run, for the database round trips
UNORDERED_BATCH = 4  # rows to many chats a thread claims (and records) at once: a quarter of the commits
ORDERED_BATCH = 4  # chats a thread claims at once when no other thread of its pool is idle to share them
HINTS_PER_CLAIM = 2  # rows named by queue jobs a claim takes first (beside the batch)


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
        services.delivery.pool(current_app._get_current_object()).submit(ids)


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
            wake(services)
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
    state = services.delivery
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
    next_batch: list[Claimed] = []
    with services.transaction() as session:
        outbox.finish_many(session, [_result(item, outcome) for item, outcome in zip(claimed, outcomes)])
        if pull and not hold:
            kinds = (to_many[-1],) if to_many and carry_on else ()
            next_batch = _claim(services, pool.take_hints() if pool is not None else [], session, kinds)
        if to_many and not carry_on:
            carry_on_id = outbox.next_unordered_id(session, to_many[-1])
            if carry_on_id is not None:  # another thread carries on with the rows to many chats
                services.after_commit(session, "deliver_outbox", carry_on_id)
    if any(outcome.state == "sent" and outcome.via in COUNTED for outcome in outcomes):
        state.resumed(services)
    return next_batch


def hand_over(services: Services, ids: list[int]) -> list[int]:
    """The sweeper's rows go straight to this process's delivery threads when it runs them (a ``siang
    worker`` that has delivered): ahead of every queued job, without one of their own. Returns the rows left
    for the queue (all of them in a process without a pool, e.g. a web process's sweeper)."""
    pool = services.delivery.running_pool()
    if not ids or pool is None:
        return ids
    pool.submit(ids)
    return []


def wake(services: Services) -> None:
    """Queue a job to carry on (no row named: the job's thread takes what is due)."""
    try:
        services.jobs.requeue("deliver_outbox", 0)
    except Exception:  # noqa: BLE001 - Redis down: the sweeper finds the rows
        log.warning("queueing delivery failed", exc_info=True)


def _attempt(services: Services, state: DeliveryRuntime, row: OutboxMessage | Row[Any]) -> Outcome:
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
        return row.id, token, outbox.sent_values(outcome.via or row.kind, outcome.request_id,
                                                 keep_error=row.kind == "webhook")
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
