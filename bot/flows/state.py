"""Where a citizen's conversation state lives: Redis in production, the database in embedded mode.

One small interface (python-telegram-bot's ``BasePersistence`` idea): ``load``, ``save``, ``delete`` of one
JSON document per LINE user. Both stores commit together with the event that changed the state: the database
store writes in the event's transaction; the Redis store writes right after that transaction commits (and not
at all if it rolls back), so a failed and retried event never sees a state it did not produce.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session

from storage.models import FlowState, utcnow

KEY_PREFIX = "siang:flow:"
_PENDING = "siang_flow_pending"
_HOOKED = "siang_flow_hooked"


class FlowStateStore(Protocol):
    def load(self, session: Session, user_id: str) -> dict[str, Any] | None: ...

    def save(self, session: Session, user_id: str, document: dict[str, Any], keep_seconds: int) -> None: ...

    def delete(self, session: Session, user_id: str) -> None: ...


class DatabaseFlowStore:
    """Embedded mode: a ``flow_states`` row per user, written in the event's transaction."""

    def load(self, session: Session, user_id: str) -> dict[str, Any] | None:
        row = session.get(FlowState, user_id)
        if row is None:
            return None
        expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=utcnow().tzinfo)
        return json.loads(row.state) if expires > utcnow() else None

    def save(self, session: Session, user_id: str, document: dict[str, Any], keep_seconds: int) -> None:
        row = session.get(FlowState, user_id)
        if row is None:
            row = FlowState(line_user_id=user_id)
            session.add(row)
        row.state = json.dumps(document, ensure_ascii=False)
        row.updated_at = utcnow()
        row.expires_at = utcnow() + timedelta(seconds=keep_seconds)

    def delete(self, session: Session, user_id: str) -> None:
        row = session.get(FlowState, user_id)
        if row is not None:
            session.delete(row)


class RedisFlowStore:
    """Production: one key per user with a TTL, shared by every web and worker process."""

    def __init__(self, redis) -> None:
        self.redis = redis

    def load(self, session: Session, user_id: str) -> dict[str, Any] | None:
        pending = session.info.get(_PENDING, {})
        if user_id in pending:
            return pending[user_id][0]
        raw = self.redis.get(KEY_PREFIX + user_id)
        return json.loads(raw) if raw else None

    def save(self, session: Session, user_id: str, document: dict[str, Any], keep_seconds: int) -> None:
        self._stage(session, user_id, (document, keep_seconds))

    def delete(self, session: Session, user_id: str) -> None:
        self._stage(session, user_id, (None, 0))

    def _stage(self, session: Session, user_id: str, change: tuple[dict | None, int]) -> None:
        if not session.info.get(_HOOKED):
            # Sessions are short (one event); the hooks live as long as the session does.
            event.listen(session, "after_commit", self._write)
            event.listen(session, "after_rollback", _discard)
            session.info[_HOOKED] = True
        session.info.setdefault(_PENDING, {})[user_id] = change

    def _write(self, session: Session) -> None:
        pending = session.info.pop(_PENDING, {})
        if not pending:
            return
        pipe = self.redis.pipeline(transaction=False)
        for user_id, (document, keep_seconds) in pending.items():
            if document is None:
                pipe.delete(KEY_PREFIX + user_id)
            else:
                pipe.set(KEY_PREFIX + user_id, json.dumps(document, ensure_ascii=False), ex=keep_seconds)
        pipe.execute()


def _discard(session: Session) -> None:
    session.info.pop(_PENDING, None)


def store_for(services) -> FlowStateStore:
    """The store of this process: Redis when configured, else the database."""
    cached = getattr(services, "_flow_store", None)
    if cached is None:
        cached = RedisFlowStore(services.redis) if services.redis is not None else DatabaseFlowStore()
        services._flow_store = cached
    return cached
