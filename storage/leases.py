"""Leases: how several workers on several machines share rows of work without double processing.

A worker *claims* a row with one conditional UPDATE (only if it is free, or its previous lease has
expired) and gets a token. It finishes the row with another conditional UPDATE naming that token; if the
lease was lost meanwhile (the worker was too slow and someone else took over), the finish fails and the
worker's transaction is rolled back. The database is the arbiter, so Redis may lose messages freely.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import and_, bindparam, exists, or_, select, update
from sqlalchemy.orm import Session

from storage.models import utcnow


def claim(session: Session, model, row_id: int, lease_seconds: float, *, order_by: str,
          free_status: str = "pending", busy_status: str = "processing", due_column: str | None = None,
          unordered: str | None = None) -> str | None:
    """Take row ``row_id`` for ``lease_seconds``; return the lease token, or None if it is not ours to take.

    Rows sharing the value of ``order_by`` (a chat) are taken in id order: a row waits while an earlier one
    of the same chat is unfinished. ``unordered`` names a value of that column exempt from ordering;
    ``due_column`` holds the time before which the row must not be taken (retry backoff).
    """
    now = utcnow()
    token = str(uuid.uuid4())
    statement = _claim_statement(model.__table__, order_by, free_status, busy_status, due_column, unordered)
    result = session.connection().execute(statement, {
        "b_row_id": row_id, "b_now": now, "b_token": token, "b_expires": now + timedelta(seconds=lease_seconds)})
    return token if result.rowcount == 1 else None


@lru_cache(maxsize=8)
def _claim_statement(table, order_by: str, free_status: str, busy_status: str, due_column: str | None,
                     unordered: str | None):
    """Built once per kind of row: the claim runs for every event and delivery, and building SQLAlchemy
    expressions (aliases especially) costs more than executing them."""
    earlier = table.alias("earlier")
    waits_for_earlier = [earlier.c[order_by] == table.c[order_by], earlier.c.id < table.c.id,
                         earlier.c.status.in_((free_status, busy_status))]
    if unordered is not None:
        waits_for_earlier.append(table.c[order_by] != unordered)
    conditions = [
        table.c.id == bindparam("b_row_id"),
        or_(table.c.status == free_status,
            and_(table.c.status == busy_status, table.c.lease_expires_at < bindparam("b_now"))),
        ~exists().where(*waits_for_earlier),
    ]
    if due_column is not None:
        conditions.append(table.c[due_column] <= bindparam("b_now"))
    return (
        update(table)
        .where(*conditions)
        .values(status=busy_status, lease_token=bindparam("b_token"), lease_expires_at=bindparam("b_expires"),
                attempts=table.c.attempts + 1)
    )


def finish(session: Session, model, row_id: int, token: str, **values) -> bool:
    """Close a claimed row with ``values``; False when the lease had been taken over by another worker."""
    statement = _finish_statement(model, tuple(sorted(values)))
    params = {"b_row_id": row_id, "b_token": token} | {f"b_{name}": value for name, value in values.items()}
    return session.execute(statement, params).rowcount == 1


@lru_cache(maxsize=16)
def _finish_statement(model, columns: tuple[str, ...]):
    """Built once per kind of row and set of columns, like the claim: a finish runs for every event and
    every delivery (an announcement's multicasts among them)."""
    return (
        update(model)
        .where(model.id == bindparam("b_row_id"), model.lease_token == bindparam("b_token"))
        .values(lease_token=None, lease_expires_at=None, **{name: bindparam(f"b_{name}") for name in columns})
        .execution_options(synchronize_session=False)
    )


def finish_many(session: Session, model, rows: list[tuple[int, str, dict]]) -> None:
    """Close several claimed rows, each ``(id, token, values)``, like ``finish``: one executemany per set of
    columns, which psycopg sends as one pipeline (one round trip) however many rows. A row whose lease was
    taken over meanwhile is left to its new holder."""
    groups: dict[tuple[str, ...], list[dict]] = {}
    for row_id, token, values in rows:
        groups.setdefault(tuple(sorted(values)), []).append(
            {"b_row_id": row_id, "b_token": token} | {f"b_{name}": value for name, value in values.items()})
    for columns, params in groups.items():
        session.connection().execute(_finish_many_statement(model.__table__, columns), params)


@lru_cache(maxsize=16)
def _finish_many_statement(table, columns: tuple[str, ...]):
    return (update(table)
            .where(table.c.id == bindparam("b_row_id"), table.c.lease_token == bindparam("b_token"))
            .values(lease_token=None, lease_expires_at=None, **{name: bindparam(f"b_{name}") for name in columns}))


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
