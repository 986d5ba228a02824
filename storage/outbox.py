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

from sqlalchemy import Row, and_, bindparam, case, exists, func, insert, literal_column, not_, or_, select, union, update
from sqlalchemy.orm import Session, aliased

from storage import leases
from storage.models import DeliveryAlert, OutboxMessage, utcnow

UNORDERED = "*"  # the recipient of rows to many chats
# A never-tried row to many chats younger than this is not "lost" yet: it has a queued job, or a worker carrying
# on from earlier rows will take it (see ``stale``).
FRESH_UNORDERED_GRACE = timedelta(seconds=10)
# How many of the oldest unfinished rows a claim looks at for chains to start (``claim_due``). Behind a chat
# with thousands of waiting rows the search stays this short; chats further back are reached by their own
# queue jobs' hints and by the sweeper, which asks the whole table once a pass.
CLAIM_WINDOW = 200


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


def renew_leases(session: Session, ids: list[int], token: str, lease_seconds: float,
                 reply_lease_seconds: float) -> set[int]:
    """Lease again, from now, the rows of ``ids`` that ``token`` still holds (a reply holding a token for
    ``reply_lease_seconds`` only, as ``claim_due`` leases it); the ids still ours."""
    now = utcnow()
    table = OutboxMessage.__table__
    reply_expires = now + timedelta(seconds=min(lease_seconds, reply_lease_seconds))
    result = session.connection().execute(
        update(table).where(table.c.id.in_(ids), table.c.lease_token == token, table.c.status == "sending")
        .values(lease_expires_at=case((and_(table.c.kind == "reply", table.c.reply_token.is_not(None)),
                                       reply_expires), else_=now + timedelta(seconds=lease_seconds)))
        .returning(table.c.id))
    return set(result.scalars())


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


def claim_due(session: Session, *, lease_seconds: float, reply_lease_seconds: float, limit: int,
              hints: list[int] | tuple[int, ...] = (), unordered_kinds: list[str] | tuple[str, ...] = (),
              unordered_limit: int = 0) -> list[Row[Any]]:
    """Take, in one statement, the rows a delivery thread sends next: up to ``limit`` first unfinished rows of
    different chats (oldest first, among the ``CLAIM_WINDOW`` oldest unfinished rows), the ``hints`` among them if they are claimable (rows a queue job named:
    a reply waiting behind a backlog is taken at once), and up to ``unordered_limit`` of the oldest due rows
    to many chats of ``unordered_kinds`` or of a hinted row's kind (a job whose multicast was taken takes the
    next ones instead of idling). One lease token for them all; rows as they are now (every column).

    A row is claimable when it is due (or held by an expired lease: its worker died) and no earlier row of its
    chat is unfinished, as ``claim`` decides for
    one row: two rows of one chat are never taken together, so per-chat order holds. A reply row holding a
    token is leased for ``reply_lease_seconds`` only (see ``bot.delivery.reply_lease_seconds``).

    PostgreSQL: each candidate set is ``SELECT … FOR UPDATE SKIP LOCKED`` in a ``MATERIALIZED`` CTE, so
    threads and machines claiming at once skip each other's candidates instead of queueing on them; the
    candidates walk the partial index of unfinished rows (migration 0018). SQLite runs writers one at a time.
    Used in the transaction that records the previous rows' results, it costs no round trip of its own."""
    now = utcnow()
    rows = session.connection().execute(_claim_due_statement(), {
        "b_now": now, "b_token": str(uuid.uuid4()), "b_expires": now + timedelta(seconds=lease_seconds),
        "b_reply_expires": now + timedelta(seconds=min(lease_seconds, reply_lease_seconds)),
        "b_limit": limit, "b_hints": list(hints), "b_kinds": list(unordered_kinds),
        "b_unordered_limit": unordered_limit}).all()
    return sorted(rows, key=lambda row: row.id)


_UNFINISHED = ("pending", "sending")


