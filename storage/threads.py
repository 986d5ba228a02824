"""Repository of conversations between staff and citizens (``staff_threads``) and of hand-over messages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.models import CaseMessage, CaseNote, HandoverMessage, HandoverRequest, StaffThread, utcnow


def open_thread_of(session: Session, citizen_id: int) -> StaffThread | None:
    """The citizen's most recent thread that nobody closed (it may have gone idle: the caller decides)."""
    return session.scalar(select(StaffThread).where(StaffThread.citizen_id == citizen_id,
                                                    StaffThread.closed_at.is_(None))
                          .order_by(StaffThread.last_activity_at.desc(), StaffThread.id.desc()).limit(1))


def thread_for(session: Session, *, case_id: int | None = None, handover_id: int | None = None,
               open_only: bool = True) -> StaffThread | None:
    query = select(StaffThread).where(StaffThread.case_id == case_id if case_id is not None
                                      else StaffThread.handover_id == handover_id)
    if open_only:
        query = query.where(StaffThread.closed_at.is_(None))
    return session.scalar(query.order_by(StaffThread.id.desc()).limit(1))


def open_thread(session: Session, citizen_id: int, actor: str, *, case_id: int | None = None,
                handover_id: int | None = None, now: datetime | None = None) -> StaffThread:
    """Open (or refresh) the thread of this case or hand-over; any other open thread of the citizen ends, so
    the citizen's messages have exactly one place to go: the conversation staff opened last."""
    now = now or utcnow()
    current = thread_for(session, case_id=case_id, handover_id=handover_id)
    session.execute(update(StaffThread).where(StaffThread.citizen_id == citizen_id, StaffThread.closed_at.is_(None),
                                              StaffThread.id != (current.id if current else -1))
                    .values(closed_at=now, closed_by="superseded"))
    if current is None:
        current = StaffThread(citizen_id=citizen_id, case_id=case_id, handover_id=handover_id, opened_by=actor,
                              opened_at=now, last_activity_at=now)
        session.add(current)
    else:
        current.last_activity_at = now
    session.flush()
    return current


def close_thread(session: Session, thread: StaffThread, by: str, now: datetime | None = None) -> None:
    thread.closed_at, thread.closed_by = now or utcnow(), by
    session.flush()


def close_threads_of(session: Session, *, case_id: int | None = None, handover_id: int | None = None,
                     by: str) -> int:
    column = StaffThread.case_id if case_id is not None else StaffThread.handover_id
    return session.execute(update(StaffThread).where(column == (case_id if case_id is not None else handover_id),
                                                     StaffThread.closed_at.is_(None))
                           .values(closed_at=utcnow(), closed_by=by)).rowcount or 0


def handover_waiting_thread(session: Session, citizen_id: int) -> HandoverRequest | None:
    """The citizen's latest hand-over they asked for that is still open and never had a thread: its
    conversation starts with the request itself."""
    had_thread = select(StaffThread.id).where(StaffThread.handover_id == HandoverRequest.id).exists()
    return session.scalar(select(HandoverRequest).where(
        HandoverRequest.citizen_id == citizen_id, HandoverRequest.reason == "asked",
        HandoverRequest.status.in_(("open", "taken")), ~had_thread)
        .order_by(HandoverRequest.id.desc()).limit(1))


def add_handover_message(session: Session, handover_id: int, sender: str, *, author: str | None = None,
                         text: str | None = None, content_id: int | None = None, latitude: float | None = None,
                         longitude: float | None = None, source_event_id: int | None = None) -> HandoverMessage:
    row = HandoverMessage(handover_id=handover_id, sender=sender, author=author, text=text, content_id=content_id,
                          latitude=latitude, longitude=longitude, source_event_id=source_event_id)
    session.add(row)
    session.flush()
    return row


def handover_messages(session: Session, handover_id: int, limit: int = 500) -> list[HandoverMessage]:
    return list(session.scalars(select(HandoverMessage).where(HandoverMessage.handover_id == handover_id)
                                .order_by(HandoverMessage.id).limit(limit)))


def case_conversation(session: Session, case_id: int, limit: int = 500) -> list[tuple[str, object]]:
    """Both sides of a case's chat, oldest first: ("citizen", CaseMessage) and ("staff", CaseNote reply)."""
    said = [("citizen", m) for m in session.scalars(select(CaseMessage).where(CaseMessage.case_id == case_id)
                                                    .order_by(CaseMessage.id).limit(limit))]
    said += [("staff", n) for n in session.scalars(select(CaseNote).where(CaseNote.case_id == case_id,
                                                                          CaseNote.kind == "reply")
                                                   .order_by(CaseNote.id).limit(limit))]
    return sorted(said, key=lambda pair: (pair[1].created_at, pair[0] == "citizen", pair[1].id))
