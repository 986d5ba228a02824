"""Photos, videos and files citizens send, downloaded from LINE and kept here."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import StoredContent, utcnow


def expect(session: Session, line_message_id: str, chat_id: str, user_id: str | None, message_type: str,
           file_name: str | None = None, size: int | None = None) -> StoredContent:
    """The content row of a message, created on first sight. Race-safe: two workers handling two events that
    carry the same message id (only a malformed or forged batch does) end with one row, not an error."""
    row = session.scalar(select(StoredContent).where(StoredContent.line_message_id == line_message_id))
    if row is None:
        row = StoredContent(line_message_id=line_message_id, chat_id=chat_id, user_id=user_id,
                            message_type=message_type, file_name=file_name, size=size, status="pending")
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:  # stored by another worker between the select and the insert
            row = session.scalar(select(StoredContent).where(StoredContent.line_message_id == line_message_id))
    return row


def get_by_message(session: Session, line_message_id: str) -> StoredContent | None:
    return session.scalar(select(StoredContent).where(StoredContent.line_message_id == line_message_id))


def store(row: StoredContent, data: bytes, content_type: str | None) -> None:
    row.data = data
    row.size = len(data)
    row.content_type = content_type
    row.status = "stored"
    row.fetched_at = utcnow()


def record_fetch(session: Session, content_id: int, data: bytes | None, content_type: str | None, *,
                 gone: bool, given_up: bool) -> None:
    """What a download from LINE brought, kept only if the row still waits for it. The row is locked first:
    a citizen's "delete my data" or an unsend committed while the download ran must win over it (a plain
    read would see "pending", then write the photo back over the deletion)."""
    row = session.get(StoredContent, content_id, with_for_update=True)
    if row is None or row.status != "pending":
        return
    if data is not None:
        store(row, data, content_type)
    elif gone:
        row.status = "gone"
    elif given_up:
        row.status = "failed"


def delete_for_unsend(session: Session, line_message_id: str) -> bool:
    row = get_by_message(session, line_message_id)
    if row is None:
        return False
    row.data = None
    row.status = "deleted"
    row.deleted_at = utcnow()
    return True
