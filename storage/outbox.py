"""The outbox: every message to LINE is a row first, delivered by workers after the transaction commits."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session, aliased

from storage import leases
from storage.models import OutboxMessage, utcnow


def add_message(session: Session, *, kind: str, recipient: str, messages: list[dict],
                reply_token: str | None = None, reply_deadline: datetime | None = None,
                recipients: list[str] | None = None, source_event_id: int | None = None,
                notification_disabled: bool = False) -> OutboxMessage:
    """Queue one LINE request (1..5 message objects) with its own retry key."""
    if not 1 <= len(messages) <= 5:
        raise ValueError(f"a LINE request carries 1 to 5 messages, got {len(messages)}")
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
        status="pending",
        attempts=0,
        next_attempt_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def claim(session: Session, message_id: int, lease_seconds: float) -> str | None:
    """Take a due row, unless an older row to the same recipient is still unsent (per-chat order)."""
    earlier = aliased(OutboxMessage)
    in_order = ~exists().where(
        earlier.recipient == OutboxMessage.recipient,
        OutboxMessage.recipient != "*",
        earlier.id < OutboxMessage.id,
        earlier.status.in_(("pending", "sending")),
    )
    return leases.claim(session, OutboxMessage, message_id, lease_seconds, busy_status="sending",
                        extra_condition=and_(OutboxMessage.next_attempt_at <= utcnow(), in_order))


def next_for_recipient(session: Session, recipient: str, after_id: int) -> int | None:
    """The next waiting row to the same chat: the worker that sent one row carries the chat on."""
    if recipient == "*":
        return None
    return session.scalar(
        select(OutboxMessage.id)
        .where(OutboxMessage.recipient == recipient, OutboxMessage.id > after_id,
               OutboxMessage.status == "pending")
        .order_by(OutboxMessage.id)
        .limit(1)
    )


def get(session: Session, message_id: int) -> OutboxMessage | None:
    return session.get(OutboxMessage, message_id)


def mark_sent(session: Session, message_id: int, token: str, via: str, request_id: str | None) -> bool:
    return leases.finish(session, OutboxMessage, message_id, token, status="sent", sent_at=utcnow(),
                         sent_via=via, line_request_id=request_id, last_error=None)


def mark_failed(session: Session, message_id: int, token: str, error: str) -> bool:
    """A permanent failure (LINE said 4xx): kept with LINE's details for staff, never retried."""
    return leases.finish(session, OutboxMessage, message_id, token, status="failed", last_error=error)


def schedule_retry(session: Session, message_id: int, token: str, delay_seconds: float, error: str,
                   **values) -> bool:
    return leases.finish(session, OutboxMessage, message_id, token, status="pending",
                         next_attempt_at=utcnow() + timedelta(seconds=delay_seconds), last_error=error, **values)


def stale(session: Session, limit: int = 500) -> list[int]:
    """Rows due for delivery whose queue message may be lost, and rows of workers that died mid-send."""
    return leases.stale_ids(session, OutboxMessage, utcnow(), limit, busy_status="sending",
                            due_column=OutboxMessage.next_attempt_at)
