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
worker keeps a pool of ``delivery_threads`` threads. A thread claims the due rows of a few chats in one
statement, in the transaction that records the previous ones (``storage.outbox.claim_due``): per batch one
round trip of results, one claim and one commit, instead of four statements and two commits per row. Queue
jobs only wake threads and name rows to put first (16 rows a job); the sweeper hands rows straight to its
worker's threads, and a chain head whose worker died is claimed like a due row once its lease ends.

Rows to many chats (an announcement's multicasts) are not one queue job each: a thread that finished some
takes the oldest due ones itself, ``UNORDERED_BATCH`` at a time (``storage.outbox.claim_next_unordered``, in
the same transaction that records the results), up to ``CHAIN_LIMIT`` rows, then queues a job to carry on so
that pushes to citizens queued meanwhile get a thread. A queue job cost about 2.4 ms of CPU (RQ's bookkeeping
in the worker and in Redis), as much as the whole request; the queue now only wakes threads up. A multicast
body is sent as the JSON the row already holds (``LineClients.post_json``), its message objects validated
with the SDK's models.

The package, by part: ``chain`` (jobs, claims, the chain of batches), ``attempt`` (one request: send,
classify LINE's answer, back-off), ``pause`` (LINE's monthly limit), ``pool`` (a worker's threads) and
``runtime`` (what a process keeps: limiter, pool, pause, quota; ``Services.delivery``). Callers import from ``bot.delivery``.
"""

from __future__ import annotations

from bot.delivery.attempt import (
    COUNTED,
    MAX_ATTEMPTS,
    MAX_SLOT_WAIT,
    MONTHLY_LIMIT,
    Outcome,
    backoff,
    classify,
    endpoint_of,
    send,
)
from bot.delivery.chain import (
    CHAIN_LIMIT,
    HINTS_PER_CLAIM,
    ORDERED_BATCH,
    UNORDERED_BATCH,
    Claimed,
    _claim,
    deliver_chain,
    deliver_claimed_chain,
    deliver_outbox,
    hand_over,
    reply_lease_seconds,
)
from bot.delivery.pause import MonthlyLimitPause
from bot.delivery.pool import DeliveryPool
from bot.delivery.runtime import DeliveryRuntime, make_runtime

__all__ = [
    "CHAIN_LIMIT", "COUNTED", "HINTS_PER_CLAIM", "MAX_ATTEMPTS", "MAX_SLOT_WAIT", "MONTHLY_LIMIT", "ORDERED_BATCH",
    "UNORDERED_BATCH", "Claimed", "DeliveryPool", "DeliveryRuntime", "MonthlyLimitPause", "Outcome", "_claim",
    "backoff", "classify", "deliver_chain", "deliver_claimed_chain", "deliver_outbox", "endpoint_of", "hand_over",
    "make_runtime", "reply_lease_seconds", "send",
]
