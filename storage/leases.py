"""Leases: how several workers on several machines share rows of work without double processing.

A worker *claims* a row with one conditional UPDATE (only if it is free, or its previous lease has
expired) and gets a token. It finishes the row with another conditional UPDATE naming that token; if the
lease was lost meanwhile (the worker was too slow and someone else took over), the finish fails and the
worker's transaction is rolled back. The database is the arbiter, so Redis may lose messages freely.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from storage.models import utcnow


def claim(session: Session, model, row_id: int, lease_seconds: float, free_status: str = "pending",
          busy_status: str = "processing", extra_condition=None) -> str | None:
    """Take row ``row_id`` for ``lease_seconds``; return the lease token, or None if someone else has it."""
    now = utcnow()
    token = str(uuid.uuid4())
    condition = or_(
        model.status == free_status,
        and_(model.status == busy_status, model.lease_expires_at < now),
    )
    if extra_condition is not None:
        condition = and_(condition, extra_condition)
    result = session.execute(
        update(model)
        .where(model.id == row_id, condition)
        .values(status=busy_status, lease_token=token, lease_expires_at=now + timedelta(seconds=lease_seconds),
                attempts=model.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return token if result.rowcount == 1 else None


def finish(session: Session, model, row_id: int, token: str, **values) -> bool:
    """Close a claimed row with ``values``; False when the lease had been taken over by another worker."""
    result = session.execute(
        update(model)
        .where(model.id == row_id, model.lease_token == token)
        .values(lease_token=None, lease_expires_at=None, **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def stale_ids(session: Session, model, older_than: datetime, limit: int = 500, free_status: str = "pending",
              busy_status: str = "processing", due_column=None) -> list[int]:
    """Rows whose queue message may have been lost: free and old enough, or held by an expired lease."""
    now = utcnow()
    free = model.status == free_status
    free = and_(free, (due_column <= now) if due_column is not None else model.received_at <= older_than)
    query = (
        select(model.id)
        .where(or_(free, and_(model.status == busy_status, model.lease_expires_at < now)))
        .order_by(model.id)
        .limit(limit)
    )
    return list(session.scalars(query))
