"""Where a citizen's conversation state lives: in the database, in the transaction of the step that changed it.

One small interface (python-telegram-bot's ``BasePersistence`` idea): ``load``, ``save``, ``delete`` of one
JSON document per LINE user. The state used to live in Redis, written after the event's transaction
committed; a worker killed between the commit and that write lost a conversation step (the answer to it
already in the outbox, the state still at the step before), and a Redis restart lost every conversation
(issue 18). Now the step, its outbox rows, its "done" mark and its state commit or roll back together, in
every mode: one indexed row per citizen, read and written in a transaction the event opens anyway, so it
costs a round trip or two, not a new failure mode.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy.orm import Session

from storage.models import FlowState, utcnow


class FlowStateStore(Protocol):
    def load(self, session: Session, user_id: str) -> dict[str, Any] | None: ...

    def save(self, session: Session, user_id: str, document: dict[str, Any], keep_seconds: int) -> None: ...

    def delete(self, session: Session, user_id: str) -> None: ...


class DatabaseFlowStore:
    """A ``flow_states`` row per user, written in the event's transaction."""

    def load(self, session: Session, user_id: str) -> dict[str, Any] | None:
        row = session.get(FlowState, user_id)
        if row is None:
            return None
        return json.loads(row.state) if row.expires_at > utcnow() else None

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

