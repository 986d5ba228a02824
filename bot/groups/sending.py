"""Group messages go through the outbox like everything else; their delivery is queued after the commit.

Functions here may run outside an event (the sweeper's digests and broadcasts, a console request, a case
filed by a flow), so the queueing hooks on the session rather than on a handler's ``Context``.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.jobs import deliver_after_commit
from storage import outbox
from storage.models import OutboxMessage

def push(session: Session, to: str, messages: list[dict]) -> OutboxMessage:
    """An outbox push to a group, delivered once the caller's transaction commits."""
    row = outbox.add_message(session, kind="push", recipient=to, messages=messages)
    deliver_after_commit(session, row.id)
    return row
