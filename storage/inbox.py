"""The webhook inbox: every event stored once, by its ``webhookEventId``."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import Session

from bot.events import is_id, timestamp_ok
from storage import direct, leases
from storage.models import InboxEvent, utcnow


# An event kept aside as invalid is stored as a bounded excerpt: it is never executed, only looked at.
INVALID_EXCERPT_CHARS = 4000


@dataclass(frozen=True)
class IncomingEvent:
    """What the webhook knows about one event before any processing."""

    webhook_event_id: str
    event_type: str
    chat_id: str | None
    user_id: str | None
    message_id: str | None
    occurred_at: datetime | None
    is_redelivery: bool
    payload: str  # JSON text as stored
    status: str = "pending"  # "invalid" for events that cannot be handled: kept, never processed


def describe(raw: dict) -> IncomingEvent:
    """The routing facts of an event that passed ``bot.events.problem()`` (so every field has its type)."""
    source = raw.get("source") or {}
    message = raw.get("message") if isinstance(raw.get("message"), dict) else {}
    unsend = raw.get("unsend") if isinstance(raw.get("unsend"), dict) else {}
    return IncomingEvent(
        webhook_event_id=raw["webhookEventId"],
        event_type=raw["type"],
        chat_id=source.get("groupId") or source.get("roomId") or source.get("userId"),
        user_id=source.get("userId"),
        message_id=_id_or_none(message.get("id")) or _id_or_none(unsend.get("messageId")),
        occurred_at=datetime.fromtimestamp(raw["timestamp"] / 1000, timezone.utc),
        is_redelivery=raw["deliveryContext"]["isRedelivery"],
        payload=json.dumps(raw, ensure_ascii=False, separators=(",", ":")),
    )


def describe_invalid(raw: Any, reason: str) -> IncomingEvent:
    """A malformed event as it is kept: the ids that fit their columns, ``reason`` and a bounded excerpt.

    Its key is its own ``webhookEventId`` when that is a usable id, otherwise a digest of the event, so a
    redelivery of the same malformed event is still stored once.
    """
    excerpt = _excerpt(raw)
    fields = raw if isinstance(raw, dict) else {}
    source = fields.get("source") if isinstance(fields.get("source"), dict) else {}
    message = fields.get("message") if isinstance(fields.get("message"), dict) else {}
    kind = fields.get("type")
    user_id = _id_or_none(source.get("userId"))
    key = _id_or_none(fields.get("webhookEventId"))
    if key is None:
        key = "invalid-" + hashlib.sha256(excerpt.encode("utf-8", "replace")).hexdigest()[:48]
    stamp = fields.get("timestamp")
    return IncomingEvent(
        webhook_event_id=key,
        event_type=kind if isinstance(kind, str) and 0 < len(kind) <= 40 else "unknown",
        chat_id=_id_or_none(source.get("groupId")) or _id_or_none(source.get("roomId")) or user_id,
        user_id=user_id,
        message_id=_id_or_none(message.get("id")),
        occurred_at=datetime.fromtimestamp(stamp / 1000, timezone.utc) if timestamp_ok(stamp) else None,
        is_redelivery=False,
        payload=json.dumps({"invalid": reason[:200], "excerpt": excerpt}, ensure_ascii=False),
        status="invalid",
    )


def _id_or_none(value: Any) -> str | None:
    return value if is_id(value) else None


def _excerpt(raw: Any) -> str:
    """The event as JSON text, cut to ``INVALID_EXCERPT_CHARS``; never raises (depth, NaN, odd keys)."""
    try:
        text = json.dumps(raw, ensure_ascii=False, separators=(",", ":"), default=repr)
    except (ValueError, TypeError, RecursionError):
        text = f"<unserialisable {type(raw).__name__}>"
    return text[:INVALID_EXCERPT_CHARS]


def record_once(session: Session, events: list[IncomingEvent]) -> list[int]:
    """Insert events, skipping any ``webhookEventId`` already stored; return the ids of the new rows.

    ``INSERT ... ON CONFLICT DO NOTHING RETURNING id`` makes the unique constraint decide, so two web
    processes receiving the same event at once store it once and only one of them enqueues it.
    """
    if not events:
        return []
    now = utcnow()
    rows = [
        {
            "webhook_event_id": e.webhook_event_id,
            "event_type": e.event_type,
            "chat_id": e.chat_id,
            "user_id": e.user_id,
            "message_id": e.message_id,
            "occurred_at": e.occurred_at,
            "received_at": now,
            "is_redelivery": e.is_redelivery,
            "payload": e.payload,
            "status": e.status,
            "attempts": 0,
        }
        for e in events
    ]
    statement = _insert_once(session.get_bind().dialect.name)
    result = session.connection().execute(statement, rows)
    return [row.id for row in result if row.status == "pending"]


def record_each(session: Session, events: list[IncomingEvent]) -> tuple[list[int], list[tuple[str, str]]]:
    """``record_once`` one event at a time, for a batch the database refused: each event alone decides.

    An event the database still refuses is kept as ``invalid`` with its key and the error class only (no
    excerpt: that may be what the database refused). Returns the new pending ids and, for events that
    could not be stored even so, their key and the error class.
    """
    new_ids: list[int] = []
    refused: list[tuple[str, str]] = []
    for event in events:
        try:
            with session.begin_nested():
                new_ids.extend(record_once(session, [event]))
            continue
        except DBAPIError as exc:
            if isinstance(exc, OperationalError):
                raise  # the database is down, not this event: the whole request must be redelivered
            error = type(exc.orig or exc).__name__
        bare = replace(event, chat_id=None, user_id=None, message_id=None, status="invalid",
                       event_type=event.event_type[:40], webhook_event_id=event.webhook_event_id[:64],
                       payload=json.dumps({"invalid": f"storage: {error}"}))
        try:
            with session.begin_nested():
                record_once(session, [bare])
        except DBAPIError as exc:
            if isinstance(exc, OperationalError):
                raise
            refused.append((event.webhook_event_id, type(exc.orig or exc).__name__))
    return new_ids, refused


STORE_CHUNK = 500  # rows per statement: 5,500 values, below SQLite's and PostgreSQL's limits
# The inbox columns the webhook writes, in the order of ``store_new``'s statement.
_STORED_COLUMNS = ("webhook_event_id", "event_type", "chat_id", "user_id", "message_id", "occurred_at",
                   "received_at", "is_redelivery", "payload", "status", "attempts")


def store_new(engine: Engine, events: list[IncomingEvent]) -> list[tuple[str, int]]:
    """``record_once`` for the webhook's hot path: one statement, committed, on a pooled connection.

    The same ``INSERT ... ON CONFLICT DO NOTHING RETURNING``, sent as driver SQL with the values already
    converted: no ORM session, no statement compilation, no unit of work — they cost more Python per event
    than the insert itself (docs/performance.md). Driver errors are still SQLAlchemy's, so the caller tells
    a database that is down (``OperationalError``) from one that refuses this batch (``DBAPIError``).
    Returns ``(webhookEventId, id)`` of the new pending rows, in id order.
    """
    if not events:
        return []
    dialect = engine.dialect
    now = utcnow()
    convert = _conversions(dialect)
    rows = []
    for e in events:
        row = (e.webhook_event_id, e.event_type, e.chat_id, e.user_id, e.message_id, e.occurred_at, now,
               e.is_redelivery, e.payload, e.status, 0)
        if convert is not None:
            row = tuple(f(v) if f is not None and v is not None else v for f, v in zip(convert, row))
        rows.append(row)
    stored: list[tuple] = []
    if len(rows) <= STORE_CHUNK and dialect.name == "postgresql":
        # One statement in autocommit: PostgreSQL commits it (WAL flushed) before it answers, so the request
        # pays one round trip instead of three (BEGIN, INSERT, COMMIT), on the thread's own connection
        # (storage.direct). ON CONFLICT DO NOTHING makes it idempotent, so it may be tried again.
        stored = direct.connections(engine).fetch_idempotent(
            _store_new_sql(dialect.paramstyle, len(rows)), _values(rows))
        return _new_rows(stored)
    with engine.begin() as connection:
        for start in range(0, len(rows), STORE_CHUNK):  # a 1 MB body may hold thousands of tiny events
            chunk = rows[start:start + STORE_CHUNK]
            stored += connection.exec_driver_sql(_store_new_sql(dialect.paramstyle, len(chunk)), _values(chunk)).all()
    return _new_rows(stored)


def _values(rows: list[tuple]) -> tuple:
    return tuple(value for row in rows for value in row)


def _new_rows(stored: list[tuple]) -> list[tuple[str, int]]:
    """The new pending rows' keys and ids from the statement's ``(id, status, webhook_event_id)`` rows."""
    return sorted(((key, row_id) for row_id, status, key in stored if status == "pending"), key=lambda r: r[1])


@lru_cache(maxsize=4)
def _conversions(dialect: Dialect) -> tuple | None:
    """The dialect's conversion of each stored column's value (SQLite's datetimes; none for psycopg)."""
    table = InboxEvent.__table__
    convert = tuple(table.c[name].type.bind_processor(dialect) for name in _STORED_COLUMNS)
    return convert if any(convert) else None


@lru_cache(maxsize=64)
def _store_new_sql(paramstyle: str, count: int) -> str:
    """The statement for ``count`` events in the driver's own placeholders."""
    mark = "?" if paramstyle == "qmark" else "%s"
    row = "(" + ", ".join([mark] * len(_STORED_COLUMNS)) + ")"
    return (f"INSERT INTO {InboxEvent.__tablename__} ({', '.join(_STORED_COLUMNS)}) VALUES "
            + ", ".join([row] * count) + " ON CONFLICT (webhook_event_id) DO NOTHING RETURNING id, status, webhook_event_id")


@lru_cache(maxsize=2)
def _insert_once(dialect: str):
    """One constant statement per dialect, so SQLAlchemy compiles it once and batches rows (insertmanyvalues)."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert(InboxEvent)
        .on_conflict_do_nothing(index_elements=["webhook_event_id"])
        .returning(InboxEvent.id, InboxEvent.status, sort_by_parameter_order=True)
    )


def claim(session: Session, event_id: int, lease_seconds: float) -> str | None:
    """Take the event unless an earlier event of the same chat is unfinished (a chat is handled in order)."""
    return leases.claim(session, InboxEvent, event_id, lease_seconds, order_by="chat_id")


def next_in_chat(session: Session, chat_id: str | None, after_id: int) -> int | None:
    """The next pending event of a chat: whoever finishes an event carries the chat on."""
    if chat_id is None:
        return None
    return session.scalar(
        select(InboxEvent.id)
        .where(InboxEvent.chat_id == chat_id, InboxEvent.id > after_id, InboxEvent.status == "pending")
        .order_by(InboxEvent.id)
        .limit(1)
    )


def get(session: Session, event_id: int) -> InboxEvent | None:
    return session.get(InboxEvent, event_id)


def mark_done(session: Session, event_id: int, token: str) -> bool:
    return leases.finish(session, InboxEvent, event_id, token, status="done", processed_at=utcnow(),
                         last_error=None)


def mark_failed(session: Session, event_id: int, token: str, error: str, give_up: bool) -> bool:
    """Record a failure; the event goes back to pending (retried by the sweeper) unless we give up."""
    return leases.finish(session, InboxEvent, event_id, token, status="failed" if give_up else "pending",
                         last_error=error[:500])


def mark_invalid(session: Session, event_id: int, token: str, reason: str) -> bool:
    """An event that cannot be handled, whatever the number of tries: kept with its reason, never retried."""
    return leases.finish(session, InboxEvent, event_id, token, status="invalid", processed_at=utcnow(),
                         last_error=reason[:500])


def stale(session: Session, older_than: datetime, limit: int = 500) -> list[int]:
    return leases.stale_ids(session, InboxEvent, older_than, limit)


def forget_message_text(session: Session, message_id: str) -> int:
    """Honour an ``unsend``: blank the stored text of that message wherever the inbox holds it."""
    rows = session.scalars(select(InboxEvent).where(InboxEvent.message_id == message_id,
                                                    InboxEvent.event_type == "message")).all()
    for row in rows:
        payload = json.loads(row.payload)
        if row.status == "invalid":
            payload.pop("excerpt", None)  # the malformed event's text is in its excerpt
            payload["unsent"] = True
            row.payload = json.dumps(payload, ensure_ascii=False)
            continue
        message = payload.get("message") or {}
        for key in ("text", "emojis", "mention", "title", "address", "latitude", "longitude", "fileName"):
            message.pop(key, None)
        message["unsent"] = True
        row.payload = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return len(rows)


