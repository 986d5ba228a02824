"""The outbox: every message to LINE is a row first, delivered by workers after the transaction commits.

Rows to one chat are delivered in order (``claim`` waits for earlier rows of the chat). Rows to many chats
(multicast and broadcast, ``recipient == "*"``) have no order: a worker that finished one takes the next due
one itself (``claim_next_unordered``), so an announcement of thousands of rows does not cost one queue job
per row, and several workers on several machines share the rows without taking the same one twice.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Row, and_, bindparam, exists, func, insert, not_, or_, select, update
from sqlalchemy.orm import Session, aliased

from storage import leases
from storage.models import DeliveryAlert, OutboxMessage, utcnow

UNORDERED = "*"  # the recipient of rows to many chats
# A never-tried row to many chats younger than this is not "lost" yet: it has a queued job, or a worker carrying
# on from earlier rows will take it (see ``stale``).
FRESH_UNORDERED_GRACE = timedelta(seconds=10)


def add_message(session: Session, *, kind: str, recipient: str, messages: list[dict],
                reply_token: str | None = None, reply_deadline: datetime | None = None,
                recipients: list[str] | None = None, source_event_id: int | None = None,
                notification_disabled: bool = False, case_id: int | None = None) -> OutboxMessage:
    """Queue one LINE request (1..5 message objects) with its own retry key."""
    if not 1 <= len(messages) <= 5:
        raise ValueError(f"a LINE request carries 1 to 5 messages, got {len(messages)}")
    if recipients is not None and not 1 <= len(recipients) <= 500:
        raise ValueError(f"a multicast goes to 1 to 500 users, got {len(recipients)}")
    row = OutboxMessage(
        kind=kind,
        recipient=recipient,
        recipients=json.dumps(recipients) if recipients is not None else None,
        reply_token=reply_token,
        reply_deadline=reply_deadline,
        messages=json.dumps(messages, ensure_ascii=False, separators=(",", ":")),
        retry_key=str(uuid.uuid4()),
        source_event_id=source_event_id,
        notification_disabled=notification_disabled,
        case_id=case_id,
        status="pending",
        attempts=0,
        next_attempt_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def add_multicasts(session: Session, recipient_lists: list[str], messages: list[dict],
                   notification_disabled: bool = False) -> list[int]:
    """Queue one multicast per JSON array of user ids (1..500 each, as the audience query builds them), all
    with the same messages; their ids in order.

    One multi-row INSERT for all of them: an announcement writes thousands of these, and the ORM's
    object-per-row flush cost more than the rows themselves."""
    if not 1 <= len(messages) <= 5:
        raise ValueError(f"a LINE request carries 1 to 5 messages, got {len(messages)}")
    if not recipient_lists:
        return []
    now, body = utcnow(), json.dumps(messages, ensure_ascii=False, separators=(",", ":"))
    table = OutboxMessage.__table__
    rows = [{"kind": "multicast", "recipient": UNORDERED, "recipients": users, "messages": body,
             "retry_key": str(uuid.uuid4()), "notification_disabled": notification_disabled, "status": "pending",
             "attempts": 0, "next_attempt_at": now, "created_at": now} for users in recipient_lists]
    result = session.connection().execute(
        insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
    return list(result.scalars())


def claim(session: Session, message_id: int, lease_seconds: float) -> str | None:
    """Take a due row, unless an older row to the same recipient is still unsent (per-chat order)."""
    return leases.claim(session, OutboxMessage, message_id, lease_seconds, order_by="recipient",
                        busy_status="sending", due_column="next_attempt_at", unordered="*")


def forget_reply_token(session: Session, message_id: int, token: str | None) -> bool:
    """A reply about to fall back to a push drops its token, while its lease is ``token``'s; False if the
    lease was taken over (then the other holder decides)."""
    return session.execute(update(OutboxMessage)
                           .where(OutboxMessage.id == message_id, OutboxMessage.lease_token == token)
                           .values(reply_token=None)
                           .execution_options(synchronize_session=False)).rowcount == 1


def limit_lease(session: Session, message_id: int, token: str, seconds: float) -> None:
    """Shorten the lease ``token`` holds on a row to ``seconds`` from now (never lengthen it)."""
    expires = utcnow() + timedelta(seconds=seconds)
    session.execute(update(OutboxMessage)
                    .where(OutboxMessage.id == message_id, OutboxMessage.lease_token == token,
                           OutboxMessage.lease_expires_at > expires)
                    .values(lease_expires_at=expires).execution_options(synchronize_session=False))


def next_for_recipient(session: Session, recipient: str, after_id: int) -> int | None:
    """The next waiting row to the same chat: the worker that sent one row carries the chat on."""
    if recipient == UNORDERED:
        return None
    return session.scalar(
        select(OutboxMessage.id)
        .where(OutboxMessage.recipient == recipient, OutboxMessage.id > after_id,
               OutboxMessage.status == "pending")
        .order_by(OutboxMessage.id)
        .limit(1)
    )


def _unordered_due(kind: str, now: datetime):
    return and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now,
                OutboxMessage.recipient == UNORDERED, OutboxMessage.kind == kind)


def claim_next_unordered(session: Session, kind: str, lease_seconds: float, limit: int = 1) -> list[Row[Any]]:
    """Take up to ``limit`` of the oldest due rows to many chats of ``kind`` (multicast, broadcast), one lease
    token for them all; oldest first.

    Returns the rows as they are now (every column, ``lease_token`` being ours); empty when nothing is due.
    One statement: ``WITH picked AS MATERIALIZED (SELECT … LIMIT n FOR UPDATE SKIP LOCKED) UPDATE … WHERE id IN
    picked RETURNING …`` on PostgreSQL, so concurrent workers skip each other's candidates instead of queueing
    on them; SQLite runs writers one at a time (``BEGIN IMMEDIATE``). Rarely on PostgreSQL a candidate is taken meanwhile and fewer
    rows come back than are due: the caller carries on with what it got, queued jobs and the sweeper with the
    rest."""
    now = utcnow()
    rows = session.connection().execute(_claim_next_statement(), {
        "b_kind": kind, "b_now": now, "b_token": str(uuid.uuid4()), "b_limit": limit,
        "b_expires": now + timedelta(seconds=lease_seconds)}).all()
    return sorted(rows, key=lambda row: (row.next_attempt_at, row.id))


@lru_cache(maxsize=1)
def _claim_next_statement():
    """Built once: it runs for every few multicasts, and building the expression cost more than running it."""
    table = OutboxMessage.__table__
    candidates = (select(table.c.id)
                  .where(table.c.status == "pending", table.c.next_attempt_at <= bindparam("b_now"),
                         table.c.recipient == UNORDERED, table.c.kind == bindparam("b_kind"))
                  .order_by(table.c.next_attempt_at, table.c.id).limit(bindparam("b_limit"))
                  .with_for_update(skip_locked=True))
    # MATERIALIZED: the candidates are chosen (and locked) once. As a plain ``IN (subquery)`` PostgreSQL may
    # plan a nested loop that runs the subquery again for every row, taking more rows than the limit.
    picked = candidates.cte("picked").prefix_with("MATERIALIZED")
    return (update(table).where(table.c.id.in_(select(picked.c.id)), table.c.status == "pending")
            .values(status="sending", lease_token=bindparam("b_token"), lease_expires_at=bindparam("b_expires"),
                    attempts=table.c.attempts + 1)
            .returning(*table.c))


def next_unordered_id(session: Session, kind: str) -> int | None:
    """The oldest due row to many chats of ``kind``, without taking it (to queue a job for it)."""
    return session.scalar(select(OutboxMessage.id).where(_unordered_due(kind, utcnow()))
                          .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(1))


def is_unordered(session: Session, message_id: int) -> str | None:
    """The row's kind if it is a row to many chats, else None."""
    return session.scalar(select(OutboxMessage.kind).where(OutboxMessage.id == message_id,
                                                            OutboxMessage.recipient == UNORDERED))


