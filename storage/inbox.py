"""The webhook inbox: every event stored once, by its ``webhookEventId``."""

from __future__ import annotations

import json
import logging
import threading
import weakref
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from typing import Callable

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from storage import leases
from storage.models import InboxEvent, utcnow

log = logging.getLogger(__name__)


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
    payload: dict
    status: str = "pending"  # "invalid" for events the SDK cannot parse: kept, never processed


def describe(raw: dict, status: str = "pending") -> IncomingEvent:
    """Pull the routing facts out of a raw webhook event dict (already known to have an id)."""
    source = raw.get("source") or {}
    chat_id = source.get("groupId") or source.get("roomId") or source.get("userId")
    message = raw.get("message") if isinstance(raw.get("message"), dict) else {}
    unsend = raw.get("unsend") if isinstance(raw.get("unsend"), dict) else {}
    ts = raw.get("timestamp")
    occurred = datetime.fromtimestamp(ts / 1000, timezone.utc) if isinstance(ts, (int, float)) else None
    return IncomingEvent(
        webhook_event_id=str(raw["webhookEventId"])[:64],
        event_type=str(raw.get("type", "unknown"))[:40],
        chat_id=chat_id,
        user_id=source.get("userId"),
        message_id=message.get("id") or unsend.get("messageId"),
        occurred_at=occurred,
        is_redelivery=bool((raw.get("deliveryContext") or {}).get("isRedelivery")),
        payload=raw,
        status=status,
    )


def record_once(session: Session, events: list[IncomingEvent]) -> list[int]:
    """Insert events, skipping any ``webhookEventId`` already stored; return the ids of the new rows.

    ``INSERT ... ON CONFLICT DO NOTHING RETURNING id`` makes the unique constraint decide, so two web
    processes receiving the same event at once store it once and only one of them enqueues it.
    """
    return [event_id for _, event_id in _insert(session.connection(), events)]


def _insert(connection: Connection, events: list[IncomingEvent]) -> list[tuple[str, int]]:
    """(webhookEventId, row id) of the new, processable rows; duplicates and invalid events give none."""
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
            "payload": json.dumps(e.payload, ensure_ascii=False, separators=(",", ":")),
            "status": e.status,
            "attempts": 0,
        }
        for e in events
    ]
    statement = _insert_once(connection.dialect.name)
    return [(row.webhook_event_id, row.id) for row in connection.execute(statement, rows) if row.status == "pending"]


@lru_cache(maxsize=2)
def _insert_once(dialect: str):
    """One constant statement per dialect, so SQLAlchemy compiles it once and batches rows (insertmanyvalues)."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert(InboxEvent)
        .on_conflict_do_nothing(index_elements=["webhook_event_id"])
        .returning(InboxEvent.id, InboxEvent.webhook_event_id, InboxEvent.status, sort_by_parameter_order=True)
    )


def record_committed(engine: Engine, events: list[IncomingEvent], enqueue: Callable[[list[int]], None]) -> list[int]:
    """Store ``events`` durably (committed) and return the ids of the new rows; then hand them to ``enqueue``.

    The web path of every webhook. Requests arriving while another is writing share the next transaction
    (group commit): one INSERT and one commit, so one WAL flush, for all of them, and one ``enqueue`` call for
    all their new rows. No caller returns before its own events are committed. ``enqueue`` failing is logged
    and nothing more: the rows are stored, and the sweeper queues what the queue lost.
    """
    return _group(engine).record(events, enqueue)


@dataclass
class _Ticket:
    """One caller's events waiting for the shared transaction."""

    events: list[IncomingEvent]
    enqueue: Callable[[list[int]], None]
    done: threading.Event = field(default_factory=threading.Event)
    lead: bool = False  # woken to write the next batch rather than with a result
    ids: list[int] = field(default_factory=list)
    error: BaseException | None = None


class _GroupCommit:
    """Leader and followers, no thread of its own: a caller finding nobody writing writes the batch waiting
    (its own ticket and whatever else arrived), wakes the others with their ids, makes the first caller who
    arrived meanwhile the next writer, and only then queues its batch's rows. An idle process writes at once."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._waiting: list[_Ticket] = []
        self._writing = False

    def record(self, events: list[IncomingEvent], enqueue: Callable[[list[int]], None]) -> list[int]:
        ticket = _Ticket(events, enqueue)
        with self._lock:
            self._waiting.append(ticket)
            lead = not self._writing
            self._writing = True
        if not lead:
            ticket.done.wait()
            lead = ticket.lead
        if lead:
            self._lead()
        if ticket.error is not None:
            raise ticket.error
        return ticket.ids

    def _lead(self) -> None:
        with self._lock:
            batch, self._waiting = self._waiting, []
        try:
            self._write(batch)
        finally:
            for ticket in batch:
                ticket.done.set()
            with self._lock:
                if self._waiting:
                    successor = self._waiting[0]
                    successor.lead = True
                    successor.done.set()
                else:
                    self._writing = False
        ids = [row_id for ticket in batch for row_id in ticket.ids]
        if ids:
            try:
                batch[0].enqueue(ids)
            except Exception:  # noqa: BLE001 - stored events are swept up later; LINE must still get its 200
                log.exception("enqueue failed; the sweeper will pick the events up", extra={"count": len(ids)})

    def _write(self, batch: list[_Ticket]) -> None:
        """One transaction for the batch; if it fails, each ticket alone, so one bad event fails only its own
        request."""
        try:
            self._commit(batch)
        except Exception as exc:  # noqa: BLE001 - handed to the callers
            if len(batch) == 1:
                batch[0].error = exc
                return
            for ticket in batch:
                try:
                    self._commit([ticket])
                except Exception as alone:  # noqa: BLE001
                    ticket.error = alone

    def _commit(self, batch: list[_Ticket]) -> None:
        with self.engine.begin() as connection:
            new = dict(_insert(connection, [event for ticket in batch for event in ticket.events]))
        for ticket in batch:  # an event sent twice in the batch belongs to the first ticket holding it
            ticket.ids = [new.pop(e.webhook_event_id) for e in ticket.events if e.webhook_event_id in new]


_groups: "weakref.WeakKeyDictionary[Engine, _GroupCommit]" = weakref.WeakKeyDictionary()
_groups_lock = threading.Lock()


def _group(engine: Engine) -> _GroupCommit:
    with _groups_lock:
        group = _groups.get(engine)
        if group is None:
            group = _groups[engine] = _GroupCommit(engine)
        return group


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


def stale(session: Session, older_than: datetime, limit: int = 500) -> list[int]:
    return leases.stale_ids(session, InboxEvent, older_than, limit)


def forget_message_text(session: Session, message_id: str) -> int:
    """Honour an ``unsend``: blank the stored text of that message wherever the inbox holds it."""
    rows = session.scalars(select(InboxEvent).where(InboxEvent.message_id == message_id,
                                                    InboxEvent.event_type == "message")).all()
    for row in rows:
        payload = json.loads(row.payload)
        message = payload.get("message") or {}
        for key in ("text", "emojis", "mention", "title", "address", "latitude", "longitude", "fileName"):
            message.pop(key, None)
        message["unsent"] = True
        row.payload = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return len(rows)


