"""Group messages go through the outbox like everything else; their delivery is queued after the commit.

Functions here may run outside an event (the sweeper's digests and broadcasts, a console request, a case
filed by a flow), so the queueing hooks on the session rather than on a handler's ``Context``.
"""

from __future__ import annotations

import logging

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from storage import outbox
from storage.models import OutboxMessage

log = logging.getLogger(__name__)
_PENDING = "siang.groups_after_commit"


def push(session: Session, to: str, messages: list[dict]) -> OutboxMessage:
    """An outbox push to a group, delivered once the caller's transaction commits."""
    row = outbox.add_message(session, kind="push", recipient=to, messages=messages)
    _enqueue_after_commit(session, row.id)
    return row


def _enqueue_after_commit(session: Session, row_id: int) -> None:
    if not has_app_context():
        return  # a script without a queue: the sweeper of any worker delivers the row
    pending = session.info.setdefault(_PENDING, [])
    if not pending:
        jobs = current_app.extensions["siang"].jobs
        event.listen(session, "after_commit", lambda s: _flush(s, jobs), once=True)
        event.listen(session, "after_rollback", lambda s: s.info.pop(_PENDING, None), once=True)
    pending.append(row_id)


def _flush(session: Session, jobs) -> None:
    ids = session.info.pop(_PENDING, [])
    try:
        jobs.enqueue_many("deliver_outbox", ids)
    except Exception:  # noqa: BLE001 - Redis down: the rows are committed and the sweeper finds them
        log.warning("enqueue after commit failed", exc_info=True)