def unordered_backlog(session: Session) -> int:
    """Rows to many chats not yet accepted by LINE (waiting, in backoff or being sent): how far announcement
    fan-outs are ahead of delivery. They all share LINE's multicast (or broadcast) rate."""
    return session.scalar(select(func.count()).select_from(OutboxMessage)
                          .where(OutboxMessage.status.in_(("pending", "sending")),
                                 OutboxMessage.recipient == UNORDERED)) or 0


def get(session: Session, message_id: int) -> OutboxMessage | None:
    return session.get(OutboxMessage, message_id)


def mark_sent(session: Session, message_id: int, token: str, via: str, request_id: str | None,
              keep_error: bool = False) -> bool:
    """``keep_error``: leave the last retried error on the row (a webhook's delivery log shows why it took
    several attempts)."""
    errors = {} if keep_error else {"last_error": None}
    return leases.finish(session, OutboxMessage, message_id, token, status="sent", sent_at=utcnow(),
                         sent_via=via, line_request_id=request_id, **errors)


def mark_failed(session: Session, message_id: int, token: str, error: str, status: int | None = None,
                details: str | None = None) -> bool:
    """A permanent failure (LINE said 4xx): kept with LINE's status and error body for staff, never retried."""
    return leases.finish(session, OutboxMessage, message_id, token, status="failed", last_error=error,
                         error_status=status, error_details=details, failed_at=utcnow())