def _unfinished(column):
    """``status IN ('pending', 'sending')`` with literal values, so that the planner matches the partial
    indexes of unfinished rows even under a prepared statement's generic plan."""
    return column.in_([literal_column(f"'{status}'") for status in _UNFINISHED])


@lru_cache(maxsize=1)
def _claim_due_statement():
    """Built once, like ``_claim_next_statement``: it runs for every few rows a thread delivers."""
    table = OutboxMessage.__table__

    def claimable(row, earlier):
        return and_(
            or_(and_(row.c.status == "pending", row.c.next_attempt_at <= bindparam("b_now")),
                and_(row.c.status == "sending", row.c.lease_expires_at < bindparam("b_now"))),
            or_(row.c.recipient == UNORDERED,
                ~exists().where(earlier.c.recipient == row.c.recipient, earlier.c.id < row.c.id,
                                _unfinished(earlier.c.status))))

    hinted_row, hinted_earlier = table.alias("hinted_row"), table.alias("hinted_earlier")
    hinted = (select(hinted_row.c.id)
              .where(hinted_row.c.id.in_(bindparam("b_hints", expanding=True)),
                     claimable(hinted_row, hinted_earlier))
              .with_for_update(skip_locked=True).cte("hinted").prefix_with("MATERIALIZED"))
    # The oldest unfinished rows, read once: every unfinished row older than one of them is among them, so
    # "no earlier unfinished row of the chat" is decided inside the window, without a probe per row.
    oldest = table.alias("oldest")
    window = (select(oldest.c.id, oldest.c.recipient, oldest.c.status, oldest.c.next_attempt_at,
                     oldest.c.lease_expires_at)
              .where(_unfinished(oldest.c.status)).order_by(oldest.c.id).limit(CLAIM_WINDOW)
              .cte("window").prefix_with("MATERIALIZED"))
    earlier = window.alias("window_earlier")
    starts = (select(window.c.id)
              .where(or_(and_(window.c.status == "pending", window.c.next_attempt_at <= bindparam("b_now")),
                         # a chain head whose worker died mid-send: taken over as soon as its lease ends
                         and_(window.c.status == "sending", window.c.lease_expires_at < bindparam("b_now"))),
                     window.c.recipient != UNORDERED,
                     ~exists().where(earlier.c.recipient == window.c.recipient, earlier.c.id < window.c.id)))
    head_row = table.alias("head_row")
    heads = (select(head_row.c.id)
             .where(head_row.c.id.in_(starts),
                    or_(head_row.c.status == "pending",
                        and_(head_row.c.status == "sending", head_row.c.lease_expires_at < bindparam("b_now"))))
             .order_by(head_row.c.id).limit(bindparam("b_limit"))
             .with_for_update(skip_locked=True).cte("heads").prefix_with("MATERIALIZED"))
    many = table.alias("many_row")
    wanted = or_(many.c.kind.in_(bindparam("b_kinds", expanding=True)),
                 many.c.kind.in_(select(table.c.kind).where(table.c.id.in_(bindparam("b_hints", expanding=True)),
                                                             table.c.recipient == UNORDERED)))
    to_many = (select(many.c.id)
               .where(many.c.status == "pending", many.c.next_attempt_at <= bindparam("b_now"),
                      many.c.recipient == UNORDERED, wanted)
               .order_by(many.c.next_attempt_at, many.c.id).limit(bindparam("b_unordered_limit"))
               .with_for_update(skip_locked=True).cte("to_many").prefix_with("MATERIALIZED"))
    picked = union(select(hinted.c.id), select(heads.c.id), select(to_many.c.id))
    return (update(table)
            .where(table.c.id.in_(picked),
                   or_(table.c.status == "pending",
                       and_(table.c.status == "sending", table.c.lease_expires_at < bindparam("b_now"))))
            .values(status="sending", lease_token=bindparam("b_token"),
                    lease_expires_at=case((and_(table.c.kind == "reply", table.c.reply_token.is_not(None)),
                                           bindparam("b_reply_expires")), else_=bindparam("b_expires")),
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
    return leases.finish(session, OutboxMessage, message_id, token, **sent_values(via, request_id, keep_error))


def sent_values(via: str, request_id: str | None, keep_error: bool = False) -> dict:
    """``keep_error``: leave the last retried error on the row (a webhook's delivery log shows why it took
    several attempts)."""
    errors = {} if keep_error else {"last_error": None}
    return {"status": "sent", "sent_at": utcnow(), "sent_via": via, "line_request_id": request_id, **errors}


def failed_values(error: str, status: int | None = None, details: str | None = None) -> dict:
    return {"status": "failed", "last_error": error, "error_status": status, "error_details": details,
            "failed_at": utcnow()}


def retry_values(delay_seconds: float, error: str, **values) -> dict:
    return {"status": "pending", "next_attempt_at": utcnow() + timedelta(seconds=delay_seconds),
            "last_error": error, **values}


def finish_many(session: Session, results: list[tuple[int, str, dict]]) -> None:
    """Record the results of several delivered rows, ``(id, lease token, values)`` built by ``sent_values``,
    ``failed_values`` or ``retry_values``: one round trip for a thread's whole batch."""
    leases.finish_many(session, OutboxMessage, results)


def mark_failed(session: Session, message_id: int, token: str, error: str, status: int | None = None,
                details: str | None = None) -> bool:
    """A permanent failure (LINE said 4xx): kept with LINE's status and error body for staff, never retried."""
    return leases.finish(session, OutboxMessage, message_id, token, **failed_values(error, status, details))


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


MONTHLY_LIMIT = "monthly_limit"  # the kind of alert that pauses counted sends (bot.delivery.pause)


def monthly_limit_pause(session: Session) -> tuple[datetime | None, bool]:
    """Until when counted sends are paused for LINE's monthly limit (None: not paused), and whether an
    alert for it is open."""
    until, count = session.execute(
        select(func.max(DeliveryAlert.paused_until), func.count(DeliveryAlert.id))
        .where(DeliveryAlert.kind == MONTHLY_LIMIT, DeliveryAlert.resolved_at.is_(None))).one()
    return until, bool(count)


def record_monthly_limit(session: Session, until: datetime, details: str | None) -> datetime:
    """LINE refused for its monthly limit: open the alert (or renew the open one, locked) and pause counted
    sends until ``until`` or a later time already set; returns the end of the pause."""
    alert = session.scalar(select(DeliveryAlert).where(DeliveryAlert.kind == MONTHLY_LIMIT,
                                                       DeliveryAlert.resolved_at.is_(None))
                           .order_by(DeliveryAlert.id.desc()).limit(1).with_for_update())
    if alert is None:
        alert = DeliveryAlert(kind=MONTHLY_LIMIT, occurrences=0,
                              message="LINE's monthly message limit is reached: pushes are paused")
        session.add(alert)
    current = alert.paused_until
    if current is None or current < until:
        alert.paused_until = until
    alert.occurrences = (alert.occurrences or 0) + 1
    alert.last_seen_at = utcnow()
    alert.details = details
    return max(until, current or until)


def close_monthly_limit(session: Session) -> int:
    """A counted send got through after the pause: close the open monthly-limit alerts; how many."""
    return session.execute(update(DeliveryAlert)
                           .where(DeliveryAlert.kind == MONTHLY_LIMIT, DeliveryAlert.resolved_at.is_(None),
                                  DeliveryAlert.paused_until <= utcnow())
                           .values(resolved_at=utcnow())).rowcount


def error_details(row: OutboxMessage) -> dict:
    """LINE's error body of a failed row (``{"message", "details": [{"message", "property"}]}``), or {}."""
    try:
        parsed = json.loads(row.error_details or "{}")
    except ValueError:
        return {"message": row.error_details}
    return parsed if isinstance(parsed, dict) else {"message": str(parsed)}


def schedule_retry(session: Session, message_id: int, token: str, delay_seconds: float, error: str,
                   **values) -> bool:
    return leases.finish(session, OutboxMessage, message_id, token, **retry_values(delay_seconds, error, **values))


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