def failures(session: Session, limit: int = 100, since: datetime | None = None) -> list[OutboxMessage]:
    """Rows LINE refused for good, newest first: what the staff console shows under delivery problems."""
    query = select(OutboxMessage).where(OutboxMessage.status == "failed")
    if since is not None:
        query = query.where(OutboxMessage.failed_at >= since)
    return list(session.scalars(query.order_by(OutboxMessage.id.desc()).limit(limit)))


def open_alerts(session: Session) -> list[DeliveryAlert]:
    """Delivery problems staff must act on (e.g. LINE's monthly message limit), newest first."""
    return list(session.scalars(select(DeliveryAlert).where(DeliveryAlert.resolved_at.is_(None))
                                .order_by(DeliveryAlert.id.desc())))


def error_details(row: OutboxMessage) -> dict:
    """LINE's error body of a failed row (``{"message", "details": [{"message", "property"}]}``), or {}."""
    try:
        parsed = json.loads(row.error_details or "{}")
    except ValueError:
        return {"message": row.error_details}
    return parsed if isinstance(parsed, dict) else {"message": str(parsed)}


def schedule_retry(session: Session, message_id: int, token: str, delay_seconds: float, error: str,
                   **values) -> bool:
    return leases.finish(session, OutboxMessage, message_id, token, status="pending",
                         next_attempt_at=utcnow() + timedelta(seconds=delay_seconds), last_error=error, **values)


def stale(session: Session, limit: int = 500) -> list[int]:
    """Rows due for delivery whose queue message may be lost, and rows of workers that died mid-send.

    Only the first unsent row of each chat is returned: the rows behind it cannot be claimed before it
    (per-chat order) and are carried on by the worker that delivers it (``next_for_recipient``), so a
    backlog of thousands of rows costs the sweeper one row per chat, not one per message. Likewise a row to
    many chats written less than ``FRESH_UNORDERED_GRACE`` ago and never tried nor put back (no
    ``last_error``) is left alone: an announcement writes a few hundred of them ahead of delivery, and
    re-queueing each one every sweep would cost more than sending it."""
    now = utcnow()
    earlier = aliased(OutboxMessage)
    first_of_chat = or_(
        and_(OutboxMessage.recipient == UNORDERED,
             not_(and_(OutboxMessage.attempts == 0, OutboxMessage.last_error.is_(None),
                       OutboxMessage.created_at > now - FRESH_UNORDERED_GRACE))),
        and_(OutboxMessage.recipient != UNORDERED,
             ~exists().where(earlier.recipient == OutboxMessage.recipient, earlier.id < OutboxMessage.id,
                             earlier.status.in_(("pending", "sending")))),
    )
    due = and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now, first_of_chat)
    abandoned = and_(OutboxMessage.status == "sending", OutboxMessage.lease_expires_at < now)
    query = select(OutboxMessage.id).where(or_(due, abandoned)).order_by(OutboxMessage.id).limit(limit)
    return list(session.scalars(query))
